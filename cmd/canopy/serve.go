package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/canopy-channel/canopy/internal/api"
	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/config"
	"github.com/canopy-channel/canopy/internal/demo"
	"github.com/canopy-channel/canopy/internal/jobs"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/server"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/web"
)

type serveCmd struct {
	config.Config `embed:""`
}

// demoLinkTTL is how long the printed demo sign-in link stays usable.
const demoLinkTTL = 24 * time.Hour

func (c *serveCmd) Run(e *env) error {
	cfg := c.Config
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg.LogFormat, cfg.LogLevel)
	ctx := e.ctx

	st, err := openAndMigrate(ctx, cfg.Database(), log)
	if err != nil {
		return err
	}
	defer st.Close()

	// Listen before building anything that writes links: with port 0 the
	// public URL is known only once bound.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v (is another Canopy running? choose another with --addr)", cfg.Addr, err)
	}
	defer ln.Close()
	base := publicURL(cfg, ln.Addr().String())

	clock := canopy.SystemClock{}
	var mailer mail.Mailer
	if cfg.SMTPURL != "" {
		smtpCfg, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return fmt.Errorf("--smtp-url: %v", err)
		}
		mailer = mail.NewSMTPSender(smtpCfg)
	}
	outbox := mail.NewOutbox(st, mailer, clock, log, hostOf(base))
	a := app.New(app.Deps{Store: st, Outbox: outbox, BaseURL: base, Clock: clock, Log: log, SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax})

	var signinToken string
	if cfg.Demo {
		seeded, err := demo.Seed(ctx, a, st, clock.Now())
		if err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		if seeded.Created {
			log.Info("seeded the demo tenant tree")
		}
		if seeded.AdminID != 0 {
			signinToken, err = a.IssueSigninLink(ctx, seeded.AdminID, seeded.Platform.ID, app.PurposeFirstSignIn, demoLinkTTL)
			if err != nil {
				return err
			}
		}
	}

	runner := jobs.New(st, clock, log, jobs.Options{Workers: max(cfg.Workers, 1)})
	registerMaintenance(runner, st, clock, cfg)
	must(a.RegisterJobs(runner))
	outbox.Register(runner)

	pages, err := web.New(a, log, web.Options{Version: version, SecureCookies: cfg.TLS(), MailboxForAll: cfg.Demo && cfg.DemoMailbox})
	if err != nil {
		return err
	}
	apiHandler := api.Handler(api.Deps{App: a, Log: log, CookieName: web.SessionCookie, SecureCookies: cfg.TLS()})
	handler := server.NewServer(server.Deps{Store: st, Web: pages, API: apiHandler, Log: log, TLS: cfg.TLS()})

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if cfg.Workers > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); runner.Run(jobsCtx) }()
	}

	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			serveErr <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	log.Info("canopy is serving", "addr", ln.Addr().String(), "database", string(st.Dialect()), "version", version)
	fmt.Fprintf(e.stdout, "Canopy is serving on %s (database: %s)\n", base, st.Dialect())
	if signinToken != "" {
		fmt.Fprintf(e.stdout, "Sign in as the demo platform administrator (one-time link, valid %s):\n  %s/signin/link/%s\n", demoLinkTTL, base, signinToken)
	}

	select {
	case err = <-serveErr:
		stopJobs()
		wg.Wait()
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopJobs()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// publicURL is the configured base URL, or the URL of the address actually
// bound (which differs from --addr when the port is 0).
func publicURL(cfg config.Config, bound string) string {
	if cfg.BaseURL != "" {
		return cfg.PublicURL()
	}
	cfg.Addr = bound
	return cfg.PublicURL()
}

func openAndMigrate(ctx context.Context, db config.Database, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, db.URL(), store.Options{})
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		if errors.Is(err, store.ErrSchemaTooNew) {
			return nil, err
		}
		return nil, fmt.Errorf("migrate the database: %w", err)
	}
	if applied > 0 {
		log.Info("applied database migrations", "count", applied)
	}
	return st, nil
}

// registerMaintenance schedules the housekeeping every install needs.
func registerMaintenance(r *jobs.Runner, st *store.Store, clock canopy.Clock, cfg config.Config) {
	r.Handle("prune-jobs", func(ctx context.Context, _ store.Job) error {
		_, err := st.PruneJobs(ctx, clock.Now().Add(-7*24*time.Hour))
		return err
	})
	r.Handle("expire-sessions", func(ctx context.Context, _ store.Job) error {
		now := clock.Now()
		if _, err := st.DeleteExpiredSessions(ctx, now, now.Add(-cfg.SessionIdle)); err != nil {
			return err
		}
		// Links are kept a day past expiry so support can still see them.
		_, err := st.DeleteExpiredLinks(ctx, now.Add(-24*time.Hour))
		return err
	})
	// Errors here are programming errors (unmarshalable payloads).
	must(r.Schedule("prune-jobs", jobs.Daily(3, 15, time.UTC), "prune-jobs", nil))
	must(r.Schedule("expire-sessions", jobs.Every(time.Hour), "expire-sessions", nil))
}

// hostOf returns the host of a URL, for Message-IDs.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

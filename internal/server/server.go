// Package server assembles Canopy's HTTP handler: every route in routes.go,
// the middleware around them in middleware.go, and the health, readiness and
// metrics endpoints that operators and load balancers use.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are what the server needs.
type Deps struct {
	Store *store.Store
	Web   *web.Web
	API   http.Handler // /api/v1
	Log   *slog.Logger
	// TLS makes the server send Strict-Transport-Security.
	TLS bool
	// AttemptsPerMinute throttles each client address on the routes that
	// guess passwords, codes and links; zero means 20, the production
	// value. Load runs from one address raise it.
	AttemptsPerMinute int
}

type server struct {
	Deps
	metrics  *metrics
	registry *prometheus.Registry
	migrated atomic.Bool
}

// NewServer returns the whole HTTP handler.
func NewServer(d Deps) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{Deps: d, registry: reg, metrics: newMetrics(reg)}
	return s.routes()
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 once the database answers and every migration is
// applied; a load balancer sends traffic only then.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ping(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	if !s.migrated.Load() {
		ok, err := s.Store.MigrationsCurrent(ctx)
		if err != nil || !ok {
			http.Error(w, "migrations pending", http.StatusServiceUnavailable)
			return
		}
		s.migrated.Store(true)
	}
	w.Write([]byte("ready\n"))
}

func (s *server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

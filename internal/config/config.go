// Package config describes Canopy's settings. Every setting is a flag and an
// environment variable (CANOPY_ plus the flag name in capitals, "-" as "_");
// a flag on the command line wins. With none set, Canopy runs on an embedded
// SQLite file under ./canopy-data with a demo tenant tree.
package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// Config is what the server needs to run.
type Config struct {
	Addr            string        `help:"Address to listen on." default:"127.0.0.1:8080"`
	DataDir         string        `help:"Directory for the embedded SQLite database." default:"canopy-data" type:"path"`
	DatabaseURL     string        `help:"postgres://… for PostgreSQL, or a SQLite file path. Default: canopy.db in the data directory."`
	BaseURL         string        `help:"Public URL of this Canopy, used in links and mail. Default: http://ADDR."`
	Demo            bool          `help:"Seed the demo tenant tree when the database is empty; --no-demo to start empty." default:"true" negatable:""`
	DemoMailbox     bool          `help:"Let every signed-in person read the mail outbox in the browser (demo installs only)." default:"true" negatable:""`
	SMTPURL         string        `help:"Mail relay: smtp://user:pass@host:587?from=noreply@example.com (STARTTLS), smtps://… or smtp+insecure://…; unset keeps mail in the outbox, readable on the Mailbox page."`
	TLSCert         string        `help:"TLS certificate file; with --tls-key, serve HTTPS (and send HSTS)." type:"path"`
	TLSKey          string        `help:"TLS key file." type:"path"`
	LogFormat       string        `help:"Log format: text or json (default: text in a terminal, json otherwise)." enum:",text,json" default:""`
	LogLevel        string        `help:"Log level: debug, info, warn, error." enum:"debug,info,warn,error" default:"info"`
	ShutdownTimeout time.Duration `help:"How long to let in-flight requests finish on SIGINT/SIGTERM." default:"20s"`
	Workers         int           `help:"Background jobs run at once by this replica." default:"2"`
	SessionIdle     time.Duration `help:"Sign out after this long without a request." default:"30m"`
	SessionMax      time.Duration `help:"Sign out this long after sign-in, whatever happens." default:"12h"`
}

// Database is the storage part of the settings, shared by every command
// that opens the database.
type Database struct {
	DataDir     string `help:"Directory for the embedded SQLite database." default:"canopy-data" type:"path"`
	DatabaseURL string `help:"postgres://… for PostgreSQL, or a SQLite file path. Default: canopy.db in the data directory."`
}

// URL returns the database URL, defaulting to the SQLite file in the data directory.
func (d Database) URL() string {
	if d.DatabaseURL != "" {
		return d.DatabaseURL
	}
	return filepath.Join(d.DataDir, "canopy.db")
}

// Database returns the storage settings of c.
func (c Config) Database() Database {
	return Database{DataDir: c.DataDir, DatabaseURL: c.DatabaseURL}
}

// PublicURL returns BaseURL, or http://Addr without a trailing slash.
func (c Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	scheme := "http"
	if c.TLS() {
		scheme = "https"
	}
	return scheme + "://" + c.Addr
}

// TLS reports whether the server serves HTTPS itself.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Validate checks what flag parsing cannot.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q is not host:port (e.g. 127.0.0.1:8080)", c.Addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: set both or neither")
	}
	if c.SessionIdle <= 0 || c.SessionMax <= 0 {
		return fmt.Errorf("--session-idle and --session-max must be positive")
	}
	if c.Workers < 0 {
		return fmt.Errorf("--workers must not be negative")
	}
	return nil
}

// EnvVar is the environment variable of a flag name ("database-url" →
// "CANOPY_DATABASE_URL").
func EnvVar(flag string) string {
	return "CANOPY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// EnvResolver feeds flags from environment variables read through getenv,
// so that nothing reads the process environment behind the caller's back.
func EnvResolver(getenv func(string) string) kong.Resolver {
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		if flag.Name == "help" {
			return nil, nil
		}
		if v := getenv(EnvVar(flag.Name)); v != "" {
			return v, nil
		}
		return nil, nil
	})
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/canopy-channel/canopy/internal/config"
	"github.com/canopy-channel/canopy/internal/server"
)

// cli is the command line. Every flag also reads CANOPY_<FLAG> from the
// environment given to run.
type cli struct {
	Serve   serveCmd   `cmd:"" help:"Run the Canopy server (migrates the database first)."`
	Migrate migrateCmd `cmd:"" help:"Apply pending database migrations and exit."`
	Demo    demoCmd    `cmd:"" help:"Seed the demo tenant tree, or generate a benchmark dataset with --size."`
	Version versionCmd `cmd:"" help:"Print the version and exit."`
}

// env is what every command receives.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// run is the whole program, testable: arguments, environment and streams are
// passed in, nothing is read from globals.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("canopy"),
		kong.Description("Canopy — the partner portal for distributors, MSPs and their customers.\n\n"+
			"Every flag can also be set as an environment variable: CANOPY_ plus the flag name in capitals, e.g. CANOPY_DATABASE_URL."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.Resolvers(config.EnvResolver(getenv)),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			code, ok := p.(exitCode)
			if !ok {
				panic(p)
			}
			if code != 0 {
				err = code
			}
		}
	}()
	if len(args) == 0 {
		args = []string{"--help"}
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return fmt.Errorf("%v (see canopy -h)", err)
	}
	return kctx.Run(&env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv})
}

// newLogger returns a text logger on a terminal and JSON otherwise, with
// request IDs added to every line logged in a request's context.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if strings.EqualFold(format, "text") {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(server.LogHandler(h))
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "canopy %s\n", version)
	return err
}

// Command gen builds a dataset of PERFORMANCE.md (demo.Generate) and prints
// how long each table and index took. The database is migrated first; with
// no -db it is a new SQLite file in the temp directory, kept afterwards so
// that benchmarks can use it (CANOPY_BENCH_SQLITE).
//
//	go run ./bench/gen -size S
//	go run ./bench/gen -size L -db /tmp/canopy-L.db
//	go run ./bench/gen -size S -db postgres://canopy@127.0.0.1:5432/canopy_s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/demo"
	"github.com/canopy-channel/canopy/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("gen", flag.ContinueOnError)
	sizeName := flags.String("size", "S", "dataset size: XS, S or L")
	db := flags.String("db", "", "database URL or SQLite path (default: a new file in the temp directory)")
	changes := flags.Int64("changes", 0, "change-log rows instead of the size's own number")
	if err := flags.Parse(args); err != nil {
		return err
	}
	size, err := demo.ParseSize(*sizeName)
	if err != nil {
		return err
	}
	if *db == "" {
		f, err := os.CreateTemp("", "canopy-"+string(size)+"-*.db")
		if err != nil {
			return err
		}
		f.Close()
		os.Remove(f.Name()) // let SQLite create it
		*db = f.Name()
	}
	s, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	stats, err := demo.GenerateWith(ctx, s, demo.Options{Size: size, Changes: *changes}, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%-14s %12s %9s %12s\n", "table", "rows", "seconds", "rows/s")
	var rows int64
	for _, t := range stats.Tables {
		rows += t.Rows
		fmt.Fprintf(stdout, "%-14s %12d %9.2f %12.0f\n", t.Table, t.Rows, t.Elapsed.Seconds(), t.RowsPerSecond())
	}
	var indexes time.Duration
	for _, st := range stats.Steps {
		if strings.HasPrefix(st.Step, "index ") {
			indexes += st.Elapsed
		}
	}
	fmt.Fprintf(stdout, "%-14s %12d %9.2f %12.0f\n", "all rows", rows, stats.Load.Seconds(), float64(rows)/stats.Load.Seconds())
	fmt.Fprintf(stdout, "index builds %.2fs, all steps after the load %.2fs, total %.2fs (%.0f rows/s overall)\n",
		indexes.Seconds(), stats.Finish.Seconds(), stats.Total.Seconds(), float64(rows)/stats.Total.Seconds())
	if s.Dialect() == store.SQLite {
		path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(*db, "sqlite://"), "sqlite:"), "file:")
		var bytes int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(path + suffix); err == nil {
				bytes += fi.Size()
			}
		}
		abs, _ := filepath.Abs(path)
		fmt.Fprintf(stdout, "database %s: %.1f MiB\n", abs, float64(bytes)/(1<<20))
	}
	return nil
}

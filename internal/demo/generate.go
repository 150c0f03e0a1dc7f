package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Size names a dataset of PERFORMANCE.md ("Datasets").
type Size string

// Dataset sizes. XS is not in PERFORMANCE.md: it is the same shape in
// miniature, for tests.
const (
	SizeXS Size = "XS" // 3 MSPs, 30 customers, 1,000 end users, 3,000 change-log rows
	SizeS  Size = "S"  // CI: 20 MSPs, 2,000 customers, 200,000 end users, 5 M change-log rows
	SizeL  Size = "L"  // headline: 200 MSPs, 20,000 customers, 2 M end users, 10 M change-log rows
)

// ParseSize accepts a size in any case ("l" or "L").
func ParseSize(s string) (Size, error) {
	size := Size(strings.ToUpper(strings.TrimSpace(s)))
	if _, err := shapeOf(size); err != nil {
		return "", err
	}
	return size, nil
}

// Options tune GenerateWith.
type Options struct {
	Size Size
	// Changes overrides the size's number of change-log rows when positive
	// (the change-log work will want L's full 50 M; tests want fewer).
	Changes int64
	// Now anchors every timestamp: trials, creation dates and the two years
	// of change log end here. Zero means the current time.
	Now time.Time
	// Seed varies the data. The same seed, Now and starting database give
	// the same rows.
	Seed uint64
}

// Stats is what a generation made and how long each part took.
type Stats struct {
	Size            Size
	Dialect         store.Dialect
	PlatformCreated bool // the database had no tenant tree, so Generate made its root

	Distributors   int
	MSPs           int
	Customers      int
	Staff          int // people, each with one membership
	EndUsers       int64
	ActiveEndUsers int64
	Groups         int64
	GroupMembers   int64
	Changes        int64

	Tables []TableStats // rows written per table, in load order
	Steps  []StepStats  // index builds and checks after the load
	Load   time.Duration
	Finish time.Duration
	Total  time.Duration
}

// TableStats is one table's load.
type TableStats struct {
	Table   string
	Rows    int64
	Elapsed time.Duration
}

// RowsPerSecond is the table's load rate.
func (t TableStats) RowsPerSecond() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Rows) / t.Elapsed.Seconds()
}

// StepStats is one step after the load (an index build, a check).
type StepStats struct {
	Step    string
	Elapsed time.Duration
}

// Rows reports the rows written to table.
func (s Stats) Rows(table string) int64 {
	for _, t := range s.Tables {
		if t.Table == table {
			return t.Rows
		}
	}
	return 0
}

// Generate builds the dataset of the given size under the platform root
// (creating the root if the database has none) and prints progress to out.
func Generate(ctx context.Context, s *store.Store, size Size, out io.Writer) (Stats, error) {
	return GenerateWith(ctx, s, Options{Size: size}, out)
}

// defaultSeed makes the datasets of every machine alike.
const defaultSeed = 0x63616e6f7079 // "canopy"

// GenerateWith is Generate with options. Rows are made by one goroutine and
// written by another, so generating and loading overlap on two cores; the
// database work is done through store.BulkLoad (indexes built after the
// load). The dataset lies beside whatever the tree already holds: its names,
// domains and IDs are derived from fresh org IDs, so generating twice gives
// two distributors rather than a conflict.
func GenerateWith(ctx context.Context, s *store.Store, opts Options, out io.Writer) (Stats, error) {
	started := time.Now()
	sh, err := shapeOf(opts.Size)
	if err != nil {
		return Stats{}, err
	}
	if opts.Changes > 0 {
		sh.changes = opts.Changes
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Millisecond)
	seed := opts.Seed
	if seed == 0 {
		seed = defaultSeed
	}
	stats := Stats{Size: opts.Size, Dialect: s.Dialect()}

	platform, err := s.Platform(ctx)
	if errors.Is(err, canopy.ErrNotFound) {
		err = s.InTx(ctx, func(tx *store.Tx) error {
			rng := (&plan{seed: seed}).rng(phasePlan)
			platform, err = tx.CreatePlatform(ctx, newUUID(rng), "Canopy", now)
			return err
		})
		stats.PlatformCreated = err == nil
	}
	if err != nil {
		return stats, fmt.Errorf("generate: platform: %w", err)
	}

	fmt.Fprintf(out, "generating dataset %s on %s: 1 distributor, %d MSPs, %d customers, %d end users, %d staff, %d groups, %d group memberships, %d change-log rows\n",
		opts.Size, s.Dialect(), sh.msps, sh.customers, sh.endUsers, sh.distributorStaff+sh.msps*sh.mspStaff, sh.groups, sh.groupMembers, sh.changes)
	var loadDone time.Time
	progress := func(step string, elapsed time.Duration) {
		stats.Steps = append(stats.Steps, StepStats{Step: step, Elapsed: elapsed})
		fmt.Fprintf(out, "  %-46s %8.2fs\n", step, elapsed.Seconds())
	}
	err = s.BulkLoad(ctx, store.BulkOptions{Progress: progress}, func(b *store.BulkLoader) error {
		// The plan's IDs start where the database's end, and its seed mixes
		// in the first org ID so that a second dataset gets new tenant IDs.
		next := ids{org: b.NextOrgID(), person: b.NextPersonID(), user: b.NextEndUserID(), group: b.NextGroupID(), change: b.NextChangeID()}
		p, err := newPlan(sh, seed^uint64(next.org)<<32, now, platform, next)
		if err != nil {
			return err
		}
		stats.Distributors, stats.MSPs, stats.Customers, stats.Staff = 1, len(p.msps), len(p.customers), len(p.staff)
		for _, c := range p.customers {
			stats.EndUsers += c.users
			stats.Groups += c.groups
			stats.GroupMembers += c.members
		}
		stats.Changes = sh.changes
		err = load(ctx, b, p, &stats, out)
		for _, c := range p.customers {
			stats.ActiveEndUsers += int64(c.org.ActiveUsers)
		}
		stats.Load = time.Since(started)
		loadDone = time.Now()
		if err == nil {
			fmt.Fprintf(out, "rows written in %.1fs; building indexes\n", stats.Load.Seconds())
		}
		return err
	})
	if !loadDone.IsZero() {
		stats.Finish = time.Since(loadDone)
	}
	stats.Total = time.Since(started)
	if err != nil {
		return stats, fmt.Errorf("generate %s: %w", opts.Size, err)
	}
	var rows int64
	for _, t := range stats.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(out, "dataset %s ready: %d rows in %.1fs (%.0f rows/s; load %.1fs, indexes and checks %.1fs)\n",
		opts.Size, rows, stats.Total.Seconds(), float64(rows)/stats.Total.Seconds(), stats.Load.Seconds(), stats.Finish.Seconds())
	return stats, nil
}

// load runs the plan's producer in its own goroutine and writes each batch
// it sends, timing every table from its first batch to its last.
func load(ctx context.Context, b *store.BulkLoader, p *plan, stats *Stats, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Two batches in flight: the producer works on the next while the
	// loader writes the current one.
	batches := make(chan batch, 2)
	produced := make(chan error, 1)
	go func() {
		defer close(batches)
		produced <- p.produce(func(bt batch) error {
			select {
			case batches <- bt:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()

	var current *TableStats
	var tableStart time.Time
	done := func() {
		if current == nil {
			return
		}
		current.Elapsed = time.Since(tableStart)
		stats.Tables = append(stats.Tables, *current)
		fmt.Fprintf(out, "  %-14s %11d rows %8.2fs %10.0f rows/s\n", current.Table, current.Rows, current.Elapsed.Seconds(), current.RowsPerSecond())
		current = nil
	}
	var loadErr error
	for bt := range batches {
		if loadErr != nil {
			continue // drain until the producer sees the cancellation
		}
		if current == nil || current.Table != bt.table {
			done()
			current, tableStart = &TableStats{Table: bt.table}, time.Now()
		}
		if err := bt.load(ctx, b); err != nil {
			loadErr = err
			cancel()
			continue
		}
		current.Rows += int64(bt.rows)
	}
	prodErr := <-produced
	if loadErr != nil {
		return loadErr
	}
	if prodErr != nil {
		return prodErr
	}
	done()
	return nil
}

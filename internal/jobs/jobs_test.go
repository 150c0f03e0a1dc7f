package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/jobs"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func enqueue(t *testing.T, s *store.Store, clock canopy.Clock, kind string, n int) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if err := jobs.Enqueue(ctx, tx, clock.Now(), kind, map[string]int{"n": i}, "", time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two worker pools — two replicas — on one PostgreSQL run 300 jobs; each job
// runs exactly once.
func TestTwoWorkerPoolsRunEachJobOnce(t *testing.T) {
	url := storetest.NewDatabaseURL(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *store.Store {
		s, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	replicaA, replicaB := open(), open()
	clock := canopy.SystemClock{}
	const total = 300
	enqueue(t, replicaA, clock, "count", total)

	var mu sync.Mutex
	runs := map[int64]int{}
	ranBy := map[string]int{}
	var done atomic.Int64
	handler := func(name string) jobs.Handler {
		return func(ctx context.Context, j store.Job) error {
			mu.Lock()
			runs[j.ID]++
			ranBy[name]++
			mu.Unlock()
			time.Sleep(time.Millisecond) // give the other pool a chance to race
			done.Add(1)
			return nil
		}
	}
	var wg sync.WaitGroup
	for name, s := range map[string]*store.Store{"A": replicaA, "B": replicaB} {
		r := jobs.New(s, clock, quiet, jobs.Options{Workers: 4, PollInterval: 5 * time.Millisecond, Name: name})
		r.Handle("count", handler(name))
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	deadline := time.Now().Add(60 * time.Second)
	for done.Load() < total && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let a duplicate, if any, show up
	cancel()
	wg.Wait()

	if len(runs) != total {
		t.Fatalf("%d distinct jobs ran; want %d", len(runs), total)
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("job %d ran %d times", id, n)
		}
	}
	if ranBy["A"] == 0 || ranBy["B"] == 0 {
		t.Errorf("both pools should have worked: %v", ranBy)
	}
	counts, err := replicaA.JobCounts(context.Background())
	if err != nil || counts[store.JobDone] != total {
		t.Errorf("job states = %v, %v; want %d done", counts, err, total)
	}
	t.Logf("runs per pool: %v", ranBy)
}

func TestCrashedWorkersJobIsRetakenAfterLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := canopy.NewManualClock(t0)
		enqueue(t, s, clock, "work", 1)
		// A worker claims the job and dies without finishing.
		claimed, err := s.ClaimJobs(ctx, "dead-worker", []string{"work"}, clock.Now(), time.Minute, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		var ran int
		r := jobs.New(s, clock, quiet, jobs.Options{Lease: time.Minute})
		r.Handle("work", func(ctx context.Context, j store.Job) error { ran++; return nil })

		if n, _ := r.RunDue(ctx); n != 0 {
			t.Fatalf("ran %d jobs while the lease holds; want 0", n)
		}
		clock.Advance(61 * time.Second)
		if n, err := r.RunDue(ctx); n != 1 || err != nil {
			t.Fatalf("after lease expiry ran %d, %v; want 1", n, err)
		}
		j, _ := s.Job(ctx, claimed[0].ID)
		if j.State != store.JobDone || j.Attempts != 2 || ran != 1 {
			t.Errorf("job = state %s attempts %d ran %d; want done, 2, 1", j.State, j.Attempts, ran)
		}
		// The dead worker waking up cannot overwrite the outcome.
		if err := s.CompleteJob(ctx, j.ID, "dead-worker", clock.Now()); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("stale owner completing: err = %v; want ErrLeaseLost", err)
		}
	})
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := canopy.NewManualClock(t0)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "flaky", MaxAttempts: 3}, clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		attempts := 0
		r := jobs.New(s, clock, quiet, jobs.Options{BackoffBase: 10 * time.Second, BackoffMax: time.Minute})
		r.Handle("flaky", func(ctx context.Context, j store.Job) error {
			attempts++
			return fmt.Errorf("relay said no (%d)", attempts)
		})

		r.RunDue(ctx)
		if attempts != 1 {
			t.Fatalf("attempts = %d; want 1", attempts)
		}
		// Not yet due: backoff holds it back.
		if n, _ := r.RunDue(ctx); n != 0 {
			t.Errorf("retried immediately; want backoff")
		}
		clock.Advance(10 * time.Second)
		r.RunDue(ctx)
		clock.Advance(20 * time.Second)
		r.RunDue(ctx)
		if attempts != 3 {
			t.Fatalf("attempts = %d; want 3", attempts)
		}
		clock.Advance(time.Hour)
		if n, _ := r.RunDue(ctx); n != 0 {
			t.Errorf("a failed job ran again")
		}
		counts, _ := s.JobCounts(ctx)
		if counts[store.JobFailed] != 1 {
			t.Errorf("states = %v; want 1 failed", counts)
		}
	})
}

func TestPermanentErrorAndPanicStopAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := canopy.NewManualClock(t0)
		enqueue(t, s, clock, "bad", 1)
		enqueue(t, s, clock, "panics", 1)
		r := jobs.New(s, clock, quiet, jobs.Options{})
		r.Handle("bad", func(ctx context.Context, j store.Job) error { return jobs.Permanent(errors.New("malformed payload")) })
		r.Handle("panics", func(ctx context.Context, j store.Job) error { panic("bug") })
		r.RunDue(ctx)
		counts, _ := s.JobCounts(ctx)
		if counts[store.JobFailed] != 1 || counts[store.JobQueued] != 1 {
			t.Errorf("states = %v; want the permanent one failed, the panicking one queued for retry", counts)
		}
	})
}

func TestScheduledTickRunsOncePerPeriodAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := canopy.NewManualClock(t0.Add(90 * time.Minute)) // 10:30
		var ran int
		newRunner := func() *jobs.Runner {
			r := jobs.New(s, clock, quiet, jobs.Options{})
			r.Handle("expire-trials", func(ctx context.Context, j store.Job) error { ran++; return nil })
			if err := r.Schedule("expire-trials", jobs.Every(time.Hour), "expire-trials", nil); err != nil {
				t.Fatal(err)
			}
			return r
		}
		a, b := newRunner(), newRunner()
		for _, r := range []*jobs.Runner{a, b, a} {
			if err := r.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		a.RunDue(ctx)
		b.RunDue(ctx)
		if ran != 1 {
			t.Fatalf("ran %d times in one period; want 1", ran)
		}
		clock.Advance(time.Hour)
		b.Tick(ctx)
		a.Tick(ctx)
		b.RunDue(ctx)
		if ran != 2 {
			t.Errorf("ran %d times after two periods; want 2", ran)
		}
	})
}

func TestSchedules(t *testing.T) {
	loc := time.UTC
	at := time.Date(2026, 11, 25, 7, 30, 0, 0, loc) // a Wednesday
	cases := []struct {
		s    jobs.Schedule
		want time.Time
	}{
		{jobs.Every(time.Hour), time.Date(2026, 11, 25, 7, 0, 0, 0, loc)},
		{jobs.Daily(6, 0, loc), time.Date(2026, 11, 25, 6, 0, 0, 0, loc)},
		{jobs.Daily(8, 0, loc), time.Date(2026, 11, 24, 8, 0, 0, 0, loc)},
		{jobs.Weekly(time.Monday, 8, 0, loc), time.Date(2026, 11, 23, 8, 0, 0, 0, loc)},
		{jobs.Weekly(time.Wednesday, 8, 0, loc), time.Date(2026, 11, 18, 8, 0, 0, 0, loc)},
	}
	for _, c := range cases {
		if got := c.s.Start(at); !got.Equal(c.want) {
			t.Errorf("%s: Start = %s; want %s", c.s, got, c.want)
		}
	}
}

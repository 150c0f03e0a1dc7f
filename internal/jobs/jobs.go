// Package jobs runs durable background work stored in the database: jobs
// enqueued inside the transaction of the change that asks for them, run with
// retries and backoff, and scheduled tasks that run once per period. Several
// replicas may run a Runner against one database: a job is claimed by a
// lease-based compare-and-swap, so it runs once; a crashed worker's job is
// claimed again once its lease expires; a scheduled period is enqueued under
// a unique key, so only one replica's tick creates it.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Handler does one job. Returning an error retries the job with backoff
// until its attempts run out; wrap the error with Permanent to stop at once.
type Handler func(ctx context.Context, job store.Job) error

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanentError{err} }

// Options tune a Runner. Zero values pick sensible defaults.
type Options struct {
	Workers      int           // jobs run at once (default 2)
	Lease        time.Duration // how long a claim lasts before others may take the job (default 5m)
	PollInterval time.Duration // how often to look for due jobs (default 1s)
	TickInterval time.Duration // how often to check schedules (default 15s)
	BackoffBase  time.Duration // first retry delay (default 5s), doubling up to BackoffMax
	BackoffMax   time.Duration // default 1h
	Name         string        // identifies this replica in leases and logs
}

// Runner claims and runs jobs and enqueues scheduled periods.
type Runner struct {
	store    *store.Store
	clock    canopy.Clock
	log      *slog.Logger
	opts     Options
	handlers map[string]Handler
	tasks    []task
}

type task struct {
	name     string
	schedule Schedule
	kind     string
	payload  string
}

// New returns a Runner over s. Register handlers and schedules before Run.
func New(s *store.Store, clock canopy.Clock, log *slog.Logger, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = 15 * time.Second
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 5 * time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = time.Hour
	}
	if opts.Name == "" {
		opts.Name = "worker-" + randomID()
	}
	return &Runner{store: s, clock: clock, log: log, opts: opts, handlers: map[string]Handler{}}
}

// Handle registers the handler for a kind of job.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Schedule runs a job of kind with payload once per period of sched. The
// name keys the periods, so it must stay stable across releases.
func (r *Runner) Schedule(name string, sched Schedule, kind string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", name, err)
	}
	r.tasks = append(r.tasks, task{name: name, schedule: sched, kind: kind, payload: string(b)})
	return nil
}

// Enqueue adds a job inside tx: it exists only if the transaction commits.
// A non-empty uniqueKey makes a repeated enqueue a no-op.
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, kind string, payload any, uniqueKey string, runAt time.Time) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	_, _, err = tx.EnqueueJob(ctx, store.NewJob{Kind: kind, Payload: string(b), UniqueKey: uniqueKey, RunAt: runAt}, now)
	return err
}

// EnqueueMany adds jobs of one kind in tx, as Enqueue adds one, in
// multi-row statements: payloads[i] with uniqueKeys[i] (empty: none).
func EnqueueMany(ctx context.Context, tx *store.Tx, now time.Time, kind string, payloads []any, uniqueKeys []string, runAt time.Time) error {
	if len(payloads) != len(uniqueKeys) {
		return fmt.Errorf("enqueue %s: %d payloads, %d keys", kind, len(payloads), len(uniqueKeys))
	}
	batch := make([]store.NewJob, len(payloads))
	for i, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("enqueue %s: %w", kind, err)
		}
		batch[i] = store.NewJob{Kind: kind, Payload: string(b), UniqueKey: uniqueKeys[i], RunAt: runAt}
	}
	return tx.EnqueueJobs(ctx, batch, now)
}

// Tick enqueues the current period of every schedule. Every replica ticks;
// the unique key lets exactly one insert win.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.clock.Now()
	var errs []error
	for _, t := range r.tasks {
		start := t.schedule.Start(now)
		key := fmt.Sprintf("schedule:%s:%d", t.name, start.UnixMilli())
		err := r.store.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := tx.EnqueueJob(ctx, store.NewJob{Kind: t.kind, Payload: t.payload, UniqueKey: key, RunAt: start}, now)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("tick %s: %w", t.name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) kinds() []string {
	kinds := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// RunDue claims and runs the jobs due now, up to Workers at a time, and
// returns how many it ran. Run calls it in a loop; tests call it directly.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	kinds := r.kinds()
	ran := 0
	for {
		owner := r.opts.Name + ":" + randomID()
		claimed, err := r.store.ClaimJobs(ctx, owner, kinds, r.clock.Now(), r.opts.Lease, r.opts.Workers)
		if err != nil {
			return ran, err
		}
		if len(claimed) == 0 {
			return ran, nil
		}
		var wg sync.WaitGroup
		for _, j := range claimed {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.runOne(ctx, owner, j)
			}()
		}
		wg.Wait()
		ran += len(claimed)
		if ctx.Err() != nil {
			return ran, nil
		}
	}
}

func (r *Runner) runOne(ctx context.Context, owner string, j store.Job) {
	h := r.handlers[j.Kind]
	log := r.log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "worker", r.opts.Name)
	started := time.Now()
	err := r.safeRun(ctx, h, j)
	// Record the outcome even if ctx ended meanwhile, so a clean shutdown
	// does not leave the job waiting for its lease to expire.
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := r.clock.Now()
	switch {
	case err == nil:
		if ferr := r.store.CompleteJob(finishCtx, j.ID, owner, now); ferr != nil {
			log.Warn("job finished but could not be marked done", "err", ferr)
			return
		}
		log.Debug("job done", "took", time.Since(started))
	case errors.As(err, new(permanentError)) || j.Attempts >= j.MaxAttempts:
		if ferr := r.store.FailJob(finishCtx, j.ID, owner, err.Error(), now); ferr != nil {
			log.Warn("job failed and could not be marked failed", "err", err, "mark_err", ferr)
			return
		}
		log.Error("job failed for good", "err", err)
	default:
		retryAt := now.Add(r.backoff(j.Attempts))
		if ferr := r.store.RetryJob(finishCtx, j.ID, owner, err.Error(), retryAt); ferr != nil {
			log.Warn("job failed and could not be rescheduled", "err", err, "mark_err", ferr)
			return
		}
		log.Warn("job failed, will retry", "err", err, "retry_at", retryAt)
	}
}

func (r *Runner) safeRun(ctx context.Context, h Handler, j store.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	if h == nil {
		return Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	return h(ctx, j)
}

// backoff is exponential with full jitter in its upper half.
func (r *Runner) backoff(attempt int) time.Duration {
	d := float64(r.opts.BackoffBase) * math.Pow(2, float64(max(attempt-1, 0)))
	if d > float64(r.opts.BackoffMax) {
		d = float64(r.opts.BackoffMax)
	}
	return time.Duration(d/2 + mrand.Float64()*d/2)
}

// Run ticks schedules and runs due jobs until ctx ends, then waits for the
// jobs in flight to finish.
func (r *Runner) Run(ctx context.Context) {
	poll := time.NewTicker(r.opts.PollInterval)
	defer poll.Stop()
	tick := time.NewTicker(r.opts.TickInterval)
	defer tick.Stop()
	if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
		r.log.Error("schedule tick", "err", err)
	}
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("run jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("schedule tick", "err", err)
			}
		case <-poll.C:
		}
	}
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

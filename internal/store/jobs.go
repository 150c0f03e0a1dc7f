package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// NewJob is work to enqueue.
type NewJob struct {
	Kind        string
	Payload     string // JSON
	UniqueKey   string // optional: a second enqueue with the same key is ignored
	RunAt       time.Time
	MaxAttempts int
}

// Job is a row of the jobs table.
type Job struct {
	ID          int64
	Kind        string
	Payload     string
	UniqueKey   string
	State       string
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	LeaseOwner  string
	LeaseUntil  time.Time
	LastError   string
	Created     time.Time
	Finished    time.Time
}

const jobColumns = `id, kind, payload, unique_key, state, attempts, max_attempts, run_at, lease_owner, lease_until, last_error, created_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var uniqueKey, leaseOwner sql.NullString
	var runAt, created int64
	var leaseUntil, finished sql.NullInt64
	err := row.Scan(&j.ID, &j.Kind, &j.Payload, &uniqueKey, &j.State, &j.Attempts, &j.MaxAttempts, &runAt,
		&leaseOwner, &leaseUntil, &j.LastError, &created, &finished)
	j.UniqueKey, j.LeaseOwner = uniqueKey.String, leaseOwner.String
	j.RunAt, j.Created = time.UnixMilli(runAt).UTC(), time.UnixMilli(created).UTC()
	j.LeaseUntil, j.Finished = fromMillis(leaseUntil), fromMillis(finished)
	return j, err
}

// EnqueueJob adds a job in the caller's transaction, so the job exists if and
// only if the change that asked for it commits. With a UniqueKey already
// present it does nothing and reports created=false.
func (tx *Tx) EnqueueJob(ctx context.Context, j NewJob, now time.Time) (id int64, created bool, err error) {
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 10
	}
	if j.Payload == "" {
		j.Payload = "{}"
	}
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO jobs (kind, payload, unique_key, state, max_attempts, run_at, created_at)
		VALUES ($1, $2, $3, 'queued', $4, $5, $6)
		ON CONFLICT (unique_key) DO NOTHING RETURNING id`,
		j.Kind, j.Payload, nullString(j.UniqueKey), j.MaxAttempts, j.RunAt.UnixMilli(), now.UnixMilli()).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	return id, true, nil
}

// EnqueueJobs adds jobs in the caller's transaction in multi-row
// statements, as EnqueueJob adds one; a UniqueKey already present is
// skipped.
func (tx *Tx) EnqueueJobs(ctx context.Context, jobs []NewJob, now time.Time) error {
	per := tx.rowsPerInsert(6)
	for start := 0; start < len(jobs); start += per {
		chunk := jobs[start:min(start+per, len(jobs))]
		args := make([]any, 0, 6*len(chunk))
		rows := make([]string, len(chunk))
		for i, j := range chunk {
			if j.MaxAttempts <= 0 {
				j.MaxAttempts = 10
			}
			if j.Payload == "" {
				j.Payload = "{}"
			}
			if j.RunAt.IsZero() {
				j.RunAt = now
			}
			n := len(args)
			rows[i] = fmt.Sprintf("($%d, $%d, $%d, 'queued', $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6)
			args = append(args, j.Kind, j.Payload, nullString(j.UniqueKey), j.MaxAttempts, j.RunAt.UnixMilli(), now.UnixMilli())
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, payload, unique_key, state, max_attempts, run_at, created_at)
			VALUES `+strings.Join(rows, ", ")+` ON CONFLICT (unique_key) DO NOTHING`, args...); err != nil {
			return fmt.Errorf("enqueue jobs: %w", err)
		}
	}
	return nil
}

// ClaimJobs claims up to n due jobs of the given kinds for owner until
// now+lease. A job is due when it is queued and its time has come, or when it
// is running under a lease that has expired (its worker died). The claim is a
// compare-and-swap: the UPDATE repeats the "due" condition, so of several
// workers racing for one job exactly one changes the row. No advisory locks
// or SKIP LOCKED: the same SQL runs on SQLite, PostgreSQL and
// PostgreSQL-compatible distributed SQL.
func (s *Store) ClaimJobs(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, n int) ([]Job, error) {
	if len(kinds) == 0 || n <= 0 {
		return nil, nil
	}
	nowMs := now.UnixMilli()
	args := []any{nowMs, n}
	ph := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM jobs
		WHERE ((state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1))
		  AND kind IN (`+strings.Join(ph, ", ")+`)
		ORDER BY run_at, id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var candidates []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		candidates = append(candidates, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var claimed []Job
	for _, id := range candidates {
		j, err := scanJob(s.w.QueryRowContext(ctx, `UPDATE jobs
			SET state = 'running', lease_owner = $2, lease_until = $3, attempts = attempts + 1
			WHERE id = $1 AND ((state = 'queued' AND run_at <= $4) OR (state = 'running' AND lease_until < $4))
			RETURNING `+jobColumns, id, owner, now.Add(lease).UnixMilli(), nowMs))
		if err == sql.ErrNoRows {
			continue // another worker won this one
		}
		if err != nil {
			return claimed, fmt.Errorf("claim job %d: %w", id, err)
		}
		claimed = append(claimed, j)
	}
	return claimed, nil
}

// ErrLeaseLost means the job's lease passed to another worker; the caller's
// result is discarded.
var ErrLeaseLost = fmt.Errorf("job lease lost")

// CompleteJob marks a claimed job done. Only the lease owner may do so.
func (s *Store) CompleteJob(ctx context.Context, id int64, owner string, now time.Time) error {
	return s.finishJob(ctx, `UPDATE jobs SET state = 'done', finished_at = $3, lease_owner = NULL, lease_until = NULL, last_error = ''
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, now.UnixMilli())
}

// RetryJob records a failed attempt and schedules the next at retryAt.
func (s *Store) RetryJob(ctx context.Context, id int64, owner, errMsg string, retryAt time.Time) error {
	return s.finishJob(ctx, `UPDATE jobs SET state = 'queued', run_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, retryAt.UnixMilli(), truncate(errMsg, 2000))
}

// FailJob records a final failure: no more attempts.
func (s *Store) FailJob(ctx context.Context, id int64, owner, errMsg string, now time.Time) error {
	return s.finishJob(ctx, `UPDATE jobs SET state = 'failed', finished_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, now.UnixMilli(), truncate(errMsg, 2000))
}

// ExtendLease keeps a long job's lease alive.
func (s *Store) ExtendLease(ctx context.Context, id int64, owner string, until time.Time) error {
	return s.finishJob(ctx, `UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
		id, owner, until.UnixMilli())
}

func (s *Store) finishJob(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Job returns one job by ID.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return Job{}, notFound("job", err)
	}
	return j, nil
}

// JobCounts counts jobs by state, for metrics and tests.
func (s *Store) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("job counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// PruneJobs deletes finished jobs older than before. Unique keys of pruned
// scheduled ticks are long past their period, so nothing runs again.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < $1`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune jobs: %w", err)
	}
	return res.RowsAffected()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

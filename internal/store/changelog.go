package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// RecordChange writes one change-log entry in the transaction of the change.
func (tx *Tx) RecordChange(ctx context.Context, c canopy.Change) (canopy.ChangeID, error) {
	var id canopy.ChangeID
	err := tx.QueryRowContext(ctx, `INSERT INTO change_log
		(org_id, org_path, msp_id, actor_kind, actor_id, actor_name, on_behalf_of_id, on_behalf_of_name,
		 action, target_type, target_id, target_name, before_json, after_json, ip, user_agent, created_at)
		VALUES ($1, $2, $17, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		c.OrgID, c.OrgPath, string(c.Actor.Kind), nullInt(int64(c.Actor.PersonID)), c.Actor.Name,
		nullInt(int64(c.Actor.OnBehalfOfID)), c.Actor.OnBehalfOfName,
		string(c.Action), c.TargetType, c.TargetID, c.TargetName,
		nullJSON(c.Before), nullJSON(c.After), c.Actor.IP, c.Actor.UserAgent, c.At.UnixMilli(), nullInt(int64(canopy.MSPOfPath(c.OrgPath)))).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record change %s: %w", c.Action, err)
	}
	return id, nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

const changeColumns = `id, org_id, org_path, actor_kind, COALESCE(actor_id, 0), actor_name,
		COALESCE(on_behalf_of_id, 0), on_behalf_of_name, action, target_type, target_id, target_name,
		before_json, after_json, ip, user_agent, created_at`

// changeQuery builds the WHERE clause of a change-log query for orgID in
// scope matching f, except for the actions, which callers add: one IN list
// for a stream, one index range per action for a page.
type changeQuery struct {
	args  []any
	where strings.Builder
}

func (q *changeQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func newChangeQuery(scope canopy.Scope, orgID canopy.OrgID, f canopy.ChangeFilter) *changeQuery {
	lo, hi := scope.Bounds()
	q := &changeQuery{args: []any{orgID, lo, hi}}
	if f.MSPSubtree {
		q.where.WriteString(`msp_id = $1 AND org_path >= $2 AND org_path < $3`)
	} else {
		q.where.WriteString(`org_id = $1 AND org_path >= $2 AND org_path < $3`)
	}
	if !f.Since.IsZero() {
		q.where.WriteString(` AND created_at >= ` + q.arg(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		q.where.WriteString(` AND created_at < ` + q.arg(f.Until.UnixMilli()))
	}
	if f.ActorID != 0 {
		q.where.WriteString(` AND actor_id = ` + q.arg(int64(f.ActorID)))
	}
	if f.BeforeID != 0 {
		at, id := q.arg(f.BeforeAt.UnixMilli()), q.arg(int64(f.BeforeID))
		// created_at <= bounds the index range; the OR skips what was shown.
		q.where.WriteString(` AND created_at <= ` + at + ` AND (created_at < ` + at + ` OR id < ` + id + `)`)
	}
	return q
}

// Changes lists the change-log entries of organization orgID (with
// f.MSPSubtree: of the MSP orgID and its customers), newest first, matching
// f. The scope is part of the WHERE clause, so another subtree's entries
// are never returned. Several actions are read as one bounded index range
// each and merged, so a page costs the same whatever the log's size.
func (s *Store) Changes(ctx context.Context, scope canopy.Scope, orgID canopy.OrgID, f canopy.ChangeFilter) ([]canopy.Change, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	return s.changesPage(ctx, scope, orgID, f, limit)
}

func (s *Store) changesPage(ctx context.Context, scope canopy.Scope, orgID canopy.OrgID, f canopy.ChangeFilter, limit int) ([]canopy.Change, error) {
	q := newChangeQuery(scope, orgID, f)
	base := q.where.String()
	var query string
	switch len(f.Actions) {
	case 0:
		query = `SELECT ` + changeColumns + ` FROM change_log WHERE ` + base + ` ORDER BY created_at DESC, id DESC LIMIT ` + q.arg(limit)
	case 1:
		query = `SELECT ` + changeColumns + ` FROM change_log WHERE ` + base + ` AND action = ` + q.arg(string(f.Actions[0])) +
			` ORDER BY created_at DESC, id DESC LIMIT ` + q.arg(limit)
	default:
		lim := q.arg(limit)
		parts := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			parts[i] = fmt.Sprintf(`SELECT * FROM (SELECT %s FROM change_log WHERE %s AND action = %s ORDER BY created_at DESC, id DESC LIMIT %s) a%d`,
				changeColumns, base, q.arg(string(a)), lim, i)
		}
		query = `SELECT * FROM (` + strings.Join(parts, ` UNION ALL `) + `) u ORDER BY created_at DESC, id DESC LIMIT ` + lim
	}
	rows, err := s.r.QueryContext(ctx, query, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var out []canopy.Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("list changes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// exportBatch is how many entries one query of an export reads per action.
const exportBatch = 1000

// EachChange streams every entry matching f (no limit), newest first, to
// fn. It reads in keyset batches, one bounded index range per action,
// merged newest first: memory stays flat, the first row comes at once, and
// no engine is tempted into sorting the whole log before the first byte (an
// unbounded ORDER BY made PostgreSQL scan and sort 10 M rows).
func (s *Store) EachChange(ctx context.Context, scope canopy.Scope, orgID canopy.OrgID, f canopy.ChangeFilter, fn func(*canopy.Change) error) error {
	actions := f.Actions
	if len(actions) == 0 {
		actions = []canopy.Action{""}
	}
	// Each action is read by a goroutine one batch ahead of the merge, so the
	// database reads while the caller formats. Many actions read smaller
	// batches: memory stays bounded by about three times exportBatch rows.
	batch := max(100, exportBatch/len(actions))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		rows []canopy.Change
		err  error
	}
	type arm struct {
		ch   chan result
		buf  []canopy.Change
		done bool
	}
	arms := make([]*arm, len(actions))
	for i, action := range actions {
		af := f
		af.Actions, af.BeforeID, af.BeforeAt = nil, 0, time.Time{}
		if action != "" {
			af.Actions = []canopy.Action{action}
		}
		a := &arm{ch: make(chan result, 1)}
		arms[i] = a
		go func() {
			defer close(a.ch)
			for {
				rows, err := s.changesPage(ctx, scope, orgID, af, batch)
				select {
				case a.ch <- result{rows, err}:
				case <-ctx.Done():
					return
				}
				if err != nil || len(rows) < batch {
					return
				}
				af.BeforeAt, af.BeforeID = rows[len(rows)-1].At, rows[len(rows)-1].ID
			}
		}()
	}
	for {
		var next *arm
		for _, a := range arms {
			if len(a.buf) == 0 && !a.done {
				r, ok := <-a.ch
				if !ok {
					a.done = true
					continue
				}
				if r.err != nil {
					return fmt.Errorf("export changes: %w", r.err)
				}
				a.buf = r.rows
			}
			if len(a.buf) > 0 && (next == nil || newer(&a.buf[0], &next.buf[0])) {
				next = a
			}
		}
		if next == nil {
			return ctx.Err()
		}
		if err := fn(&next.buf[0]); err != nil {
			return err
		}
		next.buf = next.buf[1:]
	}
}

func newer(a, b *canopy.Change) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	return a.ID > b.ID
}

func scanChange(rows *sql.Rows) (canopy.Change, error) {
	var c canopy.Change
	var before, after sql.NullString
	var at int64
	if err := rows.Scan(&c.ID, &c.OrgID, &c.OrgPath, &c.Actor.Kind, &c.Actor.PersonID, &c.Actor.Name,
		&c.Actor.OnBehalfOfID, &c.Actor.OnBehalfOfName, &c.Action, &c.TargetType, &c.TargetID, &c.TargetName,
		&before, &after, &c.Actor.IP, &c.Actor.UserAgent, &at); err != nil {
		return c, err
	}
	if before.Valid {
		c.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		c.After = json.RawMessage(after.String)
	}
	c.At = time.UnixMilli(at).UTC()
	return c, nil
}

// RecordChanges writes many change-log entries in multi-row statements, in
// the transaction of the changes (bulk work: imports, large invitations).
func (tx *Tx) RecordChanges(ctx context.Context, changes []canopy.Change) error {
	const cols = 17
	perInsert := tx.rowsPerInsert(cols)
	for start := 0; start < len(changes); start += perInsert {
		chunk := changes[start:min(start+perInsert, len(changes))]
		args := make([]any, 0, len(chunk)*cols)
		rows := make([]string, len(chunk))
		for i, c := range chunk {
			ph := make([]string, cols)
			for j := range ph {
				ph[j] = fmt.Sprintf("$%d", len(args)+j+1)
			}
			rows[i] = "(" + strings.Join(ph, ", ") + ")"
			args = append(args, c.OrgID, c.OrgPath, nullInt(int64(canopy.MSPOfPath(c.OrgPath))), string(c.Actor.Kind), nullInt(int64(c.Actor.PersonID)), c.Actor.Name,
				nullInt(int64(c.Actor.OnBehalfOfID)), c.Actor.OnBehalfOfName, string(c.Action), c.TargetType, c.TargetID, c.TargetName,
				nullJSON(c.Before), nullJSON(c.After), c.Actor.IP, c.Actor.UserAgent, c.At.UnixMilli())
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO change_log
			(org_id, org_path, msp_id, actor_kind, actor_id, actor_name, on_behalf_of_id, on_behalf_of_name,
			 action, target_type, target_id, target_name, before_json, after_json, ip, user_agent, created_at)
			VALUES `+strings.Join(rows, ", "), args...)
		if err != nil {
			return fmt.Errorf("record changes: %w", err)
		}
	}
	return nil
}

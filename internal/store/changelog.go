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
		(org_id, org_path, actor_kind, actor_id, actor_name, on_behalf_of_id, on_behalf_of_name,
		 action, target_type, target_id, target_name, before_json, after_json, ip, user_agent, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		c.OrgID, c.OrgPath, string(c.Actor.Kind), nullInt(int64(c.Actor.PersonID)), c.Actor.Name,
		nullInt(int64(c.Actor.OnBehalfOfID)), c.Actor.OnBehalfOfName,
		string(c.Action), c.TargetType, c.TargetID, c.TargetName,
		nullJSON(c.Before), nullJSON(c.After), c.Actor.IP, c.Actor.UserAgent, c.At.UnixMilli()).Scan(&id)
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

// Changes lists the change-log entries of organization orgID, newest first,
// matching f. The organization must lie in scope: the scope is part of the
// WHERE clause, so another subtree's entries are never returned.
func (s *Store) Changes(ctx context.Context, scope canopy.Scope, orgID canopy.OrgID, f canopy.ChangeFilter) ([]canopy.Change, error) {
	lo, hi := scope.Bounds()
	args := []any{orgID, lo, hi}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var where strings.Builder
	where.WriteString(`org_id = $1 AND org_path >= $2 AND org_path < $3`)
	if len(f.Actions) > 0 {
		ph := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			ph[i] = arg(string(a))
		}
		where.WriteString(` AND action IN (` + strings.Join(ph, ", ") + `)`)
	}
	if !f.Since.IsZero() {
		where.WriteString(` AND created_at >= ` + arg(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		where.WriteString(` AND created_at < ` + arg(f.Until.UnixMilli()))
	}
	if f.ActorID != 0 {
		where.WriteString(` AND actor_id = ` + arg(int64(f.ActorID)))
	}
	if f.BeforeID != 0 {
		at, id := arg(f.BeforeAt.UnixMilli()), arg(int64(f.BeforeID))
		where.WriteString(` AND (created_at < ` + at + ` OR (created_at = ` + at + ` AND id < ` + id + `))`)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	query := `SELECT id, org_id, org_path, actor_kind, COALESCE(actor_id, 0), actor_name,
		COALESCE(on_behalf_of_id, 0), on_behalf_of_name, action, target_type, target_id, target_name,
		before_json, after_json, ip, user_agent, created_at
		FROM change_log WHERE ` + where.String() + ` ORDER BY created_at DESC, id DESC LIMIT ` + arg(limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var out []canopy.Change
	for rows.Next() {
		var c canopy.Change
		var before, after sql.NullString
		var at int64
		if err := rows.Scan(&c.ID, &c.OrgID, &c.OrgPath, &c.Actor.Kind, &c.Actor.PersonID, &c.Actor.Name,
			&c.Actor.OnBehalfOfID, &c.Actor.OnBehalfOfName, &c.Action, &c.TargetType, &c.TargetID, &c.TargetName,
			&before, &after, &c.Actor.IP, &c.Actor.UserAgent, &at); err != nil {
			return nil, fmt.Errorf("list changes: %w", err)
		}
		if before.Valid {
			c.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			c.After = json.RawMessage(after.String)
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

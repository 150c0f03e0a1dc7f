package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// StaffQuery selects and orders the staff of one organization.
type StaffQuery struct {
	Search string // prefix of name or email (case-insensitive)
	Letter string // first letter of the name, "A"–"Z"
	Role   string // holds this role
	Status string // "registered" or "unregistered"
	Sort   string // "name" (default), "email", "status", "last_login"
	Desc   bool
	// Keyset cursor: the sort value and person ID of the last row shown.
	AfterValue string
	AfterID    canopy.PersonID
	Limit      int
}

// StaffRow is one line of the staff list.
type StaffRow struct {
	Person
	Roles          []string
	Registered     time.Time
	TwoStep        bool
	LastLogin      time.Time
	LastLoginError string
	SortValue      string // the cursor value of this row
}

// staffSorts maps a sort name to its SQL expression, all rendered as text
// so one cursor type serves every column (last_login is zero-padded).
var staffSorts = map[string]string{
	"name":       `LOWER(p.name)`,
	"email":      `p.email`,
	"status":     `CASE WHEN p.registered_at IS NULL THEN '0' ELSE '1' END`,
	"last_login": `LPAD_LOGIN`,
}

// StaffAt lists the people holding a membership at org (in scope).
func (s *Store) StaffAt(ctx context.Context, scope canopy.Scope, org canopy.OrgID, q StaffQuery) ([]StaffRow, error) {
	lo, hi := scope.Bounds()
	sortExpr, ok := staffSorts[q.Sort]
	if !ok {
		sortExpr = staffSorts["name"]
	}
	if sortExpr == "LPAD_LOGIN" {
		// 13 digits of unix milliseconds sort as text like numbers.
		if s.dialect == Postgres {
			sortExpr = `LPAD(COALESCE(p.last_login_at, 0)::text, 13, '0')`
		} else {
			sortExpr = `SUBSTR('0000000000000' || COALESCE(p.last_login_at, 0), -13, 13)`
		}
	}
	args := []any{org, lo, hi}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	var where strings.Builder
	where.WriteString(`m.org_id = $1 AND o.path >= $2 AND o.path < $3`)
	if q.Search != "" {
		pfx := strings.ToLower(strings.TrimSpace(q.Search))
		pfx = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(pfx) + "%"
		a := arg(pfx)
		where.WriteString(` AND (LOWER(p.name) LIKE ` + a + ` ESCAPE '\' OR p.email LIKE ` + a + ` ESCAPE '\')`)
	}
	if len(q.Letter) == 1 {
		where.WriteString(` AND LOWER(p.name) LIKE ` + arg(strings.ToLower(q.Letter)+"%"))
	}
	if q.Role != "" {
		where.WriteString(` AND (',' || m.roles || ',') LIKE ` + arg("%,"+q.Role+",%"))
	}
	switch q.Status {
	case "registered":
		where.WriteString(` AND p.registered_at IS NOT NULL`)
	case "unregistered":
		where.WriteString(` AND p.registered_at IS NULL`)
	}
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if q.AfterID != 0 {
		v, id := arg(q.AfterValue), arg(int64(q.AfterID))
		where.WriteString(fmt.Sprintf(` AND (%s %s %s OR (%s = %s AND p.id %s %s))`, sortExpr, cmp, v, sortExpr, v, cmp, id))
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	query := `SELECT p.id, p.email, p.name, p.phone, m.roles, p.registered_at, p.totp_enabled_at, p.last_login_at, p.last_login_error, ` + sortExpr + `
		FROM memberships m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id
		WHERE ` + where.String() + ` ORDER BY ` + sortExpr + ` ` + dir + `, p.id ` + dir + ` LIMIT ` + arg(limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	defer rows.Close()
	var out []StaffRow
	for rows.Next() {
		var r StaffRow
		var roles string
		var registered, twoStep, lastLogin sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Email, &r.Name, &r.Phone, &roles, &registered, &twoStep, &lastLogin, &r.LastLoginError, &r.SortValue); err != nil {
			return nil, fmt.Errorf("staff list: %w", err)
		}
		if roles != "" {
			r.Roles = strings.Split(roles, ",")
		}
		r.Registered, r.TwoStep, r.LastLogin = fromMillis(registered), twoStep.Valid, fromMillis(lastLogin)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PersonInScope returns a person's sign-in state and their memberships that
// lie in scope; ErrNotFound when none does (the person is not the
// caller's to see).
func (s *Store) PersonInScope(ctx context.Context, scope canopy.Scope, id canopy.PersonID) (Credentials, []Membership, error) {
	all, err := s.MembershipsOf(ctx, id)
	if err != nil {
		return Credentials{}, nil, err
	}
	var visible []Membership
	for _, m := range all {
		if scope.Contains(m.Org.Path) {
			visible = append(visible, m)
		}
	}
	if len(visible) == 0 {
		return Credentials{}, nil, fmt.Errorf("person: %w", canopy.ErrNotFound)
	}
	c, err := scanCredentials(s.r.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM people WHERE id = $1`, id))
	if err != nil {
		return Credentials{}, nil, notFound("person", err)
	}
	return c, visible, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

const orgColumns = `o.id, o.tenant_id, o.kind, o.name, COALESCE(o.parent_id, 0), o.path, o.depth, o.created_at,
	COALESCE(c.domain, ''), COALESCE(c.status, ''), c.trial_ends_at, COALESCE(c.active_users, 0), o.lifecycle_by_distributor`

const orgFrom = ` FROM orgs o LEFT JOIN customers c ON c.org_id = o.id `

func scanOrg(row interface{ Scan(...any) error }) (canopy.Org, error) {
	var o canopy.Org
	var created int64
	var trialEnds sql.NullInt64
	var status string
	err := row.Scan(&o.ID, &o.TenantID, &o.Kind, &o.Name, &o.ParentID, &o.Path, &o.Depth, &created,
		&o.Domain, &status, &trialEnds, &o.ActiveUsers, &o.LifecycleByDistributor)
	o.Created = time.UnixMilli(created).UTC()
	o.Status = canopy.CustomerStatus(status)
	o.TrialEndsAt = fromMillis(trialEnds)
	return o, err
}

// prefixScanner scans leading columns of its own before an org's columns.
type prefixScanner struct {
	row    interface{ Scan(...any) error }
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.row.Scan(append(p.prefix, dest...)...) }

// CreatePlatform creates the root of the tenant tree. It fails with
// ErrConflict if a root exists.
func (tx *Tx) CreatePlatform(ctx context.Context, tenantID, name string, now time.Time) (canopy.Org, error) {
	var exists int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs WHERE parent_id IS NULL`).Scan(&exists)
	if err != nil {
		return canopy.Org{}, fmt.Errorf("create platform: %w", err)
	}
	if exists > 0 {
		return canopy.Org{}, fmt.Errorf("create platform: %w", canopy.ErrConflict)
	}
	return tx.insertOrg(ctx, canopy.Org{TenantID: tenantID, Kind: canopy.KindPlatform, Name: name}, "", 0, now)
}

// CreateOrg creates o under o.ParentID, which must lie in scope. Customer
// attributes are stored for customers. The returned Org carries its ID and path.
func (tx *Tx) CreateOrg(ctx context.Context, scope canopy.Scope, o canopy.Org, now time.Time) (canopy.Org, error) {
	lo, hi := scope.Bounds()
	var parentKind canopy.OrgKind
	var parentPath string
	var parentDepth int
	var grandparent canopy.OrgID
	err := tx.QueryRowContext(ctx,
		`SELECT kind, path, depth, COALESCE(parent_id, 0) FROM orgs WHERE id = $1 AND path >= $2 AND path < $3`,
		o.ParentID, lo, hi).Scan(&parentKind, &parentPath, &parentDepth, &grandparent)
	if err != nil {
		return canopy.Org{}, notFound("create org: parent", err)
	}
	if !canopy.ParentKindAllowed(parentKind, o.Kind) {
		return canopy.Org{}, fmt.Errorf("create org: a %s cannot be placed under a %s: %w",
			o.Kind.Label(), parentKind.Label(), canopy.ErrInvalid)
	}
	created, err := tx.insertOrg(ctx, o, parentPath, parentDepth+1, now)
	if err != nil {
		return canopy.Org{}, err
	}
	if o.Kind == canopy.KindCustomer {
		domain := strings.ToLower(o.Domain)
		_, err = tx.ExecContext(ctx,
			`INSERT INTO customers (org_id, msp_id, distributor_id, path, name_key, domain, status, trial_ends_at, active_users)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			created.ID, o.ParentID, grandparent, created.Path, strings.ToLower(o.Name), domain, string(o.Status), millis(o.TrialEndsAt), o.ActiveUsers)
		if err != nil {
			return canopy.Org{}, fmt.Errorf("create customer: %w", err)
		}
		if domain != "" {
			_, err = tx.ExecContext(ctx, `INSERT INTO customer_domains (customer_id, msp_id, domain, is_primary) VALUES ($1, $2, $3, $4)`,
				created.ID, o.ParentID, domain, true)
			if isUniqueViolation(err) {
				return canopy.Org{}, fmt.Errorf("create customer: domain %s: %w", domain, canopy.ErrConflict)
			}
			if err != nil {
				return canopy.Org{}, fmt.Errorf("create customer: %w", err)
			}
		}
		created.Domain, created.Status, created.TrialEndsAt, created.ActiveUsers =
			strings.ToLower(o.Domain), o.Status, o.TrialEndsAt, o.ActiveUsers
	}
	return created, nil
}

func (tx *Tx) insertOrg(ctx context.Context, o canopy.Org, parentPath string, depth int, now time.Time) (canopy.Org, error) {
	var id canopy.OrgID
	err := tx.QueryRowContext(ctx,
		`INSERT INTO orgs (tenant_id, kind, name, parent_id, depth, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		o.TenantID, string(o.Kind), o.Name, nullInt(int64(o.ParentID)), depth, now.UnixMilli()).Scan(&id)
	if err != nil {
		if isUniqueViolation(err) {
			// A reused tenant ID, or a second root (orgs_one_root).
			return canopy.Org{}, fmt.Errorf("create org %q: %w", o.Name, canopy.ErrConflict)
		}
		return canopy.Org{}, fmt.Errorf("create org: %w", err)
	}
	path := canopy.OrgPath(parentPath, id)
	if _, err := tx.ExecContext(ctx, `UPDATE orgs SET path = $1 WHERE id = $2`, path, id); err != nil {
		return canopy.Org{}, fmt.Errorf("create org: set path: %w", err)
	}
	o.ID, o.Path, o.Depth, o.Created = id, path, depth, now.UTC().Truncate(time.Millisecond)
	return o, nil
}

// Platform returns the root of the tenant tree.
func (s *Store) Platform(ctx context.Context) (canopy.Org, error) {
	o, err := scanOrg(s.r.QueryRowContext(ctx, `SELECT `+orgColumns+orgFrom+`WHERE o.parent_id IS NULL`))
	if err != nil {
		return canopy.Org{}, notFound("platform", err)
	}
	return o, nil
}

// Org returns the organization id if it lies in scope; ErrNotFound otherwise,
// whether it does not exist or belongs to another subtree.
func (s *Store) Org(ctx context.Context, scope canopy.Scope, id canopy.OrgID) (canopy.Org, error) {
	return orgWhere(ctx, s.r, scope, `o.id = $3`, id)
}

// Org is Store.Org inside a write transaction.
func (tx *Tx) Org(ctx context.Context, scope canopy.Scope, id canopy.OrgID) (canopy.Org, error) {
	return orgWhere(ctx, tx, scope, `o.id = $3`, id)
}

// OrgByTenantID returns the organization with the public tenant ID if it lies in scope.
func (s *Store) OrgByTenantID(ctx context.Context, scope canopy.Scope, tenantID string) (canopy.Org, error) {
	return orgWhere(ctx, s.r, scope, `o.tenant_id = $3`, tenantID)
}

func orgWhere(ctx context.Context, q querier, scope canopy.Scope, cond string, arg any) (canopy.Org, error) {
	lo, hi := scope.Bounds()
	o, err := scanOrg(q.QueryRowContext(ctx,
		`SELECT `+orgColumns+orgFrom+`WHERE o.path >= $1 AND o.path < $2 AND `+cond, lo, hi, arg))
	if err != nil {
		return canopy.Org{}, notFound("org", err)
	}
	return o, nil
}

// OrgUnscoped returns any organization by ID. It exists for the code that
// builds a scope in the first place (where a link or session says the
// person acts); nothing that answers a request about tenant data may use it.
func (tx *Tx) OrgUnscoped(ctx context.Context, id canopy.OrgID) (canopy.Org, error) {
	o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+orgFrom+`WHERE o.id = $1`, id))
	if err != nil {
		return canopy.Org{}, notFound("org", err)
	}
	return o, nil
}

// InScope answers "is id in the caller's subtree?" with one primary-key
// lookup, independent of how many organizations the subtree holds.
func (s *Store) InScope(ctx context.Context, scope canopy.Scope, id canopy.OrgID) (bool, error) {
	var path string
	err := s.r.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = $1`, id).Scan(&path)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("in scope: %w", err)
	}
	return scope.Contains(path), nil
}

// Orgs lists the organizations of the given kinds in scope (all kinds when
// none are given), in tree order, at most limit of them.
func (s *Store) Orgs(ctx context.Context, scope canopy.Scope, kinds []canopy.OrgKind, limit int) ([]canopy.Org, error) {
	lo, hi := scope.Bounds()
	args := []any{lo, hi, limit}
	query := `SELECT ` + orgColumns + orgFrom + `WHERE o.path >= $1 AND o.path < $2`
	if len(kinds) > 0 {
		var ph []string
		for _, k := range kinds {
			args = append(args, string(k))
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		query += ` AND o.kind IN (` + strings.Join(ph, ", ") + `)`
	}
	query += ` ORDER BY o.path LIMIT $3`
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	var out []canopy.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("list orgs: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Children lists the direct children of parent (which must lie in scope) by
// name, after the keyset cursor (name, id) when given, at most limit.
func (s *Store) Children(ctx context.Context, scope canopy.Scope, parent canopy.OrgID, afterName string, afterID canopy.OrgID, limit int) ([]canopy.Org, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT `+orgColumns+orgFrom+`
		WHERE o.parent_id = $1 AND o.path >= $2 AND o.path < $3
		  AND (o.name > $4 OR (o.name = $4 AND o.id > $5))
		ORDER BY o.name, o.id LIMIT $6`, parent, lo, hi, afterName, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("children: %w", err)
	}
	defer rows.Close()
	var out []canopy.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("children: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CountByKind counts the organizations in scope by kind.
func (s *Store) CountByKind(ctx context.Context, scope canopy.Scope) (map[canopy.OrgKind]int, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx,
		`SELECT kind, COUNT(*) FROM orgs WHERE path >= $1 AND path < $2 GROUP BY kind`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("count orgs: %w", err)
	}
	defer rows.Close()
	out := map[canopy.OrgKind]int{}
	for rows.Next() {
		var k canopy.OrgKind
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// ChildCountsOfKind counts, in one query, the organizations of kind in
// scope grouped by their parent (e.g. customers per MSP).
func (s *Store) ChildCountsOfKind(ctx context.Context, scope canopy.Scope, kind canopy.OrgKind) (map[canopy.OrgID]int, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT parent_id, COUNT(*) FROM orgs
		WHERE kind = $1 AND path >= $2 AND path < $3 GROUP BY parent_id`, string(kind), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("child counts: %w", err)
	}
	defer rows.Close()
	out := map[canopy.OrgID]int{}
	for rows.Next() {
		var id canopy.OrgID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Ancestors returns the chain from the root down to o (inclusive), limited
// to what lies in scope, so breadcrumbs never show nodes above the caller.
func (s *Store) Ancestors(ctx context.Context, scope canopy.Scope, o canopy.Org) ([]canopy.Org, error) {
	var ids []any
	for _, part := range strings.Split(strings.Trim(o.Path, "/"), "/") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ancestors: malformed path %q", o.Path)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	lo, hi := scope.Bounds()
	args := []any{lo, hi}
	var ph []string
	for _, id := range ids {
		args = append(args, id)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+orgColumns+orgFrom+`
		WHERE o.path >= $1 AND o.path < $2 AND o.id IN (`+strings.Join(ph, ", ")+`) ORDER BY o.depth`, args...)
	if err != nil {
		return nil, fmt.Errorf("ancestors: %w", err)
	}
	defer rows.Close()
	var out []canopy.Org
	for rows.Next() {
		a, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// TwoStepRequired reports whether any organization where the person holds
// an active membership enforces two-step verification (strictest wins).
func (s *Store) TwoStepRequired(ctx context.Context, person canopy.PersonID) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships m JOIN orgs o ON o.id = m.org_id
		WHERE m.person_id = $1 AND m.status = 'active' AND o.enforce_two_step = $2`, person, true).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("two-step required: %w", err)
	}
	return n > 0, nil
}

// SetEnforceTwoStep sets whether an organization in scope requires
// two-step verification; it returns the previous value.
func (tx *Tx) SetEnforceTwoStep(ctx context.Context, scope canopy.Scope, org canopy.OrgID, on bool) (bool, error) {
	lo, hi := scope.Bounds()
	var before bool
	if err := tx.QueryRowContext(ctx, `SELECT enforce_two_step FROM orgs WHERE id = $1 AND path >= $2 AND path < $3`, org, lo, hi).Scan(&before); err != nil {
		return false, notFound("org", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orgs SET enforce_two_step = $2 WHERE id = $1`, org, on); err != nil {
		return false, fmt.Errorf("enforce two-step: %w", err)
	}
	return before, nil
}

// RenameOrg renames an organization in scope; it returns the old name.
func (tx *Tx) RenameOrg(ctx context.Context, scope canopy.Scope, id canopy.OrgID, name string, now time.Time) (string, error) {
	lo, hi := scope.Bounds()
	var before string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM orgs WHERE id = $1 AND path >= $2 AND path < $3`, id, lo, hi).Scan(&before); err != nil {
		return "", notFound("org", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orgs SET name = $2, updated_at = $3 WHERE id = $1`, id, name, now.UnixMilli()); err != nil {
		return "", fmt.Errorf("rename org: %w", err)
	}
	return before, nil
}

// DeleteEmptyOrg deletes an organization in scope that has no children and
// no memberships; ErrConflict otherwise.
func (tx *Tx) DeleteEmptyOrg(ctx context.Context, scope canopy.Scope, id canopy.OrgID) error {
	lo, hi := scope.Bounds()
	var children, members int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM orgs WHERE parent_id = $1), (SELECT COUNT(*) FROM memberships WHERE org_id = $1)
		FROM orgs WHERE id = $1 AND path >= $2 AND path < $3`, id, lo, hi).Scan(&children, &members)
	if err != nil {
		return notFound("org", err)
	}
	if children > 0 || members > 0 {
		return fmt.Errorf("delete org: it has %d sub-accounts and %d users: %w", children, members, canopy.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM orgs WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete org: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Group is a group of a customer's end users, with its managers.
type Group struct {
	ID         int64
	CustomerID canopy.OrgID
	Name       string
	Members    int
	Managers   []Person
}

// GroupsOf lists a customer's groups (in scope) by name with member counts
// and managers, at most limit.
func (s *Store) GroupsOf(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, limit int) ([]Group, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT g.id, g.customer_id, g.name, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
		FROM user_groups g JOIN orgs o ON o.id = g.customer_id
		WHERE g.customer_id = $1 AND o.path >= $2 AND o.path < $3 ORDER BY LOWER(g.name), g.id LIMIT $4`, customer, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	index := map[int64]int{}
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.CustomerID, &g.Name, &g.Members); err != nil {
			return nil, fmt.Errorf("groups: %w", err)
		}
		index[g.ID] = len(out)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	mrows, err := s.r.QueryContext(ctx, `SELECT gm.group_id, p.id, p.email, p.name FROM group_managers gm JOIN people p ON p.id = gm.person_id
		JOIN user_groups g ON g.id = gm.group_id WHERE g.customer_id = $1 ORDER BY LOWER(p.name)`, customer)
	if err != nil {
		return nil, fmt.Errorf("group managers: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var gid int64
		var p Person
		if err := mrows.Scan(&gid, &p.ID, &p.Email, &p.Name); err != nil {
			return nil, err
		}
		if i, ok := index[gid]; ok {
			out[i].Managers = append(out[i].Managers, p)
		}
	}
	return out, mrows.Err()
}

// CreateGroup adds a group to customer; a name in use is ErrConflict.
func (tx *Tx) CreateGroup(ctx context.Context, customer canopy.OrgID, name string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO user_groups (customer_id, name, created_at) VALUES ($1, $2, $3) RETURNING id`, customer, name, now.UnixMilli()).Scan(&id)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("group %q: %w", name, canopy.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("create group: %w", err)
	}
	return id, nil
}

// GroupName returns the name of group id of customer.
func (tx *Tx) GroupName(ctx context.Context, customer canopy.OrgID, id int64) (string, error) {
	var name string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM user_groups WHERE id = $1 AND customer_id = $2`, id, customer).Scan(&name); err != nil {
		return "", notFound("group", err)
	}
	return name, nil
}

// AddGroupMembers puts end users of the group's customer, by email, in the
// group; it returns the addresses that are not end users of it.
func (tx *Tx) AddGroupMembers(ctx context.Context, customer canopy.OrgID, group int64, emails []string) ([]string, error) {
	var missing []string
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		res, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, end_user_id)
			SELECT $1, u.id FROM end_users u WHERE u.customer_id = $2 AND u.email = $3 ON CONFLICT DO NOTHING`, group, customer, e)
		if err != nil {
			return nil, fmt.Errorf("add group member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM end_users WHERE customer_id = $1 AND email = $2`, customer, e).Scan(&exists)
			if exists == 0 {
				missing = append(missing, e)
			}
		}
	}
	return missing, nil
}

// SetGroupManagers replaces a group's managers with people who hold a
// membership at customer; it returns the IDs that do not.
func (tx *Tx) SetGroupManagers(ctx context.Context, customer canopy.OrgID, group int64, people []canopy.PersonID) ([]canopy.PersonID, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_managers WHERE group_id = $1`, group); err != nil {
		return nil, fmt.Errorf("group managers: %w", err)
	}
	var refused []canopy.PersonID
	for _, p := range people {
		res, err := tx.ExecContext(ctx, `INSERT INTO group_managers (group_id, person_id)
			SELECT $1, m.person_id FROM memberships m WHERE m.org_id = $2 AND m.person_id = $3 ON CONFLICT DO NOTHING`, group, customer, p)
		if err != nil {
			return nil, fmt.Errorf("group managers: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			refused = append(refused, p)
		}
	}
	return refused, nil
}

// Group returns one group of customer (in scope) with its member count
// and managers.
func (s *Store) Group(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, id int64) (Group, error) {
	lo, hi := scope.Bounds()
	g := Group{ID: id, CustomerID: customer}
	err := s.r.QueryRowContext(ctx, `SELECT g.name, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
		FROM user_groups g JOIN orgs o ON o.id = g.customer_id
		WHERE g.id = $1 AND g.customer_id = $2 AND o.path >= $3 AND o.path < $4`, id, customer, lo, hi).Scan(&g.Name, &g.Members)
	if err != nil {
		return Group{}, notFound("group", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT p.id, p.email, p.name FROM group_managers gm JOIN people p ON p.id = gm.person_id
		WHERE gm.group_id = $1 ORDER BY LOWER(p.name), p.id`, id)
	if err != nil {
		return Group{}, fmt.Errorf("group managers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Email, &p.Name); err != nil {
			return Group{}, fmt.Errorf("group managers: %w", err)
		}
		g.Managers = append(g.Managers, p)
	}
	return g, rows.Err()
}

// GroupMembers lists a group's end users by email after the keyset cursor,
// at most limit; the group must belong to customer, in scope. A customer
// has at most a few thousand end users (25,000 for the largest), so the
// members are read through the group's key and sorted.
func (s *Store) GroupMembers(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, group int64, afterEmail string, limit int) ([]EndUser, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT `+endUserColumns+` FROM group_members gm
		JOIN user_groups g ON g.id = gm.group_id
		JOIN orgs o ON o.id = g.customer_id
		JOIN end_users u ON u.id = gm.end_user_id
		WHERE gm.group_id = $1 AND g.customer_id = $2 AND o.path >= $3 AND o.path < $4 AND u.customer_id = $2 AND u.email > $5
		ORDER BY u.email LIMIT $6`, group, customer, lo, hi, afterEmail, limit)
	if err != nil {
		return nil, fmt.Errorf("group members: %w", err)
	}
	defer rows.Close()
	var out []EndUser
	for rows.Next() {
		u, err := scanEndUser(rows)
		if err != nil {
			return nil, fmt.Errorf("group members: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// idList returns "$first, …" placeholders for ids with the arguments
// appended to args.
func idList(args []any, ids []int64) ([]any, string) {
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	return args, strings.Join(ph, ", ")
}

// RemoveGroupMembers takes the given end users out of a group of customer
// and returns the removed ones' addresses by ID; IDs that are not members
// are left out of the answer.
func (tx *Tx) RemoveGroupMembers(ctx context.Context, customer canopy.OrgID, group int64, endUsers []int64) (map[int64]string, error) {
	removed := map[int64]string{}
	for start := 0; start < len(endUsers); start += 500 {
		chunk := endUsers[start:min(start+500, len(endUsers))]
		args, in := idList([]any{group, customer}, chunk)
		rows, err := tx.QueryContext(ctx, `SELECT u.id, u.email FROM group_members gm JOIN end_users u ON u.id = gm.end_user_id
			WHERE gm.group_id = $1 AND u.customer_id = $2 AND gm.end_user_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("remove group members: %w", err)
		}
		var found []int64
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, fmt.Errorf("remove group members: %w", err)
			}
			removed[id] = email
			found = append(found, id)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if len(found) == 0 {
			continue
		}
		args, in = idList([]any{group}, found)
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND end_user_id IN (`+in+`)`, args...); err != nil {
			return nil, fmt.Errorf("remove group members: %w", err)
		}
	}
	return removed, nil
}

// DeleteGroup deletes a group of customer with its memberships and
// managers; it returns the group as it was.
func (tx *Tx) DeleteGroup(ctx context.Context, customer canopy.OrgID, id int64) (Group, error) {
	g := Group{ID: id, CustomerID: customer}
	err := tx.QueryRowContext(ctx, `SELECT name, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = $1)
		FROM user_groups WHERE id = $1 AND customer_id = $2`, id, customer).Scan(&g.Name, &g.Members)
	if err != nil {
		return Group{}, notFound("group", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT p.id, p.email, p.name FROM group_managers gm JOIN people p ON p.id = gm.person_id
		WHERE gm.group_id = $1 ORDER BY p.id`, id)
	if err != nil {
		return Group{}, fmt.Errorf("delete group: %w", err)
	}
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Email, &p.Name); err != nil {
			rows.Close()
			return Group{}, fmt.Errorf("delete group: %w", err)
		}
		g.Managers = append(g.Managers, p)
	}
	if err := rows.Close(); err != nil {
		return Group{}, err
	}
	// The foreign keys cascade on both engines; the explicit deletes keep
	// the statement counts predictable and do not rely on SQLite's pragma.
	for _, q := range []string{`DELETE FROM group_members WHERE group_id = $1`, `DELETE FROM group_managers WHERE group_id = $1`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return Group{}, fmt.Errorf("delete group: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_groups WHERE id = $1 AND customer_id = $2`, id, customer); err != nil {
		return Group{}, fmt.Errorf("delete group: %w", err)
	}
	return g, nil
}

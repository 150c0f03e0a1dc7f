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

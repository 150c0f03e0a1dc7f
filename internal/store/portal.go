package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// EndUser is an end user of a customer.
type EndUser struct {
	ID         int64
	CustomerID canopy.OrgID
	Email      string
	FirstName  string
	LastName   string
	Active     bool
}

// Name is the end user's full name, or their address when they have none.
func (u EndUser) Name() string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Email
}

const endUserColumns = `u.id, u.customer_id, u.email, u.first_name, u.last_name, u.status`

func scanEndUser(row interface{ Scan(...any) error }) (EndUser, error) {
	var u EndUser
	var status string
	err := row.Scan(&u.ID, &u.CustomerID, &u.Email, &u.FirstName, &u.LastName, &status)
	u.Active = status == "active"
	return u, err
}

// EndUserByEmail returns customer's end user with that address.
func (s *Store) EndUserByEmail(ctx context.Context, customer canopy.OrgID, email string) (EndUser, error) {
	u, err := scanEndUser(s.r.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM end_users u WHERE u.customer_id = $1 AND u.email = $2`,
		customer, strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return EndUser{}, notFound("end user", err)
	}
	return u, nil
}

// EndUserForLink returns customer's end user with that address and how
// many portal links they were issued after since, in one read.
func (s *Store) EndUserForLink(ctx context.Context, customer canopy.OrgID, email string, since time.Time) (EndUser, int, error) {
	var u EndUser
	var status string
	var links int
	err := s.r.QueryRowContext(ctx, `SELECT `+endUserColumns+`,
		(SELECT COUNT(*) FROM portal_links l WHERE l.end_user_id = u.id AND l.created_at > $3)
		FROM end_users u WHERE u.customer_id = $1 AND u.email = $2`,
		customer, strings.ToLower(strings.TrimSpace(email)), since.UnixMilli()).Scan(&u.ID, &u.CustomerID, &u.Email, &u.FirstName, &u.LastName, &status, &links)
	if err != nil {
		return EndUser{}, 0, notFound("end user", err)
	}
	u.Active = status == "active"
	return u, links, nil
}

// PortalLink is a magic link to store: for an end user of a customer,
// refused once the user holds Limit links created after Since.
type PortalLink struct {
	TokenHash       string
	EndUserID       int64
	CustomerID      canopy.OrgID
	Created, Expiry time.Time
	Limit           int
	Since           time.Time
}

// CreatePortalLink stores a magic link if its end user is still an active
// user of the link's customer and holds fewer than l.Limit links since
// l.Since; it reports whether it did. The count is read in the INSERT, so
// transactions in a row cannot exceed the limit.
func (tx *Tx) CreatePortalLink(ctx context.Context, l PortalLink) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO portal_links (token_hash, end_user_id, customer_id, created_at, expires_at)
		SELECT $1, u.id, u.customer_id, $4, $5 FROM end_users u
		WHERE u.id = $2 AND u.customer_id = $3 AND u.status = 'active'
		AND (SELECT COUNT(*) FROM portal_links l WHERE l.end_user_id = u.id AND l.created_at > $6) < $7`,
		l.TokenHash, l.EndUserID, l.CustomerID, l.Created.UnixMilli(), l.Expiry.UnixMilli(), l.Since.UnixMilli(), l.Limit)
	if err != nil {
		return false, fmt.Errorf("portal link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("portal link: %w", err)
	}
	return n == 1, nil
}

// PeekPortalLink returns the active end user of a usable link for customer
// without spending it.
func (s *Store) PeekPortalLink(ctx context.Context, hash string, customer canopy.OrgID, now time.Time) (EndUser, error) {
	u, err := scanEndUser(s.r.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM portal_links l JOIN end_users u ON u.id = l.end_user_id
		WHERE l.token_hash = $1 AND l.customer_id = $2 AND l.used_at IS NULL AND l.expires_at > $3 AND u.status = 'active'`, hash, customer, now.UnixMilli()))
	if err != nil {
		return EndUser{}, notFound("portal link", err)
	}
	return u, nil
}

// SpendPortalLink marks a usable link of customer used and opens a portal
// session for its end user, if that user is still active; ErrNotFound
// otherwise, and nothing changes. On SQLite it runs in InBatchedTx; on
// PostgreSQL it is one statement (a statement is its own transaction).
func (s *Store) SpendPortalLink(ctx context.Context, hash string, customer canopy.OrgID, now time.Time, sessionHash string, sessionExpiry time.Time) error {
	const usable = `token_hash = $1 AND customer_id = $2 AND used_at IS NULL AND expires_at > $3
		AND EXISTS (SELECT 1 FROM end_users u WHERE u.id = portal_links.end_user_id AND u.status = 'active')`
	if s.dialect == Postgres {
		var id int64
		err := s.w.QueryRowContext(ctx, `WITH spent AS (UPDATE portal_links SET used_at = $3 WHERE `+usable+` RETURNING end_user_id, customer_id)
			INSERT INTO portal_sessions (token_hash, end_user_id, customer_id, created_at, expires_at)
			SELECT $4, end_user_id, customer_id, $3, $5 FROM spent RETURNING end_user_id`,
			hash, customer, now.UnixMilli(), sessionHash, sessionExpiry.UnixMilli()).Scan(&id)
		if err != nil {
			return notFound("portal link", err)
		}
		return nil
	}
	return s.InBatchedTx(ctx, func(tx *Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE portal_links SET used_at = $3 WHERE `+usable+` RETURNING end_user_id`, hash, customer, now.UnixMilli()).Scan(&id)
		if err != nil {
			return notFound("portal link", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (token_hash, end_user_id, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			sessionHash, id, customer, now.UnixMilli(), sessionExpiry.UnixMilli()); err != nil {
			return fmt.Errorf("portal session: %w", err)
		}
		return nil
	})
}

// PortalSession returns the active end user of a live portal session of customer.
func (s *Store) PortalSession(ctx context.Context, hash string, customer canopy.OrgID, now time.Time) (EndUser, error) {
	u, err := scanEndUser(s.r.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM portal_sessions ps JOIN end_users u ON u.id = ps.end_user_id
		WHERE ps.token_hash = $1 AND ps.customer_id = $2 AND ps.expires_at > $3 AND u.status = 'active'`, hash, customer, now.UnixMilli()))
	if err != nil {
		return EndUser{}, notFound("portal session", err)
	}
	return u, nil
}

// DeletePortalSession ends a portal session.
func (s *Store) DeletePortalSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM portal_sessions WHERE token_hash = $1`, hash)
	return err
}

// EndUsersOf lists a customer's end users (the customer must lie in scope)
// by email after the keyset cursor, at most limit.
func (s *Store) EndUsersOf(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, afterEmail string, limit int) ([]EndUser, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT `+endUserColumns+` FROM end_users u JOIN orgs o ON o.id = u.customer_id
		WHERE u.customer_id = $1 AND o.path >= $2 AND o.path < $3 AND u.email > $4 ORDER BY u.email LIMIT $5`, customer, lo, hi, afterEmail, limit)
	if err != nil {
		return nil, fmt.Errorf("end users: %w", err)
	}
	defer rows.Close()
	var out []EndUser
	for rows.Next() {
		u, err := scanEndUser(rows)
		if err != nil {
			return nil, fmt.Errorf("end users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetEndUserActive activates or deactivates an end user of customer and
// keeps the customer's Active Users count; it returns the user as before.
func (tx *Tx) SetEndUserActive(ctx context.Context, customer canopy.OrgID, id int64, active bool, now time.Time) (EndUser, error) {
	u, err := scanEndUser(tx.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM end_users u WHERE u.id = $1 AND u.customer_id = $2`, id, customer))
	if err != nil {
		return EndUser{}, notFound("end user", err)
	}
	if u.Active == active {
		return u, nil
	}
	status, delta := "deactivated", -1
	if active {
		status, delta = "active", 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE end_users SET status = $2, updated_at = $3 WHERE id = $1`, id, status, now.UnixMilli()); err != nil {
		return EndUser{}, fmt.Errorf("end user status: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET active_users = active_users + $2 WHERE org_id = $1`, customer, delta); err != nil {
		return EndUser{}, fmt.Errorf("count active users: %w", err)
	}
	if !active {
		if _, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE end_user_id = $1`, id); err != nil {
			return EndUser{}, fmt.Errorf("end portal sessions: %w", err)
		}
	}
	return u, nil
}

// EndUserEmails returns which of emails are end users of customer already.
func (tx *Tx) EndUserEmails(ctx context.Context, customer canopy.OrgID, emails []string) (map[string]bool, error) {
	out, err := emailsQuery(tx, ctx, `SELECT email FROM end_users WHERE customer_id = $1 AND email IN (?)`, customer, emails)
	if err != nil {
		return nil, fmt.Errorf("end user emails: %w", err)
	}
	return out, nil
}

// NewEndUser is a row for CreateEndUsers.
type NewEndUser struct {
	Email, FirstName, LastName string
}

// CreateEndUsers adds active end users to customer in multi-row
// statements and raises its Active Users count once; it returns their IDs
// by email. An address already there is ErrConflict (nothing is added).
func (tx *Tx) CreateEndUsers(ctx context.Context, customer canopy.OrgID, users []NewEndUser, now time.Time) (map[string]int64, error) {
	ids := make(map[string]int64, len(users))
	for start := 0; start < len(users); start += 400 {
		chunk := users[start:min(start+400, len(users))]
		args := []any{customer, now.UnixMilli()}
		rows := make([]string, len(chunk))
		for i, u := range chunk {
			args = append(args, strings.ToLower(u.Email), u.FirstName, u.LastName)
			n := len(args)
			rows[i] = fmt.Sprintf("($1, $%d, $%d, $%d, 'active', $2, $2)", n-2, n-1, n)
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO end_users (customer_id, email, first_name, last_name, status, created_at, updated_at) VALUES `+
			strings.Join(rows, ", ")+` RETURNING id, email`, args...)
		if err != nil {
			if isUniqueViolation(err) {
				return nil, fmt.Errorf("create end users: %w", canopy.ErrConflict)
			}
			return nil, fmt.Errorf("create end users: %w", err)
		}
		for res.Next() {
			var id int64
			var email string
			if err := res.Scan(&id, &email); err != nil {
				res.Close()
				return nil, err
			}
			ids[email] = id
		}
		if err := res.Close(); err != nil {
			return nil, err
		}
		if err := res.Err(); err != nil {
			if isUniqueViolation(err) {
				return nil, fmt.Errorf("create end users: %w", canopy.ErrConflict)
			}
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET active_users = active_users + $2 WHERE org_id = $1`, customer, len(users)); err != nil {
		return nil, fmt.Errorf("count active users: %w", err)
	}
	return ids, nil
}

// EndUser returns an end user of customer (in scope).
func (s *Store) EndUser(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, id int64) (EndUser, error) {
	lo, hi := scope.Bounds()
	u, err := scanEndUser(s.r.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM end_users u JOIN orgs o ON o.id = u.customer_id
		WHERE u.id = $1 AND u.customer_id = $2 AND o.path >= $3 AND o.path < $4`, id, customer, lo, hi))
	if err != nil {
		return EndUser{}, notFound("end user", err)
	}
	return u, nil
}

// EndUser returns an end user of customer inside the transaction.
func (tx *Tx) EndUser(ctx context.Context, customer canopy.OrgID, id int64) (EndUser, error) {
	u, err := scanEndUser(tx.QueryRowContext(ctx, `SELECT `+endUserColumns+` FROM end_users u WHERE u.id = $1 AND u.customer_id = $2`, id, customer))
	if err != nil {
		return EndUser{}, notFound("end user", err)
	}
	return u, nil
}

// UpdateEndUser saves an end user's address and names; an address another
// end user of the customer has is ErrConflict. A new address spends the
// unused portal links and ends the portal sessions of the old one.
func (tx *Tx) UpdateEndUser(ctx context.Context, customer canopy.OrgID, u EndUser, now time.Time) error {
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT email FROM end_users WHERE id = $1 AND customer_id = $2`, u.ID, customer).Scan(&old); err != nil {
		return notFound("end user", err)
	}
	email := strings.ToLower(strings.TrimSpace(u.Email))
	if email != old {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM end_users WHERE customer_id = $1 AND email = $2`, customer, email).Scan(&taken); err != nil {
			return fmt.Errorf("update end user: %w", err)
		}
		if taken > 0 {
			return fmt.Errorf("end user %s: %w", email, canopy.ErrConflict)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE end_users SET email = $3, first_name = $4, last_name = $5, updated_at = $6 WHERE id = $1 AND customer_id = $2`,
		u.ID, customer, email, u.FirstName, u.LastName, now.UnixMilli())
	if isUniqueViolation(err) {
		return fmt.Errorf("end user %s: %w", email, canopy.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update end user: %w", err)
	}
	if email != old {
		if _, err := tx.ExecContext(ctx, `UPDATE portal_links SET used_at = $2 WHERE end_user_id = $1 AND used_at IS NULL`, u.ID, now.UnixMilli()); err != nil {
			return fmt.Errorf("spend portal links: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE end_user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("end portal sessions: %w", err)
		}
	}
	return nil
}

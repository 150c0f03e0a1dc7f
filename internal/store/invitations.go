package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/jackc/pgx/v5"
)

// Invitation is an invitation to a customer account.
type Invitation struct {
	ID          int64
	CustomerID  canopy.OrgID
	Email       string
	Role        canopy.Role
	Modules     []canopy.Module
	SubAccounts []canopy.OrgID
	InvitedBy   canopy.PersonID
	InviterName string
	TokenHash   string
	Created     time.Time
	Expires     time.Time
}

// inChunks calls fn with emails in slices small enough for one IN list.
func inChunks(emails []string, fn func(chunk []string) error) error {
	for len(emails) > 0 {
		n := min(len(emails), 500)
		if err := fn(emails[:n]); err != nil {
			return err
		}
		emails = emails[n:]
	}
	return nil
}

// emailsQuery runs query, whose "(?)" becomes a list of up to 500
// addresses, for every chunk of emails. On PostgreSQL each chunk is
// planned with its values (an unnamed statement): the cached statement's
// generic plan, estimating a customer at the average hundred rows, read
// all of a large customer's rows through the index and compared each with
// the 500 addresses (2 s a chunk for a customer of 95,000 end users,
// 5 ms planned with the values).
func emailsQuery(tx *Tx, ctx context.Context, query string, customer canopy.OrgID, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inChunks(emails, func(chunk []string) error {
		args := []any{customer}
		ph := make([]string, len(chunk))
		for i, e := range chunk {
			args = append(args, e)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q := tx.QueryContext
		if tx.dialect == Postgres {
			args = append([]any{pgx.QueryExecModeExec}, args...)
			q = tx.tx.QueryContext
		}
		rows, err := q(ctx, strings.Replace(query, "(?)", "("+strings.Join(ph, ", ")+")", 1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				return err
			}
			out[e] = true
		}
		return rows.Err()
	})
	return out, err
}

// PendingInvitations returns which of emails have a pending invitation to customer.
func (tx *Tx) PendingInvitations(ctx context.Context, customer canopy.OrgID, emails []string) (map[string]bool, error) {
	out, err := emailsQuery(tx, ctx, `SELECT email FROM invitations WHERE customer_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND email IN (?)`, customer, emails)
	if err != nil {
		return nil, fmt.Errorf("pending invitations: %w", err)
	}
	return out, nil
}

// Members returns which of emails already hold a membership at customer.
func (tx *Tx) Members(ctx context.Context, customer canopy.OrgID, emails []string) (map[string]bool, error) {
	out, err := emailsQuery(tx, ctx, `SELECT p.email FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.org_id = $1 AND p.email IN (?)`, customer, emails)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return out, nil
}

// Seats counts a customer's memberships and pending invitations.
func (tx *Tx) Seats(ctx context.Context, customer canopy.OrgID) (members, pending int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM memberships WHERE org_id = $1),
		(SELECT COUNT(*) FROM invitations WHERE customer_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL)`, customer).Scan(&members, &pending)
	if err != nil {
		return 0, 0, fmt.Errorf("seats: %w", err)
	}
	return members, pending, nil
}

// PendingInvitationsOf lists a customer's pending invitations (the customer
// must lie in scope), newest first, at most limit.
func (s *Store) PendingInvitationsOf(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, limit int) ([]Invitation, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT `+invitationColumns+`
		FROM invitations i JOIN orgs o ON o.id = i.customer_id
		WHERE i.customer_id = $1 AND o.path >= $2 AND o.path < $3 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.created_at DESC, i.id DESC LIMIT $4`, customer, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		in, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("invitations: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

const invitationColumns = `i.id, i.customer_id, i.email, i.role, i.modules, i.sub_accounts, COALESCE(i.invited_by, 0), i.inviter_name, i.created_at, i.expires_at`

func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var in Invitation
	var mods, subs string
	var created, expires int64
	if err := row.Scan(&in.ID, &in.CustomerID, &in.Email, &in.Role, &mods, &subs, &in.InvitedBy, &in.InviterName, &created, &expires); err != nil {
		return in, err
	}
	in.Modules, in.SubAccounts = splitModules(mods), splitIDs(subs)
	in.Created, in.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return in, nil
}

// PendingInvitation returns invitation id of customer if it is pending.
func (tx *Tx) PendingInvitation(ctx context.Context, customer canopy.OrgID, id int64) (Invitation, error) {
	in, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i
		WHERE i.id = $1 AND i.customer_id = $2 AND i.accepted_at IS NULL AND i.revoked_at IS NULL`, id, customer))
	if err != nil {
		return Invitation{}, notFound("invitation", err)
	}
	return in, nil
}

// InvitationByToken returns the pending, unexpired invitation with the
// token's hash; ErrNotFound for any other.
func (s *Store) InvitationByToken(ctx context.Context, hash string, now time.Time) (Invitation, error) {
	return invitationByToken(ctx, s.r, hash, now)
}

// InvitationByToken is Store.InvitationByToken in a write transaction.
func (tx *Tx) InvitationByToken(ctx context.Context, hash string, now time.Time) (Invitation, error) {
	return invitationByToken(ctx, tx, hash, now)
}

func invitationByToken(ctx context.Context, q querier, hash string, now time.Time) (Invitation, error) {
	in, err := scanInvitation(q.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i
		WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2`, hash, now.UnixMilli()))
	if err != nil {
		return Invitation{}, notFound("invitation", err)
	}
	return in, nil
}

// InvitationByTokenAnyState finds an invitation by its token's hash
// whatever its state (expired, accepted, withdrawn), with its customer's
// name, so an unusable link's page can say who to ask.
func (s *Store) InvitationByTokenAnyState(ctx context.Context, hash string) (Invitation, string, error) {
	var customer string
	in, err := scanInvitation(suffixScanner{s.r.QueryRowContext(ctx, `SELECT `+invitationColumns+`, o.name
		FROM invitations i JOIN orgs o ON o.id = i.customer_id WHERE i.token_hash = $1`, hash), []any{&customer}})
	if err != nil {
		return Invitation{}, "", notFound("invitation", err)
	}
	return in, customer, nil
}

// RenewInvitation gives a pending invitation a new token and expiry: the
// old link stops working.
func (tx *Tx) RenewInvitation(ctx context.Context, id int64, hash string, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET token_hash = $2, expires_at = $3 WHERE id = $1`, id, hash, expires.UnixMilli()); err != nil {
		return fmt.Errorf("renew invitation: %w", err)
	}
	return nil
}

// EndInvitation marks an invitation accepted or revoked.
func (tx *Tx) EndInvitation(ctx context.Context, id int64, accepted bool, now time.Time) error {
	col := "revoked_at"
	if accepted {
		col = "accepted_at"
	}
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET `+col+` = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, id, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("end invitation: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("end invitation: %w", canopy.ErrNotFound)
	}
	return nil
}

// SetMembershipGrants records a customer User's modules and sub-accounts.
func (tx *Tx) SetMembershipGrants(ctx context.Context, person canopy.PersonID, org canopy.OrgID, modules []canopy.Module, subs []canopy.OrgID) error {
	_, err := tx.ExecContext(ctx, `UPDATE memberships SET modules = $3, sub_accounts = $4 WHERE person_id = $1 AND org_id = $2`,
		person, org, joinModules(modules), joinIDs(subs))
	if err != nil {
		return fmt.Errorf("membership grants: %w", err)
	}
	return nil
}

// AccountUser is a person's membership at a customer, for its Users tab.
type AccountUser struct {
	Person
	Role        canopy.Role
	Modules     []canopy.Module
	SubAccounts []canopy.OrgID
	Status      string // "active" or "deactivated"
	LastLogin   time.Time
	Since       time.Time
}

// AccountUsers lists the people holding a membership at customer (in
// scope) with the given status, by name, at most limit.
func (s *Store) AccountUsers(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, status string, limit int) ([]AccountUser, error) {
	lo, hi := scope.Bounds()
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountUserColumns+`
		FROM memberships m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id
		WHERE m.org_id = $1 AND o.path >= $2 AND o.path < $3 AND m.status = $4
		ORDER BY LOWER(p.name), p.id LIMIT $5`, customer, lo, hi, status, limit)
	if err != nil {
		return nil, fmt.Errorf("account users: %w", err)
	}
	defer rows.Close()
	var out []AccountUser
	for rows.Next() {
		u, err := scanAccountUser(rows)
		if err != nil {
			return nil, fmt.Errorf("account users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

const accountUserColumns = `p.id, p.email, p.name, p.phone, m.roles, m.modules, m.sub_accounts, m.status, p.last_login_at, m.created_at`

func scanAccountUser(row interface{ Scan(...any) error }) (AccountUser, error) {
	var u AccountUser
	var roles, mods, subs string
	var last sql.NullInt64
	var since int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Phone, &roles, &mods, &subs, &u.Status, &last, &since); err != nil {
		return u, err
	}
	u.Role = canopy.Role(strings.Split(roles, ",")[0])
	u.Modules, u.SubAccounts = splitModules(mods), splitIDs(subs)
	u.LastLogin, u.Since = fromMillis(last), time.UnixMilli(since).UTC()
	return u, nil
}

// AccountUser reads one person's membership at customer, which the caller
// has read in scope in this transaction.
func (tx *Tx) AccountUser(ctx context.Context, customer canopy.OrgID, person canopy.PersonID) (AccountUser, error) {
	u, err := scanAccountUser(tx.QueryRowContext(ctx, `SELECT `+accountUserColumns+`
		FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.org_id = $1 AND m.person_id = $2`, customer, person))
	if err != nil {
		return AccountUser{}, notFound("account user", err)
	}
	return u, nil
}

// AccountUserOf reads one person's membership at customer, in scope.
func (s *Store) AccountUserOf(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, person canopy.PersonID) (AccountUser, error) {
	lo, hi := scope.Bounds()
	u, err := scanAccountUser(s.r.QueryRowContext(ctx, `SELECT `+accountUserColumns+`
		FROM memberships m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id
		WHERE m.org_id = $1 AND m.person_id = $2 AND o.path >= $3 AND o.path < $4`, customer, person, lo, hi))
	if err != nil {
		return AccountUser{}, notFound("account user", err)
	}
	return u, nil
}

// SetMembershipStatus deactivates or reactivates a membership at org (in
// scope) and, when deactivating, ends the person's sessions there. It
// returns the previous status.
func (tx *Tx) SetMembershipStatus(ctx context.Context, scope canopy.Scope, person canopy.PersonID, org canopy.OrgID, status string) (string, error) {
	lo, hi := scope.Bounds()
	var before string
	err := tx.QueryRowContext(ctx, `SELECT m.status FROM memberships m JOIN orgs o ON o.id = m.org_id
		WHERE m.person_id = $1 AND m.org_id = $2 AND o.path >= $3 AND o.path < $4`, person, org, lo, hi).Scan(&before)
	if err != nil {
		return "", notFound("membership", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memberships SET status = $3 WHERE person_id = $1 AND org_id = $2`, person, org, status); err != nil {
		return "", fmt.Errorf("membership status: %w", err)
	}
	if status != "active" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1 AND org_id = $2`, person, org); err != nil {
			return "", fmt.Errorf("end sessions: %w", err)
		}
	}
	return before, nil
}

// CreateInvitations stores pending invitations in multi-row statements and
// returns their IDs by email; an address already pending at the customer
// is ErrConflict (and the caller's transaction must roll back).
func (tx *Tx) CreateInvitations(ctx context.Context, invs []Invitation) (map[string]int64, error) {
	ids := make(map[string]int64, len(invs))
	per := tx.rowsPerInsert(10)
	for start := 0; start < len(invs); start += per {
		chunk := invs[start:min(start+per, len(invs))]
		args := make([]any, 0, 10*len(chunk))
		rows := make([]string, len(chunk))
		for i, in := range chunk {
			n := len(args)
			rows[i] = fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
			args = append(args, in.CustomerID, strings.ToLower(in.Email), string(in.Role), joinModules(in.Modules), joinIDs(in.SubAccounts),
				nullInt(int64(in.InvitedBy)), in.InviterName, in.TokenHash, in.Created.UnixMilli(), in.Expires.UnixMilli())
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO invitations (customer_id, email, role, modules, sub_accounts, invited_by, inviter_name, token_hash, created_at, expires_at)
			VALUES `+strings.Join(rows, ", ")+` RETURNING id, email`, args...)
		if err != nil {
			if isUniqueViolation(err) {
				return nil, fmt.Errorf("create invitations: %w", canopy.ErrConflict)
			}
			return nil, fmt.Errorf("create invitations: %w", err)
		}
		for res.Next() {
			var id int64
			var email string
			if err := res.Scan(&id, &email); err != nil {
				res.Close()
				return nil, fmt.Errorf("create invitations: %w", err)
			}
			ids[email] = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			if isUniqueViolation(err) {
				return nil, fmt.Errorf("create invitations: %w", canopy.ErrConflict)
			}
			return nil, fmt.Errorf("create invitations: %w", err)
		}
	}
	return ids, nil
}

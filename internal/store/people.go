package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Person is a row of people.
type Person struct {
	ID    canopy.PersonID
	Email string
	Name  string
	Phone string
}

// CreatePerson adds a person; the email is stored lower-cased and must be new.
func (tx *Tx) CreatePerson(ctx context.Context, p Person, now time.Time) (Person, error) {
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	err := tx.QueryRowContext(ctx, `INSERT INTO people (email, name, phone, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4) RETURNING id`, p.Email, p.Name, p.Phone, now.UnixMilli()).Scan(&p.ID)
	if isUniqueViolation(err) {
		return Person{}, fmt.Errorf("create person %s: %w", p.Email, canopy.ErrConflict)
	}
	if err != nil {
		return Person{}, fmt.Errorf("create person: %w", err)
	}
	return p, nil
}

// AddMembership gives person roles at org (comma-separated role names).
func (tx *Tx) AddMembership(ctx context.Context, person canopy.PersonID, org canopy.OrgID, roles []string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO memberships (person_id, org_id, roles, status, created_at)
		VALUES ($1, $2, $3, 'active', $4)`, person, org, strings.Join(roles, ","), now.UnixMilli())
	if isUniqueViolation(err) {
		return fmt.Errorf("add membership: %w", canopy.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add membership: %w", err)
	}
	return nil
}

// Membership is a person's roles at one organization.
type Membership struct {
	PersonID canopy.PersonID
	Org      canopy.Org
	Roles    []string
	Status   string
}

// MembershipsOf lists a person's memberships. A person's own memberships
// define the scopes they may act in, so this is not scoped itself.
func (s *Store) MembershipsOf(ctx context.Context, person canopy.PersonID) ([]Membership, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.roles, m.status, `+orgColumns+`
		FROM memberships m JOIN orgs o ON o.id = m.org_id LEFT JOIN customers c ON c.org_id = o.id
		WHERE m.person_id = $1 ORDER BY o.depth, o.name`, person)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var roles string
		o, err := scanOrg(prefixScanner{rows, []any{&roles, &m.Status}})
		if err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		m.PersonID, m.Org = person, o
		if roles != "" {
			m.Roles = strings.Split(roles, ",")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PersonByEmail finds a person by email (case-insensitive).
func (s *Store) PersonByEmail(ctx context.Context, email string) (Person, error) {
	var p Person
	err := s.r.QueryRowContext(ctx, `SELECT id, email, name, phone FROM people WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))).Scan(&p.ID, &p.Email, &p.Name, &p.Phone)
	if err != nil {
		return Person{}, notFound("person", err)
	}
	return p, nil
}

// CreateEndUser adds an end user to a customer and, when active, counts them
// in the customer's maintained Active Users figure.
func (tx *Tx) CreateEndUser(ctx context.Context, customer canopy.OrgID, email, first, last string, active bool, now time.Time) (int64, error) {
	status := "active"
	if !active {
		status = "deactivated"
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO end_users (customer_id, email, first_name, last_name, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		customer, strings.ToLower(email), first, last, status, now.UnixMilli()).Scan(&id)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("create end user %s: %w", email, canopy.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("create end user: %w", err)
	}
	if active {
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET active_users = active_users + 1 WHERE org_id = $1`, customer); err != nil {
			return 0, fmt.Errorf("count active user: %w", err)
		}
	}
	return id, nil
}

// RemoveMembership deletes person's membership at org, which must lie in
// scope, and ends their sessions there, in the caller's transaction. It
// returns the roles the membership held.
func (tx *Tx) RemoveMembership(ctx context.Context, scope canopy.Scope, person canopy.PersonID, org canopy.OrgID) ([]string, error) {
	lo, hi := scope.Bounds()
	var roles string
	err := tx.QueryRowContext(ctx, `DELETE FROM memberships WHERE person_id = $1 AND org_id = $2
		AND org_id IN (SELECT id FROM orgs WHERE id = $2 AND path >= $3 AND path < $4) RETURNING roles`,
		person, org, lo, hi).Scan(&roles)
	if err != nil {
		return nil, notFound("remove membership", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1 AND org_id = $2`, person, org); err != nil {
		return nil, fmt.Errorf("end sessions: %w", err)
	}
	if roles == "" {
		return nil, nil
	}
	return strings.Split(roles, ","), nil
}

// PersonByID returns a person by ID.
func (tx *Tx) PersonByID(ctx context.Context, id canopy.PersonID) (Person, error) {
	var p Person
	err := tx.QueryRowContext(ctx, `SELECT id, email, name, phone FROM people WHERE id = $1`, id).Scan(&p.ID, &p.Email, &p.Name, &p.Phone)
	if err != nil {
		return Person{}, notFound("person", err)
	}
	return p, nil
}

// Credentials is what signing in needs to know about a person.
type Credentials struct {
	Person
	PasswordHash       string
	SecurityQuestion   string
	SecurityAnswerHash string
	Registered         time.Time
	TOTPSecret         string
	TOTPEnabled        time.Time
	TOTPLastStep       int64
	FailedLogins       int
	LockedUntil        time.Time
	LastLogin          time.Time
	LastLoginError     string
}

const credentialColumns = `id, email, name, phone, password_hash, security_question, security_answer_hash, registered_at,
	totp_secret, totp_enabled_at, totp_last_step, failed_logins, locked_until, last_login_at, last_login_error`

func scanCredentials(row interface{ Scan(...any) error }) (Credentials, error) {
	var c Credentials
	var registered, totpEnabled, locked, lastLogin sql.NullInt64
	err := row.Scan(&c.ID, &c.Email, &c.Name, &c.Phone, &c.PasswordHash, &c.SecurityQuestion, &c.SecurityAnswerHash, &registered,
		&c.TOTPSecret, &totpEnabled, &c.TOTPLastStep, &c.FailedLogins, &locked, &lastLogin, &c.LastLoginError)
	c.Registered, c.TOTPEnabled, c.LockedUntil, c.LastLogin = fromMillis(registered), fromMillis(totpEnabled), fromMillis(locked), fromMillis(lastLogin)
	return c, err
}

// CredentialsByEmail returns a person's sign-in state by email.
func (s *Store) CredentialsByEmail(ctx context.Context, email string) (Credentials, error) {
	c, err := scanCredentials(s.r.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM people WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return Credentials{}, notFound("person", err)
	}
	return c, nil
}

// Credentials returns a person's sign-in state inside a transaction.
func (tx *Tx) Credentials(ctx context.Context, id canopy.PersonID) (Credentials, error) {
	c, err := scanCredentials(tx.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM people WHERE id = $1`, id))
	if err != nil {
		return Credentials{}, notFound("person", err)
	}
	return c, nil
}

// SetRegistration stores a new password and security question and marks
// the person Registered.
func (tx *Tx) SetRegistration(ctx context.Context, id canopy.PersonID, passwordHash, question, answerHash string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE people SET password_hash = $2, security_question = $3, security_answer_hash = $4,
		registered_at = COALESCE(registered_at, $5), failed_logins = 0, locked_until = NULL, updated_at = $5 WHERE id = $1`,
		id, passwordHash, question, answerHash, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("set registration: %w", err)
	}
	return nil
}

// RecordLogin records a successful sign-in: the failure count resets and
// last_login_at moves.
func (tx *Tx) RecordLogin(ctx context.Context, id canopy.PersonID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE people SET failed_logins = 0, locked_until = NULL, last_login_at = $2, last_login_error = '' WHERE id = $1`,
		id, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// RecordFailedLogin counts a failed attempt and keeps its reason as the
// last login error. The attempt that brings the count to lockAfter locks
// the account until lockUntil; the decision is made in the UPDATE, so
// parallel guesses cannot all read a low count. It returns the lock in
// force afterwards (zero when none).
func (tx *Tx) RecordFailedLogin(ctx context.Context, id canopy.PersonID, reason string, lockAfter int, lockUntil, now time.Time) (time.Time, error) {
	var locked sql.NullInt64
	err := tx.QueryRowContext(ctx, `UPDATE people SET failed_logins = failed_logins + 1, last_login_error = $2,
		locked_until = CASE WHEN failed_logins + 1 >= $3 AND (locked_until IS NULL OR locked_until <= $5) THEN $4 ELSE locked_until END
		WHERE id = $1 RETURNING locked_until`, id, reason, lockAfter, lockUntil.UnixMilli(), now.UnixMilli()).Scan(&locked)
	if err != nil {
		return time.Time{}, fmt.Errorf("record failed login: %w", err)
	}
	if t := fromMillis(locked); t.After(now) {
		return t, nil
	}
	return time.Time{}, nil
}

// SetPendingTOTP stores a secret being enrolled; it takes effect only when
// EnableTOTP confirms it. Refused (not found) if two-step is already on.
func (tx *Tx) SetPendingTOTP(ctx context.Context, id canopy.PersonID, secret string) error {
	res, err := tx.ExecContext(ctx, `UPDATE people SET totp_secret = $2 WHERE id = $1 AND totp_enabled_at IS NULL`, id, secret)
	if err != nil {
		return fmt.Errorf("set pending totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set pending totp: %w", canopy.ErrConflict)
	}
	return nil
}

// EnableTOTP turns two-step verification on with the pending secret,
// remembering the step of the confirming code, and replaces the recovery
// codes with the given hashes.
func (tx *Tx) EnableTOTP(ctx context.Context, id canopy.PersonID, step int64, recoveryHashes []string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE people SET totp_enabled_at = $2, totp_last_step = $3 WHERE id = $1`, id, now.UnixMilli(), step); err != nil {
		return fmt.Errorf("enable totp: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE person_id = $1`, id); err != nil {
		return fmt.Errorf("enable totp: %w", err)
	}
	for _, h := range recoveryHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)`, id, h); err != nil {
			return fmt.Errorf("store recovery code: %w", err)
		}
	}
	return nil
}

// AcceptTOTPStep records step as the last accepted one if it is newer than
// the last; false means the code was already used (a replay), also when two
// requests race with the same code.
func (tx *Tx) AcceptTOTPStep(ctx context.Context, id canopy.PersonID, step int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE people SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, id, step)
	if err != nil {
		return false, fmt.Errorf("accept totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UseRecoveryCode spends one unused recovery code; false if there is none.
func (tx *Tx) UseRecoveryCode(ctx context.Context, id canopy.PersonID, codeHash string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE person_id = $1 AND code_hash = $2 AND used_at IS NULL`,
		id, codeHash, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetPassword replaces a person's password hash and clears any lockout.
func (tx *Tx) SetPassword(ctx context.Context, id canopy.PersonID, passwordHash string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE people SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE id = $1`,
		id, passwordHash, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// EndSessionsOf deletes every session of a person.
func (tx *Tx) EndSessionsOf(ctx context.Context, id canopy.PersonID) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1`, id)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return res.RowsAffected()
}

// EndOtherSessionsOf ends a person's sessions except the one with keepHash.
func (tx *Tx) EndOtherSessionsOf(ctx context.Context, id canopy.PersonID, keepHash string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1 AND token_hash <> $2`, id, keepHash)
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	return res.RowsAffected()
}

// RecentLinkCount counts a person's links of one purpose created since t.
func (s *Store) RecentLinkCount(ctx context.Context, id canopy.PersonID, purpose string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_links WHERE person_id = $1 AND purpose = $2 AND created_at >= $3`,
		id, purpose, since.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("recent links: %w", err)
	}
	return n, nil
}

// DeleteLinks removes a person's unused links of one purpose (a resend
// kills the old link).
func (tx *Tx) DeleteLinks(ctx context.Context, id canopy.PersonID, purpose string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM signin_links WHERE person_id = $1 AND purpose = $2 AND used_at IS NULL`, id, purpose); err != nil {
		return fmt.Errorf("delete links: %w", err)
	}
	return nil
}

// ResetTOTP turns two-step verification off and removes recovery codes.
func (tx *Tx) ResetTOTP(ctx context.Context, id canopy.PersonID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE people SET totp_secret = '', totp_enabled_at = NULL WHERE id = $1`, id); err != nil {
		return fmt.Errorf("reset totp: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE person_id = $1`, id); err != nil {
		return fmt.Errorf("reset totp: %w", err)
	}
	return nil
}

// UpdatePerson changes a person's name and phone.
func (tx *Tx) UpdatePerson(ctx context.Context, id canopy.PersonID, name, phone string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE people SET name = $2, phone = $3, updated_at = $4 WHERE id = $1`, id, name, phone, now.UnixMilli()); err != nil {
		return fmt.Errorf("update person: %w", err)
	}
	return nil
}

// SetMembershipRoles replaces the roles of a membership; it returns the
// roles it held before.
func (tx *Tx) SetMembershipRoles(ctx context.Context, person canopy.PersonID, org canopy.OrgID, roles []string) ([]string, error) {
	var before string
	if err := tx.QueryRowContext(ctx, `SELECT roles FROM memberships WHERE person_id = $1 AND org_id = $2`, person, org).Scan(&before); err != nil {
		return nil, notFound("membership", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memberships SET roles = $3 WHERE person_id = $1 AND org_id = $2`, person, org, strings.Join(roles, ",")); err != nil {
		return nil, fmt.Errorf("set roles: %w", err)
	}
	if before == "" {
		return nil, nil
	}
	return strings.Split(before, ","), nil
}

// PersonByEmail finds a person by email inside a transaction.
func (tx *Tx) PersonByEmail(ctx context.Context, email string) (Person, error) {
	var p Person
	err := tx.QueryRowContext(ctx, `SELECT id, email, name, phone FROM people WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))).Scan(&p.ID, &p.Email, &p.Name, &p.Phone)
	if err != nil {
		return Person{}, notFound("person", err)
	}
	return p, nil
}

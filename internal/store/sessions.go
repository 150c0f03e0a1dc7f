package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Session is a signed-in person acting in one organization.
type Session struct {
	TokenHash string
	PersonID  canopy.PersonID
	OrgID     canopy.OrgID
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time
	IP        string
	UserAgent string
	// Filled on lookup from people and from the membership at OrgID.
	PersonName       string
	PersonEmail      string
	Roles            []string
	MembershipStatus string // "" when the membership is gone
	// MustEnrolTwoStep limits the session to enrolment.
	MustEnrolTwoStep bool
	// Org is the organization the session acts in, read in the same query.
	Org canopy.Org
	// Under Admin Login the session acts in a customer (OrgID) while its
	// person's membership is at ActingFromOrgID, for a reason, until a time.
	ActingFromOrgID canopy.OrgID
	ActingReason    string
	ActingUntil     time.Time
	// What the membership grants a customer User, and the modules the
	// customer has (its feature availability).
	GrantedModules     []canopy.Module
	GrantedSubAccounts []canopy.OrgID
	CustomerModules    []canopy.Module
}

// CreateSession stores a session under the hash of its token.
func (tx *Tx) CreateSession(ctx context.Context, s Session) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, person_id, org_id, created_at, last_seen_at, expires_at, ip, user_agent, must_enrol_two_step)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.TokenHash, s.PersonID, s.OrgID,
		s.Created.UnixMilli(), s.LastSeen.UnixMilli(), s.Expires.UnixMilli(), s.IP, s.UserAgent, s.MustEnrolTwoStep)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByHash returns the session with the token hash, with its person.
func (s *Store) SessionByHash(ctx context.Context, hash string) (Session, error) {
	var out Session
	var created, seen, expires int64
	var actingUntil sql.NullInt64
	var roles, grantedMods, grantedSubs, customerMods string
	// One round trip per authenticated request: session, person,
	// membership and the organization it acts in.
	row := s.r.QueryRowContext(ctx, `SELECT s.token_hash, s.person_id, s.org_id, s.created_at, s.last_seen_at, s.expires_at,
		s.ip, s.user_agent, p.name, p.email, COALESCE(m.roles, ''), COALESCE(m.status, ''), s.must_enrol_two_step,
		COALESCE(s.acting_from_org_id, 0), s.acting_reason, s.acting_until,
		COALESCE(m.modules, ''), COALESCE(m.sub_accounts, ''), COALESCE(c.modules, ''), `+orgColumns+`
		FROM sessions s JOIN people p ON p.id = s.person_id
		JOIN orgs o ON o.id = s.org_id LEFT JOIN customers c ON c.org_id = o.id
		LEFT JOIN memberships m ON m.person_id = s.person_id AND m.org_id = COALESCE(s.acting_from_org_id, s.org_id)
		WHERE s.token_hash = $1`, hash)
	org, err := scanOrg(prefixScanner{row, []any{&out.TokenHash, &out.PersonID, &out.OrgID, &created, &seen, &expires, &out.IP, &out.UserAgent,
		&out.PersonName, &out.PersonEmail, &roles, &out.MembershipStatus, &out.MustEnrolTwoStep,
		&out.ActingFromOrgID, &out.ActingReason, &actingUntil, &grantedMods, &grantedSubs, &customerMods}})
	if err != nil {
		return Session{}, notFound("session", err)
	}
	out.Org = org
	out.GrantedModules, out.GrantedSubAccounts, out.CustomerModules = splitModules(grantedMods), splitIDs(grantedSubs), splitModules(customerMods)
	out.ActingUntil = fromMillis(actingUntil)
	if roles != "" {
		out.Roles = strings.Split(roles, ",")
	}
	out.Created, out.LastSeen, out.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC(), time.UnixMilli(expires).UTC()
	return out, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, hash string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, hash, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleBefore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, now.UnixMilli(), idleBefore.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// SigninLink is a single-use link that signs a person in.
type SigninLink struct {
	TokenHash string
	PersonID  canopy.PersonID
	OrgID     canopy.OrgID
	Purpose   string
	Created   time.Time
	Expires   time.Time
}

// CreateSigninLink stores a link under the hash of its token.
func (tx *Tx) CreateSigninLink(ctx context.Context, l SigninLink) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO signin_links (token_hash, person_id, org_id, purpose, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, l.TokenHash, l.PersonID, l.OrgID, l.Purpose, l.Created.UnixMilli(), l.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("create sign-in link: %w", err)
	}
	return nil
}

// PeekSigninLink reports whether a link is still usable, without spending it.
func (s *Store) PeekSigninLink(ctx context.Context, hash, purpose string, now time.Time) (SigninLink, error) {
	var l SigninLink
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, person_id, org_id, purpose, created_at, expires_at FROM signin_links
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`, hash, purpose, now.UnixMilli()).Scan(
		&l.TokenHash, &l.PersonID, &l.OrgID, &l.Purpose, &created, &expires)
	if err != nil {
		return SigninLink{}, notFound("sign-in link", err)
	}
	l.Created, l.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return l, nil
}

// SpendSigninLink marks a usable link used and returns it. Of two requests
// racing with the same link, exactly one gets it.
func (tx *Tx) SpendSigninLink(ctx context.Context, hash, purpose string, now time.Time) (SigninLink, error) {
	var l SigninLink
	var created, expires int64
	err := tx.QueryRowContext(ctx, `UPDATE signin_links SET used_at = $3
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING token_hash, person_id, org_id, purpose, created_at, expires_at`, hash, purpose, now.UnixMilli()).Scan(
		&l.TokenHash, &l.PersonID, &l.OrgID, &l.Purpose, &created, &expires)
	if err != nil {
		return SigninLink{}, notFound("sign-in link", err)
	}
	l.Created, l.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return l, nil
}

// SessionsOf lists a person's sessions, newest activity first.
func (s *Store) SessionsOf(ctx context.Context, person canopy.PersonID) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT token_hash, person_id, org_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM sessions WHERE person_id = $1 ORDER BY last_seen_at DESC`, person)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		var created, seen, expires int64
		if err := rows.Scan(&x.TokenHash, &x.PersonID, &x.OrgID, &created, &seen, &expires, &x.IP, &x.UserAgent); err != nil {
			return nil, err
		}
		x.Created, x.LastSeen, x.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC(), time.UnixMilli(expires).UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// EndOtherSessions deletes a person's sessions except the one with keepHash.
func (s *Store) EndOtherSessions(ctx context.Context, person canopy.PersonID, keepHash string) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1 AND token_hash <> $2`, person, keepHash)
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	return res.RowsAffected()
}

// RotateSession gives a session a new token hash, keeping everything else.
func (s *Store) RotateSession(ctx context.Context, oldHash, newHash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET token_hash = $2 WHERE token_hash = $1`, oldHash, newHash)
	if err != nil {
		return fmt.Errorf("rotate session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("rotate session: %w", canopy.ErrUnauthenticated)
	}
	return nil
}

// ClearMustEnrol lifts the enrolment-only limit from a person's sessions.
func (tx *Tx) ClearMustEnrol(ctx context.Context, person canopy.PersonID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET must_enrol_two_step = $2 WHERE person_id = $1`, person, false); err != nil {
		return fmt.Errorf("clear must-enrol: %w", err)
	}
	return nil
}

// DeleteExpiredLinks removes sign-in links (registration, reset, second
// factor, one-time) that expired before t, used or not.
func (s *Store) DeleteExpiredLinks(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM signin_links WHERE expires_at < $1`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired links: %w", err)
	}
	return res.RowsAffected()
}

// StartActing moves a session into customer under Admin Login: it acts
// there until until, remembering the organization it came from.
func (tx *Tx) StartActing(ctx context.Context, hash string, customer, from canopy.OrgID, reason string, until time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET org_id = $2, acting_from_org_id = $3, acting_reason = $4, acting_until = $5
		WHERE token_hash = $1 AND acting_from_org_id IS NULL`, hash, customer, from, reason, until.UnixMilli())
	if err != nil {
		return fmt.Errorf("start admin login: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("start admin login: the session is gone or already acting: %w", canopy.ErrConflict)
	}
	return nil
}

// EndActing returns a session from Admin Login to where it came from. It
// reports false when the session was not acting (another request ended it).
func (tx *Tx) EndActing(ctx context.Context, hash string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET org_id = acting_from_org_id, acting_from_org_id = NULL, acting_reason = '', acting_until = NULL
		WHERE token_hash = $1 AND acting_from_org_id IS NOT NULL`, hash)
	if err != nil {
		return false, fmt.Errorf("end admin login: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// EmailChange is a pending change of a person's email address.
type EmailChange struct {
	PersonID canopy.PersonID
	NewEmail string
	Expires  time.Time
}

// CreateEmailChange stores a pending change; earlier unused ones of the
// person stop working.
func (tx *Tx) CreateEmailChange(ctx context.Context, hash string, person canopy.PersonID, newEmail string, now, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM email_changes WHERE person_id = $1 AND used_at IS NULL`, person); err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO email_changes (token_hash, person_id, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, person, strings.ToLower(newEmail), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	return nil
}

// PeekEmailChange reads a usable change without spending it.
func (s *Store) PeekEmailChange(ctx context.Context, hash string, now time.Time) (EmailChange, error) {
	var c EmailChange
	var expires int64
	err := s.r.QueryRowContext(ctx, `SELECT person_id, new_email, expires_at FROM email_changes WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		hash, now.UnixMilli()).Scan(&c.PersonID, &c.NewEmail, &expires)
	if err != nil {
		return EmailChange{}, notFound("email change", err)
	}
	c.Expires = time.UnixMilli(expires).UTC()
	return c, nil
}

// SpendEmailChange marks a usable change used and returns it.
func (tx *Tx) SpendEmailChange(ctx context.Context, hash string, now time.Time) (EmailChange, error) {
	var c EmailChange
	var expires int64
	err := tx.QueryRowContext(ctx, `UPDATE email_changes SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING person_id, new_email, expires_at`, hash, now.UnixMilli()).Scan(&c.PersonID, &c.NewEmail, &expires)
	if err != nil {
		return EmailChange{}, notFound("email change", err)
	}
	c.Expires = time.UnixMilli(expires).UTC()
	return c, nil
}

// SetEmail changes a person's address; one already in use is ErrConflict.
func (tx *Tx) SetEmail(ctx context.Context, person canopy.PersonID, email string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE people SET email = $2, updated_at = $3 WHERE id = $1`, person, strings.ToLower(email), now.UnixMilli())
	if isUniqueViolation(err) {
		return fmt.Errorf("set email %s: %w", email, canopy.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set email: %w", err)
	}
	return nil
}

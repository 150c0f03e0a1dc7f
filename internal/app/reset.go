package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
)

const (
	// PurposeReset is a password-reset link.
	PurposeReset     = "reset"
	resetTTL         = time.Hour
	resetLinksPerDay = 5
)

// RequestPasswordReset mails a reset link to a registered person. It
// returns nil whatever the address, so the answer never tells whether an
// account exists; at most five links a day go to one person.
func (a *App) RequestPasswordReset(ctx context.Context, email string) error {
	creds, err := a.store.CredentialsByEmail(ctx, email)
	if errors.Is(err, canopy.ErrNotFound) || (err == nil && creds.Registered.IsZero()) {
		return nil
	}
	if err != nil {
		return err
	}
	now := a.clock.Now()
	n, err := a.store.RecentLinkCount(ctx, creds.ID, PurposeReset, now.Add(-24*time.Hour))
	if err != nil || n >= resetLinksPerDay {
		if n >= resetLinksPerDay {
			a.log.WarnContext(ctx, "password reset requests over the daily limit", "person", creds.ID)
		}
		return err
	}
	memberships, err := a.store.MembershipsOf(ctx, creds.ID)
	if err != nil || len(memberships) == 0 {
		return err
	}
	org := memberships[0].Org
	token, hash := newToken()
	link := a.baseURL + "/password/reset/" + token
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSigninLink(ctx, store.SigninLink{TokenHash: hash, PersonID: creds.ID, OrgID: org.ID, Purpose: PurposeReset, Created: now, Expires: now.Add(resetTTL)}); err != nil {
			return err
		}
		brand, color, err := tx.Branding(ctx, org)
		if err != nil {
			return err
		}
		msg, err := mail.Letter{Brand: brand, Color: color, To: creds.Email, Subject: "Reset your Canopy password",
			Greeting:    "Hello " + creds.Name + ",",
			Paragraphs:  []string{"Someone asked to reset the password of your Canopy account.", "To choose a new password, open this link and answer your security question."},
			ActionLabel: "Choose a new password", ActionURL: link,
			After: []string{"The link works once, for one hour.", "If you did not ask for this, ignore this email: your password stays as it is."},
		}.Message()
		if err != nil {
			return err
		}
		_, err = a.outbox.Queue(ctx, tx, org.ID, "password_reset", msg)
		return err
	})
}

// ResetInfo is what the reset page shows: whose account and the question.
type ResetInfo struct {
	Email    string
	Question string
}

// ErrResetLinkUnusable is one answer for unknown, used and expired links.
var ErrResetLinkUnusable = fmt.Errorf("this password reset link has expired or was used already; ask for a new one: %w", canopy.ErrNotFound)

// PasswordResetFor reads a reset link without spending it.
func (a *App) PasswordResetFor(ctx context.Context, token string) (ResetInfo, error) {
	_, c, err := a.linkHolder(ctx, token, PurposeReset, ErrResetLinkUnusable)
	return ResetInfo{Email: c.Email, Question: c.SecurityQuestion}, err
}

// ResetInput is the reset form.
type ResetInput struct {
	Answer   string
	Password string
	Confirm  string
}

// ResetPassword checks the security answer, sets the new password, spends
// the link and ends every session of the person. Wrong answers count
// towards the sign-in lockout.
func (a *App) ResetPassword(ctx context.Context, token string, in ResetInput, ip, userAgent string) error {
	link, creds, err := a.linkHolder(ctx, token, PurposeReset, ErrResetLinkUnusable)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	if now.Before(creds.LockedUntil) {
		return LockedError{Until: creds.LockedUntil}
	}
	fe := canopy.FieldErrors{}
	if ok, err := auth.CheckPassword(creds.SecurityAnswerHash, normalizeAnswer(in.Answer)); err != nil || !ok {
		if err := a.store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RecordFailedLogin(ctx, creds.ID, "wrong security answer", maxFailedLogins, now.Add(lockoutFor), now)
			return err
		}); err != nil {
			return err
		}
		fe.Add("answer", "That answer is not right.")
	}
	a.checkNewPassword(fe, in.Password, in.Confirm, creds.Email, creds.Name)
	if err := fe.Err(); err != nil {
		return err
	}
	hash := auth.HashPassword(in.Password)
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.SpendSigninLink(ctx, link.TokenHash, PurposeReset, now); err != nil {
			if errors.Is(err, canopy.ErrNotFound) {
				return ErrResetLinkUnusable
			}
			return err
		}
		if err := tx.SetPassword(ctx, creds.ID, hash, now); err != nil {
			return err
		}
		if _, err := tx.EndSessionsOf(ctx, creds.ID); err != nil {
			return err
		}
		org, err := tx.OrgUnscoped(ctx, link.OrgID)
		if err != nil {
			return err
		}
		actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: creds.ID, Name: creds.Name, IP: ip, UserAgent: userAgent}
		_, err = tx.RecordChange(ctx, change(actor, org, canopy.ActionUpdateUser, "person", fmt.Sprint(creds.ID), creds.Email, nil, map[string]string{"password": "reset"}, now))
		return err
	})
}

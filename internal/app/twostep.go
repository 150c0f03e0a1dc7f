package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

const (
	// PurposeSecondFactor links a correct password to the code that must follow it.
	PurposeSecondFactor = "second_factor"
	secondFactorTTL     = 5 * time.Minute
	recoveryCodeCount   = 10
)

// SecondFactorRequired is returned by SignInPassword when the password was
// right and a code must follow; Token carries the sign-in to that step.
type SecondFactorRequired struct{ Token string }

func (SecondFactorRequired) Error() string { return "a two-step verification code is required" }

// TOTPEnrolment is what a person needs to add Canopy to an authenticator app.
type TOTPEnrolment struct {
	Secret string // for typing in by hand
	URL    string // otpauth://, shown as a QR code
}

// BeginTOTP starts enrolment: a new secret, pending until confirmed.
func (a *App) BeginTOTP(ctx context.Context, v Viewer) (TOTPEnrolment, error) {
	secret, url, err := auth.NewTOTPSecret("Canopy", v.Email)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	err = a.store.InTx(ctx, func(tx *store.Tx) error { return tx.SetPendingTOTP(ctx, v.PersonID, secret) })
	if errors.Is(err, canopy.ErrConflict) {
		return TOTPEnrolment{}, fmt.Errorf("two-step verification is already on: %w", canopy.ErrConflict)
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{Secret: secret, URL: url}, nil
}

// TwoStepEnabled reports whether the viewer has two-step verification on.
func (a *App) TwoStepEnabled(ctx context.Context, v Viewer) (bool, error) {
	creds, err := a.store.CredentialsByEmail(ctx, v.Email)
	if err != nil {
		return false, err
	}
	return !creds.TOTPEnabled.IsZero(), nil
}

func recoveryHash(code string) string {
	return hashToken("recovery:" + auth.NormalizeRecoveryCode(code))
}

// ConfirmTOTP turns two-step verification on when code matches the pending
// secret, and returns ten recovery codes to show once (only their hashes
// are kept).
func (a *App) ConfirmTOTP(ctx context.Context, v Viewer, code string) ([]string, error) {
	now := a.clock.Now()
	var codes []string
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		creds, err := tx.Credentials(ctx, v.PersonID)
		if err != nil {
			return err
		}
		if !creds.TOTPEnabled.IsZero() {
			return fmt.Errorf("two-step verification is already on: %w", canopy.ErrConflict)
		}
		if creds.TOTPSecret == "" {
			return canopy.FieldErrors{"code": "Start again: scan the QR code first."}
		}
		step, ok := auth.VerifyTOTP(creds.TOTPSecret, code, now, 0)
		if !ok {
			return canopy.FieldErrors{"code": "That code is not right. Enter the 6 digits your app shows now; check the phone's clock if it keeps failing."}
		}
		codes = auth.NewRecoveryCodes(recoveryCodeCount)
		hashes := make([]string, len(codes))
		for i, c := range codes {
			hashes[i] = recoveryHash(c)
		}
		if err := tx.EnableTOTP(ctx, v.PersonID, step, hashes, now); err != nil {
			return err
		}
		if err := tx.ClearMustEnrol(ctx, v.PersonID); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionUpdateUser, "person", fmt.Sprint(v.PersonID), v.Email,
			map[string]string{"two_step": "off"}, map[string]string{"two_step": "on"}, now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("confirm two-step: %w", err)
	}
	return codes, nil
}

// ErrBadSecondFactor is the answer for a wrong, reused or expired code.
var ErrBadSecondFactor = fmt.Errorf("that code is not right or was used already: %w", canopy.ErrUnauthenticated)

// SignInSecondFactor completes a sign-in with a TOTP code or a recovery
// code. A code is accepted once: its time step must be newer than the last
// accepted one. Wrong codes count towards the lockout like wrong passwords.
func (a *App) SignInSecondFactor(ctx context.Context, pending, code, ip, userAgent string) (string, error) {
	now := a.clock.Now()
	link, err := a.store.PeekSigninLink(ctx, hashToken(pending), PurposeSecondFactor, now)
	if errors.Is(err, canopy.ErrNotFound) {
		return "", fmt.Errorf("the sign-in took too long; start again with your password: %w", canopy.ErrUnauthenticated)
	}
	if err != nil {
		return "", err
	}
	var sessionToken string
	var rejected bool
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		creds, err := tx.Credentials(ctx, link.PersonID)
		if err != nil {
			return err
		}
		if now.Before(creds.LockedUntil) {
			return LockedError{Until: creds.LockedUntil}
		}
		accepted := false
		method := "totp"
		if digits := strings.ReplaceAll(strings.TrimSpace(code), " ", ""); len(digits) == 6 {
			if step, ok := auth.VerifyTOTP(creds.TOTPSecret, digits, now, creds.TOTPLastStep); ok {
				accepted, err = tx.AcceptTOTPStep(ctx, creds.ID, step)
				if err != nil {
					return err
				}
			}
		} else {
			method = "recovery code"
			accepted, err = tx.UseRecoveryCode(ctx, creds.ID, recoveryHash(code), now)
			if err != nil {
				return err
			}
		}
		if !accepted {
			rejected = true
			_, err := tx.RecordFailedLogin(ctx, creds.ID, "wrong second factor", maxFailedLogins, now.Add(lockoutFor), now)
			return err
		}
		if _, err := tx.SpendSigninLink(ctx, link.TokenHash, PurposeSecondFactor, now); err != nil {
			return err
		}
		org, err := tx.OrgUnscoped(ctx, link.OrgID)
		if err != nil {
			return err
		}
		sessionToken, err = a.openSession(ctx, tx, creds.Person, org, method, ip, userAgent, now)
		return err
	})
	if err != nil {
		return "", err
	}
	if rejected {
		return "", ErrBadSecondFactor
	}
	return sessionToken, nil
}

// openSession records a successful sign-in and creates the session. When
// one of the person's organizations enforces two-step verification and
// they have not enrolled, the session reaches only the enrolment page.
func (a *App) openSession(ctx context.Context, tx *store.Tx, p store.Person, org canopy.Org, method, ip, userAgent string, now time.Time) (string, error) {
	token, hash := newToken()
	if err := tx.RecordLogin(ctx, p.ID, now); err != nil {
		return "", err
	}
	creds, err := tx.Credentials(ctx, p.ID)
	if err != nil {
		return "", err
	}
	mustEnrol := false
	if creds.TOTPEnabled.IsZero() {
		if mustEnrol, err = a.store.TwoStepRequired(ctx, p.ID); err != nil {
			return "", err
		}
	}
	if err := tx.CreateSession(ctx, store.Session{TokenHash: hash, PersonID: p.ID, OrgID: org.ID,
		Created: now, LastSeen: now, Expires: now.Add(a.sessionMax), IP: ip, UserAgent: userAgent, MustEnrolTwoStep: mustEnrol}); err != nil {
		return "", err
	}
	actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: p.ID, Name: p.Name, IP: ip, UserAgent: userAgent}
	_, err = tx.RecordChange(ctx, change(actor, org, canopy.ActionSignIn, "person", fmt.Sprint(p.ID), p.Email, nil, map[string]string{"method": method}, now))
	return token, err
}

// SetTwoStepEnforced makes an organization in the viewer's subtree require
// two-step verification of its members (or not), logged as a settings
// change. Members without it must enrol at their next sign-in.
func (a *App) SetTwoStepEnforced(ctx context.Context, v Viewer, org canopy.OrgID, on bool) error {
	if err := v.Require(PermManageCustomerOrg); err != nil {
		return err
	}
	// A customer's enforcement is one of its layered settings.
	if o, err := a.store.Org(ctx, v.Scope(), org); err == nil && o.Kind == canopy.KindCustomer {
		return a.SetCustomerSetting(ctx, v, org, canopy.SettingEnforceTwoStep, fmt.Sprint(on), false)
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.Org(ctx, v.Scope(), org)
		if err != nil {
			return err
		}
		before, err := tx.SetEnforceTwoStep(ctx, v.Scope(), org, on)
		if err != nil || before == on {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionUpdateSettings, "organization", o.TenantID, o.Name,
			map[string]bool{"enforce_two_step": before}, map[string]bool{"enforce_two_step": on}, now))
		return err
	})
}

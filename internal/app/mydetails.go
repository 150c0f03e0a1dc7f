package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
)

const emailChangeTTL = 24 * time.Hour

// MyDetails is what the My Details page shows a signed-in person.
type MyDetails struct {
	Person store.Person
	// EmailLockedBy names the customers that do not let their users change
	// their email address; the change needs every one of them to allow it.
	EmailLockedBy []string
}

// emailLockedBy lists the customers among person's memberships that forbid
// email changes (strictest wins across organizations).
func (a *App) emailLockedBy(ctx context.Context, person canopy.PersonID) ([]string, error) {
	ms, err := a.store.MembershipsOf(ctx, person)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.Org.Kind != canopy.KindCustomer {
			continue
		}
		settings, err := customerSettings(ctx, a.store, m.Org)
		if err != nil {
			return nil, err
		}
		if !settings[canopy.SettingEmailChange].On() {
			out = append(out, m.Org.Name)
		}
	}
	return out, nil
}

// MyDetailsOf returns the viewer's own details.
func (a *App) MyDetailsOf(ctx context.Context, v Viewer) (MyDetails, error) {
	var p store.Person
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.PersonByID(ctx, v.PersonID)
		return err
	})
	if err != nil {
		return MyDetails{}, err
	}
	locked, err := a.emailLockedBy(ctx, v.PersonID)
	return MyDetails{Person: p, EmailLockedBy: locked}, err
}

// UpdateMyDetails changes the viewer's own name and phone.
func (a *App) UpdateMyDetails(ctx context.Context, v Viewer, name, phone string) error {
	name, phone = strings.TrimSpace(name), strings.TrimSpace(phone)
	fe := canopy.FieldErrors{}
	if name == "" {
		fe.Add("name", "Enter your name.")
	} else if len(name) > 200 {
		fe.Add("name", "Use at most 200 characters.")
	}
	if phone != "" && !phonePattern.MatchString(phone) {
		fe.Add("phone", "Enter a phone number with digits, spaces and an optional leading +.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PersonByID(ctx, v.PersonID)
		if err != nil {
			return err
		}
		if p.Name == name && p.Phone == phone {
			return nil
		}
		if err := tx.UpdatePerson(ctx, p.ID, name, phone, now); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionUpdateUser, "person", fmt.Sprint(p.ID), p.Email,
			map[string]string{"name": p.Name, "phone": p.Phone}, map[string]string{"name": name, "phone": phone}, now))
		return err
	})
}

// ChangePassword changes the viewer's password after checking the current
// one; their other sessions end, the one with token stays. Five wrong
// current passwords in a row lock the account like failed sign-ins.
func (a *App) ChangePassword(ctx context.Context, v Viewer, token, current, password, confirm string) error {
	now := a.clock.Now()
	var creds store.Credentials
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		creds, err = tx.Credentials(ctx, v.PersonID)
		return err
	})
	if err != nil {
		return err
	}
	if now.Before(creds.LockedUntil) {
		return LockedError{Until: creds.LockedUntil}
	}
	fe := canopy.FieldErrors{}
	if ok, err := auth.CheckPassword(creds.PasswordHash, current); err != nil || !ok {
		if err := a.store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RecordFailedLogin(ctx, creds.ID, "wrong current password", maxFailedLogins, now.Add(lockoutFor), now)
			return err
		}); err != nil {
			return err
		}
		fe.Add("current", "That is not your current password.")
	}
	a.checkNewPassword(fe, password, confirm, creds.Email, creds.Name)
	if err := fe.Err(); err != nil {
		return err
	}
	hash := auth.HashPassword(password)
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, creds.ID, hash, now); err != nil {
			return err
		}
		if _, err := tx.EndOtherSessionsOf(ctx, creds.ID, hashToken(token)); err != nil {
			return err
		}
		_, err := tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionUpdateUser, "person", fmt.Sprint(creds.ID), creds.Email,
			nil, map[string]string{"password": "changed"}, now))
		return err
	})
}

// RequestEmailChange mails a confirmation link to the new address. It is
// refused, naming them, while any of the person's customers forbids it.
func (a *App) RequestEmailChange(ctx context.Context, v Viewer, newEmail string) error {
	newEmail = strings.ToLower(strings.TrimSpace(newEmail))
	if !validEmail(newEmail) {
		return canopy.FieldErrors{"email": "Enter an email address such as name@example.com."}
	}
	if newEmail == strings.ToLower(v.Email) {
		return canopy.FieldErrors{"email": "That is your address already."}
	}
	locked, err := a.emailLockedBy(ctx, v.PersonID)
	if err != nil {
		return err
	}
	if len(locked) > 0 {
		return canopy.FieldErrors{"email": strings.Join(locked, ", ") + " does not allow its users to change their email address; ask its administrator."}
	}
	if _, err := a.store.PersonByEmail(ctx, newEmail); err == nil {
		return canopy.FieldErrors{"email": "That address belongs to another account."}
	} else if !errors.Is(err, canopy.ErrNotFound) {
		return err
	}
	now := a.clock.Now()
	token, hash := newToken()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateEmailChange(ctx, hash, v.PersonID, newEmail, now, now.Add(emailChangeTTL)); err != nil {
			return err
		}
		msg, err := mail.Letter{Brand: "Canopy", To: newEmail, Subject: "Confirm your new email address",
			Greeting:    "Hello " + v.Name + ",",
			Paragraphs:  []string{"You asked to sign in to Canopy with this address instead of " + v.Email + "."},
			ActionLabel: "Confirm my new address", ActionURL: a.baseURL + "/account/email/" + token,
			After: []string{"The link works once, for 24 hours. If you did not ask for this, ignore this email: nothing changes."},
		}.Message()
		if err != nil {
			return err
		}
		_, err = a.outbox.Queue(ctx, tx, v.Org.ID, "email_change", msg)
		return err
	})
}

// ErrEmailChangeUnusable answers an unknown, used or expired confirmation link.
var ErrEmailChangeUnusable = fmt.Errorf("this confirmation link cannot be used: it has expired or was used already: %w", canopy.ErrNotFound)

// CheckEmailChange reads a confirmation link without spending it.
func (a *App) CheckEmailChange(ctx context.Context, token string) (store.EmailChange, error) {
	c, err := a.store.PeekEmailChange(ctx, hashToken(token), a.clock.Now())
	if errors.Is(err, canopy.ErrNotFound) {
		return c, ErrEmailChangeUnusable
	}
	return c, err
}

// ConfirmEmailChange spends the link and changes the address, logged at
// every organization the person belongs to. The rule is checked again: a
// customer may have forbidden changes since the request.
func (a *App) ConfirmEmailChange(ctx context.Context, token, ip, userAgent string) error {
	pending, err := a.CheckEmailChange(ctx, token)
	if err != nil {
		return err
	}
	locked, err := a.emailLockedBy(ctx, pending.PersonID)
	if err != nil {
		return err
	}
	if len(locked) > 0 {
		return fmt.Errorf("%s does not allow its users to change their email address: %w", strings.Join(locked, ", "), canopy.ErrForbidden)
	}
	ms, err := a.store.MembershipsOf(ctx, pending.PersonID)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.SpendEmailChange(ctx, hashToken(token), now)
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrEmailChangeUnusable
		}
		if err != nil {
			return err
		}
		p, err := tx.PersonByID(ctx, c.PersonID)
		if err != nil {
			return err
		}
		if err := tx.SetEmail(ctx, p.ID, c.NewEmail, now); err != nil {
			if errors.Is(err, canopy.ErrConflict) {
				return canopy.FieldErrors{"email": "That address now belongs to another account."}
			}
			return err
		}
		actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: p.ID, Name: p.Name, IP: ip, UserAgent: userAgent}
		for _, m := range ms {
			if _, err := tx.RecordChange(ctx, change(actor, m.Org, canopy.ActionEmailChanged, "person", fmt.Sprint(p.ID), c.NewEmail,
				map[string]string{"email": p.Email}, map[string]string{"email": c.NewEmail}, now)); err != nil {
				return err
			}
		}
		return nil
	})
}

package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Admin Login time box.
const (
	DefaultAdminLogin = 60 * time.Minute
	MaxAdminLogin     = 8 * time.Hour
)

// StartAdminLogin lets staff with the right act inside customer id as its
// administrator: the session (token) moves into the customer until the
// time box ends, and the start is logged where the customer sees it.
func (a *App) StartAdminLogin(ctx context.Context, v Viewer, token string, id canopy.OrgID, reason string, length time.Duration) (canopy.Org, error) {
	if err := v.Require(PermAdminLogin); err != nil {
		return canopy.Org{}, err
	}
	if v.Acting != nil {
		return canopy.Org{}, fmt.Errorf("admin login: end the Admin Login in %s first: %w", v.Acting.Customer.Name, canopy.ErrConflict)
	}
	reason = strings.TrimSpace(reason)
	fe := canopy.FieldErrors{}
	switch n := utf8.RuneCountInString(reason); {
	case n < 5:
		fe.Add("reason", "Say why you are signing in to this customer (at least 5 characters); the customer sees it in its change log.")
	case n > 500:
		fe.Add("reason", "Use at most 500 characters.")
	}
	if length == 0 {
		length = DefaultAdminLogin
	}
	if length < 5*time.Minute || length > MaxAdminLogin {
		fe.Add("minutes", fmt.Sprintf("Choose from 5 to %d minutes.", int(MaxAdminLogin.Minutes())))
	}
	now := a.clock.Now()
	var cust canopy.Org
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if c.Kind != canopy.KindCustomer || c.ID == v.Org.ID {
			return fmt.Errorf("admin login: %w", canopy.ErrNotFound)
		}
		if err := fe.Err(); err != nil {
			return err
		}
		until := now.Add(length)
		if err := tx.StartActing(ctx, hashToken(token), c.ID, v.Org.ID, reason, until); err != nil {
			return err
		}
		cust = c
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionAdminLoginStart, "person", fmt.Sprint(v.PersonID), v.Name, nil,
			map[string]any{"reason": reason, "from": v.Org.Name, "until": until.Format(time.RFC3339)}, now))
		return err
	})
	if err != nil {
		return canopy.Org{}, fmt.Errorf("admin login: %w", err)
	}
	return cust, nil
}

// EndAdminLogin returns the session to where its person signed in.
func (a *App) EndAdminLogin(ctx context.Context, v Viewer, token string) error {
	if v.Acting == nil {
		return nil
	}
	sess, err := a.store.SessionByHash(ctx, hashToken(token))
	if err != nil {
		return err
	}
	return a.endActing(ctx, hashToken(token), v, sess, "ended")
}

func (a *App) endActing(ctx context.Context, hash string, v Viewer, sess store.Session, how string) error {
	now := a.clock.Now()
	actor := v.Actor
	actor.OnBehalfOfName = actingAs(sess.Org)
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		ended, err := tx.EndActing(ctx, hash)
		if err != nil || !ended {
			// Not acting any more: a concurrent request ended it and logged it.
			return err
		}
		_, err = tx.RecordChange(ctx, change(actor, sess.Org, canopy.ActionAdminLoginEnd, "person", fmt.Sprint(v.PersonID), v.Name, nil,
			map[string]any{"how": how, "reason": sess.ActingReason}, now))
		return err
	})
}

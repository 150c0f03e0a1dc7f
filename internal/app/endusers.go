package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// EndUsers lists a customer's end users by email, 100 a page after afterEmail.
func (a *App) EndUsers(ctx context.Context, v Viewer, customer canopy.OrgID, afterEmail string) ([]store.EndUser, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, err
	}
	return a.store.EndUsersOf(ctx, v.Scope(), c.ID, strings.ToLower(afterEmail), 100)
}

// AddEndUserBy adds one end user to a customer the viewer manages. The
// address must be inside the customer's Domain Lock when it is on.
func (a *App) AddEndUserBy(ctx context.Context, v Viewer, customer canopy.OrgID, email, first, last string) error {
	c, err := a.store.Customer(ctx, v.Scope(), customer)
	if err != nil {
		return err
	}
	if err := mayManage(v, c.Org); err != nil {
		return err
	}
	fe := canopy.FieldErrors{}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if len(first) > 100 {
		fe.Add("first_name", "Use at most 100 characters.")
	}
	if len(last) > 100 {
		fe.Add("last_name", "Use at most 100 characters.")
	}
	settings, err := customerSettings(ctx, a.store, c.Org)
	if err != nil {
		return err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	_, domain, _ := strings.Cut(email, "@")
	if validEmail(email) && settings[canopy.SettingDomainLock].On() {
		ok := domain == c.Domain
		for _, d := range c.Domains {
			ok = ok || d == domain
		}
		if !ok {
			fe.Add("email", fmt.Sprintf("Domain Lock: %s takes addresses at %s only.", c.Name, strings.Join(append([]string{c.Domain}, c.Domains...), ", ")))
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	err = a.AddEndUser(ctx, v.Actor, v.Scope(), c.ID, email, first, last, true)
	if errors.Is(err, canopy.ErrConflict) {
		return canopy.FieldErrors{"email": email + " is already an end user of " + c.Name + "."}
	}
	return err
}

// SetEndUserActive deactivates (signed out of the portal at once) or
// reactivates an end user; the Active Users count follows.
func (a *App) SetEndUserActive(ctx context.Context, v Viewer, customer canopy.OrgID, id int64, active bool) error {
	action := canopy.ActionDeactivateUser
	if active {
		action = canopy.ActionReactivateUser
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if err := mayManage(v, c); err != nil {
			return err
		}
		before, err := tx.SetEndUserActive(ctx, c.ID, id, active, now)
		if err != nil || before.Active == active {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, action, "end_user", fmt.Sprint(id), before.Email,
			map[string]bool{"active": before.Active}, map[string]bool{"active": active}, now))
		return err
	})
}

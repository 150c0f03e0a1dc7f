package app

import (
	"context"
	"fmt"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// maxAccountUsers bounds each list of a customer's Users tab.
const maxAccountUsers = 1000

// AccountUsers returns a customer's Active and Deactivated users.
func (a *App) AccountUsers(ctx context.Context, v Viewer, customer canopy.OrgID) (active, deactivated []store.AccountUser, err error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, nil, err
	}
	if active, err = a.store.AccountUsers(ctx, v.Scope(), c.ID, "active", maxAccountUsers); err != nil {
		return nil, nil, err
	}
	deactivated, err = a.store.AccountUsers(ctx, v.Scope(), c.ID, "deactivated", maxAccountUsers)
	return active, deactivated, err
}

// SetAccountUserActive deactivates a customer's user (kept, listed under
// Deactivated, signed out at once) or reactivates them.
func (a *App) SetAccountUserActive(ctx context.Context, v Viewer, customer canopy.OrgID, person canopy.PersonID, active bool) error {
	if person == v.PersonID && customer == v.Org.ID && !active {
		return canopy.FieldErrors{"person": "You cannot deactivate yourself; ask another administrator."}
	}
	status, action := "deactivated", canopy.ActionDeactivateUser
	if active {
		status, action = "active", canopy.ActionReactivateUser
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if c.Kind != canopy.KindCustomer {
			return fmt.Errorf("account user: %w", canopy.ErrNotFound)
		}
		if err := mayManage(v, c); err != nil {
			return err
		}
		p, err := tx.PersonByID(ctx, person)
		if err != nil {
			return err
		}
		before, err := tx.SetMembershipStatus(ctx, v.Scope(), person, c.ID, status)
		if err != nil || before == status {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, action, "person", fmt.Sprint(p.ID), p.Email,
			map[string]string{"status": before}, map[string]string{"status": status}, now))
		return err
	})
}

// RemoveAccountUser removes a user from a customer account: gone from it,
// free to be invited again; the history stays in the change log.
func (a *App) RemoveAccountUser(ctx context.Context, v Viewer, customer canopy.OrgID, person canopy.PersonID) error {
	return a.removeMembership(ctx, v, person, customer, func(c canopy.Org) error {
		if c.Kind != canopy.KindCustomer {
			return fmt.Errorf("account user: %w", canopy.ErrNotFound)
		}
		return mayManage(v, c)
	})
}

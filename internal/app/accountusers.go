package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// AccountUser returns one user of a customer the viewer manages.
func (a *App) AccountUser(ctx context.Context, v Viewer, customer canopy.OrgID, person canopy.PersonID) (store.AccountUser, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return store.AccountUser{}, err
	}
	if err := mayManage(v, c); err != nil {
		return store.AccountUser{}, err
	}
	return a.store.AccountUserOf(ctx, v.Scope(), c.ID, person)
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

// Permissions are what a customer's user may do there: Admin, or User with
// modules and sub-accounts (none: all of them).
type Permissions struct {
	Role        canopy.Role
	Modules     []canopy.Module
	SubAccounts []canopy.OrgID
}

// SetAccountUserPermissions changes a customer user's role, modules and
// sub-accounts, logged with before and after. An Admin holds no module or
// sub-account list: they reach everything. Nobody changes their own.
func (a *App) SetAccountUserPermissions(ctx context.Context, v Viewer, customer canopy.OrgID, person canopy.PersonID, p Permissions) error {
	fe := canopy.FieldErrors{}
	checkGrants(fe, p.Role, p.Modules)
	if person == v.PersonID && customer == v.Org.ID {
		fe.Add("role", "You cannot change your own permissions; ask another administrator.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if p.Role == canopy.RoleCustomerAdmin {
		p.Modules, p.SubAccounts = nil, nil
	}
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		if err := checkSubAccounts(ctx, tx, c, p.SubAccounts); err != nil {
			return err
		}
		u, err := tx.AccountUser(ctx, c.ID, person)
		if err != nil {
			return err
		}
		before := Permissions{Role: u.Role, Modules: u.Modules, SubAccounts: u.SubAccounts}
		if permissionsEqual(before, p) {
			return nil
		}
		if _, err := tx.SetMembershipRoles(ctx, person, c.ID, []string{string(p.Role)}); err != nil {
			return err
		}
		if err := tx.SetMembershipGrants(ctx, person, c.ID, p.Modules, p.SubAccounts); err != nil {
			return err
		}
		action := canopy.ActionGrantRole
		if p.Role == canopy.RoleCustomerUser && (before.Role == canopy.RoleCustomerAdmin ||
			(subset(p.Modules, before.Modules) && subset(p.SubAccounts, before.SubAccounts))) {
			action = canopy.ActionRevokeRole
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, action, "person", fmt.Sprint(u.ID), u.Email,
			permissionsLog(ctx, tx, c, before), permissionsLog(ctx, tx, c, p), now))
		return err
	})
}

func permissionsEqual(a, b Permissions) bool {
	return a.Role == b.Role && subset(a.Modules, b.Modules) && subset(b.Modules, a.Modules) &&
		subset(a.SubAccounts, b.SubAccounts) && subset(b.SubAccounts, a.SubAccounts)
}

// subset reports whether every element of a is in b.
func subset[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// permissionsLog is how the change log shows permissions: role, module
// labels and sub-account names.
func permissionsLog(ctx context.Context, tx *store.Tx, c canopy.Org, p Permissions) map[string]string {
	out := map[string]string{"role": p.Role.Label()}
	if p.Role == canopy.RoleCustomerUser {
		var mods, subs []string
		for _, m := range p.Modules {
			mods = append(mods, m.Label())
		}
		for _, id := range p.SubAccounts {
			if o, err := subAccountOf(ctx, tx, c, id); err == nil {
				subs = append(subs, o.Name)
			}
		}
		out["modules"], out["sub_accounts"] = strings.Join(mods, ", "), strings.Join(subs, ", ")
	}
	return out
}

package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/google/uuid"
)

// SubAccounts lists a customer's sub-accounts in tree order.
func (a *App) SubAccounts(ctx context.Context, v Viewer, customer canopy.OrgID) ([]canopy.Org, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, err
	}
	return a.store.Orgs(ctx, canopy.ScopeOf(c), []canopy.OrgKind{canopy.KindSubAccount}, 1000)
}

func subAccountName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return "", canopy.FieldErrors{"name": "Name the sub-account (at most 200 characters)."}
	}
	return name, nil
}

// subAccountOf reads a sub-account of customer c in tx.
func subAccountOf(ctx context.Context, tx *store.Tx, c canopy.Org, id canopy.OrgID) (canopy.Org, error) {
	o, err := tx.Org(ctx, canopy.ScopeOf(c), id)
	if err != nil {
		return canopy.Org{}, err
	}
	if o.Kind != canopy.KindSubAccount {
		return canopy.Org{}, fmt.Errorf("sub-account: %w", canopy.ErrNotFound)
	}
	return o, nil
}

// CreateSubAccount adds a sub-account under the customer or under one of
// its sub-accounts (parent 0: the customer).
func (a *App) CreateSubAccount(ctx context.Context, v Viewer, customer, parent canopy.OrgID, name string) (canopy.Org, error) {
	name, err := subAccountName(name)
	if err != nil {
		return canopy.Org{}, err
	}
	now := a.clock.Now()
	var created canopy.Org
	err = a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		under := c
		if parent != 0 && parent != c.ID {
			if under, err = subAccountOf(ctx, tx, c, parent); err != nil {
				return err
			}
		}
		created, err = tx.CreateOrg(ctx, canopy.ScopeOf(c), canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindSubAccount, Name: name, ParentID: under.ID}, now)
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionCreateSubAccount, "sub_account", created.TenantID, name, nil,
			map[string]string{"name": name, "under": under.Name}, now))
		return err
	})
	return created, err
}

// RenameSubAccount renames a sub-account of the customer.
func (a *App) RenameSubAccount(ctx context.Context, v Viewer, customer, id canopy.OrgID, name string) error {
	name, err := subAccountName(name)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		o, err := subAccountOf(ctx, tx, c, id)
		if err != nil {
			return err
		}
		before, err := tx.RenameOrg(ctx, canopy.ScopeOf(c), o.ID, name, now)
		if err != nil || before == name {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionUpdateOrg, "sub_account", o.TenantID, name,
			map[string]string{"name": before}, map[string]string{"name": name}, now))
		return err
	})
}

// DeleteSubAccount deletes an empty sub-account (no sub-accounts of its own, no users).
func (a *App) DeleteSubAccount(ctx context.Context, v Viewer, customer, id canopy.OrgID) error {
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		o, err := subAccountOf(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteEmptyOrg(ctx, canopy.ScopeOf(c), o.ID); err != nil {
			if errors.Is(err, canopy.ErrConflict) {
				return canopy.FieldErrors{"sub_account": o.Name + " is not empty: move or delete its sub-accounts and users first."}
			}
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionDeleteSubAccount, "sub_account", o.TenantID, o.Name, map[string]string{"name": o.Name}, nil, now))
		return err
	})
}

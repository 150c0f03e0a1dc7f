package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Groups lists a customer's groups with their members and managers.
func (a *App) Groups(ctx context.Context, v Viewer, customer canopy.OrgID) ([]store.Group, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, err
	}
	return a.store.GroupsOf(ctx, v.Scope(), c.ID, 1000)
}

// inCustomer runs fn in a transaction on a customer the viewer manages.
func (a *App) inCustomer(ctx context.Context, v Viewer, customer canopy.OrgID, fn func(tx *store.Tx, c canopy.Org) error) error {
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if c.Kind != canopy.KindCustomer {
			return fmt.Errorf("groups: %w", canopy.ErrNotFound)
		}
		if err := mayManage(v, c); err != nil {
			return err
		}
		return fn(tx, c)
	})
}

// CreateGroup adds a group of end users to a customer.
func (a *App) CreateGroup(ctx context.Context, v Viewer, customer canopy.OrgID, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return 0, canopy.FieldErrors{"name": "Name the group (at most 100 characters)."}
	}
	now := a.clock.Now()
	var id int64
	err := a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		var err error
		id, err = tx.CreateGroup(ctx, c.ID, name, now)
		if errors.Is(err, canopy.ErrConflict) {
			return canopy.FieldErrors{"name": c.Name + " has a group called " + name + " already."}
		}
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionAddUserGroup, "group", fmt.Sprint(id), name, nil, map[string]string{"name": name}, now))
		return err
	})
	return id, err
}

// AddGroupMembers adds end users, by address, to a group; it returns the
// addresses that are not end users of the customer (nothing is added then).
func (a *App) AddGroupMembers(ctx context.Context, v Viewer, customer canopy.OrgID, group int64, addresses string) error {
	emails := SplitList(strings.ToLower(addresses))
	if len(emails) == 0 || len(emails) > MaxInvitesAtOnce {
		return canopy.FieldErrors{"members": fmt.Sprintf("Enter 1 to %d end users' addresses.", MaxInvitesAtOnce)}
	}
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		name, err := tx.GroupName(ctx, c.ID, group)
		if err != nil {
			return err
		}
		missing, err := tx.AddGroupMembers(ctx, c.ID, group, emails)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return canopy.FieldErrors{"members": "Not end users of " + c.Name + ": " + strings.Join(missing, ", ") + ". Nothing was added."}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionAddGroupMember, "group", fmt.Sprint(group), name, nil, map[string]any{"added": emails}, now))
		return err
	})
}

// SetGroupManagers makes the given users of the customer its group's
// managers (they get the group's weekly report).
func (a *App) SetGroupManagers(ctx context.Context, v Viewer, customer canopy.OrgID, group int64, people []canopy.PersonID) error {
	slices.Sort(people)
	people = slices.Compact(people)
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		name, err := tx.GroupName(ctx, c.ID, group)
		if err != nil {
			return err
		}
		refused, err := tx.SetGroupManagers(ctx, c.ID, group, people)
		if err != nil {
			return err
		}
		if len(refused) > 0 {
			return canopy.FieldErrors{"managers": "Group managers must be users of " + c.Name + "."}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionSetGroupManagers, "group", fmt.Sprint(group), name, nil, map[string]any{"managers": people}, now))
		return err
	})
}

package app

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// validEmail reports whether s is a plain address (no display name).
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s, "@")
}

// NewStaff is a person to add to an organization with roles.
type NewStaff struct {
	OrgID canopy.OrgID
	Name  string
	Email string
	Phone string
	Roles []canopy.Role
}

// AddStaff creates a person with a membership at an organization in scope,
// logged as "add user" and one "grant role" per role. The full staff
// workflow (registration mail, passwords) builds on this.
func (a *App) AddStaff(ctx context.Context, actor canopy.Actor, scope canopy.Scope, n NewStaff) (store.Person, error) {
	fe := canopy.FieldErrors{}
	n.Name, n.Email = strings.TrimSpace(n.Name), strings.ToLower(strings.TrimSpace(n.Email))
	if n.Name == "" {
		fe.Add("name", "Enter a name.")
	}
	if !validEmail(n.Email) {
		fe.Add("email", "Enter an email address such as name@example.com.")
	}
	if err := fe.Err(); err != nil {
		return store.Person{}, err
	}
	now := a.clock.Now()
	var p store.Person
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.Org(ctx, scope, n.OrgID)
		if err != nil {
			return err
		}
		p, err = tx.CreatePerson(ctx, store.Person{Email: n.Email, Name: n.Name, Phone: n.Phone}, now)
		if err != nil {
			return err
		}
		roles := make([]string, len(n.Roles))
		for i, r := range n.Roles {
			roles[i] = string(r)
		}
		if err := tx.AddMembership(ctx, p.ID, org.ID, roles, now); err != nil {
			return err
		}
		id := fmt.Sprint(p.ID)
		if _, err := tx.RecordChange(ctx, change(actor, org, canopy.ActionAddUser, "person", id, p.Email, nil, map[string]any{"name": p.Name, "email": p.Email}, now)); err != nil {
			return err
		}
		for _, r := range n.Roles {
			if _, err := tx.RecordChange(ctx, change(actor, org, canopy.ActionGrantRole, "person", id, p.Email, nil, map[string]string{"role": string(r)}, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Person{}, fmt.Errorf("add staff: %w", err)
	}
	return p, nil
}

// AddEndUser adds an end user to a customer in scope and logs it.
func (a *App) AddEndUser(ctx context.Context, actor canopy.Actor, scope canopy.Scope, customer canopy.OrgID, email, first, last string, active bool) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if !validEmail(email) {
		return canopy.FieldErrors{"email": "Enter an email address such as name@example.com."}
	}
	now := a.clock.Now()
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.Org(ctx, scope, customer)
		if err != nil {
			return err
		}
		if org.Kind != canopy.KindCustomer {
			return fmt.Errorf("end users belong to customers: %w", canopy.ErrInvalid)
		}
		id, err := tx.CreateEndUser(ctx, org.ID, email, first, last, active, now)
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(actor, org, canopy.ActionAddUser, "end_user", fmt.Sprint(id), email, nil,
			map[string]any{"first_name": first, "last_name": last, "active": active}, now))
		return err
	})
	if err != nil {
		return fmt.Errorf("add end user: %w", err)
	}
	return nil
}

// RemoveAccess takes a person's membership at an organization in the
// viewer's subtree away: their sessions there end at once, and the removal
// and each revoked role are logged in the same transaction.
func (a *App) RemoveAccess(ctx context.Context, v Viewer, person canopy.PersonID, org canopy.OrgID) error {
	if err := v.Require(PermManageStaff); err != nil {
		return err
	}
	return a.removeMembership(ctx, v, person, org, func(canopy.Org) error { return nil })
}

// removeMembership removes person's membership at org once may allows it.
func (a *App) removeMembership(ctx context.Context, v Viewer, person canopy.PersonID, org canopy.OrgID, may func(canopy.Org) error) error {
	if person == v.PersonID && org == v.Org.ID {
		return canopy.FieldErrors{"person": "You cannot remove your own access; ask another administrator."}
	}
	now := a.clock.Now()
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.Org(ctx, v.Scope(), org)
		if err != nil {
			return err
		}
		if err := may(o); err != nil {
			return err
		}
		p, err := tx.PersonByID(ctx, person)
		if err != nil {
			return err
		}
		roles, err := tx.RemoveMembership(ctx, v.Scope(), person, org)
		if err != nil {
			return err
		}
		id := fmt.Sprint(p.ID)
		for _, r := range roles {
			if _, err := tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionRevokeRole, "person", id, p.Email, map[string]string{"role": r}, nil, now)); err != nil {
				return err
			}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionRemoveUser, "person", id, p.Email, map[string]any{"name": p.Name, "roles": roles}, nil, now))
		return err
	})
	if err != nil {
		return fmt.Errorf("remove access: %w", err)
	}
	return nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// EndUserQuery selects a page of end users.
type EndUserQuery struct {
	// Q searches: by prefix of the email, the full name or the last name,
	// case-insensitively. Empty lists everyone by email.
	Q string
	// Contains searches Q anywhere in the email or the full name (it needs
	// store.MinContains characters; a shorter Q is searched by prefix).
	Contains bool
	// After is the Next of the previous page.
	After string
}

// EndUserPage is a page of end users.
type EndUserPage struct {
	Users []store.EndUser
	// Contains says the page was searched anywhere in email and name:
	// asked for, or because a prefix search found nobody. The next page
	// must be asked in the same mode.
	Contains bool
	// Next is the cursor of the following page; empty on the last.
	Next string
}

// Page sizes: the plain list keeps its 100 a page; a search shows 50.
const (
	endUserListPage   = 100
	endUserSearchPage = 50
)

// EndUsers lists a customer's end users by email, or searches them (see
// EndUserQuery). A prefix search that finds nobody on its first page is
// retried as a contains search when Q is long enough: someone typing
// "smith" or "0042" expects "john.smith@…" or "…@acme-0042.example", and
// an empty page would leave them guessing which mode to ask for. Prefix
// results come by email; contains results in the order the users were
// added.
func (a *App) EndUsers(ctx context.Context, v Viewer, customer canopy.OrgID, q EndUserQuery) (EndUserPage, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return EndUserPage{}, err
	}
	if err := mayManage(v, c); err != nil {
		return EndUserPage{}, err
	}
	if strings.TrimSpace(q.Q) == "" {
		users, err := a.store.EndUsersOf(ctx, v.Scope(), c.ID, strings.ToLower(q.After), endUserListPage)
		if err != nil {
			return EndUserPage{}, err
		}
		page := EndUserPage{Users: users}
		if len(users) == endUserListPage {
			page.Next = users[len(users)-1].Email
		}
		return page, nil
	}
	return a.searchEndUsers(ctx, v.Scope(), c.ID, q)
}

// SearchEndUsers searches the end users of every customer in the viewer's
// scope, as EndUsers does for one customer. It needs the right to manage
// customers, or to manage the viewer's own customer account.
func (a *App) SearchEndUsers(ctx context.Context, v Viewer, q EndUserQuery) (EndUserPage, error) {
	if !v.Can(PermManageCustomers) && !(v.Org.Kind == canopy.KindCustomer && v.Can(PermManageCustomerOrg)) {
		return EndUserPage{}, fmt.Errorf("search end users: %w", canopy.ErrForbidden)
	}
	return a.searchEndUsers(ctx, v.Scope(), 0, q)
}

func (a *App) searchEndUsers(ctx context.Context, scope canopy.Scope, customer canopy.OrgID, q EndUserQuery) (EndUserPage, error) {
	if len(q.Q) > 200 {
		return EndUserPage{}, canopy.FieldErrors{"q": "Search with at most 200 characters."}
	}
	sq := store.EndUserSearch{Query: q.Q, Contains: q.Contains, Customer: customer, Limit: endUserSearchPage}
	if q.After != "" {
		id, email, _ := strings.Cut(q.After, ":")
		sq.AfterID, _ = strconv.ParseInt(id, 10, 64)
		sq.AfterEmail = email
	}
	users, err := a.store.SearchEndUsers(ctx, scope, sq)
	if err != nil {
		return EndUserPage{}, err
	}
	contains := sq.SearchMode()
	if len(users) == 0 && !contains && q.After == "" {
		sq.Contains = true
		if sq.SearchMode() {
			if users, err = a.store.SearchEndUsers(ctx, scope, sq); err != nil {
				return EndUserPage{}, err
			}
			contains = true
		}
	}
	page := EndUserPage{Users: users, Contains: contains}
	if len(users) == endUserSearchPage {
		last := users[len(users)-1]
		page.Next = strconv.FormatInt(last.ID, 10)
		if !contains {
			page.Next += ":" + last.Email
		}
	}
	return page, nil
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
	settings, err := customerSettings(ctx, a.store, c.Org)
	if err != nil {
		return err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	fe := canopy.FieldErrors{}
	checkEndUserNames(fe, first, last)
	if validEmail(email) {
		checkDomainLock(fe, c, settings, email)
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

// checkEndUserNames adds the errors of an end user's first and last names.
func checkEndUserNames(fe canopy.FieldErrors, first, last string) {
	if utf8.RuneCountInString(first) > 100 {
		fe.Add("first_name", "Use at most 100 characters.")
	}
	if utf8.RuneCountInString(last) > 100 {
		fe.Add("last_name", "Use at most 100 characters.")
	}
}

// checkDomainLock refuses an address outside the customer's domains when
// its Domain Lock is on.
func checkDomainLock(fe canopy.FieldErrors, c canopy.Customer, settings map[canopy.SettingKey]canopy.SettingValue, email string) {
	if !settings[canopy.SettingDomainLock].On() {
		return
	}
	_, domain, _ := strings.Cut(email, "@")
	domains := append([]string{c.Domain}, c.Domains...)
	if !slices.Contains(domains, domain) {
		fe.Add("email", fmt.Sprintf("Domain Lock: %s takes addresses at %s only.", c.Name, strings.Join(domains, ", ")))
	}
}

// EndUser returns one end user of a customer the viewer manages.
func (a *App) EndUser(ctx context.Context, v Viewer, customer canopy.OrgID, id int64) (store.EndUser, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return store.EndUser{}, err
	}
	if err := mayManage(v, c); err != nil {
		return store.EndUser{}, err
	}
	return a.store.EndUser(ctx, v.Scope(), c.ID, id)
}

// EndUserChange is an edit of an end user; a nil field stays as it is.
type EndUserChange struct {
	Email, FirstName, LastName *string
}

// UpdateEndUser edits an end user's address and names. The address must
// be free in the customer and, when it changes, inside the Domain Lock
// (an address kept as it was is not refused because the lock came later).
// A changed address ends the user's portal sessions and unused links: they
// were sent to, or opened by, whoever held the old address. The change and
// its change-log entry (the changed fields before and after) commit
// together; an edit that changes nothing writes nothing. Status, and so
// the Active Users count, is untouched.
func (a *App) UpdateEndUser(ctx context.Context, v Viewer, customer canopy.OrgID, id int64, in EndUserChange) (store.EndUser, error) {
	now := a.clock.Now()
	var saved store.EndUser
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if err := mayManage(v, c.Org); err != nil {
			return err
		}
		before, err := tx.EndUser(ctx, c.ID, id)
		if err != nil {
			return err
		}
		after := before
		if in.Email != nil {
			after.Email = strings.ToLower(strings.TrimSpace(*in.Email))
		}
		if in.FirstName != nil {
			after.FirstName = strings.TrimSpace(*in.FirstName)
		}
		if in.LastName != nil {
			after.LastName = strings.TrimSpace(*in.LastName)
		}
		fe := canopy.FieldErrors{}
		switch {
		case after.Email == "":
			fe.Add("email", "Enter the end user's email address.")
		case !validEmail(after.Email):
			fe.Add("email", "Enter an email address such as name@"+c.Domain+".")
		case after.Email != before.Email:
			settings, err := customerSettings(ctx, tx, c.Org)
			if err != nil {
				return err
			}
			checkDomainLock(fe, c, settings, after.Email)
		}
		checkEndUserNames(fe, after.FirstName, after.LastName)
		if err := fe.Err(); err != nil {
			return err
		}
		saved = after
		was, is := map[string]string{}, map[string]string{}
		for _, f := range []struct{ key, old, new string }{
			{"email", before.Email, after.Email}, {"first_name", before.FirstName, after.FirstName}, {"last_name", before.LastName, after.LastName},
		} {
			if f.old != f.new {
				was[f.key], is[f.key] = f.old, f.new
			}
		}
		if len(was) == 0 {
			return nil
		}
		err = tx.UpdateEndUser(ctx, c.ID, after, now)
		if errors.Is(err, canopy.ErrConflict) {
			return canopy.FieldErrors{"email": after.Email + " is already an end user of " + c.Name + "."}
		}
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c.Org, canopy.ActionUpdateUser, "end_user", fmt.Sprint(id), after.Email, was, is, now))
		return err
	})
	if err != nil {
		return store.EndUser{}, fmt.Errorf("update end user: %w", err)
	}
	return saved, nil
}

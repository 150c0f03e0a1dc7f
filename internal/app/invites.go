package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
)

// Invitation limits.
const (
	InviteTTL        = 7 * 24 * time.Hour
	MaxInvitesAtOnce = 10_000
)

// InviteInput is the Invite users form: many addresses at once, one
// permission, and for Users the modules and sub-accounts they get.
type InviteInput struct {
	Addresses   string // pasted list: comma, space or newline separated
	Role        canopy.Role
	Modules     []canopy.Module
	SubAccounts []canopy.OrgID
}

// InviteOutcome says what happened to one address.
type InviteOutcome string

// Outcomes per address.
const (
	Invited            InviteOutcome = "invited"
	RefusedMalformed   InviteOutcome = "malformed"
	RefusedDuplicate   InviteOutcome = "listed_twice"
	RefusedPending     InviteOutcome = "already_pending"
	RefusedMember      InviteOutcome = "already_user"
	RefusedDisposable  InviteOutcome = "disposable"
	RefusedOutsideLock InviteOutcome = "outside_domain_lock"
	RefusedMaxUsers    InviteOutcome = "max_users"
)

// InviteResult is one address's result, with its reason for a person.
type InviteResult struct {
	Address string
	Outcome InviteOutcome
	Reason  string
}

// adminOnlyModules are never granted to a User.
var adminOnlyModules = []canopy.Module{"pricing", "payment", "user_management"}

// checkGrants adds to fe what is wrong with a customer role and modules:
// User or Admin only, known modules, and none of the Admin-only ones.
func checkGrants(fe canopy.FieldErrors, role canopy.Role, modules []canopy.Module) {
	if role != canopy.RoleCustomerUser && role != canopy.RoleCustomerAdmin {
		fe.Add("role", "Choose User or Admin.")
	}
	for _, m := range modules {
		if slices.Contains(adminOnlyModules, m) {
			fe.Add("modules", "Pricing, Payment and User Management are for Admins only.")
		} else if !m.Known() {
			fe.Add("modules", fmt.Sprintf("%q is not a module.", m))
		}
	}
}

// checkSubAccounts refuses sub-accounts that are not c's.
func checkSubAccounts(ctx context.Context, tx *store.Tx, c canopy.Org, subs []canopy.OrgID) error {
	for _, sub := range subs {
		if _, err := subAccountOf(ctx, tx, c, sub); err != nil {
			if errors.Is(err, canopy.ErrNotFound) {
				return canopy.FieldErrors{"sub_accounts": "Choose sub-accounts of " + c.Name + "."}
			}
			return err
		}
	}
	return nil
}

// InviteUsers invites every acceptable address of in to a customer the
// viewer manages, and reports per address. Accepted addresses get their
// invitation and one mail each through the outbox, all in one transaction
// with their change-log entries.
func (a *App) InviteUsers(ctx context.Context, v Viewer, customer canopy.OrgID, in InviteInput) ([]InviteResult, error) {
	addrs := SplitList(in.Addresses)
	fe := canopy.FieldErrors{}
	switch {
	case len(addrs) == 0:
		fe.Add("addresses", "Enter at least one email address.")
	case len(addrs) > MaxInvitesAtOnce:
		fe.Add("addresses", fmt.Sprintf("That is %d addresses: invite at most %d at once.", len(addrs), MaxInvitesAtOnce))
	}
	if in.Role == "" {
		in.Role = canopy.RoleCustomerUser
	}
	checkGrants(fe, in.Role, in.Modules)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	now := a.clock.Now()
	var results []InviteResult
	// Concurrent invitations share a commit on SQLite; each stays all or nothing.
	err := a.store.InBatchedTx(ctx, func(tx *store.Tx) error {
		results = results[:0]
		c, err := tx.Customer(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if err := mayManage(v, c.Org); err != nil {
			return err
		}
		if err := checkSubAccounts(ctx, tx, c.Org, in.SubAccounts); err != nil {
			return err
		}
		settings, err := customerSettings(ctx, tx, c.Org)
		if err != nil {
			return err
		}
		locked := settings[canopy.SettingDomainLock].On()
		domains := append([]string{c.Domain}, c.Domains...)
		var candidates []string
		seen := map[string]bool{}
		for _, raw := range addrs {
			addr := strings.ToLower(strings.Trim(raw, "<>\"'"))
			r := InviteResult{Address: addr}
			_, domain, _ := strings.Cut(addr, "@")
			switch {
			case !validEmail(addr):
				r.Outcome, r.Reason = RefusedMalformed, "This is not an email address."
			case seen[addr]:
				r.Outcome, r.Reason = RefusedDuplicate, "Listed twice: invited once."
			case a.disposable.Address(addr):
				r.Outcome, r.Reason = RefusedDisposable, "A disposable address: invite a permanent one."
			case locked && !slices.Contains(domains, domain):
				r.Outcome, r.Reason = RefusedOutsideLock, fmt.Sprintf("Domain Lock: %s takes addresses at %s only.", c.Name, strings.Join(domains, ", "))
			default:
				candidates = append(candidates, addr)
			}
			seen[addr] = true
			results = append(results, r)
		}
		pending, err := tx.PendingInvitations(ctx, c.ID, candidates)
		if err != nil {
			return err
		}
		members, err := tx.Members(ctx, c.ID, candidates)
		if err != nil {
			return err
		}
		seats := 0 // counted only against a maximum
		if c.MaxUsers > 0 {
			used, open, err := tx.Seats(ctx, c.ID)
			if err != nil {
				return err
			}
			seats = used + open
		}
		brand, color := c.BrandName(), c.PrimaryColor
		// Invitations, their mails and their entries are written in
		// multi-row statements once every address is decided.
		var invs []store.Invitation
		var msgs []mail.Message
		for i := range results {
			r := &results[i]
			if r.Outcome != "" {
				continue
			}
			switch {
			case pending[r.Address]:
				r.Outcome, r.Reason = RefusedPending, "Already invited: resend it from Pending invitations."
				continue
			case members[r.Address]:
				r.Outcome, r.Reason = RefusedMember, "Already a user of "+c.Name+"."
				continue
			case c.MaxUsers > 0 && seats >= c.MaxUsers:
				r.Outcome, r.Reason = RefusedMaxUsers, fmt.Sprintf("%s is at its maximum of %d users.", c.Name, c.MaxUsers)
				continue
			}
			inv, msg, err := a.newInvitation(v, c.Org, brand, color, r.Address, in, now)
			if err != nil {
				return err
			}
			invs, msgs = append(invs, inv), append(msgs, msg)
			seats++
			r.Outcome, r.Reason = Invited, "Invitation sent."
		}
		ids, err := tx.CreateInvitations(ctx, invs)
		if err != nil {
			return err
		}
		if _, err := a.outbox.QueueAll(ctx, tx, c.ID, "invitation", msgs); err != nil {
			return err
		}
		entries := make([]canopy.Change, len(invs))
		for i, inv := range invs {
			entries[i] = change(v.Actor, c.Org, canopy.ActionInviteSent, "invitation", fmt.Sprint(ids[inv.Email]), inv.Email, nil,
				map[string]any{"role": in.Role, "modules": inv.Modules}, now)
		}
		return tx.RecordChanges(ctx, entries)
	})
	if err != nil {
		return nil, fmt.Errorf("invite users: %w", err)
	}
	return results, nil
}

// newInvitation builds an invitation of addr to c, with its grants, and
// its mail.
func (a *App) newInvitation(v Viewer, c canopy.Org, brand, color, addr string, in InviteInput, now time.Time) (store.Invitation, mail.Message, error) {
	token, hash := newToken()
	inv := store.Invitation{CustomerID: c.ID, Email: addr, Role: in.Role, InvitedBy: v.PersonID, InviterName: v.Name,
		TokenHash: hash, Created: now, Expires: now.Add(InviteTTL)}
	if in.Role == canopy.RoleCustomerUser {
		inv.Modules, inv.SubAccounts = in.Modules, in.SubAccounts
	}
	msg, err := a.invitationMail(brand, color, v.Name, addr, in.Role, token, inv.Expires)
	return inv, msg, err
}

// createInvitation stores one invitation of addr to c and queues its mail,
// in tx; it returns the invite_sent entry to record.
func (a *App) createInvitation(ctx context.Context, tx *store.Tx, v Viewer, c canopy.Org, brand, color, addr string, in InviteInput, now time.Time) (canopy.Change, error) {
	inv, msg, err := a.newInvitation(v, c, brand, color, addr, in, now)
	if err != nil {
		return canopy.Change{}, err
	}
	ids, err := tx.CreateInvitations(ctx, []store.Invitation{inv})
	if err != nil {
		return canopy.Change{}, err
	}
	if _, err := a.outbox.Queue(ctx, tx, c.ID, "invitation", msg); err != nil {
		return canopy.Change{}, err
	}
	return change(v.Actor, c, canopy.ActionInviteSent, "invitation", fmt.Sprint(ids[inv.Email]), addr, nil,
		map[string]any{"role": in.Role, "modules": inv.Modules}, now), nil
}

// PendingInvitations lists a customer's pending invitations.
func (a *App) PendingInvitations(ctx context.Context, v Viewer, customer canopy.OrgID) ([]store.Invitation, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, err
	}
	return a.store.PendingInvitationsOf(ctx, v.Scope(), c.ID, 500)
}

// invitationMail writes an invitation's mail.
func (a *App) invitationMail(brand, color, inviter, to string, role canopy.Role, token string, expires time.Time) (mail.Message, error) {
	return mail.Letter{Brand: brand, Color: color, To: to, Subject: "You are invited to " + brand + " on Canopy",
		Greeting:    "Hello,",
		Paragraphs:  []string{inviter + " invites you to " + brand + "'s account on Canopy as " + role.Label() + ".", "Accept the invitation and choose your password."},
		ActionLabel: "Accept the invitation", ActionURL: a.baseURL + "/invitations/" + token,
		After: []string{"The link works once, until " + expires.Format("2 January 2006 at 15:04") + " (UTC). If it has expired, ask " + inviter + " to resend it."},
	}.Message()
}

// queueInvitation writes an invitation mail to the outbox in tx.
func (a *App) queueInvitation(ctx context.Context, tx *store.Tx, c canopy.Org, brand, color, inviter, to string, role canopy.Role, token string, expires time.Time) error {
	msg, err := a.invitationMail(brand, color, inviter, to, role, token, expires)
	if err != nil {
		return err
	}
	_, err = a.outbox.Queue(ctx, tx, c.ID, "invitation", msg)
	return err
}

// ResendInvitation sends a pending invitation again with a new link valid
// seven days; the old link stops working.
func (a *App) ResendInvitation(ctx context.Context, v Viewer, customer canopy.OrgID, id int64) error {
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		inv, err := tx.PendingInvitation(ctx, c.ID, id)
		if err != nil {
			return err
		}
		token, hash := newToken()
		expires := now.Add(InviteTTL)
		if err := tx.RenewInvitation(ctx, inv.ID, hash, expires); err != nil {
			return err
		}
		brand, color, err := tx.Branding(ctx, c)
		if err != nil {
			return err
		}
		if err := a.queueInvitation(ctx, tx, c, brand, color, v.Name, inv.Email, inv.Role, token, expires); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionInviteResent, "invitation", fmt.Sprint(inv.ID), inv.Email,
			map[string]any{"expires_at": inv.Expires.Format(time.RFC3339)}, map[string]any{"expires_at": expires.Format(time.RFC3339)}, now))
		return err
	})
}

// RemoveInvitation revokes a pending invitation: its link stops working.
func (a *App) RemoveInvitation(ctx context.Context, v Viewer, customer canopy.OrgID, id int64) error {
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		inv, err := tx.PendingInvitation(ctx, c.ID, id)
		if err != nil {
			return err
		}
		if err := tx.EndInvitation(ctx, inv.ID, false, now); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionInviteRevoked, "invitation", fmt.Sprint(inv.ID), inv.Email, map[string]any{"role": inv.Role}, nil, now))
		return err
	})
}

// ErrInvitationUnusable answers a link that is unknown, used, removed or
// expired: one answer for all, so a guess learns nothing.
var ErrInvitationUnusable = fmt.Errorf("this invitation link cannot be used: it has expired, was used or was withdrawn; ask the person who invited you to send it again: %w", canopy.ErrNotFound)

// InvitationFor reads a usable invitation for its acceptance page, with the
// customer's name and whether the address already has an account.
func (a *App) InvitationFor(ctx context.Context, token string) (store.Invitation, string, bool, error) {
	inv, err := a.store.InvitationByToken(ctx, hashToken(token), a.clock.Now())
	if err != nil {
		if errors.Is(err, canopy.ErrNotFound) {
			return store.Invitation{}, "", false, ErrInvitationUnusable
		}
		return store.Invitation{}, "", false, err
	}
	var name string
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.OrgUnscoped(ctx, inv.CustomerID)
		if err != nil {
			return err
		}
		name, _, err = tx.Branding(ctx, c)
		return err
	})
	if err != nil {
		return store.Invitation{}, "", false, err
	}
	_, err = a.store.PersonByEmail(ctx, inv.Email)
	return inv, name, err == nil, nil
}

// StaleInvitation describes an invitation link that can no longer be used
// but is still known (it expired, or was used or withdrawn): who sent it,
// for which customer, until when it was valid.
type StaleInvitation struct {
	Inviter, Customer string
	Expired           time.Time // zero unless it expired
}

// StaleInvitationFor returns what is known of an unusable invitation link;
// ErrNotFound for a token that never was one (or was replaced by Resend).
func (a *App) StaleInvitationFor(ctx context.Context, token string) (StaleInvitation, error) {
	inv, customer, err := a.store.InvitationByTokenAnyState(ctx, hashToken(token))
	if err != nil {
		return StaleInvitation{}, err
	}
	out := StaleInvitation{Inviter: inv.InviterName, Customer: customer}
	if !a.clock.Now().Before(inv.Expires) {
		out.Expired = inv.Expires
	}
	return out, nil
}

// AcceptInput is the acceptance form: a new person's name and password.
type AcceptInput struct {
	Name             string
	Password         string
	Confirm          string
	SecurityQuestion string // asked when they reset their password
	SecurityAnswer   string
}

// AcceptInvitation spends an invitation: a new person chooses their name
// and password (the staff rules); a person who already has an account just
// gains the membership. The user is Active at once.
func (a *App) AcceptInvitation(ctx context.Context, token string, in AcceptInput, ip, userAgent string) (canopy.PersonID, error) {
	inv, _, exists, err := a.InvitationFor(ctx, token)
	if err != nil {
		return 0, err
	}
	in.Name = strings.TrimSpace(in.Name)
	var passwordHash, question, answerHash string
	if !exists {
		fe := canopy.FieldErrors{}
		if in.Name == "" {
			fe.Add("name", "Enter your name.")
		} else if len(in.Name) > 200 {
			fe.Add("name", "Use at most 200 characters.")
		}
		a.checkNewPassword(fe, in.Password, in.Confirm, inv.Email, in.Name)
		q, ans := checkSecurityQuestion(fe, in.SecurityQuestion, in.SecurityAnswer)
		if err := fe.Err(); err != nil {
			return 0, err
		}
		passwordHash, question, answerHash = auth.HashPassword(in.Password), q, auth.HashPassword(ans)
	}
	now := a.clock.Now()
	var person canopy.PersonID
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		inv, err := tx.InvitationByToken(ctx, hashToken(token), now)
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrInvitationUnusable
		}
		if err != nil {
			return err
		}
		c, err := tx.OrgUnscoped(ctx, inv.CustomerID)
		if err != nil {
			return err
		}
		p, err := tx.PersonByEmail(ctx, inv.Email)
		switch {
		case errors.Is(err, canopy.ErrNotFound):
			if passwordHash == "" {
				return ErrInvitationUnusable // the account vanished since the page was shown
			}
			p, err = tx.CreatePerson(ctx, store.Person{Email: inv.Email, Name: in.Name}, now)
			if err != nil {
				return err
			}
			if err := tx.SetRegistration(ctx, p.ID, passwordHash, question, answerHash, now); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		person = p.ID
		if err := tx.AddMembership(ctx, p.ID, c.ID, []string{string(inv.Role)}, now); err != nil {
			if errors.Is(err, canopy.ErrConflict) {
				return fmt.Errorf("%s already has access to %s: %w", inv.Email, c.Name, canopy.ErrConflict)
			}
			return err
		}
		if err := tx.SetMembershipGrants(ctx, p.ID, c.ID, inv.Modules, inv.SubAccounts); err != nil {
			return err
		}
		if err := tx.EndInvitation(ctx, inv.ID, true, now); err != nil {
			return err
		}
		actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: p.ID, Name: p.Name, IP: ip, UserAgent: userAgent}
		if _, err := tx.RecordChange(ctx, change(actor, c, canopy.ActionInviteAccepted, "invitation", fmt.Sprint(inv.ID), inv.Email, nil,
			map[string]any{"role": inv.Role, "modules": inv.Modules}, now)); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(actor, c, canopy.ActionAddUser, "person", fmt.Sprint(p.ID), p.Email, nil,
			map[string]any{"name": p.Name, "email": p.Email, "role": inv.Role}, now))
		return err
	})
	return person, err
}

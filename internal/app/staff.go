package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
)

// Link purposes and lifetimes of staff accounts.
const (
	PurposeRegister    = "register"
	registrationTTL    = 7 * 24 * time.Hour
	maxFailedLogins    = 5
	lockoutFor         = 15 * time.Minute
	minSecurityAnswer  = 3
	maxSecurityAnswer  = 200
	maxSecurityQuestio = 200
)

var phonePattern = regexp.MustCompile(`^\+?[0-9 ()./-]{5,30}$`)

// StaffInput is a staff user to create: name, email, phone and roles.
type StaffInput struct {
	OrgID canopy.OrgID
	Name  string
	Email string
	Phone string
	Roles []canopy.Role
}

// CreateStaff adds a staff user at an organization in the viewer's subtree.
// A new person is Unregistered and gets a registration email, written to the
// outbox in the same transaction as the person, their membership and the
// change-log entries. A person who already exists elsewhere gets the
// membership only.
func (a *App) CreateStaff(ctx context.Context, v Viewer, in StaffInput) (store.Person, error) {
	if err := v.Require(PermManageStaff); err != nil {
		return store.Person{}, err
	}
	fe := canopy.FieldErrors{}
	in.Name, in.Email, in.Phone = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email)), strings.TrimSpace(in.Phone)
	if in.Name == "" {
		fe.Add("name", "Enter the person's name.")
	} else if len(in.Name) > 200 {
		fe.Add("name", "Use at most 200 characters.")
	}
	if !validEmail(in.Email) {
		fe.Add("email", "Enter an email address such as name@example.com.")
	}
	if in.Phone != "" && !phonePattern.MatchString(in.Phone) {
		fe.Add("phone", "Enter a phone number with digits, spaces and an optional leading +.")
	}
	now := a.clock.Now()
	var created store.Person
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.Org(ctx, v.Scope(), in.OrgID)
		if err != nil {
			return err
		}
		if len(in.Roles) == 0 {
			fe.Add("roles", "Choose at least one role.")
		}
		for _, r := range in.Roles {
			if _, ok := r.Info(); !ok {
				fe.Add("roles", fmt.Sprintf("%q is not a role.", r))
			} else if !v.MayGrant(r, org.Kind) {
				fe.Add("roles", fmt.Sprintf("You cannot give the role %s at %s.", r.Label(), org.Name))
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		existing, err := tx.PersonByEmail(ctx, in.Email)
		isNew := errors.Is(err, canopy.ErrNotFound)
		switch {
		case isNew:
			created, err = tx.CreatePerson(ctx, store.Person{Email: in.Email, Name: in.Name, Phone: in.Phone}, now)
			if errors.Is(err, canopy.ErrConflict) {
				// Created a moment ago by someone else (the unique email won).
				return canopy.FieldErrors{"email": in.Email + " was just added by someone else. Reload the list to see them."}
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			created = existing
		}
		roles := make([]string, len(in.Roles))
		for i, r := range in.Roles {
			roles[i] = string(r)
		}
		if err := tx.AddMembership(ctx, created.ID, org.ID, roles, now); err != nil {
			if errors.Is(err, canopy.ErrConflict) {
				return canopy.FieldErrors{"email": in.Email + " already has access to " + org.Name + "."}
			}
			return err
		}
		id := fmt.Sprint(created.ID)
		if _, err := tx.RecordChange(ctx, change(v.Actor, org, canopy.ActionAddUser, "person", id, created.Email, nil,
			map[string]any{"name": created.Name, "email": created.Email, "phone": created.Phone}, now)); err != nil {
			return err
		}
		for _, r := range in.Roles {
			if _, err := tx.RecordChange(ctx, change(v.Actor, org, canopy.ActionGrantRole, "person", id, created.Email, nil, map[string]string{"role": string(r)}, now)); err != nil {
				return err
			}
		}
		if !isNew {
			return nil
		}
		return a.sendRegistration(ctx, tx, created, org, now)
	})
	if err != nil {
		return store.Person{}, fmt.Errorf("create staff: %w", err)
	}
	return created, nil
}

// sendRegistration issues a registration link and queues its mail in tx.
func (a *App) sendRegistration(ctx context.Context, tx *store.Tx, p store.Person, org canopy.Org, now time.Time) error {
	token, hash := newToken()
	if err := tx.CreateSigninLink(ctx, store.SigninLink{TokenHash: hash, PersonID: p.ID, OrgID: org.ID, Purpose: PurposeRegister,
		Created: now, Expires: now.Add(registrationTTL)}); err != nil {
		return err
	}
	link := a.baseURL + "/register/" + token
	brand, color, err := tx.Branding(ctx, org)
	if err != nil {
		return err
	}
	msg, err := mail.Letter{Brand: brand, Color: color, To: p.Email, Subject: "Finish setting up your Canopy account",
		Greeting:    "Hello " + p.Name + ",",
		Paragraphs:  []string{org.Name + " has given you access to Canopy, the partner portal.", "Finish setting up your account: choose a password and a security question."},
		ActionLabel: "Finish setting up my account", ActionURL: link,
		After: []string{"The link works once and expires on " + now.Add(registrationTTL).Format("2 January 2006 at 15:04") + " (UTC). If it has expired, ask your administrator to resend it."},
	}.Message()
	if err != nil {
		return err
	}
	_, err = a.outbox.Queue(ctx, tx, org.ID, "registration", msg)
	return err
}

// Registration is what the registration page shows before the form.
type Registration struct {
	Name  string
	Email string
}

// ErrRegistrationLinkUnusable is one answer for unknown, used and expired
// registration links.
var ErrRegistrationLinkUnusable = fmt.Errorf("this registration link has expired or was used already; ask your administrator to send a new one: %w", canopy.ErrNotFound)

// RegistrationFor returns whom a registration link is for, without spending it.
func (a *App) RegistrationFor(ctx context.Context, token string) (Registration, error) {
	_, c, err := a.linkHolder(ctx, token, PurposeRegister, ErrRegistrationLinkUnusable)
	return Registration{Name: c.Name, Email: c.Email}, err
}

// RegisterInput is the registration form.
type RegisterInput struct {
	Password         string
	Confirm          string
	SecurityQuestion string
	SecurityAnswer   string
}

// checkNewPassword adds the messages of a new password and its
// confirmation to fe: the policy (length, email, name, common list) and
// the two entries matching.
func (a *App) checkNewPassword(fe canopy.FieldErrors, password, confirm, email, name string) {
	if reason := a.policy.Check(password, email, name); reason != "" {
		fe.Add("password", reason)
	}
	if confirm != password {
		fe.Add("confirm", "The two passwords are not the same.")
	}
}

// normalizeAnswer makes security answers compare the way people expect:
// case, surrounding and repeated spaces do not matter.
func normalizeAnswer(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// checkSecurityQuestion adds to fe what is wrong with a security question
// and its answer, and returns both as stored (the answer normalized).
func checkSecurityQuestion(fe canopy.FieldErrors, question, answer string) (string, string) {
	q, ans := strings.TrimSpace(question), normalizeAnswer(answer)
	if q == "" {
		fe.Add("security_question", "Choose a security question.")
	} else if len(q) > maxSecurityQuestio {
		fe.Add("security_question", "Use at most 200 characters.")
	}
	if len(ans) < minSecurityAnswer || len(ans) > maxSecurityAnswer {
		fe.Add("security_answer", "Give an answer of 3 to 200 characters.")
	}
	return q, ans
}

// Register spends a registration link, sets the password and security
// question, and makes the person Registered.
func (a *App) Register(ctx context.Context, token string, in RegisterInput, ip, userAgent string) error {
	reg, err := a.RegistrationFor(ctx, token)
	if err != nil {
		return err
	}
	fe := canopy.FieldErrors{}
	a.checkNewPassword(fe, in.Password, in.Confirm, reg.Email, reg.Name)
	q, ans := checkSecurityQuestion(fe, in.SecurityQuestion, in.SecurityAnswer)
	if err := fe.Err(); err != nil {
		return err
	}
	passwordHash, answerHash := auth.HashPassword(in.Password), auth.HashPassword(ans)
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		link, err := tx.SpendSigninLink(ctx, hashToken(token), PurposeRegister, now)
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrRegistrationLinkUnusable
		}
		if err != nil {
			return err
		}
		if err := tx.SetRegistration(ctx, link.PersonID, passwordHash, q, answerHash, now); err != nil {
			return err
		}
		org, err := tx.OrgUnscoped(ctx, link.OrgID)
		if err != nil {
			return err
		}
		actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: link.PersonID, Name: reg.Name, IP: ip, UserAgent: userAgent}
		_, err = tx.RecordChange(ctx, change(actor, org, canopy.ActionUpdateUser, "person", fmt.Sprint(link.PersonID), reg.Email,
			map[string]string{"status": "unregistered"}, map[string]string{"status": "registered"}, now))
		return err
	})
}

// ErrBadCredentials is the one answer for an unknown email, a wrong
// password and an account that cannot sign in yet.
var ErrBadCredentials = fmt.Errorf("the email address or password is not right: %w", canopy.ErrUnauthenticated)

// LockedError says an account is locked and until when.
type LockedError struct{ Until time.Time }

func (e LockedError) Error() string {
	return fmt.Sprintf("too many failed attempts: sign-in is locked until %s UTC; wait, or reset your password", e.Until.Format("15:04"))
}

// Is makes a lockout match ErrUnauthenticated.
func (e LockedError) Is(target error) bool { return target == canopy.ErrUnauthenticated }

// SignInPassword checks an email and password and opens a session in the
// person's first active membership. Failures are recorded as the person's
// last login error; five in a row lock the account for 15 minutes.
func (a *App) SignInPassword(ctx context.Context, email, password, ip, userAgent string) (string, error) {
	creds, err := a.store.CredentialsByEmail(ctx, email)
	if errors.Is(err, canopy.ErrNotFound) {
		auth.CheckAgainstNothing(password) // same time as a real check
		return "", ErrBadCredentials
	}
	if err != nil {
		return "", err
	}
	now := a.clock.Now()
	// fail records a failed attempt; the attempt that reaches the limit
	// locks the account, and the answer says so.
	fail := func(reason string, answer error) (string, error) {
		var locked time.Time
		if err := a.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			locked, err = tx.RecordFailedLogin(ctx, creds.ID, reason, maxFailedLogins, now.Add(lockoutFor), now)
			return err
		}); err != nil {
			return "", err
		}
		if !locked.IsZero() && reason == "wrong password" {
			return "", LockedError{Until: locked}
		}
		return "", answer
	}
	if now.Before(creds.LockedUntil) {
		auth.CheckAgainstNothing(password)
		return fail("locked", LockedError{Until: creds.LockedUntil})
	}
	if creds.Registered.IsZero() {
		auth.CheckAgainstNothing(password)
		return fail("unregistered", ErrBadCredentials)
	}
	ok, err := auth.CheckPassword(creds.PasswordHash, password)
	if err != nil {
		return "", err
	}
	if !ok {
		return fail("wrong password", ErrBadCredentials)
	}
	memberships, err := a.store.MembershipsOf(ctx, creds.ID)
	if err != nil {
		return "", err
	}
	var home *store.Membership
	for i := range memberships {
		if memberships[i].Status == "active" {
			home = &memberships[i]
			break
		}
	}
	if home == nil {
		return fail("no active membership", ErrBadCredentials)
	}
	if !creds.TOTPEnabled.IsZero() {
		// The password was right; the session waits for the second factor.
		pending, hash := newToken()
		err := a.store.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateSigninLink(ctx, store.SigninLink{TokenHash: hash, PersonID: creds.ID, OrgID: home.Org.ID,
				Purpose: PurposeSecondFactor, Created: now, Expires: now.Add(secondFactorTTL)})
		})
		if err != nil {
			return "", err
		}
		return "", SecondFactorRequired{Token: pending}
	}
	var sessionToken string
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sessionToken, err = a.openSession(ctx, tx, creds.Person, home.Org, "password", ip, userAgent, now)
		return err
	})
	if err != nil {
		return "", err
	}
	return sessionToken, nil
}

// StaffList lists the staff of the viewer's organization.
func (a *App) StaffList(ctx context.Context, v Viewer, q store.StaffQuery) ([]store.StaffRow, error) {
	if err := v.Require(PermViewStaff); err != nil {
		return nil, err
	}
	if q.Role != "" {
		if _, ok := canopy.Role(q.Role).Info(); !ok {
			return nil, canopy.FieldErrors{"role": "Choose a role from the list."}
		}
	}
	return a.store.StaffAt(ctx, v.Scope(), v.Org.ID, q)
}

// StaffStatus is the User Status Check: who the person is, their
// memberships and roles within the viewer's subtree, registration and
// two-step state, last login and last login error.
type StaffStatus struct {
	Person      store.Credentials
	Memberships []store.Membership
}

// StaffStatusCheck returns the status of a person the viewer may see.
func (a *App) StaffStatusCheck(ctx context.Context, v Viewer, person canopy.PersonID) (StaffStatus, error) {
	if err := v.Require(PermViewStaff); err != nil {
		return StaffStatus{}, err
	}
	c, ms, err := a.store.PersonInScope(ctx, v.Scope(), person)
	if err != nil {
		return StaffStatus{}, err
	}
	return StaffStatus{Person: c, Memberships: ms}, nil
}

// staffTarget loads a person the viewer manages: they must hold a
// membership at the viewer's organization (a neighbour's staff are not
// found).
func (a *App) staffTarget(ctx context.Context, tx *store.Tx, v Viewer, person canopy.PersonID) (store.Credentials, error) {
	if err := v.Require(PermManageStaff); err != nil {
		return store.Credentials{}, err
	}
	_, ms, err := a.store.PersonInScope(ctx, v.Scope(), person)
	if err != nil {
		return store.Credentials{}, err
	}
	for _, m := range ms {
		if m.Org.ID == v.Org.ID {
			return tx.Credentials(ctx, person)
		}
	}
	return store.Credentials{}, fmt.Errorf("person: %w", canopy.ErrNotFound)
}

// ResendRegistration sends a new registration link to an Unregistered
// person; the previous link stops working.
func (a *App) ResendRegistration(ctx context.Context, v Viewer, person canopy.PersonID) error {
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := a.staffTarget(ctx, tx, v, person)
		if err != nil {
			return err
		}
		if !c.Registered.IsZero() {
			return canopy.FieldErrors{"person": c.Name + " is already registered."}
		}
		if err := tx.DeleteLinks(ctx, c.ID, PurposeRegister); err != nil {
			return err
		}
		if err := a.sendRegistration(ctx, tx, c.Person, v.Org, now); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionRegistrationResent, "person", fmt.Sprint(c.ID), c.Email, nil, nil, now))
		return err
	})
}

// ResetTwoStep turns a person's two-step verification off (they lost their
// phone and codes); they can enrol again after signing in. Logged.
func (a *App) ResetTwoStep(ctx context.Context, v Viewer, person canopy.PersonID) error {
	if err := v.Require(PermReset2FA); err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := a.staffTarget(ctx, tx, v, person)
		if err != nil {
			return err
		}
		if c.TOTPEnabled.IsZero() {
			return canopy.FieldErrors{"person": c.Name + " does not use two-step verification."}
		}
		if err := tx.ResetTOTP(ctx, c.ID); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionReset2FA, "person", fmt.Sprint(c.ID), c.Email,
			map[string]string{"two_step": "on"}, map[string]string{"two_step": "off"}, now))
		return err
	})
}

// StaffEdit is the edit form of a staff user at the viewer's organization.
type StaffEdit struct {
	Name  string
	Phone string
	Roles []canopy.Role
}

// UpdateStaff changes a staff user's name, phone and roles at the viewer's
// organization. Each role granted or revoked and the profile change are
// logged; new roles apply from the person's next request.
func (a *App) UpdateStaff(ctx context.Context, v Viewer, person canopy.PersonID, in StaffEdit) error {
	fe := canopy.FieldErrors{}
	in.Name, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone)
	if in.Name == "" {
		fe.Add("name", "Enter the person's name.")
	} else if len(in.Name) > 200 {
		fe.Add("name", "Use at most 200 characters.")
	}
	if in.Phone != "" && !phonePattern.MatchString(in.Phone) {
		fe.Add("phone", "Enter a phone number with digits, spaces and an optional leading +.")
	}
	if len(in.Roles) == 0 {
		fe.Add("roles", "Choose at least one role. To take all access away, use Remove access.")
	}
	for _, r := range in.Roles {
		if !v.MayGrant(r, v.Org.Kind) {
			fe.Add("roles", fmt.Sprintf("You cannot give the role %s here.", r.Label()))
		}
	}
	if person == v.PersonID {
		fe.Add("roles", "You cannot change your own roles; ask another administrator.")
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := a.staffTarget(ctx, tx, v, person)
		if err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		id := fmt.Sprint(c.ID)
		if c.Name != in.Name || c.Phone != in.Phone {
			if err := tx.UpdatePerson(ctx, c.ID, in.Name, in.Phone, now); err != nil {
				return err
			}
			if _, err := tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionUpdateUser, "person", id, c.Email,
				map[string]string{"name": c.Name, "phone": c.Phone}, map[string]string{"name": in.Name, "phone": in.Phone}, now)); err != nil {
				return err
			}
		}
		roles := make([]string, len(in.Roles))
		for i, r := range in.Roles {
			roles[i] = string(r)
		}
		before, err := tx.SetMembershipRoles(ctx, c.ID, v.Org.ID, roles)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if !slices.Contains(before, r) {
				if _, err := tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionGrantRole, "person", id, c.Email, nil, map[string]string{"role": r}, now)); err != nil {
					return err
				}
			}
		}
		for _, r := range before {
			if !slices.Contains(roles, r) {
				if _, err := tx.RecordChange(ctx, change(v.Actor, v.Org, canopy.ActionRevokeRole, "person", id, c.Email, map[string]string{"role": r}, nil, now)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

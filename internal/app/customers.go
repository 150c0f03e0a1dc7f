package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/jobs"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/google/uuid"
)

// Limits of a customer's attributes.
const (
	maxExtraDomains = 50
	maxUsersLimit   = 1_000_000
	maxLogoBytes    = 256 << 10
	maxTrialExtend  = 365
)

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CustomerInput is what the Create and Edit forms of a customer hold.
type CustomerInput struct {
	MSPID        canopy.OrgID // create only: the owning MSP (an MSP's own staff may leave it 0)
	Name         string
	Domain       string
	ExtraDomains string // comma, space or newline separated
	Plan         canopy.Plan
	MaxUsers     int
	Modules      []canopy.Module
	DomainLock   *bool // create only; nil: the MSP's default
	// Create only, optional: the customer's first administrator, invited
	// as its Admin with the customer.
	AdminEmail string
	// Edit only: branding.
	DisplayName  string
	PrimaryColor string
}

// SplitList splits a pasted list on commas, semicolons, spaces and newlines.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

// validate normalizes in and returns the domains (primary first) or field errors.
func (in *CustomerInput) validate(fe canopy.FieldErrors) []string {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fe.Add("name", "Enter the customer's name.")
	case utf8.RuneCountInString(in.Name) > 200:
		fe.Add("name", "Use at most 200 characters.")
	}
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	if !ValidDomain(in.Domain) {
		fe.Add("domain", "Enter a domain such as example.com.")
	}
	domains := []string{in.Domain}
	extras := SplitList(strings.ToLower(in.ExtraDomains))
	if len(extras) > maxExtraDomains {
		fe.Add("extra_domains", fmt.Sprintf("Use at most %d extra domains.", maxExtraDomains))
	}
	for _, d := range extras {
		switch {
		case !ValidDomain(d):
			fe.Add("extra_domains", fmt.Sprintf("%q is not a domain such as example.com.", d))
		case slices.Contains(domains, d):
			fe.Add("extra_domains", fmt.Sprintf("%s is listed twice.", d))
		default:
			domains = append(domains, d)
		}
	}
	in.AdminEmail = strings.ToLower(strings.TrimSpace(in.AdminEmail))
	if in.AdminEmail != "" && !validEmail(in.AdminEmail) {
		fe.Add("admin_email", "Enter an email address such as name@example.com, or leave it empty.")
	}
	if in.Plan == "" {
		in.Plan = "standard"
	}
	if !in.Plan.Known() {
		fe.Add("plan", "Choose a plan.")
	}
	if in.MaxUsers < 0 || in.MaxUsers > maxUsersLimit {
		fe.Add("max_users", fmt.Sprintf("Enter a number from 0 (no limit) to %d.", maxUsersLimit))
	}
	for _, m := range in.Modules {
		if !m.Known() {
			fe.Add("modules", fmt.Sprintf("%q is not a module.", m))
		}
	}
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if utf8.RuneCountInString(in.DisplayName) > 100 {
		fe.Add("display_name", "Use at most 100 characters.")
	}
	in.PrimaryColor = strings.ToLower(strings.TrimSpace(in.PrimaryColor))
	if in.PrimaryColor != "" && !colorPattern.MatchString(in.PrimaryColor) {
		fe.Add("primary_color", "Enter a colour as #rrggbb, for example #1f6f5c.")
	}
	return domains
}

// checkDomainsFree adds a field error for each domain another customer of
// the MSP already uses.
func checkDomainsFree(ctx context.Context, tx *store.Tx, fe canopy.FieldErrors, msp, except canopy.OrgID, domains []string) error {
	taken, err := tx.DomainsTaken(ctx, msp, except, domains)
	if err != nil {
		return err
	}
	for i, d := range domains {
		if owner, ok := taken[d]; ok {
			field := "extra_domains"
			if i == 0 {
				field = "domain"
			}
			fe.Add(field, fmt.Sprintf("%s is already a domain of your customer %s.", d, owner))
		}
	}
	return nil
}

// mspForNewCustomer resolves the MSP a new customer goes under: the
// viewer's own MSP, or one of their subtree's MSPs named by id.
func (a *App) mspForNewCustomer(ctx context.Context, tx *store.Tx, v Viewer, id canopy.OrgID) (canopy.Org, error) {
	if v.Org.Kind == canopy.KindMSP && (id == 0 || id == v.Org.ID) {
		return v.Org, nil
	}
	if id == 0 {
		return canopy.Org{}, canopy.FieldErrors{"msp": "Choose the MSP the customer belongs to."}
	}
	msp, err := tx.Org(ctx, v.Scope(), id)
	if errors.Is(err, canopy.ErrNotFound) {
		return canopy.Org{}, canopy.FieldErrors{"msp": "Choose one of your MSPs."}
	}
	if err != nil {
		return canopy.Org{}, err
	}
	if msp.Kind != canopy.KindMSP {
		return canopy.Org{}, canopy.FieldErrors{"msp": "Choose one of your MSPs."}
	}
	return msp, nil
}

// CreateCustomer adds a customer under an MSP of the viewer's subtree. It
// starts as a free trial ending after the MSP's trial length; its domains
// must be free within the MSP. Everything, with the change-log entry,
// commits in one transaction.
func (a *App) CreateCustomer(ctx context.Context, v Viewer, in CustomerInput) (canopy.Customer, error) {
	if err := v.Require(PermOrderCustomers); err != nil {
		return canopy.Customer{}, err
	}
	fe := canopy.FieldErrors{}
	domains := in.validate(fe)
	if in.AdminEmail != "" && a.disposable.Address(in.AdminEmail) {
		fe.Add("admin_email", "A disposable address: give the administrator's permanent one.")
	}
	now := a.clock.Now()
	var created canopy.Org
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		msp, err := a.mspForNewCustomer(ctx, tx, v, in.MSPID)
		if err != nil {
			return err
		}
		if len(fe) == 0 {
			if err := checkDomainsFree(ctx, tx, fe, msp.ID, 0, domains); err != nil {
				return err
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		defaults, err := a.mspDefaults(ctx, tx, msp)
		if err != nil {
			return err
		}
		trialDays := defaults[canopy.SettingTrialDays].Int()
		created, err = tx.CreateOrg(ctx, v.Scope(), canopy.Org{
			TenantID: uuid.NewString(), Kind: canopy.KindCustomer, Name: in.Name, ParentID: msp.ID,
			Domain: in.Domain, Status: canopy.StatusTrial, TrialEndsAt: now.AddDate(0, 0, trialDays).Truncate(time.Minute),
		}, now)
		if errors.Is(err, canopy.ErrConflict) {
			return canopy.FieldErrors{"domain": in.Domain + " was just taken by another customer; choose another."}
		}
		if err != nil {
			return err
		}
		cust, err := tx.Customer(ctx, v.Scope(), created.ID)
		if err != nil {
			return err
		}
		details := store.CustomerDetails{Name: in.Name, Domain: in.Domain, Domains: domains[1:], Plan: in.Plan, MaxUsers: in.MaxUsers, Modules: in.Modules}
		if err := tx.SetCustomerDetails(ctx, cust, details, now); err != nil {
			return asDomainConflict(err)
		}
		after := customerSnapshot(created, details)
		if in.DomainLock != nil && *in.DomainLock != defaults[canopy.SettingDomainLock].On() {
			if err := tx.PutSetting(ctx, created.ID, canopy.SettingDomainLock, fmt.Sprint(*in.DomainLock), false, now); err != nil {
				return err
			}
			after["domain_lock"] = *in.DomainLock
		}
		if err := tx.RefreshTwoStepOfCustomers(ctx, canopy.ScopeOf(created)); err != nil {
			return err
		}
		entries := []canopy.Change{change(v.Actor, created, canopy.ActionCreateCustomer, "customer", created.TenantID, created.Name, nil, after, now)}
		if in.AdminEmail != "" {
			locked := defaults[canopy.SettingDomainLock].On()
			if in.DomainLock != nil {
				locked = *in.DomainLock
			}
			_, domain, _ := strings.Cut(in.AdminEmail, "@")
			if locked && !slices.Contains(domains, domain) {
				return canopy.FieldErrors{"admin_email": "Domain Lock is on: use an address at " + strings.Join(domains, ", ") + ", or turn the lock off."}
			}
			entry, err := a.createInvitation(ctx, tx, v, created, in.Name, "", in.AdminEmail, InviteInput{Role: canopy.RoleCustomerAdmin}, now)
			if err != nil {
				return err
			}
			entries = append(entries, entry)
		}
		return tx.RecordChanges(ctx, entries)
	})
	if err != nil {
		return canopy.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return a.store.Customer(ctx, v.Scope(), created.ID)
}

func asDomainConflict(err error) error {
	if errors.Is(err, canopy.ErrConflict) {
		return canopy.FieldErrors{"extra_domains": "One of these domains was just taken by another customer; check them and try again."}
	}
	return err
}

func customerSnapshot(o canopy.Org, d store.CustomerDetails) map[string]any {
	m := map[string]any{"name": d.Name, "domain": d.Domain, "plan": d.Plan, "max_users": d.MaxUsers, "modules": d.Modules}
	if len(d.Domains) > 0 {
		m["extra_domains"] = d.Domains
	}
	if d.DisplayName != "" {
		m["display_name"] = d.DisplayName
	}
	if d.PrimaryColor != "" {
		m["primary_color"] = d.PrimaryColor
	}
	if o.Status != "" {
		m["status"] = o.Status
	}
	if !o.TrialEndsAt.IsZero() {
		m["trial_ends_at"] = o.TrialEndsAt.Format(time.RFC3339)
	}
	return m
}

func detailsOf(c canopy.Customer) store.CustomerDetails {
	return store.CustomerDetails{Name: c.Name, Domain: c.Domain, Domains: c.Domains, Plan: c.Plan, MaxUsers: c.MaxUsers,
		Modules: c.Modules, DisplayName: c.DisplayName, PrimaryColor: c.PrimaryColor}
}

// Customer returns a customer of the viewer's subtree by tenant ID.
func (a *App) Customer(ctx context.Context, v Viewer, tenantID string) (canopy.Customer, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return canopy.Customer{}, fmt.Errorf("customer %q: %w", tenantID, canopy.ErrNotFound)
	}
	c, err := a.store.CustomerByTenantID(ctx, v.Scope(), tenantID)
	if err != nil {
		return canopy.Customer{}, err
	}
	// A customer's own Admins see their account's pages (a User sees only
	// the modules granted); staff above need the right.
	if v.Org.ID == c.ID && !v.Can(PermManageCustomerOrg) || v.Org.ID != c.ID && !v.Can(PermViewCustomers) {
		return canopy.Customer{}, fmt.Errorf("customer: %w", canopy.ErrForbidden)
	}
	return c, nil
}

// mayManage reports whether v may change customer c's account: staff above
// it with the right, or an admin of the customer itself.
func mayManage(v Viewer, c canopy.Org) error {
	if v.Org.ID == c.ID && v.Can(PermManageCustomerOrg) {
		return nil
	}
	if v.Org.ID != c.ID && v.Can(PermManageCustomers) {
		return nil
	}
	return fmt.Errorf("manage customer: %w", canopy.ErrForbidden)
}

// mayEdit reports whether v may edit customer c's details, plan, limits,
// features and branding: staff above it with the right. The customer's own
// admins change its Configuration, not what its MSP sells it.
func mayEdit(v Viewer, c canopy.Org) error {
	if v.Org.ID != c.ID && v.Can(PermManageCustomers) {
		return nil
	}
	return fmt.Errorf("edit customer: %w", canopy.ErrForbidden)
}

// UpdateCustomer saves the Edit form: details, domains, plan, limits,
// modules and branding. Max users may not go below the active users.
func (a *App) UpdateCustomer(ctx context.Context, v Viewer, id canopy.OrgID, in CustomerInput) (canopy.Customer, error) {
	fe := canopy.FieldErrors{}
	domains := in.validate(fe)
	now := a.clock.Now()
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if err := mayEdit(v, c.Org); err != nil {
			return err
		}
		if in.MaxUsers > 0 && in.MaxUsers < c.ActiveUsers {
			fe.Add("max_users", fmt.Sprintf("%s has %d active users; the maximum cannot be below that (0 means no limit).", c.Name, c.ActiveUsers))
		}
		if len(fe) == 0 {
			if err := checkDomainsFree(ctx, tx, fe, c.ParentID, c.ID, domains); err != nil {
				return err
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		next := store.CustomerDetails{Name: in.Name, Domain: in.Domain, Domains: domains[1:], Plan: in.Plan, MaxUsers: in.MaxUsers,
			Modules: in.Modules, DisplayName: in.DisplayName, PrimaryColor: in.PrimaryColor}
		before, after := customerSnapshot(canopy.Org{}, detailsOf(c)), customerSnapshot(canopy.Org{}, next)
		if fmt.Sprint(before) == fmt.Sprint(after) {
			return nil
		}
		if err := tx.SetCustomerDetails(ctx, c, next, now); err != nil {
			return asDomainConflict(err)
		}
		c.Name = in.Name
		_, err = tx.RecordChange(ctx, change(v.Actor, c.Org, canopy.ActionUpdateCustomer, "customer", c.TenantID, c.Name, before, after, now))
		return err
	})
	if err != nil {
		return canopy.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return a.store.Customer(ctx, v.Scope(), id)
}

// Logo image types accepted for branding, by sniffed content type.
var logoTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// SetCustomerLogo stores the branding logo (PNG, JPEG, GIF or WebP, at most
// 256 KB); an empty body removes it.
func (a *App) SetCustomerLogo(ctx context.Context, v Viewer, id canopy.OrgID, body []byte) error {
	ct := ""
	if len(body) > 0 {
		if len(body) > maxLogoBytes {
			return canopy.FieldErrors{"logo": fmt.Sprintf("The logo is %d KB; use an image of at most %d KB.", (len(body)+1023)/1024, maxLogoBytes>>10)}
		}
		ct = http.DetectContentType(body)
		if !slices.Contains(logoTypes, ct) {
			return canopy.FieldErrors{"logo": "Use a PNG, JPEG, GIF or WebP image."}
		}
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if err := mayEdit(v, c.Org); err != nil {
			return err
		}
		if err := tx.SetLogo(ctx, c.ID, ct, body, now); err != nil {
			return err
		}
		after := map[string]any{"logo": ct, "logo_bytes": len(body)}
		if len(body) == 0 {
			after = map[string]any{"logo": "removed"}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c.Org, canopy.ActionUpdateCustomer, "customer", c.TenantID, c.Name,
			map[string]any{"logo": c.HasLogo}, after, now))
		return err
	})
}

// CustomerLogo returns a customer's logo for its pages.
func (a *App) CustomerLogo(ctx context.Context, v Viewer, id canopy.OrgID) (string, []byte, time.Time, error) {
	return a.store.Logo(ctx, v.Scope(), id)
}

// CustomerAction is an entry of the customers list's Action menu.
type CustomerAction string

// Actions on a customer's status.
const (
	ActionUpgrade     CustomerAction = "upgrade"
	ActionExtendTrial CustomerAction = "extend_trial"
	ActionSuspend     CustomerAction = "suspend"
	ActionResume      CustomerAction = "resume"
)

// AvailableActions lists what the Action menu offers for a customer.
func AvailableActions(s canopy.CustomerStatus) []CustomerAction {
	switch s {
	case canopy.StatusTrial, canopy.StatusTrialExpired:
		return []CustomerAction{ActionUpgrade, ActionExtendTrial, ActionSuspend}
	case canopy.StatusActive:
		return []CustomerAction{ActionSuspend}
	case canopy.StatusSuspended:
		return []CustomerAction{ActionResume}
	}
	return nil
}

// ChangeCustomerStatus runs an Action-menu entry: upgrade a trial to a full
// (billed) account, extend a trial by days, suspend or resume.
func (a *App) ChangeCustomerStatus(ctx context.Context, v Viewer, id canopy.OrgID, act CustomerAction, days int) (canopy.Customer, error) {
	now := a.clock.Now()
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if v.Org.ID == c.ID || !v.Can(PermManageCustomers) {
			return fmt.Errorf("change status: %w", canopy.ErrForbidden)
		}
		if !slices.Contains(AvailableActions(c.Status), act) {
			return canopy.FieldErrors{"action": fmt.Sprintf("%s is %s: that action does not apply.", c.Name, strings.ToLower(c.Status.Label()))}
		}
		status, ends, beforeSuspend := c.Status, c.TrialEndsAt, canopy.CustomerStatus("")
		switch act {
		case ActionUpgrade:
			status, ends = canopy.StatusActive, time.Time{}
		case ActionExtendTrial:
			if days < 1 || days > maxTrialExtend {
				return canopy.FieldErrors{"days": fmt.Sprintf("Extend by 1 to %d days.", maxTrialExtend)}
			}
			from := ends
			if from.Before(now) {
				from = now
			}
			status, ends = canopy.StatusTrial, from.AddDate(0, 0, days).Truncate(time.Minute)
		case ActionSuspend:
			status, beforeSuspend = canopy.StatusSuspended, c.Status
		case ActionResume:
			prev, err := tx.StatusBeforeSuspend(ctx, c.ID)
			if err != nil {
				return err
			}
			status = prev
			if status == "" {
				status = canopy.StatusActive
			}
			if status == canopy.StatusTrial && !ends.After(now) {
				status = canopy.StatusTrialExpired
			}
		}
		if err := tx.SetCustomerStatus(ctx, c.ID, status, ends, beforeSuspend); err != nil {
			return err
		}
		before := map[string]any{"status": c.Status}
		after := map[string]any{"status": status, "action": act}
		if !c.TrialEndsAt.IsZero() {
			before["trial_ends_at"] = c.TrialEndsAt.Format(time.RFC3339)
		}
		if !ends.IsZero() {
			after["trial_ends_at"] = ends.Format(time.RFC3339)
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c.Org, canopy.ActionChangeStatus, "customer", c.TenantID, c.Name, before, after, now))
		return err
	})
	if err != nil {
		return canopy.Customer{}, fmt.Errorf("%s: %w", act, err)
	}
	return a.store.Customer(ctx, v.Scope(), id)
}

// ExpireTrials moves every trial past its end date to Trial expired, each
// with a change-log entry, in batches; it returns how many it moved. The
// scheduled "expire-trials" job runs it.
func (a *App) ExpireTrials(ctx context.Context) (int, error) {
	actor := canopy.System("trial expiry")
	total := 0
	for {
		now := a.clock.Now()
		var n int
		err := a.store.InTx(ctx, func(tx *store.Tx) error {
			ended, err := tx.TrialsEndedBy(ctx, now, 500)
			if err != nil {
				return err
			}
			n = len(ended)
			for _, c := range ended {
				if err := tx.SetCustomerStatus(ctx, c.ID, canopy.StatusTrialExpired, c.TrialEndsAt, ""); err != nil {
					return err
				}
				if _, err := tx.RecordChange(ctx, change(actor, c, canopy.ActionExpireTrial, "customer", c.TenantID, c.Name,
					map[string]any{"status": c.Status, "trial_ends_at": c.TrialEndsAt.Format(time.RFC3339)},
					map[string]any{"status": canopy.StatusTrialExpired}, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("expire trials: %w", err)
		}
		total += n
		if n < 500 {
			return total, nil
		}
	}
}

// DeleteCustomer closes a customer permanently: confirm must be its name.
// Its data goes; the deletion is logged at its MSP. An MSP whose customers'
// lifecycle its distributor manages may not delete them; the distributor can.
func (a *App) DeleteCustomer(ctx context.Context, v Viewer, id canopy.OrgID, confirm string) error {
	if err := v.Require(PermDeleteCustomers); err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Customer(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if v.Org.ID == c.ID {
			return fmt.Errorf("delete customer: %w", canopy.ErrForbidden)
		}
		if v.LifecycleRefused(c.MSP) {
			return fmt.Errorf("delete customer: %s's customers are managed by %s, which closes them: %w", c.MSP.Name, c.Distributor.Name, ErrLifecycleByDistributor)
		}
		if strings.TrimSpace(confirm) != c.Name {
			return canopy.FieldErrors{"confirm": fmt.Sprintf("Type the customer's name, %s, exactly to confirm.", c.Name)}
		}
		if err := tx.DeleteCustomer(ctx, c.Org); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c.MSP, canopy.ActionDeleteCustomer, "customer", c.TenantID, c.Name,
			customerSnapshot(c.Org, detailsOf(c)), nil, now))
		return err
	})
}

// ErrLifecycleByDistributor refuses an MSP's deletion of a customer whose
// lifecycle its distributor manages. It is a kind of ErrForbidden.
var ErrLifecycleByDistributor = fmt.Errorf("customer lifecycle managed by the distributor: %w", canopy.ErrForbidden)

// SetLifecycleByDistributor is the distributor's setting on one of its MSPs:
// when on, the MSP cannot delete its customers; the distributor does.
func (a *App) SetLifecycleByDistributor(ctx context.Context, v Viewer, msp canopy.OrgID, on bool) error {
	if err := v.requireDistributorConfig("customer lifecycle"); err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.Org(ctx, v.Scope(), msp)
		if err != nil {
			return err
		}
		if o.Kind != canopy.KindMSP {
			return fmt.Errorf("customer lifecycle of a %s: %w", o.Kind.Label(), canopy.ErrNotFound)
		}
		before, err := tx.SetLifecycleByDistributor(ctx, o.ID, on)
		if err != nil || before == on {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionUpdateSettings, "msp", o.TenantID, o.Name,
			map[string]bool{"customer_lifecycle_by_distributor": before}, map[string]bool{"customer_lifecycle_by_distributor": on}, now))
		return err
	})
}

// CustomerList is one page of the customers list.
type CustomerList struct {
	Rows []store.CustomerRow
	More bool
	Now  time.Time
	// MayDelete: the viewer may delete these customers (an MSP whose
	// customers' lifecycle its distributor manages may not).
	MayDelete bool
}

// Customers lists the customers the viewer may see: an MSP's own, a
// distributor's across its MSPs (optionally one MSP's), keyset-paged.
func (a *App) Customers(ctx context.Context, v Viewer, q store.CustomerQuery) (CustomerList, error) {
	if err := v.Require(PermViewCustomers); err != nil {
		return CustomerList{}, err
	}
	if v.Org.Kind.Rank() > canopy.KindMSP.Rank() {
		return CustomerList{}, fmt.Errorf("customers: %w", canopy.ErrForbidden)
	}
	fe := canopy.FieldErrors{}
	if q.Sort != "" && !store.CustomerSortKnown(q.Sort) {
		fe.Add("sort", "Sort by name, domain, active_users or status.")
	}
	switch q.Status {
	case "", canopy.StatusTrial, canopy.StatusActive, canopy.StatusTrialExpired, canopy.StatusSuspended:
	default:
		fe.Add("status", "Filter by trial, active, trial_expired or suspended.")
	}
	if utf8.RuneCountInString(q.Search) > 200 {
		fe.Add("q", "Search with at most 200 characters.")
	}
	if err := fe.Err(); err != nil {
		return CustomerList{}, err
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	want := q.Limit
	q.Limit++
	rows, err := a.store.Customers(ctx, v.Scope(), v.Org.Kind, q)
	if err != nil {
		return CustomerList{}, err
	}
	list := CustomerList{Rows: rows, Now: a.clock.Now(), MayDelete: v.Can(PermDeleteCustomers)}
	if v.Org.Kind == canopy.KindMSP {
		// The flag comes with the session's organization: no query per page.
		list.MayDelete = list.MayDelete && !v.LifecycleRefused(v.Org)
	}
	if len(rows) > want {
		list.Rows, list.More = rows[:want], true
	}
	return list, nil
}

// MSPs lists the MSPs of the viewer's subtree, for filters and the create form.
func (a *App) MSPs(ctx context.Context, v Viewer) ([]canopy.Org, error) {
	if v.Org.Kind == canopy.KindMSP {
		return []canopy.Org{v.Org}, nil
	}
	return a.store.Orgs(ctx, v.Scope(), []canopy.OrgKind{canopy.KindMSP}, maxTreeNodes)
}

// JobExpireTrials is the scheduled job that ends trials past their date.
const JobExpireTrials = "expire-trials"

// RegisterJobs schedules the customers' background work on r.
func (a *App) RegisterJobs(r *jobs.Runner) error {
	r.Handle(JobExpireTrials, func(ctx context.Context, _ store.Job) error {
		n, err := a.ExpireTrials(ctx)
		if n > 0 {
			a.log.Info("trials expired", "customers", n)
		}
		return err
	})
	return r.Schedule(JobExpireTrials, jobs.Every(15*time.Minute), JobExpireTrials, nil)
}

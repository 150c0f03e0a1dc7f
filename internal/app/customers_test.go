package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// wantField fails unless err is canopy.FieldErrors with a message for field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var fe canopy.FieldErrors
	if !errors.As(err, &fe) || fe[field] == "" {
		t.Errorf("%s: err = %v; want a message for %q", what, err, field)
	}
}

func mustCustomer(t *testing.T, a *app.App, v app.Viewer, in app.CustomerInput) canopy.Customer {
	t.Helper()
	c, err := a.CreateCustomer(context.Background(), v, in)
	if err != nil {
		t.Fatalf("create customer %q: %v", in.Name, err)
	}
	return c
}

func customerCount(t *testing.T, s *store.Store, msp canopy.Org) int {
	t.Helper()
	list, err := s.Orgs(context.Background(), canopy.ScopeOf(msp), []canopy.OrgKind{canopy.KindCustomer}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// changeCount counts the entries of org's own change log.
func changeCount(t *testing.T, f fixture, org canopy.OrgID) int {
	t.Helper()
	entries, err := f.store.Changes(context.Background(), canopy.ScopeOf(f.root), org, canopy.ChangeFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExpireTrialsWithAFakeClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		early := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Early", Domain: "early.example"})
		if early.Status != canopy.StatusTrial || !early.TrialEndsAt.Equal(t0.AddDate(0, 0, 14)) {
			t.Fatalf("new customer: status %q, trial ends %v; want trial ending %v", early.Status, early.TrialEndsAt, t0.AddDate(0, 0, 14))
		}
		f.clock.Advance(7 * 24 * time.Hour)
		late := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Late", Domain: "late.example"})

		// A minute before the end nothing is due.
		f.clock.Set(early.TrialEndsAt.Add(-time.Minute))
		if n, err := f.app.ExpireTrials(ctx); err != nil || n != 0 {
			t.Fatalf("before the end: ExpireTrials = %d, %v; want 0", n, err)
		}
		f.clock.Set(t0.AddDate(0, 0, 14).Add(time.Hour))
		n, err := f.app.ExpireTrials(ctx)
		if err != nil || n != 1 {
			t.Fatalf("ExpireTrials = %d, %v; want 1", n, err)
		}
		got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), early.ID)
		if got.Status != canopy.StatusTrialExpired || !got.TrialEndsAt.Equal(early.TrialEndsAt) {
			t.Errorf("expired customer: status %q, trial ends %v", got.Status, got.TrialEndsAt)
		}
		entries, err := s.Changes(ctx, canopy.ScopeOf(f.mspA), early.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionExpireTrial}})
		if err != nil || len(entries) != 1 {
			t.Fatalf("expire_trial entries = %+v, %v; want one", entries, err)
		}
		if e := entries[0]; e.Actor.Kind != canopy.ActorSystem || e.Actor.PersonID != 0 || e.TargetName != "Early" || !e.At.Equal(f.clock.Now()) {
			t.Errorf("entry = %+v; want the system actor about Early at now", e)
		}
		// Not yet due: untouched, without an entry.
		if got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), late.ID); got.Status != canopy.StatusTrial {
			t.Errorf("customer not due: status %q; want trial", got.Status)
		}
		if entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), late.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionExpireTrial}}); len(entries) != 0 {
			t.Errorf("customer not due has %d expire_trial entries", len(entries))
		}
		// Running again does nothing.
		before := changeCount(t, f, early.ID)
		if n, err := f.app.ExpireTrials(ctx); err != nil || n != 0 {
			t.Errorf("second run = %d, %v; want 0", n, err)
		}
		if after := changeCount(t, f, early.ID); after != before {
			t.Errorf("second run wrote %d entries", after-before)
		}
		// Later the second trial ends too.
		f.clock.Set(late.TrialEndsAt)
		if n, err := f.app.ExpireTrials(ctx); err != nil || n != 1 {
			t.Errorf("at the second trial's end = %d, %v; want 1", n, err)
		}
	})
}

func TestCustomerSettingsLayers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		distAdmin := viewer(f.dist, 800, canopy.RoleDistributorAdmin)
		c := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "One", Domain: "one.example"})
		key := canopy.SettingEnforceTwoStep
		effective := func(what string, wantValue string, wantSource canopy.SettingSource) {
			t.Helper()
			m, err := f.app.CustomerSettings(ctx, admin, c.Org)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got := m[key]; got.Value != wantValue || got.Source != wantSource {
				t.Errorf("%s: %s = %q from %s; want %q from %s", what, key, got.Value, got.Source, wantValue, wantSource)
			}
		}
		p, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), app.NewStaff{OrgID: c.ID, Name: "Cathy", Email: "cathy@one.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		twoStep := func(what string, want bool) {
			t.Helper()
			got, err := s.TwoStepRequired(ctx, p.ID)
			if err != nil || got != want {
				t.Errorf("%s: TwoStepRequired = %v, %v; want %v", what, got, err, want)
			}
		}
		effective("built in", "false", canopy.SourceBuiltIn)
		twoStep("built in", false)

		if err := f.app.SetCustomerDefault(ctx, admin, f.mspA.ID, key, "true", false); err != nil {
			t.Fatal(err)
		}
		effective("MSP default", "true", canopy.SourceMSP)
		twoStep("MSP default", true)

		if err := f.app.SetCustomerSetting(ctx, admin, c.ID, key, "false", false); err != nil {
			t.Fatal(err)
		}
		effective("customer override", "false", canopy.SourceCustomer)
		twoStep("customer override", false)

		if err := f.app.SetCustomerSetting(ctx, admin, c.ID, key, "", true); err != nil {
			t.Fatal(err)
		}
		effective("reset", "true", canopy.SourceMSP)
		twoStep("reset", true)

		// The override comes back, then the distributor locks the other way.
		if err := f.app.SetCustomerSetting(ctx, admin, c.ID, key, "true", false); err != nil {
			t.Fatal(err)
		}
		if err := f.app.LockCustomerDefault(ctx, distAdmin, f.dist.ID, key, "false", false); err != nil {
			t.Fatal(err)
		}
		effective("distributor lock", "false", canopy.SourceDistributor)
		twoStep("distributor lock", false)
		if err := f.app.SetCustomerSetting(ctx, admin, c.ID, key, "true", false); !errors.Is(err, app.ErrLocked) {
			t.Errorf("override of a locked setting: err = %v; want ErrLocked", err)
		}
		if err := f.app.SetCustomerSetting(ctx, admin, c.ID, key, "", true); !errors.Is(err, app.ErrLocked) {
			t.Errorf("reset of a locked setting: err = %v; want ErrLocked", err)
		}
		if err := f.app.SetCustomerDefault(ctx, admin, f.mspA.ID, key, "true", false); !errors.Is(err, app.ErrLocked) {
			t.Errorf("MSP default of a locked setting: err = %v; want ErrLocked", err)
		}
		// An MSP may not lock; only the distributor level may.
		if err := f.app.LockCustomerDefault(ctx, admin, f.dist.ID, key, "true", false); !errors.Is(err, canopy.ErrForbidden) && !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP locking: err = %v; want refused", err)
		}
		// A lock to true reaches customers of the other MSP as well.
		other, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.mspB), app.NewStaff{OrgID: f.custB.ID, Name: "Bea", Email: "bea@beta.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.LockCustomerDefault(ctx, distAdmin, f.dist.ID, key, "true", false); err != nil {
			t.Fatal(err)
		}
		twoStep("locked on", true)
		if got, _ := s.TwoStepRequired(ctx, other.ID); !got {
			t.Errorf("customer of MSP B under the lock: two-step not required")
		}
		// Unlocking returns each customer to its own layers: One's override (true), Beta's built-in (false).
		if err := f.app.LockCustomerDefault(ctx, distAdmin, f.dist.ID, key, "", true); err != nil {
			t.Fatal(err)
		}
		effective("unlocked", "true", canopy.SourceCustomer)
		twoStep("unlocked", true)
		if got, _ := s.TwoStepRequired(ctx, other.ID); got {
			t.Errorf("customer of MSP B after unlock: two-step still required")
		}

		// Trial length: the MSP's default sets a new customer's trial end.
		if err := f.app.SetCustomerDefault(ctx, admin, f.mspA.ID, canopy.SettingTrialDays, "30", false); err != nil {
			t.Fatal(err)
		}
		c30 := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Thirty", Domain: "thirty.example"})
		if want := t0.AddDate(0, 0, 30); !c30.TrialEndsAt.Equal(want) {
			t.Errorf("trial end with trial_days 30 = %v; want %v", c30.TrialEndsAt, want)
		}
		wantField(t, "trial_days 0", f.app.SetCustomerDefault(ctx, admin, f.mspA.ID, canopy.SettingTrialDays, "0", false), string(canopy.SettingTrialDays))
		if err := f.app.LockCustomerDefault(ctx, distAdmin, f.dist.ID, canopy.SettingTrialDays, "7", false); err != nil {
			t.Fatal(err)
		}
		c7 := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Seven", Domain: "seven.example"})
		if want := t0.AddDate(0, 0, 7); !c7.TrialEndsAt.Equal(want) {
			t.Errorf("trial end under a 7-day lock = %v; want %v", c7.TrialEndsAt, want)
		}
		// trial_days is not a per-customer setting.
		wantField(t, "customer trial_days", f.app.SetCustomerSetting(ctx, admin, c.ID, canopy.SettingTrialDays, "3", false), "key")
	})
}

func TestCustomerBadInputSavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		adminB := viewer(f.mspB, 901, canopy.RoleMSPAdmin)
		customersBefore, logBefore := customerCount(t, s, f.mspA), changeCount(t, f, f.mspA.ID)
		bad := []struct {
			name  string
			in    app.CustomerInput
			field string
		}{
			{"malformed primary domain", app.CustomerInput{Name: "X", Domain: "not a domain"}, "domain"},
			{"primary domain without a dot", app.CustomerInput{Name: "X", Domain: "localhost"}, "domain"},
			{"malformed extra domain", app.CustomerInput{Name: "X", Domain: "x.example", ExtraDomains: "ok.example, bad..example"}, "extra_domains"},
			{"extra domain twice", app.CustomerInput{Name: "X", Domain: "x.example", ExtraDomains: "x.example"}, "extra_domains"},
			{"primary domain of another customer of the MSP", app.CustomerInput{Name: "X", Domain: "ALPHA.example"}, "domain"},
			{"extra domain of another customer of the MSP", app.CustomerInput{Name: "X", Domain: "x.example", ExtraDomains: "alpha.example"}, "extra_domains"},
			{"empty name", app.CustomerInput{Name: " ", Domain: "x.example"}, "name"},
			{"unknown plan", app.CustomerInput{Name: "X", Domain: "x.example", Plan: "gold"}, "plan"},
			{"unknown module", app.CustomerInput{Name: "X", Domain: "x.example", Modules: []canopy.Module{"teleport"}}, "modules"},
			{"negative max users", app.CustomerInput{Name: "X", Domain: "x.example", MaxUsers: -1}, "max_users"},
		}
		for _, c := range bad {
			_, err := f.app.CreateCustomer(ctx, admin, c.in)
			wantField(t, c.name, err, c.field)
		}
		if got := customerCount(t, s, f.mspA); got != customersBefore {
			t.Errorf("refused creations stored %d customers", got-customersBefore)
		}
		if got := changeCount(t, f, f.mspA.ID); got != logBefore {
			t.Errorf("refused creations logged %d entries", got-logBefore)
		}
		// The same domain under another MSP is allowed.
		if _, err := f.app.CreateCustomer(ctx, adminB, app.CustomerInput{Name: "Alpha at B", Domain: "alpha.example"}); err != nil {
			t.Errorf("alpha.example under MSP B: %v", err)
		}

		// Edit: max users below the active users, and a taken domain.
		c := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "One", Domain: "one.example", ExtraDomains: "one.test"})
		for _, email := range []string{"a@one.example", "b@one.example", "c@one.example"} {
			if err := f.app.AddEndUser(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), c.ID, email, "A", "B", true); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.app.AddEndUser(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), c.ID, "d@one.example", "D", "E", false); err != nil {
			t.Fatal(err)
		}
		saved, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
		if saved.ActiveUsers != 3 {
			t.Fatalf("active users = %d; want 3", saved.ActiveUsers)
		}
		logBefore = changeCount(t, f, c.ID)
		edits := []struct {
			name  string
			in    app.CustomerInput
			field string
		}{
			{"max users below active users", app.CustomerInput{Name: "Renamed", Domain: "one.example", MaxUsers: 2}, "max_users"},
			{"taken primary domain", app.CustomerInput{Name: "Renamed", Domain: "alpha.example"}, "domain"},
			{"taken extra domain", app.CustomerInput{Name: "Renamed", Domain: "one.example", ExtraDomains: "new.example alpha.example"}, "extra_domains"},
			{"malformed extra domain", app.CustomerInput{Name: "Renamed", Domain: "one.example", ExtraDomains: "-bad-.example"}, "extra_domains"},
			{"malformed colour", app.CustomerInput{Name: "Renamed", Domain: "one.example", PrimaryColor: "green"}, "primary_color"},
		}
		for _, e := range edits {
			_, err := f.app.UpdateCustomer(ctx, admin, c.ID, e.in)
			wantField(t, e.name, err, e.field)
		}
		got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
		if got.Name != "One" || got.Domain != "one.example" || len(got.Domains) != 1 || got.Domains[0] != "one.test" || got.MaxUsers != 0 || got.PrimaryColor != "" {
			t.Errorf("after refused edits: %+v; want it unchanged", got)
		}
		// Max users equal to the active users is fine.
		if _, err := f.app.UpdateCustomer(ctx, admin, c.ID, app.CustomerInput{Name: "One", Domain: "one.example", ExtraDomains: "one.test", MaxUsers: 3}); err != nil {
			t.Errorf("max users = active users: %v", err)
		}

		// Logo: too big, not an image.
		big := append(pngBytes(t), make([]byte, 256<<10)...)
		wantField(t, "oversize logo", f.app.SetCustomerLogo(ctx, admin, c.ID, big), "logo")
		wantField(t, "text as logo", f.app.SetCustomerLogo(ctx, admin, c.ID, []byte("<svg onload=alert(1)></svg> just text")), "logo")
		if got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID); got.HasLogo {
			t.Errorf("a refused logo was stored")
		}
		if _, _, _, err := f.app.CustomerLogo(ctx, admin, c.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("logo after refusals: err = %v; want ErrNotFound", err)
		}
		if err := f.app.SetCustomerLogo(ctx, admin, c.ID, pngBytes(t)); err != nil {
			t.Fatalf("valid logo: %v", err)
		}
		if ct, body, _, err := f.app.CustomerLogo(ctx, admin, c.ID); err != nil || ct != "image/png" || !bytes.Equal(body, pngBytes(t)) {
			t.Errorf("stored logo = %q %d bytes, %v", ct, len(body), err)
		}
		// Two successful changes: the max users edit and the logo.
		if got := changeCount(t, f, c.ID); got != logBefore+2 {
			t.Errorf("change log grew by %d; want 2 (refused edits log nothing)", got-logBefore)
		}

		// Change-log filters.
		filters := []struct {
			name  string
			q     app.ChangeLogQuery
			field string
		}{
			{"unknown action", app.ChangeLogQuery{Actions: []string{"add_user,launch_rocket"}}, "actions"},
			{"malformed since", app.ChangeLogQuery{Since: "yesterday"}, "since"},
			{"malformed until", app.ChangeLogQuery{Until: "2026-13-01"}, "until"},
			{"backwards range", app.ChangeLogQuery{Since: "2026-11-24", Until: "2026-11-22"}, "until"},
			{"empty range", app.ChangeLogQuery{Since: "2026-11-24T10:00:00Z", Until: "2026-11-24T10:00:00Z"}, "until"},
			{"malformed actor", app.ChangeLogQuery{Actor: "maya"}, "actor"},
			{"malformed cursor", app.ChangeLogQuery{BeforeID: "12", BeforeAt: "soon"}, "before"},
		}
		for _, c := range filters {
			_, err := app.ParseChangeFilter(c.q)
			wantField(t, c.name, err, c.field)
		}
		cf, err := app.ParseChangeFilter(app.ChangeLogQuery{Actions: []string{"add_user, sign_in", "add_user"}, Since: "2026-11-23", Until: "2026-11-23"})
		if err != nil || len(cf.Actions) != 2 || !cf.Since.Equal(t0.Truncate(24*time.Hour)) || !cf.Until.Equal(t0.Truncate(24*time.Hour).AddDate(0, 0, 1)) || cf.Limit != 50 {
			t.Errorf("valid filter = %+v, %v; want 2 actions over 23 November, 50 rows", cf, err)
		}
	})
}

func TestCustomerStatusActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		act := func(c canopy.Customer, a app.CustomerAction, days int) (canopy.Customer, error) {
			return f.app.ChangeCustomerStatus(ctx, admin, c.ID, a, days)
		}
		refused := func(what string, c canopy.Customer, a app.CustomerAction, days int, field string) {
			t.Helper()
			before, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
			logBefore := changeCount(t, f, c.ID)
			_, err := act(c, a, days)
			wantField(t, what, err, field)
			after, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
			if after.Status != before.Status || !after.TrialEndsAt.Equal(before.TrialEndsAt) {
				t.Errorf("%s changed the customer: %q %v → %q %v", what, before.Status, before.TrialEndsAt, after.Status, after.TrialEndsAt)
			}
			if got := changeCount(t, f, c.ID); got != logBefore {
				t.Errorf("%s logged %d entries", what, got-logBefore)
			}
		}

		up := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Up", Domain: "up.example"})
		refused("resume a trial", up, app.ActionResume, 0, "action")
		got, err := act(up, app.ActionUpgrade, 0)
		if err != nil || got.Status != canopy.StatusActive || !got.TrialEndsAt.IsZero() {
			t.Fatalf("upgrade = %q %v, %v; want active without a trial end", got.Status, got.TrialEndsAt, err)
		}
		refused("upgrade an active customer", got, app.ActionUpgrade, 0, "action")
		refused("extend an active customer's trial", got, app.ActionExtendTrial, 7, "action")
		refused("unknown action", got, "delete_everything", 0, "action")
		if got, err = act(got, app.ActionSuspend, 0); err != nil || got.Status != canopy.StatusSuspended {
			t.Fatalf("suspend active = %q, %v", got.Status, err)
		}
		if got, err = act(got, app.ActionResume, 0); err != nil || got.Status != canopy.StatusActive {
			t.Errorf("resume = %q, %v; want active again", got.Status, err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), up.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionChangeStatus}})
		if len(entries) != 3 {
			t.Errorf("change_customer_status entries = %d; want 3 (upgrade, suspend, resume)", len(entries))
		}

		ext := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Ext", Domain: "ext.example"})
		refused("extend by 0 days", ext, app.ActionExtendTrial, 0, "days")
		refused("extend by 366 days", ext, app.ActionExtendTrial, 366, "days")
		if got, err = act(ext, app.ActionExtendTrial, 10); err != nil || got.Status != canopy.StatusTrial || !got.TrialEndsAt.Equal(ext.TrialEndsAt.AddDate(0, 0, 10)) {
			t.Errorf("extend = %q %v, %v; want trial ending %v", got.Status, got.TrialEndsAt, err, ext.TrialEndsAt.AddDate(0, 0, 10))
		}
		// Suspend and resume within the trial: back to trial with the same end.
		ends := got.TrialEndsAt
		if got, err = act(got, app.ActionSuspend, 0); err != nil || got.Status != canopy.StatusSuspended {
			t.Fatalf("suspend trial = %q, %v", got.Status, err)
		}
		refused("suspend twice", got, app.ActionSuspend, 0, "action")
		refused("upgrade a suspended customer", got, app.ActionUpgrade, 0, "action")
		if got, err = act(got, app.ActionResume, 0); err != nil || got.Status != canopy.StatusTrial || !got.TrialEndsAt.Equal(ends) {
			t.Errorf("resume trial = %q %v, %v; want trial ending %v", got.Status, got.TrialEndsAt, err, ends)
		}

		// A trial that ends while suspended resumes as expired, and the expiry job leaves it alone meanwhile.
		late := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Late", Domain: "late.example"})
		if _, err := act(late, app.ActionSuspend, 0); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(late.TrialEndsAt.Add(24 * time.Hour))
		if _, err := f.app.ExpireTrials(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), late.ID); got.Status != canopy.StatusSuspended {
			t.Errorf("expiry job on a suspended customer: status %q; want suspended", got.Status)
		}
		if got, err = act(late, app.ActionResume, 0); err != nil || got.Status != canopy.StatusTrialExpired {
			t.Errorf("resume after the trial ended = %q, %v; want trial_expired", got.Status, err)
		}
		// An expired trial can be extended from now.
		if got, err = act(got, app.ActionExtendTrial, 5); err != nil || got.Status != canopy.StatusTrial || !got.TrialEndsAt.Equal(f.clock.Now().AddDate(0, 0, 5).Truncate(time.Minute)) {
			t.Errorf("extend expired trial = %q %v, %v; want trial ending 5 days from now", got.Status, got.TrialEndsAt, err)
		}
		// A customer's own admin cannot change its status.
		self := viewer(late.Org, 950, canopy.RoleCustomerAdmin)
		if _, err := f.app.ChangeCustomerStatus(ctx, self, late.ID, app.ActionUpgrade, 0); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("customer admin upgrading: err = %v; want ErrForbidden", err)
		}
	})
}

func TestDeleteCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		distAdmin := viewer(f.dist, 800, canopy.RoleDistributorAdmin)
		doomed := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Doomed", Domain: "doomed.example", ExtraDomains: "doomed.test"})
		keep := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Keep", Domain: "keep.example"})
		sys := canopy.System("test")
		for _, c := range []canopy.Customer{doomed, keep} {
			for _, local := range []string{"a", "b", "c"} {
				if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.mspA), c.ID, local+"@"+c.Domain, "A", "B", true); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := f.app.SetCustomerLogo(ctx, admin, doomed.ID, pngBytes(t)); err != nil {
			t.Fatal(err)
		}
		usersBefore, _ := s.CountRows(ctx, "end_users")

		wantField(t, "wrong confirmation", f.app.DeleteCustomer(ctx, admin, doomed.ID, "doomed"), "confirm")
		if err := f.app.DeleteCustomer(ctx, viewer(f.mspA, 901, canopy.RoleMSPAccounts), doomed.ID, "Doomed"); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("MSP Accounts deleting: err = %v; want ErrForbidden", err)
		}
		if err := f.app.DeleteCustomer(ctx, viewer(doomed.Org, 902, canopy.RoleCustomerAdmin), doomed.ID, "Doomed"); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("the customer's own admin deleting: err = %v; want ErrForbidden", err)
		}
		// The distributor takes the customers' lifecycle over.
		if err := f.app.SetLifecycleByDistributor(ctx, admin, f.mspA.ID, true); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("MSP setting its own lifecycle flag: err = %v; want ErrForbidden", err)
		}
		if err := f.app.SetLifecycleByDistributor(ctx, distAdmin, f.mspA.ID, true); err != nil {
			t.Fatal(err)
		}
		err := f.app.DeleteCustomer(ctx, admin, doomed.ID, "Doomed")
		if !errors.Is(err, app.ErrLifecycleByDistributor) || !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("MSP deleting under the distributor's lifecycle: err = %v; want ErrLifecycleByDistributor", err)
		}
		if _, err := s.Customer(ctx, canopy.ScopeOf(f.mspA), doomed.ID); err != nil {
			t.Fatalf("refused deletions removed the customer: %v", err)
		}
		if n, _ := s.CountRows(ctx, "end_users"); n != usersBefore {
			t.Fatalf("refused deletions removed %d end users", usersBefore-n)
		}
		wantField(t, "distributor, wrong confirmation", f.app.DeleteCustomer(ctx, distAdmin, doomed.ID, "Doomed!"), "confirm")
		if err := f.app.DeleteCustomer(ctx, distAdmin, doomed.ID, " Doomed "); err != nil {
			t.Fatalf("distributor deleting: %v", err)
		}
		if _, err := s.Customer(ctx, canopy.ScopeOf(f.root), doomed.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("deleted customer: err = %v; want ErrNotFound", err)
		}
		if _, err := f.app.Customer(ctx, admin, doomed.TenantID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("deleted customer by tenant ID: err = %v; want ErrNotFound", err)
		}
		if n, _ := s.CountRows(ctx, "end_users"); n != usersBefore-3 {
			t.Errorf("end users after deletion = %d; want %d", n, usersBefore-3)
		}
		if _, _, _, err := f.app.CustomerLogo(ctx, distAdmin, doomed.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("deleted customer's logo: err = %v; want ErrNotFound", err)
		}
		if got, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), keep.ID); got.ActiveUsers != 3 {
			t.Errorf("the other customer has %d active users; want 3", got.ActiveUsers)
		}
		// Its domains are free again within the MSP.
		if err := f.app.SetLifecycleByDistributor(ctx, distAdmin, f.mspA.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.CreateCustomer(ctx, admin, app.CustomerInput{Name: "Reborn", Domain: "doomed.example", ExtraDomains: "doomed.test"}); err != nil {
			t.Errorf("reusing a deleted customer's domains: %v", err)
		}
		// The deletion is in the MSP's change log, both as the MSP's own entries and in its subtree view.
		deleted := []canopy.Action{canopy.ActionDeleteCustomer}
		own, err := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: deleted})
		if err != nil || len(own) != 1 || own[0].TargetName != "Doomed" || own[0].TargetID != doomed.TenantID || own[0].Actor.PersonID != 800 || len(own[0].Before) == 0 {
			t.Errorf("MSP's delete_customer entries = %+v, %v", own, err)
		}
		page, err := f.app.ChangeLog(ctx, admin, f.mspA.ID, canopy.ChangeFilter{Actions: deleted, Limit: 10})
		if err != nil || len(page.Entries) != 1 || page.Entries[0].ID != own[0].ID {
			t.Errorf("MSP subtree delete_customer entries = %+v, %v", page.Entries, err)
		}
		// The deleted customer's own entries went with it.
		if n := changeCount(t, f, doomed.ID); n != 0 {
			t.Errorf("deleted customer still has %d change-log entries", n)
		}
	})
}

// Every sort, both directions, small and largest pages: keyset paging
// through app.Customers returns each customer exactly once, in order.
func TestCustomersListPagesEverySort(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		prefixes := []string{"Zeta", "alfa", "Mike", "beta"} // mixed case: the name sort ignores it
		for i := 0; i < 205; i++ {
			c := mustCustomer(t, f.app, admin, app.CustomerInput{Name: fmt.Sprintf("%s%03d", prefixes[i%4], i%50), Domain: fmt.Sprintf("d%03d.example", (i*37)%205)})
			switch {
			case i%7 == 0:
				if _, err := f.app.ChangeCustomerStatus(ctx, admin, c.ID, app.ActionUpgrade, 0); err != nil {
					t.Fatal(err)
				}
			case i%11 == 0:
				if _, err := f.app.ChangeCustomerStatus(ctx, admin, c.ID, app.ActionSuspend, 0); err != nil {
					t.Fatal(err)
				}
			}
			for u := 0; u < i%3; u++ {
				if err := f.app.AddEndUser(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), c.ID, fmt.Sprintf("u%d@%s", u, c.Domain), "", "", true); err != nil {
					t.Fatal(err)
				}
			}
		}
		all, err := s.Orgs(ctx, canopy.ScopeOf(f.mspA), []canopy.OrgKind{canopy.KindCustomer}, 1000)
		if err != nil || len(all) != 206 {
			t.Fatalf("MSP A has %d customers, %v; want 206", len(all), err)
		}
		key := func(sort string, o canopy.Customer) string {
			switch sort {
			case "domain":
				return o.Domain
			case "active_users":
				return fmt.Sprintf("%09d", o.ActiveUsers)
			case "status":
				return string(o.Status)
			}
			return strings.ToLower(o.Name)
		}
		var customers []canopy.Customer
		for _, o := range all {
			c, err := s.Customer(ctx, canopy.ScopeOf(f.mspA), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			customers = append(customers, c)
		}
		for _, sort := range []string{"name", "domain", "active_users", "status"} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(customers)
				slices.SortFunc(want, func(a, b canopy.Customer) int {
					c := strings.Compare(key(sort, a), key(sort, b))
					if c == 0 {
						c = int(a.ID - b.ID)
					}
					if desc {
						c = -c
					}
					return c
				})
				var wantIDs []canopy.OrgID
				for _, c := range want {
					wantIDs = append(wantIDs, c.ID)
				}
				for _, limit := range []int{7, 50, 200} {
					q := store.CustomerQuery{Sort: sort, Desc: desc, Limit: limit}
					var got []canopy.OrgID
					for pages := 0; ; pages++ {
						if pages > 300 {
							t.Fatal("paging does not end")
						}
						page, err := f.app.Customers(ctx, admin, q)
						if err != nil {
							t.Fatal(err)
						}
						if len(page.Rows) > limit || (page.More && len(page.Rows) != limit) {
							t.Fatalf("%s desc=%v limit %d: page of %d rows, more %v", sort, desc, limit, len(page.Rows), page.More)
						}
						for _, r := range page.Rows {
							got = append(got, r.ID)
						}
						if !page.More {
							break
						}
						last := page.Rows[len(page.Rows)-1]
						q.AfterValue, q.AfterID = last.SortValue, last.ID
					}
					if !slices.Equal(got, wantIDs) {
						t.Errorf("%s desc=%v limit %d: got %d rows %v\nwant %d rows %v", sort, desc, limit, len(got), got, len(wantIDs), wantIDs)
					}
				}
			}
		}
		wantField(t, "unknown sort", func() error { _, err := f.app.Customers(ctx, admin, store.CustomerQuery{Sort: "revenue"}); return err }(), "sort")
		wantField(t, "unknown status", func() error { _, err := f.app.Customers(ctx, admin, store.CustomerQuery{Status: "gold"}); return err }(), "status")
	})
}

// Creating a customer with its administrator's address invites them as
// its Admin in the same transaction; accepting makes them the customer's
// first Admin. A bad, disposable or locked-out address creates nothing.
func TestCreateCustomerInvitesItsFirstAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		for addr, field := range map[string]string{"not an address": "admin_email", "boss@mailinator.com": "admin_email", "boss@elsewhere.example": "admin_email"} {
			var fe canopy.FieldErrors
			if _, err := f.app.CreateCustomer(ctx, admin, app.CustomerInput{Name: "Gamma", Domain: "gamma.example", AdminEmail: addr}); !errors.As(err, &fe) || fe[field] == "" {
				t.Errorf("admin %q: %v", addr, err)
			}
		}
		if list, _ := f.app.Customers(ctx, admin, store.CustomerQuery{Search: "Gamma"}); len(list.Rows) != 0 {
			t.Fatalf("a refused creation left %d customers", len(list.Rows))
		}
		c, err := f.app.CreateCustomer(ctx, admin, app.CustomerInput{Name: "Gamma", Domain: "gamma.example", AdminEmail: "Boss@Gamma.example"})
		if err != nil {
			t.Fatal(err)
		}
		pending, err := f.app.PendingInvitations(ctx, admin, c.ID)
		if err != nil || len(pending) != 1 || pending[0].Email != "boss@gamma.example" || pending[0].Role != canopy.RoleCustomerAdmin {
			t.Fatalf("pending = %+v, %v", pending, err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(c.Org), c.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionCreateCustomer, canopy.ActionInviteSent}})
		if len(entries) != 2 {
			t.Errorf("create and invite entries = %d; want 2", len(entries))
		}
		in := app.AcceptInput{Name: "Bo Boss", Password: pw, Confirm: pw, SecurityQuestion: "Pet?", SecurityAnswer: "Rex"}
		boss, err := f.app.AcceptInvitation(ctx, invitationToken(t, s, "boss@gamma.example"), in, "", "")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.MembershipsOf(ctx, boss)
		if err != nil || len(ms) != 1 || ms[0].Org.ID != c.ID || ms[0].Roles[0] != string(canopy.RoleCustomerAdmin) {
			t.Errorf("the first admin's memberships = %+v, %v", ms, err)
		}
	})
}

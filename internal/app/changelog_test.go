package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// changeLogFixture fills MSP A (itself and three customers) and MSP B with
// entries of several actions by three people, several sharing a
// millisecond, so that paging has ties to break.
type changeLogFixture struct {
	fixture
	admin     app.Viewer
	customers []canopy.Customer // MSP A's, custA first
	actors    []canopy.Actor
	start     time.Time
}

func newChangeLogFixture(t *testing.T, s *store.Store) changeLogFixture {
	t.Helper()
	ctx := context.Background()
	f := changeLogFixture{fixture: setup(t, s), start: t0}
	f.admin = viewer(f.mspA, 900, canopy.RoleMSPAdmin)
	adminB := viewer(f.mspB, 901, canopy.RoleMSPAdmin)
	for i := 1; i <= 3; i++ {
		f.actors = append(f.actors, canopy.Actor{Kind: canopy.ActorPerson, PersonID: canopy.PersonID(100 + i), Name: fmt.Sprint("Person ", i)})
	}
	a, err := s.Customer(ctx, canopy.ScopeOf(f.mspA), f.custA.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.customers = append(f.customers, a)
	for i, name := range []string{"=SUM(A1:A9)", "+Plus", "@At"} {
		f.clock.Advance(time.Second)
		c := mustCustomer(t, f.app, f.admin, app.CustomerInput{Name: name, Domain: fmt.Sprintf("c%d.example", i)})
		f.customers = append(f.customers, c)
	}
	mustCustomer(t, f.app, adminB, app.CustomerInput{Name: "Beta Two", Domain: "beta2.example"})
	for i := 0; i < 120; i++ {
		if i%3 == 0 {
			f.clock.Advance(time.Second) // three entries share each millisecond
		}
		actor := f.actors[i%len(f.actors)]
		c := f.customers[i%len(f.customers)]
		scopeA := canopy.ScopeOf(f.mspA)
		var err error
		switch i % 5 {
		case 0, 1:
			err = f.app.AddEndUser(ctx, actor, scopeA, c.ID, fmt.Sprintf("u%d@%s", i, c.Domain), "-Minus", "User", true)
		case 2:
			v := f.admin
			v.Actor = actor
			err = f.app.SetCustomerSetting(ctx, v, c.ID, canopy.SettingEndUserPortal, fmt.Sprint(i%2 == 0), false)
		case 3:
			v := f.admin
			v.Actor = actor
			err = f.app.SetCustomerDefault(ctx, v, f.mspA.ID, canopy.SettingMagicLink, fmt.Sprint(i%2 == 0), false)
		case 4:
			err = f.app.AddEndUser(ctx, actor, canopy.ScopeOf(f.mspB), f.custB.ID, fmt.Sprintf("u%d@beta.example", i), "B", "B", true)
		}
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return f
}

// universe reads every entry of the given organizations' own logs (org_id
// = each, no filter) and returns them newest first: what the filtered
// queries are compared with.
func (f changeLogFixture) universe(t *testing.T, orgs ...canopy.OrgID) []canopy.Change {
	t.Helper()
	var all []canopy.Change
	for _, o := range orgs {
		entries, err := f.store.Changes(context.Background(), canopy.ScopeOf(f.root), o, canopy.ChangeFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 1000 {
			t.Fatalf("org %d has more entries than the universe reads", o)
		}
		all = append(all, entries...)
	}
	sortNewestFirst(all)
	return all
}

func sortNewestFirst(entries []canopy.Change) {
	slices.SortFunc(entries, func(a, b canopy.Change) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
}

// bruteForce filters entries as ChangeFilter says, in Go.
func bruteForce(entries []canopy.Change, f canopy.ChangeFilter) []canopy.ChangeID {
	var out []canopy.ChangeID
	for _, e := range entries {
		switch {
		case len(f.Actions) > 0 && !slices.Contains(f.Actions, e.Action):
		case !f.Since.IsZero() && e.At.Before(f.Since):
		case !f.Until.IsZero() && !e.At.Before(f.Until):
		case f.ActorID != 0 && e.Actor.PersonID != f.ActorID:
		default:
			out = append(out, e.ID)
		}
	}
	return out
}

// allPages reads org's log through app.ChangeLog page by page.
func allPages(t *testing.T, a *app.App, v app.Viewer, org canopy.OrgID, f canopy.ChangeFilter) []canopy.Change {
	t.Helper()
	var out []canopy.Change
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		p, err := a.ChangeLog(context.Background(), v, org, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) > f.Limit {
			t.Fatalf("page of %d entries; limit %d", len(p.Entries), f.Limit)
		}
		out = append(out, p.Entries...)
		if !p.More {
			return out
		}
		if len(p.Entries) == 0 {
			t.Fatal("an empty page says there is more")
		}
		last := p.Entries[len(p.Entries)-1]
		f.BeforeAt, f.BeforeID = last.At, last.ID
	}
}

func ids(entries []canopy.Change) []canopy.ChangeID {
	out := make([]canopy.ChangeID, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

func TestChangeLogFiltersMatchBruteForceWithKeysetPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newChangeLogFixture(t, s)
		orgsA := []canopy.OrgID{f.mspA.ID}
		for _, c := range f.customers {
			orgsA = append(orgsA, c.ID)
		}
		subtree := f.universe(t, orgsA...)
		big := f.customers[1]
		own := f.universe(t, big.ID)
		if len(subtree) < 80 || len(own) < 12 {
			t.Fatalf("fixture too small: %d entries in MSP A's subtree, %d at %s", len(subtree), len(own), big.Name)
		}
		mid := f.start.Add(15 * time.Second)
		end := f.start.Add(30 * time.Second)
		actor := f.actors[1].PersonID
		three := []canopy.Action{canopy.ActionAddUser, canopy.ActionUpdateSettings, canopy.ActionUpdateDefaults}
		filters := []struct {
			name string
			f    canopy.ChangeFilter
		}{
			{"none", canopy.ChangeFilter{}},
			{"one action", canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAddUser}}},
			{"three actions", canopy.ChangeFilter{Actions: three}},
			{"action without entries", canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionRevokeRole}}},
			{"actor", canopy.ChangeFilter{ActorID: actor}},
			{"actor and actions", canopy.ChangeFilter{ActorID: actor, Actions: three[1:]}},
			{"time range", canopy.ChangeFilter{Since: mid, Until: end}},
			{"time range and actions", canopy.ChangeFilter{Since: mid, Until: end, Actions: three}},
			{"since only", canopy.ChangeFilter{Since: end}},
			{"everything", canopy.ChangeFilter{Since: f.start, Until: end, ActorID: actor, Actions: three}},
		}
		views := []struct {
			name    string
			org     canopy.OrgID
			entries []canopy.Change
		}{
			{"MSP subtree", f.mspA.ID, subtree},
			{"customer", big.ID, own},
		}
		for _, view := range views {
			for _, c := range filters {
				want := bruteForce(view.entries, c.f)
				for _, limit := range []int{1, 4, 7, 200} {
					cf := c.f
					cf.Limit = limit
					got := ids(allPages(t, f.app, f.admin, view.org, cf))
					if !slices.Equal(got, want) {
						t.Errorf("%s, %s, %d a page: got %v; want %v", view.name, c.name, limit, got, want)
					}
				}
			}
		}
		// Newest first, for real: times never grow down the list.
		all := allPages(t, f.app, f.admin, f.mspA.ID, canopy.ChangeFilter{Limit: 5})
		for i := 1; i < len(all); i++ {
			if all[i].At.After(all[i-1].At) || (all[i].At.Equal(all[i-1].At) && all[i].ID > all[i-1].ID) {
				t.Fatalf("entry %d (%v #%d) is newer than entry %d (%v #%d)", i, all[i].At, all[i].ID, i-1, all[i-1].At, all[i-1].ID)
			}
		}
		// The MSP subtree holds its customers' entries and never MSP B's.
		seen := map[canopy.OrgID]bool{}
		for _, e := range all {
			seen[e.OrgID] = true
			if !strings.HasPrefix(e.OrgPath, f.mspA.Path) {
				t.Errorf("entry %d of %s in MSP A's log", e.ID, e.OrgPath)
			}
		}
		for _, o := range orgsA {
			if !seen[o] {
				t.Errorf("MSP A's subtree log has no entry of org %d", o)
			}
		}
		orgsB := []canopy.OrgID{f.mspB.ID}
		customersB, _ := s.Orgs(context.Background(), canopy.ScopeOf(f.mspB), []canopy.OrgKind{canopy.KindCustomer}, 100)
		for _, c := range customersB {
			orgsB = append(orgsB, c.ID)
		}
		inB := f.universe(t, orgsB...)
		if len(inB) == 0 {
			t.Fatal("MSP B has no entries")
		}
		for _, e := range inB {
			if slices.Contains(ids(all), e.ID) {
				t.Errorf("MSP B's entry %d is in MSP A's log", e.ID)
			}
		}
		// MSP B's own view: its entries only.
		gotB := ids(allPages(t, f.app, viewer(f.mspB, 901, canopy.RoleMSPAdmin), f.mspB.ID, canopy.ChangeFilter{Limit: 50}))
		if !slices.Equal(gotB, ids(inB)) {
			t.Errorf("MSP B's log = %v; want %v", gotB, ids(inB))
		}
		// A customer's own admin reads its own log, not the MSP's.
		self := viewer(big.Org, 950, canopy.RoleCustomerAdmin)
		if got := ids(allPages(t, f.app, self, big.ID, canopy.ChangeFilter{Limit: 50})); !slices.Equal(got, ids(own)) {
			t.Errorf("customer admin's view = %v; want %v", got, ids(own))
		}
		if _, err := f.app.ChangeLog(context.Background(), self, f.mspA.ID, canopy.ChangeFilter{Limit: 50}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("customer admin reading the MSP's log: err = %v; want ErrNotFound", err)
		}
	})
}

// The zero ChangeFilter (as a Go caller writes it) means the first page of
// the default size, not an empty page with "more".
func TestChangeLogZeroLimitIsTheDefaultPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newChangeLogFixture(t, s)
		p, err := f.app.ChangeLog(context.Background(), f.admin, f.mspA.ID, canopy.ChangeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 50 || !p.More {
			t.Errorf("zero filter: %d entries, more %v; want 50 and more", len(p.Entries), p.More)
		}
	})
}

func TestChangeLogExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newChangeLogFixture(t, s)
		orgsA := []canopy.OrgID{f.mspA.ID}
		for _, c := range f.customers {
			orgsA = append(orgsA, c.ID)
		}
		subtree := f.universe(t, orgsA...)
		filters := []canopy.ChangeFilter{
			{},
			{Actions: []canopy.Action{canopy.ActionCreateCustomer, canopy.ActionAddUser}},
			{ActorID: f.actors[0].PersonID, Since: f.start.Add(5 * time.Second)},
		}
		for _, cf := range filters {
			want := bruteForce(subtree, cf)
			var buf bytes.Buffer
			if err := f.app.ExportChangeLog(ctx, f.admin, f.mspA.ID, cf, app.FormatCSV, &buf); err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("CSV export does not parse: %v", err)
			}
			if len(records) == 0 || !slices.Equal(records[0], app.ExportColumns) {
				t.Fatalf("CSV header = %v; want %v", records[:min(1, len(records))], app.ExportColumns)
			}
			var got []canopy.ChangeID
			for _, r := range records[1:] {
				var id int64
				fmt.Sscan(r[0], &id)
				got = append(got, canopy.ChangeID(id))
			}
			if !slices.Equal(got, want) {
				t.Errorf("CSV export %+v: ids %v; want %v", cf, got, want)
			}

			buf.Reset()
			if err := f.app.ExportChangeLog(ctx, f.admin, f.mspA.ID, cf, app.FormatJSONL, &buf); err != nil {
				t.Fatal(err)
			}
			lines, sc := 0, bufio.NewScanner(&buf)
			for sc.Scan() {
				var e struct {
					ID     int64  `json:"id"`
					Action string `json:"action"`
				}
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("JSONL line %d: %v", lines+1, err)
				}
				if lines < len(want) && canopy.ChangeID(e.ID) != want[lines] {
					t.Errorf("JSONL line %d: id %d; want %d", lines+1, e.ID, want[lines])
				}
				lines++
			}
			if lines != len(want) {
				t.Errorf("JSONL export %+v: %d lines; want %d", cf, lines, len(want))
			}
		}

		// Formula-looking cells are defused; the customers' names start with = + @ and the end users' first names with -.
		var buf bytes.Buffer
		if err := f.app.ExportChangeLog(ctx, f.admin, f.mspA.ID, canopy.ChangeFilter{}, app.FormatCSV, &buf); err != nil {
			t.Fatal(err)
		}
		records, _ := csv.NewReader(&buf).ReadAll()
		col := func(name string) int { return slices.Index(app.ExportColumns, name) }
		escaped := map[string]bool{}
		for _, r := range records[1:] {
			if r[col("action")] == string(canopy.ActionCreateCustomer) && r[col("target")] != "Alpha" {
				target := r[col("target")]
				if !strings.HasPrefix(target, "'") {
					t.Errorf("target %q is not escaped", target)
				}
				escaped[strings.TrimPrefix(target, "'")] = true
			}
			for i, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("column %s: cell %q would run as a formula", app.ExportColumns[i], cell)
				}
			}
		}
		for _, c := range f.customers[1:] {
			if !escaped[c.Name] {
				t.Errorf("no escaped create_customer row for %q", c.Name)
			}
		}
		if got := app.SafeCell("plain"); got != "plain" {
			t.Errorf("SafeCell(plain) = %q", got)
		}

		if err := f.app.ExportChangeLog(ctx, f.admin, f.mspA.ID, canopy.ChangeFilter{}, "xlsx", io.Discard); err == nil {
			t.Error("unknown export format accepted")
		} else {
			wantField(t, "xlsx export", err, "format")
		}
	})
}

// Every call on MSP A's customer by MSP B's admin is answered "not found",
// and changes nothing.
func TestCustomerCrossTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		c := mustCustomer(t, f.app, admin, app.CustomerInput{Name: "Private", Domain: "private.example"})
		if err := f.app.SetCustomerLogo(ctx, admin, c.ID, pngBytes(t)); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
		logBefore := changeCount(t, f, c.ID)
		neighbour := viewer(f.mspB, 901, canopy.RoleMSPAdmin)
		calls := map[string]func() error{
			"Customer": func() error { _, err := f.app.Customer(ctx, neighbour, c.TenantID); return err },
			"UpdateCustomer": func() error {
				_, err := f.app.UpdateCustomer(ctx, neighbour, c.ID, app.CustomerInput{Name: "Taken", Domain: "taken.example"})
				return err
			},
			"ChangeCustomerStatus": func() error {
				_, err := f.app.ChangeCustomerStatus(ctx, neighbour, c.ID, app.ActionSuspend, 0)
				return err
			},
			"DeleteCustomer": func() error { return f.app.DeleteCustomer(ctx, neighbour, c.ID, c.Name) },
			"SetCustomerSetting": func() error {
				return f.app.SetCustomerSetting(ctx, neighbour, c.ID, canopy.SettingEnforceTwoStep, "true", false)
			},
			"reset setting": func() error {
				return f.app.SetCustomerSetting(ctx, neighbour, c.ID, canopy.SettingEnforceTwoStep, "", true)
			},
			"CustomerSettings": func() error { _, err := f.app.CustomerSettings(ctx, neighbour, c.Org); return err },
			"SetCustomerLogo":  func() error { return f.app.SetCustomerLogo(ctx, neighbour, c.ID, pngBytes(t)) },
			"remove logo":      func() error { return f.app.SetCustomerLogo(ctx, neighbour, c.ID, nil) },
			"CustomerLogo":     func() error { _, _, _, err := f.app.CustomerLogo(ctx, neighbour, c.ID); return err },
			"SetCustomerDefault": func() error {
				return f.app.SetCustomerDefault(ctx, neighbour, f.mspA.ID, canopy.SettingTrialDays, "3", false)
			},
			"StartAdminLogin": func() error {
				_, err := f.app.StartAdminLogin(ctx, neighbour, "token", c.ID, "Looking around", 0)
				return err
			},
			"ChangeLog": func() error {
				_, err := f.app.ChangeLog(ctx, neighbour, c.ID, canopy.ChangeFilter{Limit: 50})
				return err
			},
			"ChangeLog of the MSP": func() error {
				_, err := f.app.ChangeLog(ctx, neighbour, f.mspA.ID, canopy.ChangeFilter{Limit: 50})
				return err
			},
			"ExportChangeLog": func() error {
				var buf bytes.Buffer
				err := f.app.ExportChangeLog(ctx, neighbour, c.ID, canopy.ChangeFilter{}, app.FormatCSV, &buf)
				if buf.Len() > 0 {
					t.Errorf("ExportChangeLog wrote %d bytes for a neighbour", buf.Len())
				}
				return err
			},
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, canopy.ErrNotFound) {
				t.Errorf("%s by MSP B: err = %v; want ErrNotFound", name, err)
			}
		}
		// A listing by MSP B never shows the customer.
		list, err := f.app.Customers(ctx, neighbour, store.CustomerQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Rows {
			if r.ID == c.ID {
				t.Error("MSP B's customer list shows MSP A's customer")
			}
		}
		after, err := s.Customer(ctx, canopy.ScopeOf(f.mspA), c.ID)
		if err != nil || after.Name != before.Name || after.Status != before.Status || !after.HasLogo {
			t.Errorf("after the neighbour's calls: %+v, %v; want it unchanged", after, err)
		}
		if got := changeCount(t, f, c.ID); got != logBefore {
			t.Errorf("the neighbour's calls logged %d entries", got-logBefore)
		}
		if m, _ := f.app.CustomerSettings(ctx, admin, c.Org); m[canopy.SettingEnforceTwoStep].Source != canopy.SourceBuiltIn {
			t.Errorf("the neighbour's calls changed a setting: %+v", m[canopy.SettingEnforceTwoStep])
		}
	})
}

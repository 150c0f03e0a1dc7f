package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Adding, deactivating and reactivating end users keeps the customer's
// Active Users count right; Domain Lock and duplicates are refused by field.
func TestEndUsersKeepActiveUsersRight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		active := func() int {
			t.Helper()
			c, err := f.app.Customer(ctx, admin, f.custA.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			return c.ActiveUsers
		}
		for _, e := range []string{"eve@alpha.example", "ian@alpha.example"} {
			if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, e, "Eve", "Lee"); err != nil {
				t.Fatal(err)
			}
		}
		var fe canopy.FieldErrors
		if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, "eve@alpha.example", "", ""); !errors.As(err, &fe) || fe["email"] == "" {
			t.Errorf("a duplicate: %v", err)
		}
		if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, "out@elsewhere.example", "", ""); !errors.As(err, &fe) || fe["email"] == "" {
			t.Errorf("outside the Domain Lock: %v", err)
		}
		if got := active(); got != 2 {
			t.Errorf("active users = %d; want 2", got)
		}
		page, err := f.app.EndUsers(ctx, admin, f.custA.ID, app.EndUserQuery{})
		users := page.Users
		if err != nil || len(users) != 2 || users[0].Email != "eve@alpha.example" {
			t.Fatalf("end users = %+v, %v", users, err)
		}
		if err := f.app.SetEndUserActive(ctx, admin, f.custA.ID, users[0].ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.app.SetEndUserActive(ctx, admin, f.custA.ID, users[0].ID, false); err != nil {
			t.Fatal(err) // twice: no double count
		}
		if got := active(); got != 1 {
			t.Errorf("after deactivation: %d; want 1", got)
		}
		if err := f.app.SetEndUserActive(ctx, admin, f.custA.ID, users[0].ID, true); err != nil {
			t.Fatal(err)
		}
		if got := active(); got != 2 {
			t.Errorf("after reactivation: %d; want 2", got)
		}
		if err := s.VerifyActiveUserCounts(ctx); err != nil {
			t.Error(err)
		}
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := f.app.SetEndUserActive(ctx, other, f.custA.ID, users[0].ID, false); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B deactivates A's end user: %v", err)
		}
		if err := f.app.SetEndUserActive(ctx, admin, f.custA.ID, 999999, false); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("an unknown end user: %v", err)
		}
		if _, err := f.app.EndUsers(ctx, other, f.custA.ID, app.EndUserQuery{}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B lists A's end users: %v", err)
		}
	})
}

// A CSV import reports every row; the valid rows go in together and the
// Active Users count follows.
func TestImportEndUsersReportsEveryRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, "old@alpha.example", "", ""); err != nil {
			t.Fatal(err)
		}
		file := "Email,First name,Last name\n" +
			"ann@alpha.example,Ann,Lee\n" +
			"not-an-address,X,Y\n" +
			"ann@alpha.example,Ann,Again\n" +
			"out@else.example,Out,Side\n" +
			"old@alpha.example,Old,User\n" +
			"\"bad,quote\n"
		report, imported, err := f.app.ImportEndUsers(ctx, admin, f.custA.ID, strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if imported != 1 {
			t.Errorf("imported = %d; want 1", imported)
		}
		wantImported := []bool{true, false, false, false, false, false}
		if len(report) != len(wantImported) {
			t.Fatalf("report = %+v", report)
		}
		for i, r := range report {
			if r.Imported != wantImported[i] || (!r.Imported && r.Reason == "") {
				t.Errorf("line %d (%s): imported %v, %q", r.Line, r.Email, r.Imported, r.Reason)
			}
		}
		if report[0].Line != 1 || report[4].Reason != "Already an end user of Alpha." {
			t.Errorf("line numbers or reasons: %+v", report)
		}
		c, _ := f.app.Customer(ctx, admin, f.custA.TenantID)
		if c.ActiveUsers != 2 {
			t.Errorf("active users = %d; want 2", c.ActiveUsers)
		}
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if _, _, err := f.app.ImportEndUsers(ctx, other, f.custA.ID, strings.NewReader("x@alpha.example\n")); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B imports into A: %v", err)
		}
	})
}

// Searching end users: prefix first, contains when asked or when nothing
// starts with the query; paging keeps the mode; nobody outside the
// viewer's scope is ever found, and another tenant's customer is 404.
func TestEndUserSearchModesPagingAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		mspA := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		mspB := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Bo"}
		custA := app.Viewer{Org: f.custA, Roles: []canopy.Role{canopy.RoleCustomerAdmin}, Name: "Ada"}
		dist := app.Viewer{Org: f.dist, Roles: []canopy.Role{canopy.RoleDistributorAdmin}, Name: "Dee"}
		sys := canopy.System("test")
		var want []string
		for i := range 60 {
			e := fmt.Sprintf("smith%02d@alpha.example", i)
			want = append(want, e)
			if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.root), f.custA.ID, e, "Jane", "Smith", true); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.root), f.custA.ID, "pat@alpha.example", "Pat", "Goldsmith", true); err != nil {
			t.Fatal(err)
		}
		// Beta's user would match every query below.
		if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.root), f.custB.ID, "smith@beta.example", "Smith", "Goldsmith", true); err != nil {
			t.Fatal(err)
		}
		collect := func(v app.Viewer, q app.EndUserQuery, wide bool) (emails []string, contains bool) {
			t.Helper()
			for range 10 {
				var page app.EndUserPage
				var err error
				if wide {
					page, err = f.app.SearchEndUsers(ctx, v, q)
				} else {
					page, err = f.app.EndUsers(ctx, v, f.custA.ID, q)
				}
				if err != nil {
					t.Fatalf("search %+v: %v", q, err)
				}
				for _, u := range page.Users {
					emails = append(emails, u.Email)
				}
				contains = page.Contains
				if page.Next == "" {
					return emails, contains
				}
				q.After, q.Contains = page.Next, page.Contains
			}
			t.Fatal("paging does not end")
			return nil, false
		}
		// Prefix over two pages (50 + 10), by email.
		got, contains := collect(mspA, app.EndUserQuery{Q: "SMITH"}, false)
		if contains || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("prefix smith = %v (contains %v); want the 60 smiths by email", got, contains)
		}
		// Nothing starts with "oldsmi": the search falls back to contains.
		got, contains = collect(custA, app.EndUserQuery{Q: "oldsmi"}, false)
		if !contains || strings.Join(got, ",") != "pat@alpha.example" {
			t.Errorf("oldsmi = %v (contains %v); want pat by contains", got, contains)
		}
		// Asked for contains: every Smith and Goldsmith, in the order added.
		got, contains = collect(mspA, app.EndUserQuery{Q: "smith", Contains: true}, false)
		if !contains || len(got) != 61 || got[60] != "pat@alpha.example" {
			t.Errorf("contains smith = %d rows (contains %v), last %v; want 61 ending with pat", len(got), contains, got[len(got)-1:])
		}
		// Two characters are too few for contains: searched as a prefix.
		if got, contains = collect(mspA, app.EndUserQuery{Q: "sm", Contains: true}, false); contains || len(got) != 60 {
			t.Errorf("contains sm = %d rows (contains %v); want the 60 prefix matches", len(got), contains)
		}
		// Scope: MSP A and the distributor search their subtree; MSP B sees
		// only Beta's user; MSP B asking for Alpha is 404.
		for _, c := range []struct {
			name string
			v    app.Viewer
			want int
		}{{"MSP A", mspA, 61}, {"customer A", custA, 61}, {"MSP B", mspB, 1}, {"distributor", dist, 62}} {
			if got, _ := collect(c.v, app.EndUserQuery{Q: "smith", Contains: true}, true); len(got) != c.want {
				t.Errorf("%s searching its scope found %d; want %d", c.name, len(got), c.want)
			}
		}
		if got, _ := collect(mspB, app.EndUserQuery{Q: "smith"}, true); strings.Join(got, ",") != "smith@beta.example" {
			t.Errorf("MSP B's prefix search = %v; want Beta's user only", got)
		}
		if _, err := f.app.EndUsers(ctx, mspB, f.custA.ID, app.EndUserQuery{Q: "smith"}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B searching Alpha: %v; want not found", err)
		}
		user := app.Viewer{Org: f.custA, Roles: []canopy.Role{canopy.RoleCustomerUser}, Name: "Una"}
		if _, err := f.app.EndUsers(ctx, user, f.custA.ID, app.EndUserQuery{Q: "smith"}); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("a customer User searching: %v; want forbidden", err)
		}
		if _, err := f.app.SearchEndUsers(ctx, user, app.EndUserQuery{Q: "smith"}); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("a customer User searching its scope: %v; want forbidden", err)
		}
	})
}

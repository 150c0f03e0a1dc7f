package app_test

import (
	"context"
	"errors"
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

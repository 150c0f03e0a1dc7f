package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

const pw = "violet tractor under moonlight"

// registeredStaff creates, registers and signs in a staff user at MSP A.
func registeredStaff(t *testing.T, f fixture, email string) app.Viewer {
	t.Helper()
	ctx := context.Background()
	if _, err := f.app.CreateStaff(ctx, viewer(f.mspA, 900, canopy.RoleMSPAdmin), app.StaffInput{OrgID: f.mspA.ID, Name: "Tom Okafor", Email: email, Roles: []canopy.Role{canopy.RoleMSPAccounts}}); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Register(ctx, registrationToken(t, f.store, email), app.RegisterInput{Password: pw, Confirm: pw, SecurityQuestion: "Pet?", SecurityAnswer: "Rex"}, "", ""); err != nil {
		t.Fatal(err)
	}
	session, err := f.app.SignInPassword(ctx, email, pw, "", "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.app.Authenticate(ctx, session, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTwoStepEnrolmentAndSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		v := registeredStaff(t, f, "tom@a.example")

		enrol, err := f.app.BeginTOTP(ctx, v)
		if err != nil || enrol.Secret == "" {
			t.Fatalf("BeginTOTP = %+v, %v", enrol, err)
		}
		var fe canopy.FieldErrors
		if _, err := f.app.ConfirmTOTP(ctx, v, "000000"); !errors.As(err, &fe) || fe["code"] == "" {
			t.Errorf("wrong enrolment code: err = %v", err)
		}
		code, _ := auth.TOTPCode(enrol.Secret, f.clock.Now())
		recovery, err := f.app.ConfirmTOTP(ctx, v, code)
		if err != nil || len(recovery) != 10 {
			t.Fatalf("ConfirmTOTP = %d codes, %v", len(recovery), err)
		}
		if _, err := f.app.BeginTOTP(ctx, v); !errors.Is(err, canopy.ErrConflict) {
			t.Errorf("enrolling twice: err = %v", err)
		}

		// The password alone no longer opens a session.
		f.clock.Advance(time.Minute)
		_, err = f.app.SignInPassword(ctx, "tom@a.example", pw, "", "")
		var need app.SecondFactorRequired
		if !errors.As(err, &need) || need.Token == "" {
			t.Fatalf("password with two-step on: err = %v; want SecondFactorRequired", err)
		}
		// The code used at enrolment, a minute old, is refused.
		if _, err := f.app.SignInSecondFactor(ctx, need.Token, code, "", ""); !errors.Is(err, app.ErrBadSecondFactor) {
			t.Errorf("old enrolment code: err = %v", err)
		}
		fresh, _ := auth.TOTPCode(enrol.Secret, f.clock.Now())
		session, err := f.app.SignInSecondFactor(ctx, need.Token, fresh, "", "")
		if err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
			t.Fatalf("session after two-step: %v", err)
		}
		// The same code again, on a new password step, is refused.
		_, err = f.app.SignInPassword(ctx, "tom@a.example", pw, "", "")
		errors.As(err, &need)
		if _, err := f.app.SignInSecondFactor(ctx, need.Token, fresh, "", ""); !errors.Is(err, app.ErrBadSecondFactor) {
			t.Errorf("replayed code: err = %v", err)
		}
		// A recovery code works once.
		if _, err := f.app.SignInSecondFactor(ctx, need.Token, recovery[3], "", ""); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		_, err = f.app.SignInPassword(ctx, "tom@a.example", pw, "", "")
		errors.As(err, &need)
		if _, err := f.app.SignInSecondFactor(ctx, need.Token, recovery[3], "", ""); !errors.Is(err, app.ErrBadSecondFactor) {
			t.Errorf("recovery code used twice: err = %v", err)
		}
		// The pending step expires after five minutes.
		f.clock.Advance(6 * time.Minute)
		later, _ := auth.TOTPCode(enrol.Secret, f.clock.Now())
		if _, err := f.app.SignInSecondFactor(ctx, need.Token, later, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) || errors.Is(err, app.ErrBadSecondFactor) {
			t.Errorf("expired pending sign-in: err = %v", err)
		}
		// Enabling was logged.
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionUpdateUser}})
		found := false
		for _, e := range entries {
			if string(e.After) == `{"two_step":"on"}` {
				found = true
			}
		}
		if !found {
			t.Error("no change-log entry for enabling two-step verification")
		}
	})
}

func TestAdminResendsRegistrationAndResetsTwoStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		neighbour := viewer(f.mspB, 901, canopy.RoleMSPAdmin)
		p, err := f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Ana", Email: "ana@a.example", Roles: []canopy.Role{canopy.RolePartnerMarketing}})
		if err != nil {
			t.Fatal(err)
		}
		first := registrationToken(t, s, "ana@a.example")
		if err := f.app.ResendRegistration(ctx, neighbour, p.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour resends: err = %v", err)
		}
		f.clock.Advance(time.Second)
		if err := f.app.ResendRegistration(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		second := registrationToken(t, s, "ana@a.example")
		if second == first {
			t.Fatal("resend reused the old link")
		}
		if _, err := f.app.RegistrationFor(ctx, first); !errors.Is(err, app.ErrRegistrationLinkUnusable) {
			t.Errorf("old link after resend: err = %v", err)
		}
		if _, err := f.app.RegistrationFor(ctx, second); err != nil {
			t.Errorf("new link: %v", err)
		}

		v := registeredStaff(t, f, "tom@a.example")
		enrol, _ := f.app.BeginTOTP(ctx, v)
		code, _ := auth.TOTPCode(enrol.Secret, f.clock.Now())
		if _, err := f.app.ConfirmTOTP(ctx, v, code); err != nil {
			t.Fatal(err)
		}
		if err := f.app.ResetTwoStep(ctx, neighbour, v.PersonID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour resets two-step: err = %v", err)
		}
		if err := f.app.ResetTwoStep(ctx, viewer(f.mspA, 902, canopy.RoleMSPAccounts), v.PersonID); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("MSP Accounts resets two-step: err = %v", err)
		}
		if err := f.app.ResetTwoStep(ctx, admin, v.PersonID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", pw, "", ""); err != nil {
			t.Errorf("after the reset the password alone should sign in: %v", err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionReset2FA, canopy.ActionRegistrationResent}})
		if len(entries) != 2 {
			t.Errorf("change log has %d reset/resend entries; want 2", len(entries))
		}
	})
}

// A person who uses two customers must enrol in two-step verification at
// their next sign-in as soon as either enforces it, wherever they sign in
// (strictest wins), and is free again when neither does. Customer
// enforcement follows the customer's setting, inherited or overridden.
func TestTwoStepStrictestWinsAcrossCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		msps := map[canopy.OrgID]app.Viewer{f.custA.ID: viewer(f.mspA, 900, canopy.RoleMSPAdmin), f.custB.ID: viewer(f.mspB, 901, canopy.RoleMSPAdmin)}
		set := func(c canopy.Org, key canopy.SettingKey, on bool) {
			t.Helper()
			if err := f.app.SetCustomerSetting(ctx, msps[c.ID], c.ID, key, fmt.Sprint(on), false); err != nil {
				t.Fatal(err)
			}
		}
		// Ann joins Alpha, then Beta (whose Domain Lock is off).
		set(f.custB, canopy.SettingDomainLock, false)
		for _, c := range []canopy.Org{f.custA, f.custB} {
			if _, err := f.app.InviteUsers(ctx, msps[c.ID], c.ID, app.InviteInput{Addresses: "ann@alpha.example"}); err != nil {
				t.Fatal(err)
			}
			in := app.AcceptInput{Name: "Ann", Password: pw, Confirm: pw, SecurityQuestion: "Pet?", SecurityAnswer: "Rex"}
			if _, err := f.app.AcceptInvitation(ctx, invitationToken(t, s, "ann@alpha.example"), in, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		mustEnrol := func() bool {
			t.Helper()
			session, err := f.app.SignInPassword(ctx, "ann@alpha.example", pw, "", "")
			if err != nil {
				t.Fatal(err)
			}
			v, err := f.app.Authenticate(ctx, session, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return v.MustEnrolTwoStep
		}
		if mustEnrol() {
			t.Error("enrolment required while no customer enforces it")
		}
		set(f.custB, canopy.SettingEnforceTwoStep, true)
		if !mustEnrol() {
			t.Error("Beta enforces two-step: Ann must enrol")
		}
		set(f.custB, canopy.SettingEnforceTwoStep, false)
		set(f.custA, canopy.SettingEnforceTwoStep, true)
		if !mustEnrol() {
			t.Error("Alpha enforces two-step: Ann must enrol")
		}
		set(f.custA, canopy.SettingEnforceTwoStep, false)
		if mustEnrol() {
			t.Error("enrolment still required after both stopped enforcing")
		}
	})
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Through the API: a person accepts an invitation (name, password,
// security question), signs in, reads and changes My Details and the
// password, and changes email; an Admin sets a User's permissions, which a
// neighbour cannot; a User is refused user management; an end user asks
// for a portal link and gets the one answer.
func TestAPIMyDetailsInvitationPermissionsAndPortal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		api := w.srv.URL + "/api/v1"
		a := api + "/customers/" + w.custA.TenantID
		coraV := app.Viewer{PersonID: w.staffCus.ID, Org: w.custA, Roles: []canopy.Role{canopy.RoleCustomerAdmin},
			Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: w.staffCus.ID, Name: "Cora"}}
		north, err := w.app.CreateSubAccount(ctx, coraV, w.custA.ID, 0, "North")
		if err != nil {
			t.Fatal(err)
		}
		if code, _, body := apiCall(t, cora, "POST", a+"/invitations", `{"addresses":["ann@alpha.example"],"sub_accounts":["`+w.custB.TenantID+`"]}`); code != 422 || !strings.Contains(body, "body.sub_accounts") {
			t.Errorf("inviting with another customer as a sub-account: %d %s", code, body)
		}
		if code, _, body := apiCall(t, cora, "POST", a+"/invitations", `{"addresses":["ann@alpha.example"],"modules":["training"],"sub_accounts":["`+north.TenantID+`"]}`); code != 200 || !strings.Contains(body, `"invited"`) {
			t.Fatalf("invite: %d %s", code, body)
		}
		token := storetest.TokenInMail(t, s, "ann@alpha.example", "/invitations/")
		anon := &http.Client{}
		const pw = "violet tractor under moonlight"
		if code, _, body := apiCall(t, anon, "POST", api+"/invitations/"+token, `{"name":"Ann Lee","password":"`+pw+`","confirm":"`+pw+`"}`); code != 422 || !strings.Contains(body, "body.security_question") {
			t.Errorf("accepting without a security question: %d %s", code, body)
		}
		if code, _, body := apiCall(t, anon, "POST", api+"/invitations/"+token, `{"name":"Ann Lee","password":"`+pw+`","confirm":"`+pw+`","security_question":"First pet?","security_answer":"Rex"}`); code != 204 {
			t.Fatalf("accepting: %d %s", code, body)
		}
		if code, _, _ := apiCall(t, anon, "POST", api+"/invitations/"+token, `{"name":"Ann Lee","password":"`+pw+`","confirm":"`+pw+`","security_question":"First pet?","security_answer":"Rex"}`); code != 404 {
			t.Errorf("the spent invitation again: %d", code)
		}
		jar, _ := cookiejar.New(nil)
		ann := &http.Client{Jar: jar}
		if code, _, body := apiCall(t, ann, "POST", api+"/sessions", `{"email":"ann@alpha.example","password":"`+pw+`"}`); code != 201 {
			t.Fatalf("Ann signs in: %d %s", code, body)
		}

		// My Details.
		if code, _, body := apiCall(t, ann, "GET", api+"/me/details", ""); code != 200 || !strings.Contains(body, `"name":"Ann Lee"`) || !strings.Contains(body, `"email_locked_by":[]`) {
			t.Errorf("my details: %d %s", code, body)
		}
		if code, _, body := apiCall(t, ann, "PUT", api+"/me/details", `{"name":"","phone":"call me"}`); code != 422 || !strings.Contains(body, "body.name") || !strings.Contains(body, "body.phone") {
			t.Errorf("bad details: %d %s", code, body)
		}
		if code, _, body := apiCall(t, ann, "PUT", api+"/me/details", `{"name":"Ann Lee-Park","phone":"+44 20 7946 0000"}`); code != 204 {
			t.Errorf("details: %d %s", code, body)
		}
		const pw2 = "silver heron over quiet water"
		if code, _, body := apiCall(t, ann, "PUT", api+"/me/password", `{"current":"wrong wrong wrong","password":"`+pw2+`","confirm":"`+pw2+`"}`); code != 422 || !strings.Contains(body, "body.current") {
			t.Errorf("password with a wrong current one: %d %s", code, body)
		}
		if code, _, body := apiCall(t, ann, "PUT", api+"/me/password", `{"current":"`+pw+`","password":"`+pw2+`","confirm":"`+pw2+`"}`); code != 204 {
			t.Errorf("password change: %d %s", code, body)
		}
		if _, err := w.app.SignInPassword(ctx, "ann@alpha.example", pw2, "", ""); err != nil {
			t.Errorf("signing in with the new password: %v", err)
		}
		if code, _, _ := apiCall(t, ann, "GET", api+"/me/details", ""); code != 200 {
			t.Errorf("the session that changed the password ended: %d", code)
		}
		if code, _, body := apiCall(t, ann, "POST", api+"/me/email", `{"email":"ann.lee@alpha.example"}`); code != 202 {
			t.Fatalf("email change: %d %s", code, body)
		}
		etoken := storetest.TokenInMail(t, s, "ann.lee@alpha.example", "/account/email/")
		if code, _, body := apiCall(t, anon, "POST", api+"/email-changes/"+etoken, ""); code != 204 {
			t.Errorf("confirming the email: %d %s", code, body)
		}
		if code, _, body := apiCall(t, ann, "GET", api+"/me/details", ""); !strings.Contains(body, "ann.lee@alpha.example") {
			t.Errorf("after the change: %d %s", code, body)
		}

		// Permissions: Ann is a User; she may not manage users.
		if code, _, _ := apiCall(t, ann, "GET", a+"/users", ""); code != 403 {
			t.Errorf("a User listing users: %d", code)
		}
		var me struct{ ID int64 }
		_, _, body := apiCall(t, ann, "GET", api+"/me", "")
		json.Unmarshal([]byte(body), &me)
		perm := fmt.Sprintf("%s/users/%d/permissions", a, me.ID)
		if code, _, body := apiCall(t, ann, "PUT", perm, `{"role":"customer_admin"}`); code != 422 || !strings.Contains(body, "your own permissions") {
			t.Errorf("Ann making herself Admin: %d %s", code, body)
		}
		if code, _, _ := apiCall(t, ann, "PUT", fmt.Sprintf("%s/users/%d/permissions", a, w.staffCus.ID), `{"role":"customer_user"}`); code != 403 {
			t.Errorf("Ann demoting Cora: %d", code)
		}
		if code, _, body := apiCall(t, cora, "PUT", perm, `{"role":"customer_user","modules":["payment"]}`); code != 422 || !strings.Contains(body, "body.modules") {
			t.Errorf("Payment for a User: %d %s", code, body)
		}
		if code, _, body := apiCall(t, cora, "PUT", perm, `{"role":"customer_user","sub_accounts":["`+w.custB.TenantID+`"]}`); code != 422 || !strings.Contains(body, "body.sub_accounts") {
			t.Errorf("another customer as a sub-account: %d %s", code, body)
		}
		if code, _, body := apiCall(t, cora, "PUT", perm, `{"role":"customer_user","modules":["training","phishing"],"sub_accounts":["`+north.TenantID+`"]}`); code != 204 {
			t.Errorf("permissions: %d %s", code, body)
		}
		if code, _, body := apiCall(t, cora, "GET", a+"/users", ""); code != 200 || !strings.Contains(body, `"sub_accounts":["`+north.TenantID+`"]`) {
			t.Errorf("users list with Ann's sub-accounts: %d %s", code, body)
		}
		u, err := w.app.AccountUser(ctx, coraV, w.custA.ID, canopy.PersonID(me.ID))
		if err != nil || len(u.Modules) != 2 || len(u.SubAccounts) != 1 || u.SubAccounts[0] != north.ID {
			t.Errorf("Ann's grants = %+v, %v", u, err)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		bo, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(w.mspB), app.NewStaff{OrgID: w.mspB.ID, Name: "Bo", Email: "bo@b.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		boC := w.client(t, bo.ID, w.mspB.ID)
		if code, _, _ := apiCall(t, boC, "PUT", perm, `{"role":"customer_admin"}`); code != 404 {
			t.Errorf("MSP B setting Ann's permissions: %d", code)
		}
		if code, _, _ := apiCall(t, boC, "PUT", fmt.Sprintf("%s/customers/%s/users/%d/permissions", api, w.custB.TenantID, me.ID), `{"role":"customer_admin"}`); code != 404 {
			t.Errorf("MSP B with Ann under Beta's URL: %d", code)
		}
		if code, _, body := apiCall(t, maya, "PUT", perm, `{"role":"customer_user","modules":["training"]}`); code != 204 {
			t.Errorf("Maya (above Alpha) setting permissions: %d %s", code, body)
		}
		if u, _ := w.app.AccountUser(ctx, coraV, w.custA.ID, canopy.PersonID(me.ID)); u.Role != canopy.RoleCustomerUser || len(u.Modules) != 1 {
			t.Errorf("Ann after MSP B's attempts and Maya's change: %+v", u)
		}

		// The end-user portal's link request: one answer; a link only for
		// an end user of Alpha.
		if code, _, body := apiCall(t, cora, "POST", a+"/end-users", `{"email":"eve@alpha.example","first_name":"Eve"}`); code != 204 {
			t.Fatalf("add end user: %d %s", code, body)
		}
		portal := api + "/portal/" + w.custA.TenantID + "/links"
		for _, addr := range []string{"eve@alpha.example", "nobody@alpha.example", "eve@beta.example"} {
			if code, _, body := apiCall(t, anon, "POST", portal, `{"email":"`+addr+`"}`); code != 202 || !strings.Contains(body, "If this address belongs to Alpha, a link is on its way") {
				t.Errorf("portal link for %s: %d %s", addr, code, body)
			}
		}
		if got := storetest.TokenInMail(t, s, "eve@alpha.example", "/portal/"+w.custA.TenantID+"/link/"); got == "" {
			t.Error("no portal link for Eve")
		}
		for _, addr := range []string{"nobody@alpha.example", "eve@beta.example"} {
			if mails, _ := s.RecentMail(ctx, addr, 0, 1); len(mails) != 0 {
				t.Errorf("a portal mail went to %s", addr)
			}
		}
		if code, _, body := apiCall(t, anon, "POST", portal, `{"email":"not an address"}`); code != 422 || !strings.Contains(body, "body.email") {
			t.Errorf("a malformed address: %d %s", code, body)
		}
		if code, _, _ := apiCall(t, anon, "POST", api+"/portal/"+w.mspA.TenantID+"/links", `{"email":"eve@alpha.example"}`); code != 404 {
			t.Errorf("an MSP's tenant ID as a portal: %d", code)
		}
	})
}

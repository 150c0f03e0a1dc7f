package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// The JSON API of a customer's users: invitations with a result per
// address, pending list, resend and remove; users; end users; every route
// of a neighbour's customer is 404.
func TestAPICustomerUsersInvitationsAndEndUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/api/v1/customers/" + w.custA.TenantID
		code, _, body := apiCall(t, maya, "POST", a+"/invitations", `{"addresses":["ann@alpha.example","x@mailinator.com","ann@alpha.example"],"modules":["training"]}`)
		var inv struct {
			Results []struct{ Address, Outcome, Reason string }
		}
		json.Unmarshal([]byte(body), &inv)
		if code != 200 || len(inv.Results) != 3 || inv.Results[0].Outcome != "invited" || inv.Results[1].Outcome != "disposable" || inv.Results[2].Outcome != "listed_twice" {
			t.Fatalf("invite: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", a+"/invitations", `{"modules":["payment"],"addresses":["b@alpha.example"]}`); code != 422 || !strings.Contains(body, "Admins only") {
			t.Errorf("a User with Payment: %d %s", code, body)
		}
		code, _, body = apiCall(t, maya, "GET", a+"/invitations", "")
		var pending struct{ Items []struct{ ID int64 } }
		json.Unmarshal([]byte(body), &pending)
		if code != 200 || len(pending.Items) != 1 {
			t.Fatalf("pending: %d %s", code, body)
		}
		invID := fmt.Sprint(pending.Items[0].ID)
		if code, _, body := apiCall(t, maya, "POST", a+"/invitations/"+invID+"/resend", ""); code != 204 {
			t.Errorf("resend: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", a+"/end-users", `{"email":"eve@alpha.example","first_name":"Eve"}`); code != 204 {
			t.Errorf("add end user: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", a+"/end-users", `{"email":"eve@else.example"}`); code != 422 || !strings.Contains(body, "Domain Lock") {
			t.Errorf("outside the lock: %d %s", code, body)
		}
		code, _, body = apiCall(t, maya, "GET", a+"/end-users", "")
		var eus struct{ Items []struct{ ID int64 } }
		json.Unmarshal([]byte(body), &eus)
		if code != 200 || len(eus.Items) != 1 {
			t.Fatalf("end users: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "PUT", a+"/end-users/"+fmt.Sprint(eus.Items[0].ID)+"/status", `{"active":false}`); code != 204 {
			t.Errorf("deactivate end user: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", a+"/users", ""); code != 200 || !strings.Contains(body, "cora@alpha.example") {
			t.Errorf("users: %d %s", code, body)
		}
		if code, _, _ := apiCall(t, maya, "DELETE", a+"/invitations/"+invID, ""); code != 204 {
			t.Errorf("remove invitation: %d", code)
		}
		b := w.srv.URL + "/api/v1/customers/" + w.custB.TenantID
		for _, c := range []struct{ method, u, body string }{
			{"POST", b + "/invitations", `{"addresses":["q@beta.example"]}`}, {"GET", b + "/invitations", ""}, {"POST", b + "/invitations/" + invID + "/resend", ""},
			{"DELETE", b + "/invitations/" + invID, ""}, {"GET", b + "/users", ""}, {"PUT", b + fmt.Sprintf("/users/%d/status", w.staffCus.ID), `{"active":false}`},
			{"DELETE", b + fmt.Sprintf("/users/%d", w.staffCus.ID), ""}, {"GET", b + "/end-users", ""}, {"POST", b + "/end-users", `{"email":"q@beta.example"}`},
			{"PUT", b + "/end-users/" + fmt.Sprint(eus.Items[0].ID) + "/status", `{"active":true}`},
			{"PUT", a + "/end-users/999999/status", `{"active":true}`},
		} {
			if code, _, body := apiCall(t, maya, c.method, c.u, c.body); code != 404 {
				t.Errorf("%s %s: %d %s; want 404", c.method, strings.TrimPrefix(c.u, w.srv.URL), code, body)
			}
		}
	})
}

package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// addSearchUsers adds end users to Alpha and Beta whose names a search for
// "smith" would find.
func addSearchUsers(t *testing.T, w world) {
	t.Helper()
	ctx := context.Background()
	sys := canopy.System("test")
	root := canopy.Scope{Root: w.custA.ID, Path: w.custA.Path}
	for _, u := range [][3]string{{"jane.smith@alpha.example", "Jane", "Smith"}, {"pat@alpha.example", "Pat", "Goldsmith"}, {"ann@alpha.example", "Ann", "Lee"}} {
		if err := w.app.AddEndUser(ctx, sys, root, w.custA.ID, u[0], u[1], u[2], true); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.app.AddEndUser(ctx, sys, canopy.Scope{Root: w.custB.ID, Path: w.custB.Path}, w.custB.ID, "smith@beta.example", "Sam", "Smith", true); err != nil {
		t.Fatal(err)
	}
}

// The Users tab's search box: htmx asks for the end-user list alone, by
// prefix or contains; a neighbour's customer is 404.
func TestWebEndUserSearchBox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		addSearchUsers(t, w)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		tab := w.srv.URL + "/customers/" + w.custA.TenantID + "/users"
		if _, body := fetch(t, maya, tab); !strings.Contains(body, `id="eu-q"`) || !strings.Contains(body, `hx-target="#end-users"`) {
			t.Fatal("the Users tab has no search box")
		}
		search := func(c *http.Client, u string, q url.Values) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", u+"?"+q.Encode(), nil)
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Target", "end-users")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		code, body := search(maya, tab, url.Values{"q": {"Smi"}})
		if code != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<div id="end-users">`) || strings.Contains(body, "Invite users") {
			t.Fatalf("search-as-you-type: %d, want the list alone:\n%s", code, body)
		}
		if !strings.Contains(body, "jane.smith@alpha.example") || strings.Contains(body, "pat@alpha.example") || strings.Contains(body, "ann@alpha.example") || strings.Contains(body, "beta.example") {
			t.Errorf("prefix smi: want Jane only:\n%s", body)
		}
		_, body = search(maya, tab, url.Values{"q": {"smith"}, "contains": {"1"}})
		if !strings.Contains(body, "jane.smith@alpha.example") || !strings.Contains(body, "pat@alpha.example") || strings.Contains(body, "beta.example") {
			t.Errorf("contains smith: want Jane and Pat:\n%s", body)
		}
		_, body = search(maya, tab, url.Values{"q": {"oldsm"}})
		if !strings.Contains(body, "pat@alpha.example") || !strings.Contains(body, "contains “oldsm”") {
			t.Errorf("a prefix that finds nobody falls back to contains:\n%s", body)
		}
		_, body = search(maya, tab, url.Values{"q": {`%"*`}, "contains": {"1"}})
		if strings.Contains(body, "@alpha.example") || !strings.Contains(body, "No end user matches") {
			t.Errorf("search syntax characters matched users:\n%s", body)
		}
		// Without htmx the whole tab comes back, the query kept in the box.
		if _, body := fetch(t, maya, tab+"?q=ann"); !strings.Contains(body, `value="ann"`) || !strings.Contains(body, "ann@alpha.example") || strings.Contains(body, "jane.smith@") {
			t.Error("the full page does not apply or keep the search")
		}
		if code, _ := search(maya, w.srv.URL+"/customers/"+w.custB.TenantID+"/users", url.Values{"q": {"smith"}}); code != 404 {
			t.Errorf("MSP A searching Beta's users: %d; want 404", code)
		}
	})
}

// The API's end-user list takes q (and contains); a neighbour's customer
// is 404.
func TestAPIEndUserSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		addSearchUsers(t, w)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		a := w.srv.URL + "/api/v1/customers/" + w.custA.TenantID + "/end-users"
		var out struct {
			Items    []struct{ Email string }
			Contains bool
			Next     string
		}
		list := func(q string) []string {
			t.Helper()
			code, _, body := apiCall(t, cora, "GET", a+"?"+q, "")
			out.Items, out.Contains = nil, false
			if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
				t.Fatalf("GET ?%s: %d %s", q, code, body)
			}
			var got []string
			for _, it := range out.Items {
				got = append(got, it.Email)
			}
			return got
		}
		if got := list("q=JANE"); strings.Join(got, ",") != "jane.smith@alpha.example" || out.Contains {
			t.Errorf("q=JANE: %v contains=%v", got, out.Contains)
		}
		if got := list("q=smith&contains=true"); strings.Join(got, ",") != "jane.smith@alpha.example,pat@alpha.example" || !out.Contains {
			t.Errorf("contains smith: %v contains=%v", got, out.Contains)
		}
		if got := list("q=" + url.QueryEscape(`" OR "`) + "&contains=true"); len(got) != 0 {
			t.Errorf("FTS syntax widened the search: %v", got)
		}
		if got := list(""); len(got) != 3 {
			t.Errorf("the plain list: %v", got)
		}
		b := w.srv.URL + "/api/v1/customers/" + w.custB.TenantID + "/end-users?q=smith"
		if code, _, body := apiCall(t, cora, "GET", b, ""); code != 404 {
			t.Errorf("customer A's admin searching Beta: %d %s; want 404", code, body)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		if code, _, body := apiCall(t, maya, "GET", b+"&contains=true", ""); code != 404 {
			t.Errorf("MSP A searching Beta: %d %s; want 404", code, body)
		}
	})
}

package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/api"
	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/server"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/canopy-channel/canopy/internal/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

type world struct {
	srv              *httptest.Server
	app              *app.App
	mspA, mspB       canopy.Org
	custA, custB     canopy.Org
	staffA, staffCus store.Person
}

func newWorld(t testing.TB, s *store.Store) world { return newWorldWith(t, s, worldOptions{}) }

// newWorldAt is newWorld on a given clock (nil: the system's).
func newWorldAt(t testing.TB, s *store.Store, clock canopy.Clock) world {
	return newWorldWith(t, s, worldOptions{clock: clock})
}

// worldOptions change newWorld's defaults (the system clock, the
// production throttle).
type worldOptions struct {
	clock             canopy.Clock
	attemptsPerMinute int
}

func newWorldWith(t testing.TB, s *store.Store, o worldOptions) world {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(app.Deps{Store: s, Log: log, Clock: o.clock})
	pages, err := web.New(a, log, web.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w := world{app: a}
	w.srv = httptest.NewServer(server.NewServer(server.Deps{Store: s, Web: pages, Log: log, AttemptsPerMinute: o.attemptsPerMinute,
		API: api.Handler(api.Deps{App: a, Log: log, CookieName: web.SessionCookie})}))
	t.Cleanup(w.srv.Close)
	root, err := a.CreatePlatform(ctx, "Canopy")
	if err != nil {
		t.Fatal(err)
	}
	all, sys := canopy.ScopeOf(root), canopy.System("test")
	mk := func(parent canopy.Org, kind canopy.OrgKind, name, domain string) canopy.Org {
		o, err := a.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: parent.ID, Kind: kind, Name: name, Domain: domain})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	dist := mk(root, canopy.KindDistributor, "Dist", "")
	w.mspA, w.mspB = mk(dist, canopy.KindMSP, "MSP A", ""), mk(dist, canopy.KindMSP, "MSP B", "")
	w.custA, w.custB = mk(w.mspA, canopy.KindCustomer, "Alpha", "alpha.example"), mk(w.mspB, canopy.KindCustomer, "Beta", "beta.example")
	w.staffA, err = a.AddStaff(ctx, sys, all, app.NewStaff{OrgID: w.mspA.ID, Name: "Maya", Email: "maya@a.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	w.staffCus, err = a.AddStaff(ctx, sys, all, app.NewStaff{OrgID: w.custA.ID, Name: "Cora", Email: "cora@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// client signs person in at org through a one-time link and returns a
// client carrying the session cookie.
func (w world) client(t testing.TB, person canopy.PersonID, org canopy.OrgID) *http.Client {
	t.Helper()
	token, err := w.app.IssueSigninLink(context.Background(), person, org, app.PurposeFirstSignIn, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(w.srv.URL+"/signin/link", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := resp.Request.URL.Path; p != "/" && p != "/account/two-step" {
		t.Fatalf("sign-in landed on %s", p)
	}
	return c
}

func fetch(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every tenant route asked about a neighbour's organization answers 404,
// exactly as for an organization that does not exist.
func TestCrossTenantRoutesAre404(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		cases := []struct {
			name   string
			client *http.Client
			path   string
			want   int
		}{
			{"MSP A opens its customer", maya, "/tenants/" + w.custA.TenantID, 200},
			{"MSP A opens MSP B", maya, "/tenants/" + w.mspB.TenantID, 404},
			{"MSP A opens MSP B's customer", maya, "/tenants/" + w.custB.TenantID, 404},
			{"customer A opens itself", cora, "/tenants/" + w.custA.TenantID, 200},
			{"customer A opens its MSP", cora, "/tenants/" + w.mspA.TenantID, 404},
			{"customer A opens customer B", cora, "/tenants/" + w.custB.TenantID, 404},
		}
		for _, c := range cases {
			code, body := fetch(t, c.client, w.srv.URL+c.path)
			if code != c.want {
				t.Errorf("%s: %d; want %d", c.name, code, c.want)
			}
			if c.want == 404 && (strings.Contains(body, "Beta") || strings.Contains(body, "MSP B")) {
				t.Errorf("%s: the 404 page leaks the neighbour's name", c.name)
			}
		}
		// Lists show only the caller's subtree.
		_, body := fetch(t, maya, w.srv.URL+"/tenants")
		if !strings.Contains(body, "MSP A") || strings.Contains(body, "MSP B") || strings.Contains(body, ">Dist<") {
			t.Errorf("MSP A's tree shows more than its subtree")
		}
		_, body = fetch(t, cora, w.srv.URL+"/")
		if strings.Contains(body, "MSP A") {
			t.Errorf("customer's dashboard names its MSP")
		}
	})
}

func TestSignedOutRequestsGoToSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, p := range []string{"/", "/tenants", "/tenants/" + w.custA.TenantID, "/customers"} {
			resp, err := noRedirect.Get(w.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
				t.Errorf("GET %s signed out = %d → %s; want 303 → /signin", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		// A forged session cookie is no session.
		req, _ := http.NewRequest("GET", w.srv.URL+"/tenants", nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "forged"})
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("forged cookie = %d; want 303", resp.StatusCode)
		}
	})
}

func TestReadyzMetricsAndStaticAssets(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	w := newWorld(t, s)
	c := w.srv.Client()
	if code, body := fetch(t, c, w.srv.URL+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	maya := w.client(t, w.staffA.ID, w.mspA.ID)
	_, page := fetch(t, maya, w.srv.URL+"/tenants")
	i := strings.Index(page, `/static/app.`)
	if i < 0 {
		t.Fatal("no fingerprinted stylesheet link")
	}
	cssURL := page[i : i+strings.Index(page[i:], `"`)]
	resp, err := c.Get(w.srv.URL + cssURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet %s = %d %q %q", cssURL, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	if code, _ := fetch(t, c, w.srv.URL+"/static/app.css"); code != 404 {
		t.Errorf("unfingerprinted static path = %d; want 404", code)
	}
	_, metrics := fetch(t, c, w.srv.URL+"/metrics")
	if !strings.Contains(metrics, `canopy_http_requests_total{code="200",route="GET /tenants"}`) {
		t.Errorf("metrics lack the /tenants route counter")
	}
}

func TestSecurityHeadersAndHSTSUnderTLS(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(app.Deps{Store: s, Log: log})
	pages, err := web.New(a, log, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tls := range []bool{false, true} {
		h := server.NewServer(server.Deps{Store: s, Web: pages, Log: log, TLS: tls})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/signin", nil))
		hdr := rec.Header()
		if got := hdr.Get("Strict-Transport-Security") != ""; got != tls {
			t.Errorf("TLS=%v: HSTS present = %v", tls, got)
		}
		for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id"} {
			if hdr.Get(name) == "" {
				t.Errorf("TLS=%v: no %s", tls, name)
			}
		}
	}
}

func TestMalformedFormAndClosedDatabase(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(app.Deps{Store: s, Log: log})
	pages, err := web.New(a, log, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.NewServer(server.Deps{Store: s, Web: pages, Log: log})
	// A malformed form gets a page, not a 500; a closed database turns the
	// readiness probe to 503 so a load balancer stops sending traffic.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/signin/link", strings.NewReader("token=%zz")))
	if rec.Code >= 500 {
		t.Errorf("malformed form = %d; want a 4xx page", rec.Code)
	}
	s.Close()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed = %d; want 503", rec.Code)
	}
}

func TestMailboxIsPlatformOnlyOutsideDemoAndLinksAreClickable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		outbox := mail.NewOutbox(s, nil, canopy.SystemClock{}, slog.New(slog.DiscardHandler), "")
		var id int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			id, err = outbox.Queue(ctx, tx, w.custA.ID, "test", mail.Message{To: "cora@alpha.example", Subject: "Finish registering",
				Text: "Open https://canopy.example/register/abc?x=1&y=2 to continue. <script>alert(1)</script>"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		root, _ := s.Platform(ctx)
		admin, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(root), app.NewStaff{OrgID: root.ID, Name: "Root", Email: "root@canopy.example"})
		if err != nil {
			t.Fatal(err)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		platform := w.client(t, admin.ID, root.ID)
		msgPath := fmt.Sprintf("/mailbox/%d", id)
		for _, p := range []string{"/mailbox", msgPath} {
			if code, _ := fetch(t, maya, w.srv.URL+p); code != 404 {
				t.Errorf("MSP staff GET %s = %d; want 404 outside demo mode", p, code)
			}
		}
		code, body := fetch(t, platform, w.srv.URL+"/mailbox")
		if code != 200 || !strings.Contains(body, "Finish registering") {
			t.Errorf("platform /mailbox = %d", code)
		}
		code, body = fetch(t, platform, w.srv.URL+msgPath)
		if code != 200 || !strings.Contains(body, `<a href="https://canopy.example/register/abc?x=1&amp;y=2">`) {
			t.Errorf("mail page = %d; want the link clickable", code)
		}
		if strings.Contains(body, "<script>alert") {
			t.Error("mail body not escaped")
		}
		if code, _ := fetch(t, platform, w.srv.URL+"/mailbox/999999"); code != 404 {
			t.Errorf("unknown mail = %d; want 404", code)
		}
	})
}

func TestStaffRoutesCrossTenantAndRemoveAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		all := canopy.ScopeOf(w.mspA)
		mspBScope := canopy.ScopeOf(w.mspB)
		tom, err := w.app.AddStaff(ctx, canopy.System("test"), all, app.NewStaff{OrgID: w.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}})
		if err != nil {
			t.Fatal(err)
		}
		bea, err := w.app.AddStaff(ctx, canopy.System("test"), mspBScope, app.NewStaff{OrgID: w.mspB.ID, Name: "Bea", Email: "bea@b.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		tomClient := w.client(t, tom.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID) // admin of customer A, under MSP A
		beaPath := fmt.Sprintf("/users/%d", bea.ID)
		tomPath := fmt.Sprintf("/users/%d", tom.ID)
		cases := []struct {
			name   string
			client *http.Client
			method string
			path   string
			want   int
		}{
			{"MSP A lists its users", maya, "GET", "/users", 200},
			{"MSP A checks its user", maya, "GET", tomPath, 200},
			{"MSP A checks MSP B's user", maya, "GET", beaPath, 404},
			{"MSP A's remove page for MSP B's user", maya, "GET", beaPath + "/remove", 404},
			{"MSP A removes MSP B's user", maya, "POST", beaPath + "/remove", 404},
			{"MSP A resends MSP B's registration", maya, "POST", beaPath + "/resend", 404},
			{"MSP A's edit page for MSP B's user", maya, "GET", beaPath + "/edit", 404},
			{"MSP A edits MSP B's user", maya, "POST", beaPath + "/edit", 404},
			{"MSP A opens its user's edit page", maya, "GET", tomPath + "/edit", 200},
			{"MSP A resets MSP B's two-step", maya, "POST", beaPath + "/reset-two-step", 404},
			{"MSP Accounts lists users", tomClient, "GET", "/users", 404},
			{"MSP Accounts opens Create user", tomClient, "GET", "/users/new", 404},
			{"unknown person", maya, "GET", "/users/999999", 404},
			{"customer admin checks MSP staff", cora, "GET", fmt.Sprintf("/users/%d", w.staffA.ID), 404},
			{"customer admin checks MSP B's staff", cora, "GET", beaPath, 404},
			{"customer admin edits MSP staff", cora, "POST", fmt.Sprintf("/users/%d/edit", w.staffA.ID), 404},
		}
		for _, c := range cases {
			req, _ := http.NewRequest(c.method, w.srv.URL+c.path, nil)
			resp, err := c.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s: %d; want %d", c.name, resp.StatusCode, c.want)
			}
			if c.want == 404 && strings.Contains(string(body), "bea@b.example") {
				t.Errorf("%s: page leaks the neighbour's user", c.name)
			}
		}
		// The customer admin's list holds the customer's staff only.
		if _, body := fetch(t, cora, w.srv.URL+"/users"); strings.Contains(body, "maya@a.example") || !strings.Contains(body, "cora@alpha.example") {
			t.Error("a customer admin's user list shows MSP staff or misses their own")
		}
		if code, _, body := apiCall(t, cora, "GET", w.srv.URL+"/api/v1/staff", ""); code != 200 || strings.Contains(body, "maya@") {
			t.Errorf("customer admin API list = %d and shows MSP staff: %v", code, strings.Contains(body, "maya@"))
		}
		// Bea is untouched.
		if _, _, err := s.PersonInScope(ctx, mspBScope, bea.ID); err != nil {
			t.Errorf("MSP B's user after the attempts: %v", err)
		}
		// Maya removes Tom; Tom's very next request is signed out.
		if code, _ := fetch(t, tomClient, w.srv.URL+"/"); code != 200 {
			t.Fatalf("Tom before removal: %d", code)
		}
		resp, err := maya.PostForm(w.srv.URL+tomPath+"/remove", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Path != "/users" {
			t.Errorf("after removal landed on %s", resp.Request.URL.Path)
		}
		if _, body := fetch(t, tomClient, w.srv.URL+"/"); !strings.Contains(body, "Sign in to Canopy") {
			t.Error("the removed user's session survived")
		}
		if _, body := fetch(t, maya, w.srv.URL+"/users"); strings.Contains(body, "tom@a.example") {
			t.Error("the removed user is still listed")
		}
	})
}

func TestStaffListSearchFilterSortAndPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		scope := canopy.ScopeOf(w.mspA)
		for _, p := range []struct {
			name string
			role canopy.Role
		}{{"Zoe Adams", canopy.RoleMSPAccounts}, {"Adam Brown", canopy.RolePartnerMarketing}, {"Bella Cruz", canopy.RoleMSPAccounts}, {"Carl Diaz", canopy.RoleMSPProspects}} {
			email := strings.ToLower(strings.Fields(p.name)[0]) + "@a.example"
			if _, err := w.app.AddStaff(ctx, canopy.System("test"), scope, app.NewStaff{OrgID: w.mspA.ID, Name: p.name, Email: email, Roles: []canopy.Role{p.role}}); err != nil {
				t.Fatal(err)
			}
		}
		names := func(q store.StaffQuery) string {
			rows, err := s.StaffAt(ctx, scope, w.mspA.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rows {
				out = append(out, strings.Fields(r.Name)[0])
			}
			return strings.Join(out, ",")
		}
		cases := []struct {
			name string
			q    store.StaffQuery
			want string
		}{
			{"by name", store.StaffQuery{}, "Adam,Bella,Carl,Maya,Zoe"},
			{"by name descending", store.StaffQuery{Desc: true}, "Zoe,Maya,Carl,Bella,Adam"},
			{"by email descending", store.StaffQuery{Sort: "email", Desc: true}, "Zoe,Maya,Carl,Bella,Adam"},
			{"search prefix of name", store.StaffQuery{Search: "be"}, "Bella"},
			{"search prefix of email", store.StaffQuery{Search: "ZOE@"}, "Zoe"},
			{"search is a prefix, not contains", store.StaffQuery{Search: "dam"}, ""},
			{"letter", store.StaffQuery{Letter: "C"}, "Carl"},
			{"role", store.StaffQuery{Role: string(canopy.RoleMSPAccounts)}, "Bella,Zoe"},
			{"unregistered", store.StaffQuery{Status: "unregistered"}, "Adam,Bella,Carl,Maya,Zoe"},
			{"registered", store.StaffQuery{Status: "registered"}, ""},
			{"wildcards are literal", store.StaffQuery{Search: "%"}, ""},
			{"by last login (none yet: creation order)", store.StaffQuery{Sort: "last_login"}, "Maya,Zoe,Adam,Bella,Carl"},
			{"by status descending", store.StaffQuery{Sort: "status", Desc: true}, "Carl,Bella,Adam,Zoe,Maya"},
		}
		for _, c := range cases {
			if got := names(c.q); got != c.want {
				t.Errorf("%s: %s; want %s", c.name, got, c.want)
			}
		}
		// Keyset paging: two at a time, both directions, every row once.
		for _, desc := range []bool{false, true} {
			var seen []string
			q := store.StaffQuery{Sort: "email", Desc: desc, Limit: 2}
			for i := 0; i < 5; i++ {
				rows, err := s.StaffAt(ctx, scope, w.mspA.ID, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) == 0 {
					break
				}
				for _, r := range rows {
					seen = append(seen, strings.Fields(r.Name)[0])
				}
				last := rows[len(rows)-1]
				q.AfterValue, q.AfterID = last.SortValue, last.ID
			}
			if len(seen) != 5 {
				t.Errorf("paging desc=%v saw %v; want all five once", desc, seen)
			}
		}
		// MSP B's scope sees none of MSP A's staff.
		if rows, _ := s.StaffAt(ctx, canopy.ScopeOf(w.mspB), w.mspA.ID, store.StaffQuery{}); len(rows) != 0 {
			t.Errorf("MSP B's scope lists %d of MSP A's staff", len(rows))
		}
	})
}

func TestPasswordResetPagesAnswerTheSameForAnyAddress(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	w := newWorld(t, s)
	c := w.srv.Client()
	var bodies []string
	for _, email := range []string{"maya@a.example", "nobody@nowhere.example"} {
		resp, err := c.PostForm(w.srv.URL+"/password/forgot", url.Values{"email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("forgot %s = %d", email, resp.StatusCode)
		}
		// Compare the pages without the per-request ID.
		bodies = append(bodies, regexp.MustCompile(`Reference: [0-9a-f]+`).ReplaceAllString(string(b), ""))
	}
	if bodies[0] != bodies[1] {
		t.Error("the answer differs between a known and an unknown address")
	}
	if code, body := fetch(t, c, w.srv.URL+"/password/reset/not-a-real-token"); code != http.StatusGone || !strings.Contains(body, "expired or was used") {
		t.Errorf("bad reset token = %d", code)
	}
}

func TestSignOutEverywhereElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		laptop := w.client(t, w.staffA.ID, w.mspA.ID)
		phone := w.client(t, w.staffA.ID, w.mspA.ID)
		_, body := fetch(t, laptop, w.srv.URL+"/account/sessions")
		if strings.Count(body, "<tr>") != 3 || strings.Count(body, "this one") != 1 { // header + two sessions
			t.Errorf("sessions page does not list two sessions with one current")
		}
		resp, err := laptop.PostForm(w.srv.URL+"/account/sessions/others", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "Signed out of 1 other session") {
			t.Errorf("no confirmation after signing out others")
		}
		if _, body := fetch(t, phone, w.srv.URL+"/"); !strings.Contains(body, "Sign in to Canopy") {
			t.Error("the other session survived")
		}
		if code, _ := fetch(t, laptop, w.srv.URL+"/account/sessions"); code != 200 {
			t.Errorf("this session ended too: %d", code)
		}
	})
}

func TestSignInAttemptsAreThrottledPerAddress(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	w := newWorld(t, s)
	c := w.srv.Client()
	codes := map[int]int{}
	for i := 0; i < 25; i++ {
		resp, err := c.PostForm(w.srv.URL+"/signin", url.Values{"email": {"maya@a.example"}, "password": {"guess number " + fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusTooManyRequests] < 4 || codes[http.StatusUnauthorized] < 19 {
		t.Errorf("25 rapid attempts gave %v; want about 20 answered and the rest 429", codes)
	}
}

func apiCall(t *testing.T, c *http.Client, method, u, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestAPIStaffWithProblemJSONAndCrossTenant404(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		bea, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(w.mspB), app.NewStaff{OrgID: w.mspB.ID, Name: "Bea", Email: "bea@b.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		base := w.srv.URL + "/api/v1"

		// No session: 401 problem+json.
		code, ctype, _ := apiCall(t, w.srv.Client(), "GET", base+"/staff", "")
		if code != 401 || !strings.HasPrefix(ctype, "application/problem+json") {
			t.Errorf("signed out: %d %s", code, ctype)
		}
		// The OpenAPI document is public and lists the operations.
		code, _, doc := apiCall(t, w.srv.Client(), "GET", base+"/openapi.json", "")
		if code != 200 || !strings.Contains(doc, `"/api/v1/staff/{id}"`) || !strings.Contains(doc, `"3.1`) {
			t.Errorf("openapi = %d", code)
		}
		// Bad input: 422 with the field, nothing stored.
		code, ctype, body := apiCall(t, maya, "POST", base+"/staff", `{"name":"","email":"tom@","roles":["wizard"]}`)
		if code != 422 || !strings.HasPrefix(ctype, "application/problem+json") || !strings.Contains(body, "body.email") || !strings.Contains(body, "body.roles") {
			t.Errorf("bad create = %d %s %s", code, ctype, body)
		}
		if _, err := s.CredentialsByEmail(ctx, "tom@"); err == nil {
			t.Error("a refused create stored a person")
		}
		code, _, body = apiCall(t, maya, "GET", base+"/me", "")
		if code != 200 || !strings.Contains(body, `"organization":"`+w.mspA.TenantID+`"`) || !strings.Contains(body, `"roles":["msp_admin"]`) {
			t.Errorf("me = %d %s", code, body)
		}
		code, _, body = apiCall(t, maya, "POST", base+"/staff", `{"name":"Tom Okafor","email":"tom@a.example","roles":["msp_accounts"]}`)
		if code != 201 || !strings.Contains(body, `"status":"unregistered"`) {
			t.Fatalf("create = %d %s", code, body)
		}
		code, _, body = apiCall(t, maya, "GET", base+"/staff?q=tom", "")
		if code != 200 || !strings.Contains(body, "tom@a.example") || strings.Contains(body, "maya@") {
			t.Errorf("list q=tom = %d %s", code, body)
		}
		// Every route on MSP B's user answers 404, as for a missing one.
		bp := fmt.Sprintf("%s/staff/%d", base, bea.ID)
		for _, c := range []struct{ method, path, body string }{
			{"GET", bp, ""}, {"PATCH", bp, `{"name":"X","roles":["msp_accounts"]}`}, {"DELETE", bp, ""},
			{"POST", bp + "/resend-registration", ""}, {"POST", bp + "/reset-two-step", ""},
		} {
			code, ctype, body := apiCall(t, maya, c.method, c.path, c.body)
			if code != 404 || !strings.HasPrefix(ctype, "application/problem+json") || strings.Contains(body, "bea@") {
				t.Errorf("%s %s = %d %s", c.method, c.path, code, ctype)
			}
		}
		if _, _, err := s.PersonInScope(ctx, canopy.ScopeOf(w.mspB), bea.ID); err != nil {
			t.Errorf("MSP B's user after the attempts: %v", err)
		}
	})
}

// An organization that enforces two-step verification sends its members
// without it to enrolment at their next sign-in; nothing else opens until
// they have enrolled.
func TestEnforcedTwoStepForcesEnrolment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		admin := app.Viewer{PersonID: w.staffA.ID, Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: canopy.System("test")}
		if err := w.app.SetTwoStepEnforced(ctx, app.Viewer{Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, w.custA.ID, true); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour enforcing on customer A: %v", err)
		}
		if err := w.app.SetTwoStepEnforced(ctx, admin, w.custA.ID, true); err != nil {
			t.Fatal(err)
		}
		cora := w.client(t, w.staffCus.ID, w.custA.ID) // Cora's membership is at customer A
		noRedirect := *cora
		noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, p := range []string{"/", "/tenants", "/users"} {
			resp, err := noRedirect.Get(w.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/two-step" {
				t.Errorf("GET %s before enrolling = %d → %s; want the enrolment page", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if code, _, _ := apiCall(t, cora, "GET", w.srv.URL+"/api/v1/staff", ""); code != 403 {
			t.Errorf("API before enrolling = %d; want 403", code)
		}
		_, body := fetch(t, cora, w.srv.URL+"/account/two-step")
		if !strings.Contains(body, "requires two-step verification") {
			t.Fatal("the enrolment page does not say why")
		}
		secret := regexp.MustCompile(`id="manual-key" class="key">([A-Z2-7]+)<`).FindStringSubmatch(body)
		if secret == nil {
			t.Fatal("no manual key on the enrolment page")
		}
		code, err := auth.TOTPCode(secret[1], time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cora.PostForm(w.srv.URL+"/account/two-step", url.Values{"code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code, _ := fetch(t, cora, w.srv.URL+"/tenants"); code != 200 {
			t.Errorf("after enrolling /tenants = %d; want 200", code)
		}
		// Maya's organization (MSP A) does not enforce: she is not limited.
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		if code, _ := fetch(t, maya, w.srv.URL+"/tenants"); code != 200 {
			t.Errorf("unaffected member = %d", code)
		}
	})
}

// The ways into an account work through the API as through the pages:
// registration, sign-in, two-step enrolment and the code step, sessions,
// sign-out and password reset.
func TestAPIAccountFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		base := w.srv.URL + "/api/v1"
		if code, _, body := apiCall(t, maya, "POST", base+"/staff", `{"name":"Tom Okafor","email":"tom@a.example","roles":["msp_accounts"]}`); code != 201 {
			t.Fatalf("create = %d %s", code, body)
		}
		mails, _ := s.RecentMail(ctx, "tom@a.example", 0, 1)
		token := regexp.MustCompile(`/register/([A-Za-z0-9_-]+)`).FindStringSubmatch(mails[0].Text)[1]

		jar, _ := cookiejar.New(nil)
		tom := &http.Client{Jar: jar}
		if code, _, body := apiCall(t, tom, "POST", base+"/registrations/"+token, `{"password":"x","confirm":"y","security_question":"Pet?","security_answer":"Rex"}`); code != 422 || !strings.Contains(body, "body.password") || !strings.Contains(body, "body.confirm") {
			t.Errorf("bad registration = %d %s", code, body)
		}
		pw := `"violet tractor under moonlight"`
		if code, _, body := apiCall(t, tom, "POST", base+"/registrations/"+token, `{"password":`+pw+`,"confirm":`+pw+`,"security_question":"Pet?","security_answer":"Rex"}`); code != 204 {
			t.Fatalf("registration = %d %s", code, body)
		}
		if code, ctype, _ := apiCall(t, tom, "POST", base+"/sessions", `{"email":"tom@a.example","password":"wrong password here"}`); code != 401 || !strings.HasPrefix(ctype, "application/problem+json") {
			t.Errorf("wrong password = %d %s", code, ctype)
		}
		if code, _, body := apiCall(t, tom, "POST", base+"/sessions", `{"email":"tom@a.example","password":`+pw+`}`); code != 201 || !strings.Contains(body, `"second_factor_required":false`) {
			t.Fatalf("sign in = %d %s", code, body)
		}
		if code, _, body := apiCall(t, tom, "GET", base+"/me", ""); code != 200 || !strings.Contains(body, "tom@a.example") {
			t.Fatalf("me = %d %s", code, body)
		}
		code, _, body := apiCall(t, tom, "POST", base+"/me/two-step", "")
		secret := regexp.MustCompile(`"secret":"([A-Z2-7]+)"`).FindStringSubmatch(body)
		if code != 200 || secret == nil {
			t.Fatalf("begin two-step = %d %s", code, body)
		}
		now := time.Now()
		c1, _ := auth.TOTPCode(secret[1], now)
		if code, _, body := apiCall(t, tom, "POST", base+"/me/two-step/confirm", `{"code":"`+c1+`"}`); code != 200 || strings.Count(body, "-") < 20 {
			t.Fatalf("confirm two-step = %d %s", code, body)
		}
		if code, _, _ := apiCall(t, tom, "DELETE", base+"/sessions/current", ""); code != 204 {
			t.Errorf("sign out = %d", code)
		}
		if code, _, _ := apiCall(t, tom, "GET", base+"/me", ""); code != 401 {
			t.Errorf("after sign-out me = %d; want 401", code)
		}
		_, _, body = apiCall(t, tom, "POST", base+"/sessions", `{"email":"tom@a.example","password":`+pw+`}`)
		pending := regexp.MustCompile(`"pending":"([A-Za-z0-9_-]+)"`).FindStringSubmatch(body)
		if pending == nil {
			t.Fatalf("password with two-step on = %s; want a pending step", body)
		}
		if code, _, _ := apiCall(t, tom, "POST", base+"/sessions/second-factor", `{"pending":"`+pending[1]+`","code":"`+c1+`"}`); code != 401 {
			t.Errorf("replayed code = %d; want 401", code)
		}
		c2, _ := auth.TOTPCode(secret[1], now.Add(30*time.Second))
		if code, _, body := apiCall(t, tom, "POST", base+"/sessions/second-factor", `{"pending":"`+pending[1]+`","code":"`+c2+`"}`); code != 201 {
			t.Fatalf("second factor = %d %s", code, body)
		}
		if code, _, body := apiCall(t, tom, "GET", base+"/me/sessions", ""); code != 200 || strings.Count(body, `"current":true`) != 1 {
			t.Errorf("my sessions = %d %s", code, body)
		}
		if code, _, body := apiCall(t, tom, "DELETE", base+"/me/sessions/others", ""); code != 200 || !strings.Contains(body, `"ended":`) {
			t.Errorf("sign out others = %d %s", code, body)
		}
		for _, email := range []string{"tom@a.example", "nobody@nowhere.example"} {
			if code, _, _ := apiCall(t, w.srv.Client(), "POST", base+"/password/forgot", `{"email":"`+email+`"}`); code != 202 {
				t.Errorf("forgot %s = %d; want 202 for every address", email, code)
			}
		}
		mails, _ = s.RecentMail(ctx, "tom@a.example", 0, 1)
		reset := regexp.MustCompile(`/password/reset/([A-Za-z0-9_-]+)`).FindStringSubmatch(mails[0].Text)
		if reset == nil {
			t.Fatal("no reset mail")
		}
		npw := `"amber kettle across the valley"`
		if code, _, body := apiCall(t, w.srv.Client(), "POST", base+"/password/reset/"+reset[1], `{"answer":"rex","password":`+npw+`,"confirm":`+npw+`}`); code != 204 {
			t.Errorf("reset = %d %s", code, body)
		}
		if code, _, _ := apiCall(t, tom, "GET", base+"/me", ""); code != 401 {
			t.Errorf("session after reset = %d; want 401", code)
		}
	})
}

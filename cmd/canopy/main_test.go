package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// syncBuffer is a bytes.Buffer safe to write from the server goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// running is a `canopy serve` started by a test.
type running struct {
	baseURL   string
	signinURL string
	stdout    *syncBuffer
	stderr    *syncBuffer
	stop      func() error
}

var linkPattern = regexp.MustCompile(`(http://\S+/signin/link/\S+)`)
var servingPattern = regexp.MustCompile(`serving on (http://\S+)`)

// startServe runs the real program on a free port with env and waits until
// /healthz answers.
func startServe(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), envFrom(env), strings.NewReader(""), stdout, stderr)
	}()
	r := &running{stdout: stdout, stderr: stderr}
	var once sync.Once
	var stopErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("serve did not stop within 30s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { r.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstderr:\n%s", err, stderr.String())
		default:
		}
		if m := servingPattern.FindStringSubmatch(stdout.String()); m != nil {
			r.baseURL = m[1]
			resp, err := http.Get(r.baseURL + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					if l := linkPattern.FindStringSubmatch(stdout.String()); l != nil {
						r.signinURL = l[1]
					}
					return r
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not become healthy\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return nil
}

func newClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signIn follows the printed one-time link: GET shows Continue, POST signs in.
func signIn(t *testing.T, r *running, c *http.Client) {
	t.Helper()
	if r.signinURL == "" {
		t.Fatalf("no sign-in link printed:\n%s", r.stdout.String())
	}
	code, body := get(t, c, r.signinURL)
	if code != http.StatusOK || !strings.Contains(body, "Continue") {
		t.Fatalf("GET sign-in link = %d, body lacks Continue", code)
	}
	token := r.signinURL[strings.LastIndex(r.signinURL, "/")+1:]
	resp, err := c.PostForm(r.baseURL+"/signin/link", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("POST sign-in = %d at %s; want 200 at /", resp.StatusCode, resp.Request.URL.Path)
	}
}

func TestServeOnDefaultsSeedsDemoAndServesTheTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": dir})
	if _, err := os.Stat(filepath.Join(dir, "canopy.db")); err != nil {
		t.Fatalf("SQLite file not under the data directory: %v", err)
	}
	c := newClient(t)

	// Signed out: pages redirect to sign-in; operations endpoints answer.
	code, body := get(t, c, r.baseURL+"/tenants")
	if code != http.StatusOK || !strings.Contains(body, "Sign in to Canopy") {
		t.Fatalf("signed-out /tenants = %d; want the sign-in page", code)
	}
	if code, body := get(t, c, r.baseURL+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if code, body := get(t, c, r.baseURL+"/metrics"); code != 200 || !strings.Contains(body, "canopy_http_requests_total") {
		t.Errorf("/metrics = %d, lacks canopy_http_requests_total", code)
	}

	signIn(t, r, c)
	// The link is single use.
	code, body = get(t, c, r.signinURL)
	if code != http.StatusGone || !strings.Contains(body, "expired or was used already") {
		t.Errorf("reused link = %d; want 410 with an explanation", code)
	}

	code, body = get(t, c, r.baseURL+"/tenants")
	if code != http.StatusOK {
		t.Fatalf("/tenants = %d", code)
	}
	for _, want := range []string{"Cloudmarket Distribution", "Brightwave IT", "Harbor Managed Services"} {
		if !strings.Contains(body, want) {
			t.Errorf("tenant tree lacks %q", want)
		}
	}
	// Open an MSP: its customers, with every status, come from the database.
	m := regexp.MustCompile(`href="(/tenants/[0-9a-f-]{36})">Brightwave IT<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to Brightwave IT")
	}
	code, body = get(t, c, r.baseURL+m[1])
	if code != http.StatusOK {
		t.Fatalf("MSP page = %d", code)
	}
	for _, want := range []string{"Northwind Traders", "Free trial", "Trial expired", "Active"} {
		if !strings.Contains(body, want) {
			t.Errorf("MSP page lacks %q", want)
		}
	}
	// Pages that do not exist yet say so.
	if code, body := get(t, c, r.baseURL+"/invoices"); code != 200 || !strings.Contains(body, "Not built yet") {
		t.Errorf("/invoices = %d; want a plain 'not built yet' page", code)
	}
	// Unknown tenant IDs and paths are 404 pages.
	if code, _ := get(t, c, r.baseURL+"/tenants/00000000-0000-0000-0000-000000000000"); code != http.StatusNotFound {
		t.Errorf("unknown tenant = %d; want 404", code)
	}
	if code, _ := get(t, c, r.baseURL+"/no/such/page"); code != http.StatusNotFound {
		t.Errorf("unknown path = %d; want 404", code)
	}
	// A cross-origin POST is refused (CSRF).
	req, _ := http.NewRequest(http.MethodPost, r.baseURL+"/signout", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST = %d; want 403", resp.StatusCode)
	}
	// Security headers on every response.
	resp, err = c.Get(r.baseURL + "/tenants")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	// Sign out ends the session on the server.
	resp, err = c.PostForm(r.baseURL+"/signout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, body := get(t, c, r.baseURL+"/tenants"); code != 200 || !strings.Contains(body, "Sign in to Canopy") {
		t.Errorf("after sign-out /tenants = %d; want sign-in page", code)
	}
	if err := r.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

func TestServeRestartKeepsDataAndSeedsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"CANOPY_DATA_DIR": dir}
	first := startServe(t, env)
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	second := startServe(t, env)
	c := newClient(t)
	signIn(t, second, c)
	_, body := get(t, c, second.baseURL+"/tenants")
	if n := strings.Count(body, ">Brightwave IT<"); n != 1 {
		t.Errorf("Brightwave IT appears %d times after restart; want 1", n)
	}
	if strings.Contains(second.stderr.String(), "seeded the demo tenant tree") {
		t.Error("second start seeded again")
	}
}

func TestServeOnPostgres(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewDatabaseURL(t, store.Postgres)
	r := startServe(t, map[string]string{"CANOPY_DATABASE_URL": dbURL})
	if !strings.Contains(r.stdout.String(), "database: postgres") {
		t.Fatalf("not on postgres: %s", r.stdout.String())
	}
	c := newClient(t)
	signIn(t, r, c)
	if code, body := get(t, c, r.baseURL+"/tenants"); code != 200 || !strings.Contains(body, "Harbor Managed Services") {
		t.Errorf("/tenants on postgres = %d", code)
	}
}

// A request in flight when the server is told to stop is still answered,
// and the server waits for it before exiting. The request is held inside its
// handler by another connection holding SQLite's write lock.
func TestGracefulShutdownLetsRequestsFinish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": dir})
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "canopy.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	// Signing in writes, so this request waits inside its handler.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := r.signinURL[strings.LastIndex(r.signinURL, "/")+1:]
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := noRedirect.PostForm(r.baseURL+"/signin/link", url.Values{"token": {token}})
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			answered <- nil
			return
		}
		resp.Body.Close()
		answered <- resp
	}()
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("server stopped with a request in flight: %v", err)
	case <-answered:
		t.Fatal("request finished while the database was locked")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-answered:
		if resp == nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Set-Cookie") == "" {
			t.Errorf("in-flight sign-in = %v; want 303 with a session cookie", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request was never answered")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after the last request")
	}
}

func TestBadInputGivesOneClearLine(t *testing.T) {
	t.Parallel()
	readOnly := t.TempDir()
	os.Chmod(readOnly, 0o500)
	t.Cleanup(func() { os.Chmod(readOnly, 0o700) })

	notADir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notADir, nil, 0o600)

	newer := filepath.Join(t.TempDir(), "newer.db")
	st, err := store.Open(context.Background(), newer, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	markNewer(t, newer)

	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"serve", "--no-such-flag"}, nil, "unknown flag --no-such-flag"},
		{"bad address", []string{"serve", "--addr", "nonsense"}, nil, `--addr "nonsense" is not host:port`},
		{"unreachable postgres", []string{"migrate"}, map[string]string{"CANOPY_DATABASE_URL": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "cannot reach the postgres database"},
		{"unknown scheme", []string{"migrate", "--database-url", "mysql://x"}, nil, `unsupported database URL scheme "mysql"`},
		{"newer schema", []string{"migrate", "--database-url", newer}, nil, "newer than this Canopy"},
		{"bad size", []string{"demo", "--size", "XXL"}, nil, "--size"},
		{"data dir under a file", []string{"migrate"}, map[string]string{"CANOPY_DATA_DIR": filepath.Join(notADir, "data")}, "cannot create data directory"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct {
			name string
			args []string
			env  map[string]string
			want string
		}{"read-only data dir", []string{"migrate"}, map[string]string{"CANOPY_DATA_DIR": readOnly}, "not writable"})
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, envFrom(c.env), strings.NewReader(""), &stdout, &stderr)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q; want it to mention %q", c.name, msg, c.want)
		}
		if strings.Count(msg, "\n") > 0 {
			t.Errorf("%s: error spans several lines: %q", c.name, msg)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"serve", "-h"}, {"migrate", "-h"}, {"demo", "-h"}, {"version", "-h"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, envFrom(nil), strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), "Usage: canopy") {
			t.Errorf("%v: no usage in %q", args, stdout.String())
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envFrom(nil), nil, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), version) {
		t.Errorf("version = %q, %v", stdout.String(), err)
	}
	stdout.Reset()
	run(context.Background(), []string{"serve", "-h"}, envFrom(nil), nil, &stdout, io.Discard)
	if !strings.Contains(stdout.String(), "--database-url") {
		t.Errorf("serve -h lacks --database-url:\n%s", stdout.String())
	}
}

func TestDemoCommandGeneratesADataset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var stdout bytes.Buffer
	env := envFrom(map[string]string{"CANOPY_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo", "--size", "XS"}, env, nil, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "dataset XS on sqlite built") {
		t.Errorf("demo --size XS said %q", stdout.String())
	}
	// The generated tree serves: the platform has distributors and MSPs.
	st, err := store.Open(context.Background(), filepath.Join(dir, "canopy.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	root, err := st.Platform(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.CountByKind(context.Background(), canopy.ScopeOf(root))
	if err != nil || counts[canopy.KindCustomer] == 0 || counts[canopy.KindMSP] == 0 {
		t.Errorf("generated tree = %v, %v", counts, err)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // idempotent
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, envFrom(map[string]string{"CANOPY_DATA_DIR": dir}), nil, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "is at migration") {
			t.Errorf("migrate said %q", stdout.String())
		}
	}
}

// markNewer records a migration this binary does not know, as a newer
// Canopy would have.
func markNewer(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
}

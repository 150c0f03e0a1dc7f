// Package storetest gives tests real databases: a fresh SQLite file, and a
// fresh database on a throwaway PostgreSQL cluster that the harness starts
// with the machine's initdb/pg_ctl (or on CANOPY_TEST_POSTGRES when set).
// Every store and app test runs on both engines through Each.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/store"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// Engines lists the engines every store test runs on.
var Engines = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as a subtest per engine with a fresh, migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Engines {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated store on engine d, removed when t ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	url := NewDatabaseURL(t, d)
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return s
}

// NewDatabaseURL returns the URL of a fresh, empty database on engine d,
// dropped when t ends.
func NewDatabaseURL(t testing.TB, d store.Dialect) string {
	t.Helper()
	switch d {
	case store.SQLite:
		return filepath.Join(t.TempDir(), "canopy.db")
	case store.Postgres:
		admin, err := postgresAdminURL()
		if err != nil {
			t.Fatalf("PostgreSQL is required for tests and could not be started: %v\n"+
				"Install Debian's postgresql package or set CANOPY_TEST_POSTGRES to a server URL whose user may create databases.", err)
		}
		name := "canopy_test_" + randomHex(6)
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatalf("create test database: %v", err)
		}
		t.Cleanup(func() {
			db, err := sql.Open("pgx", admin)
			if err != nil {
				return
			}
			defer db.Close()
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		})
		return withDatabase(admin, name)
	}
	t.Fatalf("unknown engine %q", d)
	return ""
}

func withDatabase(adminURL, name string) string {
	base, query, _ := strings.Cut(adminURL, "?")
	i := strings.LastIndex(base, "/")
	if i < len("postgres://") {
		base += "/" + name
	} else {
		base = base[:i+1] + name
	}
	if query != "" {
		return base + "?" + query
	}
	return base
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var cluster struct {
	once sync.Once
	url  string
	err  error
	stop func()
}

// postgresAdminURL returns CANOPY_TEST_POSTGRES or starts a cluster once per
// test binary.
func postgresAdminURL() (string, error) {
	if u := os.Getenv("CANOPY_TEST_POSTGRES"); u != "" {
		return u, nil
	}
	cluster.once.Do(func() {
		cluster.url, cluster.stop, cluster.err = startCluster()
	})
	return cluster.url, cluster.err
}

// Main wraps testing.M so that a cluster started by this binary is stopped
// after the tests. Use it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if cluster.stop != nil {
		cluster.stop()
	}
	return code
}

// findPGBin locates initdb: on PATH, or in the newest Debian PostgreSQL bin dir.
func findPGBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(resolved), nil
		}
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestVersion := "", -1
	for _, m := range matches {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if err == nil && v > bestVersion {
			best, bestVersion = filepath.Dir(m), v
		}
	}
	if best == "" {
		return "", fmt.Errorf("initdb not found on PATH or in /usr/lib/postgresql/*/bin")
	}
	return best, nil
}

// startCluster runs initdb and pg_ctl start in a temp dir on a free port.
// initdb and postgres refuse to run as root, so as root they run as the
// "postgres" user on a directory that user owns.
func startCluster() (string, func(), error) {
	bin, err := findPGBin()
	if err != nil {
		return "", nil, err
	}
	reapOrphans(bin)
	dir, err := os.MkdirTemp("", "canopy-pg-")
	if err != nil {
		return "", nil, err
	}
	// The owner's PID lets a later run stop this cluster if this test
	// binary is killed before it can.
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return "", nil, err
	}
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("running as root needs a 'postgres' user to run the test cluster: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) error {
		full := append(append([]string{}, asUser...), args...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", filepath.Base(args[0]), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "canopy", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB",
		port, dir)
	if err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop := func() {
		run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	url := fmt.Sprintf("postgres://canopy@127.0.0.1:%d/postgres?sslmode=disable", port)
	// pg_ctl -w waits for the server; confirm it takes connections.
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", url)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("test cluster did not accept connections: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reapOrphans stops clusters left by test binaries that were killed.
func reapOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "canopy-pg-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		args := []string{filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop"}
		if os.Geteuid() == 0 {
			args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
		}
		exec.Command(args[0], args[1:]...).Run()
		os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}

// LastMailID returns the ID of the newest outbox mail (0: none).
func LastMailID(tb testing.TB, s *store.Store) int64 {
	tb.Helper()
	mails, err := s.RecentMail(context.Background(), "", 0, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if len(mails) == 0 {
		return 0
	}
	return mails[0].ID
}

// TokensAfter returns, newest first, the tokens that follow marker (such
// as "/link/") in the text of the outbox mails newer than mail after.
func TokensAfter(tb testing.TB, s *store.Store, after int64, marker string) []string {
	tb.Helper()
	var tokens []string
	for before := int64(0); ; {
		mails, err := s.RecentMail(context.Background(), "", before, 500)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range mails {
			if m.ID <= after {
				return tokens
			}
			if _, rest, ok := strings.Cut(m.Text, marker); ok {
				tokens = append(tokens, strings.Fields(rest)[0])
			}
		}
		if len(mails) < 500 {
			return tokens
		}
		before = mails[len(mails)-1].ID
	}
}

// TokenInMail returns the token that follows marker (such as
// "/invitations/") in the newest outbox mail to addr.
func TokenInMail(tb testing.TB, s *store.Store, addr, marker string) string {
	tb.Helper()
	mails, err := s.RecentMail(context.Background(), addr, 0, 1)
	if err != nil || len(mails) == 0 {
		tb.Fatalf("no mail to %s: %v", addr, err)
	}
	_, after, ok := strings.Cut(mails[0].Text, marker)
	if !ok {
		tb.Fatalf("the mail to %s has no %s link:\n%s", addr, marker, mails[0].Text)
	}
	return strings.Fields(after)[0]
}

package storetest

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// DatasetEnv names the variable that points a benchmark at a generated
// dataset (go run ./bench/gen) on engine d: CANOPY_BENCH_SQLITE (a file
// path) or CANOPY_BENCH_POSTGRES (a URL). Benchmarks write to it: point
// it at a copy.
func DatasetEnv(d store.Dialect) string {
	return "CANOPY_BENCH_" + map[store.Dialect]string{store.SQLite: "SQLITE", store.Postgres: "POSTGRES"}[d]
}

// Dataset is an opened, migrated generated dataset.
type Dataset struct {
	Store *store.Store
	URL   string
	bare  *sql.DB
}

// OpenDataset opens and migrates the dataset named by DatasetEnv(d); ok
// is false when the variable is unset.
func OpenDataset(tb testing.TB, d store.Dialect) (ds Dataset, ok bool) {
	tb.Helper()
	url := os.Getenv(DatasetEnv(d))
	if url == "" {
		return Dataset{}, false
	}
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	var bare *sql.DB
	if d == store.SQLite {
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
		bare, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	} else {
		bare, err = sql.Open("pgx", url)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bare.Close() })
	return Dataset{Store: s, URL: url, bare: bare}, true
}

// Start is a time for a benchmark's manual clock on this dataset: now, or
// an hour after the newest portal link, mail or invitation when an earlier
// run's clock left them later than now (a link dated after the clock
// would count against its user's limit).
func (ds Dataset) Start(tb testing.TB) time.Time {
	tb.Helper()
	var newest int64
	if err := ds.bare.QueryRowContext(context.Background(), `SELECT MAX(t) FROM (
		SELECT COALESCE(MAX(created_at), 0) AS t FROM portal_links UNION ALL
		SELECT COALESCE(MAX(created_at), 0) FROM outbox UNION ALL
		SELECT COALESCE(MAX(created_at), 0) FROM invitations) AS newest`).Scan(&newest); err != nil {
		tb.Fatal(err)
	}
	if later := time.UnixMilli(newest).Add(time.Hour); later.After(time.Now()) {
		return later
	}
	return time.Now()
}

// BusiestCustomer returns the customer with the most active end users
// (its MSP and domains read too), and the addresses of up to n of its
// active end users in address order.
func (ds Dataset) BusiestCustomer(tb testing.TB, n int) (canopy.Customer, []string) {
	tb.Helper()
	ctx := context.Background()
	var id canopy.OrgID
	if err := ds.bare.QueryRowContext(ctx, `SELECT org_id FROM customers WHERE status IN ('active', 'trial')
		ORDER BY active_users DESC, org_id LIMIT 1`).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	root, err := ds.Store.Platform(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ds.Store.Customer(ctx, canopy.ScopeOf(root), id)
	if err != nil {
		tb.Fatal(err)
	}
	rows, err := ds.bare.QueryContext(ctx, `SELECT email FROM end_users WHERE customer_id = $1 AND status = 'active' ORDER BY email LIMIT $2`, id, n)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var emails []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			tb.Fatal(err)
		}
		emails = append(emails, e)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(emails) == 0 {
		tb.Fatalf("customer %d has no active end users", id)
	}
	return c, emails
}

package demo

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var genNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// loadedTables are the tables Generate writes, as the store names them.
var loadedTables = []string{"orgs", "people", "memberships", "end_users", "customers", "user_groups", "group_members", "change_log"}

func TestGenerateXS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var out bytes.Buffer
		stats, err := GenerateWith(ctx, s, Options{Size: SizeXS, Now: genNow}, &out)
		if err != nil {
			t.Fatalf("generate: %v\n%s", err, out.String())
		}
		t.Logf("\n%s", out.String())

		if !stats.PlatformCreated {
			t.Errorf("PlatformCreated = false on an empty database")
		}
		got := []int64{int64(stats.Distributors), int64(stats.MSPs), int64(stats.Customers), int64(stats.Staff),
			stats.EndUsers, stats.Groups, stats.GroupMembers, stats.Changes}
		want := []int64{1, 3, 30, 8, 1_000, 150, 3_000, 3_000}
		if !slices.Equal(got, want) {
			t.Errorf("stats (distributors, MSPs, customers, staff, end users, groups, members, changes) = %v, want %v", got, want)
		}
		if stats.ActiveEndUsers <= 0 || stats.ActiveEndUsers >= stats.EndUsers {
			t.Errorf("ActiveEndUsers = %d of %d: want some deactivated users", stats.ActiveEndUsers, stats.EndUsers)
		}
		checkTables(t, s, stats, 1)
		checkInvariants(t, s)
		checkIndexes(t, s)
		checkSearchIndex(t, s)
		checkNormalWritesAfterLoad(t, s)
	})
}

// TestGenerateTwice loads a second dataset beside the first: the tables are
// no longer empty (so their indexes stay live), names and tenant IDs must
// not collide, and the invariants hold for both.
func TestGenerateTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first, err := GenerateWith(ctx, s, Options{Size: SizeXS, Now: genNow}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		second, err := GenerateWith(ctx, s, Options{Size: SizeXS, Now: genNow, Changes: 500}, io.Discard)
		if err != nil {
			t.Fatalf("second generation: %v", err)
		}
		if second.PlatformCreated {
			t.Errorf("second generation created another platform root")
		}
		if slices.ContainsFunc(second.Steps, func(s StepStats) bool { return s.Step == "index change_log_org_time" }) {
			t.Errorf("second generation rebuilt change_log indexes over a non-empty table: %v", second.Steps)
		}
		for _, table := range loadedTables {
			n, err := s.CountRows(ctx, table)
			if err != nil {
				t.Fatal(err)
			}
			want := first.Rows(table) + second.Rows(table)
			if table == "orgs" {
				want++ // the platform root
			}
			if n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		checkInvariants(t, s)
		checkIndexes(t, s)
		checkSearchIndex(t, s)
	})
}

// checkSearchIndex asks a contains search for a string in every address:
// the trigram index (rebuilt after the load on SQLite, where its triggers
// were off) must hold every end user.
func checkSearchIndex(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	root, err := s.Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := store.EndUserSearch{Query: ".example", Contains: true, Limit: 1000}
	found := 0
	for {
		page, err := s.SearchEndUsers(ctx, canopy.ScopeOf(root), q)
		if err != nil {
			t.Fatal(err)
		}
		found += len(page)
		if len(page) < q.Limit {
			break
		}
		q.AfterID = page[len(page)-1].ID
	}
	n, err := s.CountRows(ctx, "end_users")
	if err != nil {
		t.Fatal(err)
	}
	if int64(found) != n {
		t.Errorf("contains search found %d of %d end users after the load", found, n)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	ctx := context.Background()
	var trees [2][]canopy.Org
	for i := range trees {
		s := storetest.Open(t, store.SQLite)
		if _, err := GenerateWith(ctx, s, Options{Size: SizeXS, Now: genNow, Changes: 100}, io.Discard); err != nil {
			t.Fatal(err)
		}
		root, err := s.Platform(ctx)
		if err != nil {
			t.Fatal(err)
		}
		trees[i], err = s.Orgs(ctx, canopy.ScopeOf(root), nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(trees[0]) != 35 {
		t.Fatalf("tree has %d orgs, want 35", len(trees[0]))
	}
	for i := range trees[0] {
		a, b := trees[0][i], trees[1][i]
		if a.TenantID != b.TenantID || a.Name != b.Name || a.Path != b.Path || a.ActiveUsers != b.ActiveUsers || a.Status != b.Status {
			t.Fatalf("org %d differs between two runs:\n%+v\n%+v", i, a, b)
		}
	}
}

func checkTables(t *testing.T, s *store.Store, stats Stats, platformRows int64) {
	t.Helper()
	ctx := context.Background()
	wantRows := map[string]int64{
		"orgs":          int64(stats.Distributors+stats.MSPs+stats.Customers) + platformRows,
		"customers":     int64(stats.Customers),
		"people":        int64(stats.Staff),
		"memberships":   int64(stats.Staff),
		"end_users":     stats.EndUsers,
		"user_groups":   stats.Groups,
		"group_members": stats.GroupMembers,
		"change_log":    stats.Changes,
	}
	for _, table := range loadedTables {
		n, err := s.CountRows(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if n != wantRows[table] {
			t.Errorf("%s: %d rows in the database, want %d", table, n, wantRows[table])
		}
		loaded := stats.Rows(table)
		if table == "orgs" {
			loaded += platformRows
		}
		if loaded != n {
			t.Errorf("%s: stats say %d rows loaded, database has %d", table, loaded, n)
		}
	}
}

func checkInvariants(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.VerifyActiveUserCounts(ctx); err != nil {
		t.Error(err)
	}
	if err := s.VerifyOrgPaths(ctx); err != nil {
		t.Error(err)
	}
	root, err := s.Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := s.CountByKind(ctx, canopy.ScopeOf(root))
	if err != nil {
		t.Fatal(err)
	}
	if counts[canopy.KindPlatform] != 1 {
		t.Errorf("%d platform roots, want 1", counts[canopy.KindPlatform])
	}
}

// checkIndexes compares the database's secondary indexes with every
// CREATE INDEX of the engine's migrations.
func checkIndexes(t *testing.T, s *store.Store) {
	t.Helper()
	fsys, err := store.MigrationFS(s.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	createIndex := regexp.MustCompile(`(?im)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+(\w+)`)
	dropIndex := regexp.MustCompile(`(?im)^\s*DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?(\w+)`)
	var want []store.Index
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		for _, m := range createIndex.FindAllStringSubmatch(string(src), -1) {
			want = append(want, store.Index{Table: m[2], Name: m[1]})
		}
		// Later migrations may drop an index an earlier one made.
		for _, m := range dropIndex.FindAllStringSubmatch(string(src), -1) {
			want = slices.DeleteFunc(want, func(i store.Index) bool { return i.Name == m[1] })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no CREATE INDEX found in the migrations")
	}
	have, err := s.Indexes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			t.Errorf("index %s on %s is missing after the load; have %v", w.Name, w.Table, have)
		}
	}
}

// checkNormalWritesAfterLoad writes through the ordinary store paths into
// every table that got explicit IDs: on PostgreSQL they collide unless the
// identity sequences were moved past the loaded IDs.
func checkNormalWritesAfterLoad(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	root, err := s.Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := canopy.ScopeOf(root)
	msps, err := s.Orgs(ctx, all, []canopy.OrgKind{canopy.KindMSP}, 1)
	if err != nil || len(msps) == 0 {
		t.Fatalf("no MSP after generation: %v", err)
	}
	err = s.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.CreateOrg(ctx, all, canopy.Org{TenantID: "after-load-customer", Kind: canopy.KindCustomer,
			Name: "After Load Ltd", ParentID: msps[0].ID, Domain: "after-load.example", Status: canopy.StatusActive}, genNow)
		if err != nil {
			return err
		}
		if _, err := tx.CreateEndUser(ctx, c.ID, "first@after-load.example", "First", "User", true, genNow); err != nil {
			return err
		}
		if _, err := tx.CreatePerson(ctx, store.Person{Email: "staff@after-load.example", Name: "After Load"}, genNow); err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, canopy.Change{OrgID: c.ID, OrgPath: c.Path, Actor: canopy.System("test"),
			Action: canopy.ActionCreateCustomer, TargetType: "customer", TargetID: c.TenantID, TargetName: c.Name, At: genNow})
		return err
	})
	if err != nil {
		t.Fatalf("ordinary writes after the bulk load: %v", err)
	}
	// The search triggers are back: a user added now is found.
	found, err := s.SearchEndUsers(ctx, all, store.EndUserSearch{Query: "first@after-load", Contains: true})
	if err != nil || len(found) != 1 {
		t.Errorf("contains search for a user added after the load = %v, %v; want one", found, err)
	}
	if err := s.VerifyActiveUserCounts(ctx); err != nil {
		t.Error(err)
	}
}

func TestChangeMixUsesTheWholeVocabulary(t *testing.T) {
	customer, msp, distributor := changeMix()
	seen := map[canopy.Action]bool{}
	for _, spec := range slices.Concat(customer, msp, distributor) {
		if !spec.action.Known() {
			t.Errorf("action %q is not in canopy.Actions", spec.action)
		}
		if spec.weight <= 0 {
			t.Errorf("action %q has weight %d", spec.action, spec.weight)
		}
		seen[spec.action] = true
	}
	for _, a := range canopy.Actions {
		if !seen[a.Action] {
			t.Errorf("action %q never occurs in generated change logs", a.Action)
		}
	}
}

func TestApportion(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		weights []float64
		caps    []int64
	}{
		{"even", 10, []float64{1, 1, 1}, []int64{100, 100, 100}},
		{"capped", 100, []float64{10, 1, 1}, []int64{20, 100, 100}},
		{"exactly full", 6, []float64{5, 0, 1}, []int64{1, 2, 3}},
		{"zero weights", 5, []float64{0, 0}, []int64{3, 3}},
		{"rounding", 7, []float64{1, 1, 1}, []int64{3, 3, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apportion(tt.total, tt.weights, tt.caps)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for i, v := range got {
				if v < 0 || v > tt.caps[i] {
					t.Errorf("part %d = %d, outside [0, %d]", i, v, tt.caps[i])
				}
				sum += v
			}
			if sum != tt.total {
				t.Errorf("parts %v sum to %d, want %d", got, sum, tt.total)
			}
		})
	}
	if _, err := apportion(10, []float64{1, 1}, []int64{3, 3}); err == nil {
		t.Error("apportion(10) into caps of 3+3 succeeded")
	}
}

// TestShapeL checks the L plan against PERFORMANCE.md without a database.
func TestShapeL(t *testing.T) {
	sh, err := shapeOf(SizeL)
	if err != nil {
		t.Fatal(err)
	}
	root := canopy.Org{ID: 1, Kind: canopy.KindPlatform, Path: "/1/"}
	p, err := newPlan(sh, defaultSeed, genNow, root, ids{org: 2, person: 1, user: 1, group: 1, change: 1})
	if err != nil {
		t.Fatal(err)
	}
	var perMSP []int
	for _, m := range p.msps {
		perMSP = append(perMSP, m.custHi-m.custLo)
	}
	slices.Sort(perMSP)
	if largest, median := perMSP[len(perMSP)-1], perMSP[len(perMSP)/2]; largest < 1_700 || largest > 2_300 || median < 30 || median > 50 {
		t.Errorf("customers per MSP: largest %d (want ≈2,000), median %d (want ≈40)", largest, median)
	}
	var users, giants []int64
	var total, groups, members int64
	for _, c := range p.customers {
		total += c.users
		groups += c.groups
		members += c.members
		if c.users == sh.giantUsers {
			giants = append(giants, c.users)
			continue
		}
		users = append(users, c.users)
		if c.users < 1 || c.users > sh.userCap {
			t.Errorf("customer with %d users, outside [1, %d]", c.users, sh.userCap)
		}
		if c.members > c.users*c.groups {
			t.Errorf("customer with %d memberships in %d groups of %d users", c.members, c.groups, c.users)
		}
	}
	slices.Sort(users)
	median, p99 := users[len(users)/2], users[len(users)*99/100]
	if math.Abs(float64(median)-25) > 5 || p99 < 900 || p99 > 1_500 {
		t.Errorf("users per customer: median %d (want ≈25), p99 %d (want ≈1,200)", median, p99)
	}
	if len(giants) != 4 {
		t.Errorf("%d customers of 25,000 users, want 4", len(giants))
	}
	if total != 2_000_000 || groups != 100_000 || members != 6_000_000 {
		t.Errorf("end users %d, groups %d, memberships %d; want 2,000,000, 100,000, 6,000,000", total, groups, members)
	}
	if len(p.staff) != 2_020 || len(p.customers) != 20_000 || len(p.msps) != 200 {
		t.Errorf("staff %d, customers %d, MSPs %d; want 2,020, 20,000, 200", len(p.staff), len(p.customers), len(p.msps))
	}
}

// BenchmarkGenerateS builds dataset S in a fresh database per iteration on
// each engine (about a minute each): go test -run NONE -bench GenerateS ./internal/demo
func BenchmarkGenerateS(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := storetest.Open(b, d)
				b.StartTimer()
				stats, err := Generate(context.Background(), s, SizeS, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for _, t := range stats.Tables {
					rows += t.Rows
				}
				b.ReportMetric(float64(rows)/stats.Total.Seconds(), "rows/s")
				b.ReportMetric(stats.Load.Seconds(), "load-s")
				b.ReportMetric(stats.Finish.Seconds(), "index-s")
			}
		})
	}
}

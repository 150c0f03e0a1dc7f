package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestMigrationsHaveTheSameNumbersOnEveryEngine(t *testing.T) {
	names := map[store.Dialect][]string{}
	for _, d := range storetest.Engines {
		fsys, err := store.MigrationFS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names[d] = append(names[d], e.Name())
		}
	}
	sqlite, pg := strings.Join(names[store.SQLite], ","), strings.Join(names[store.Postgres], ",")
	if sqlite != pg {
		t.Fatalf("migration files differ:\nsqlite:   %s\npostgres: %s", sqlite, pg)
	}
	if len(names[store.SQLite]) == 0 {
		t.Fatal("no migrations found")
	}
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate: applied %d, err %v; want 0, nil", n, err)
		}
		ok, err := s.MigrationsCurrent(ctx)
		if err != nil || !ok {
			t.Fatalf("MigrationsCurrent = %v, %v; want true", ok, err)
		}
		// Pretend a newer Canopy migrated this database.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.ExecForTest(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`)
		}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Migrate(ctx)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("migrate on newer schema: err = %v; want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), "9999") {
			t.Errorf("error should name the database's version: %v", err)
		}
	})
}

// tree builds platform → distributor → two MSPs → two customers each.
type tree struct {
	platform, dist, mspA, mspB canopy.Org
	custA1, custA2, custB1     canopy.Org
}

func buildTree(t *testing.T, s *store.Store) tree {
	t.Helper()
	ctx := context.Background()
	var tr tree
	err := s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if tr.platform, err = tx.CreatePlatform(ctx, uuid.NewString(), "Platform", t0); err != nil {
			return err
		}
		all := canopy.ScopeOf(tr.platform)
		mk := func(parent canopy.Org, kind canopy.OrgKind, name string) canopy.Org {
			if err != nil {
				return canopy.Org{}
			}
			o := canopy.Org{TenantID: uuid.NewString(), Kind: kind, Name: name, ParentID: parent.ID}
			if kind == canopy.KindCustomer {
				o.Domain, o.Status, o.TrialEndsAt = strings.ToLower(strings.ReplaceAll(name, " ", ""))+".example", canopy.StatusTrial, t0.Add(14*24*time.Hour)
			}
			var created canopy.Org
			created, err = tx.CreateOrg(ctx, all, o, t0)
			return created
		}
		tr.dist = mk(tr.platform, canopy.KindDistributor, "Dist")
		tr.mspA = mk(tr.dist, canopy.KindMSP, "MSP A")
		tr.mspB = mk(tr.dist, canopy.KindMSP, "MSP B")
		tr.custA1 = mk(tr.mspA, canopy.KindCustomer, "Alpha One")
		tr.custA2 = mk(tr.mspA, canopy.KindCustomer, "Alpha Two")
		tr.custB1 = mk(tr.mspB, canopy.KindCustomer, "Beta One")
		return err
	})
	if err != nil {
		t.Fatalf("build tree: %v", err)
	}
	return tr
}

func TestTenantTreePathsAndKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr := buildTree(t, s)
		if got, want := tr.custA1.Path, tr.mspA.Path+itoa(tr.custA1.ID)+"/"; got != want {
			t.Errorf("customer path = %q; want %q", got, want)
		}
		if tr.custA1.Depth != 3 {
			t.Errorf("customer depth = %d; want 3", tr.custA1.Depth)
		}
		// A customer cannot sit directly under a distributor.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateOrg(ctx, canopy.ScopeOf(tr.platform), canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindCustomer, Name: "X", ParentID: tr.dist.ID, Status: canopy.StatusTrial}, t0)
			return err
		})
		if !errors.Is(err, canopy.ErrInvalid) {
			t.Errorf("customer under distributor: err = %v; want ErrInvalid", err)
		}
		// A second platform root is refused.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreatePlatform(ctx, uuid.NewString(), "Again", t0)
			return err
		})
		if !errors.Is(err, canopy.ErrConflict) {
			t.Errorf("second platform: err = %v; want ErrConflict", err)
		}
		got, err := s.OrgByTenantID(ctx, canopy.ScopeOf(tr.mspA), tr.custA2.TenantID)
		if err != nil || got.ID != tr.custA2.ID || got.Status != canopy.StatusTrial || !got.TrialEndsAt.Equal(t0.Add(14*24*time.Hour)) {
			t.Errorf("OrgByTenantID = %+v, %v", got, err)
		}
	})
}

func TestNeighbourSubtreeIsInvisible(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr := buildTree(t, s)
		scopeA := canopy.ScopeOf(tr.mspA)

		// Reads of B's nodes from A's scope: not found, never B's data.
		for _, o := range []canopy.Org{tr.mspB, tr.custB1, tr.dist, tr.platform} {
			if _, err := s.Org(ctx, scopeA, o.ID); !errors.Is(err, canopy.ErrNotFound) {
				t.Errorf("Org(%s) from MSP A: err = %v; want ErrNotFound", o.Name, err)
			}
			if _, err := s.OrgByTenantID(ctx, scopeA, o.TenantID); !errors.Is(err, canopy.ErrNotFound) {
				t.Errorf("OrgByTenantID(%s) from MSP A: err = %v; want ErrNotFound", o.Name, err)
			}
			if in, err := s.InScope(ctx, scopeA, o.ID); err != nil || in {
				t.Errorf("InScope(%s) from MSP A = %v, %v; want false", o.Name, in, err)
			}
		}
		// Lists from A's scope hold exactly A's subtree.
		list, err := s.Orgs(ctx, scopeA, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range list {
			names = append(names, o.Name)
		}
		if got, want := strings.Join(names, ","), "MSP A,Alpha One,Alpha Two"; got != want {
			t.Errorf("Orgs(MSP A scope) = %s; want %s", got, want)
		}
		// Children of B asked from A's scope: nothing.
		kids, err := s.Children(ctx, scopeA, tr.mspB.ID, "", 0, 100)
		if err != nil || len(kids) != 0 {
			t.Errorf("Children(MSP B) from MSP A = %d rows, %v; want 0", len(kids), err)
		}
		// Creating under B from A's scope is refused as not found.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateOrg(ctx, scopeA, canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindCustomer, Name: "Sneaky", ParentID: tr.mspB.ID, Status: canopy.StatusTrial}, t0)
			return err
		})
		if !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("create under MSP B from MSP A: err = %v; want ErrNotFound", err)
		}
		// A customer's scope does not see its sibling or its parent.
		scopeA1 := canopy.ScopeOf(tr.custA1)
		for _, o := range []canopy.Org{tr.custA2, tr.mspA} {
			if in, _ := s.InScope(ctx, scopeA1, o.ID); in {
				t.Errorf("customer A1 sees %s", o.Name)
			}
		}
		// The zero scope sees nothing at all.
		if all, err := s.Orgs(ctx, canopy.Scope{}, nil, 100); err != nil || len(all) != 0 {
			t.Errorf("Orgs(zero scope) = %d rows, %v; want 0", len(all), err)
		}
		// Prefix trap: MSP with id 1x must not match a scope ending in /1/.
		lo, hi := canopy.Scope{Root: 1, Path: "/1/"}.Bounds()
		if !(lo <= "/1/5/" && "/1/5/" < hi) || ("/10/" >= lo && "/10/" < hi) {
			t.Errorf("bounds [%q,%q) wrong", lo, hi)
		}
		// Ancestors from A's scope stop at A.
		anc, err := s.Ancestors(ctx, scopeA, tr.custA1)
		if err != nil || len(anc) != 2 || anc[0].ID != tr.mspA.ID {
			t.Errorf("Ancestors = %v, %v; want [MSP A, Alpha One]", anc, err)
		}
		counts, err := s.ChildCountsOfKind(ctx, canopy.ScopeOf(tr.platform), canopy.KindCustomer)
		if err != nil || counts[tr.mspA.ID] != 2 || counts[tr.mspB.ID] != 1 {
			t.Errorf("ChildCountsOfKind = %v, %v", counts, err)
		}
		// From MSP A's scope, MSP B's customers are not counted.
		counts, err = s.ChildCountsOfKind(ctx, scopeA, canopy.KindCustomer)
		if err != nil || counts[tr.mspA.ID] != 2 || len(counts) != 1 {
			t.Errorf("ChildCountsOfKind from MSP A = %v, %v", counts, err)
		}
	})
}

func TestChangeLogFiltersAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr := buildTree(t, s)
		alice := canopy.Actor{Kind: canopy.ActorPerson, PersonID: 7, Name: "Alice", IP: "127.0.0.1"}
		bob := canopy.Actor{Kind: canopy.ActorPerson, PersonID: 8, Name: "Bob", OnBehalfOfID: 9, OnBehalfOfName: "Carol"}
		entries := []struct {
			actor  canopy.Actor
			action canopy.Action
			org    canopy.Org
			at     time.Duration
		}{
			{alice, canopy.ActionAddUser, tr.custA1, 0},
			{bob, canopy.ActionGrantRole, tr.custA1, time.Hour},
			{alice, canopy.ActionRemoveUser, tr.custA1, 2 * time.Hour},
			{alice, canopy.ActionAddUser, tr.custB1, 3 * time.Hour},
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, e := range entries {
				_, err := tx.RecordChange(ctx, canopy.Change{OrgID: e.org.ID, OrgPath: e.org.Path, Actor: e.actor, Action: e.action,
					TargetType: "user", TargetID: "42", TargetName: "dave@example.com",
					Before: canopy.Snapshot(map[string]string{"role": "user"}), After: canopy.Snapshot(map[string]string{"role": "admin"}),
					At: t0.Add(e.at)})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		scopeA := canopy.ScopeOf(tr.mspA)
		actions := func(cs []canopy.Change) string {
			var out []string
			for _, c := range cs {
				out = append(out, string(c.Action))
			}
			return strings.Join(out, ",")
		}
		cases := []struct {
			name   string
			filter canopy.ChangeFilter
			want   string
		}{
			{"none selected means all, newest first", canopy.ChangeFilter{}, "remove_user,grant_role,add_user"},
			{"one action", canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAddUser}}, "add_user"},
			{"many actions", canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAddUser, canopy.ActionRemoveUser}}, "remove_user,add_user"},
			{"time range", canopy.ChangeFilter{Since: t0.Add(30 * time.Minute), Until: t0.Add(2 * time.Hour)}, "grant_role"},
			{"actor", canopy.ChangeFilter{ActorID: 8}, "grant_role"},
			{"keyset page", canopy.ChangeFilter{Limit: 1}, "remove_user"},
		}
		for _, c := range cases {
			got, err := s.Changes(ctx, scopeA, tr.custA1.ID, c.filter)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if actions(got) != c.want {
				t.Errorf("%s: got %s; want %s", c.name, actions(got), c.want)
			}
		}
		first, _ := s.Changes(ctx, scopeA, tr.custA1.ID, canopy.ChangeFilter{Limit: 1})
		next, _ := s.Changes(ctx, scopeA, tr.custA1.ID, canopy.ChangeFilter{Limit: 5, BeforeAt: first[0].At, BeforeID: first[0].ID})
		if actions(next) != "grant_role,add_user" {
			t.Errorf("second page = %s; want grant_role,add_user", actions(next))
		}
		g := next[0]
		if g.Actor.Name != "Bob" || g.Actor.OnBehalfOfName != "Carol" || string(g.After) != `{"role":"admin"}` || !g.At.Equal(t0.Add(time.Hour)) {
			t.Errorf("entry round trip = %+v", g)
		}
		// MSP A's scope asking for MSP B's customer's log gets nothing.
		got, err := s.Changes(ctx, scopeA, tr.custB1.ID, canopy.ChangeFilter{})
		if err != nil || len(got) != 0 {
			t.Errorf("B's change log from A's scope: %d rows, %v; want 0", len(got), err)
		}
	})
}

func TestTransactionRollsBackEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr := buildTree(t, s)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			o, err := tx.CreateOrg(ctx, canopy.ScopeOf(tr.mspA), canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindCustomer, Name: "Ghost", ParentID: tr.mspA.ID, Status: canopy.StatusTrial}, t0)
			if err != nil {
				return err
			}
			if _, err := tx.RecordChange(ctx, canopy.Change{OrgID: o.ID, OrgPath: o.Path, Actor: canopy.System("test"), Action: canopy.ActionCreateCustomer, TargetType: "customer", TargetID: o.TenantID, TargetName: o.Name, At: t0}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v; want boom", err)
		}
		list, _ := s.Orgs(ctx, canopy.ScopeOf(tr.mspA), []canopy.OrgKind{canopy.KindCustomer}, 100)
		if len(list) != 2 {
			t.Errorf("customers after rollback = %d; want 2", len(list))
		}
	})
}

func itoa(id canopy.OrgID) string { return strconv.FormatInt(int64(id), 10) }

func TestExpiredSessionsAndLinksArePruned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr := buildTree(t, s)
		var person canopy.PersonID
		err := s.InTx(ctx, func(tx *store.Tx) error {
			p, err := tx.CreatePerson(ctx, store.Person{Email: "p@a.example", Name: "P"}, t0)
			if err != nil {
				return err
			}
			person = p.ID
			for i, x := range []struct {
				hash          string
				seen, expires time.Duration
			}{{"fresh", 0, 12 * time.Hour}, {"idle", -2 * time.Hour, 10 * time.Hour}, {"over", 0, -time.Minute}} {
				if err := tx.CreateSession(ctx, store.Session{TokenHash: x.hash, PersonID: p.ID, OrgID: tr.mspA.ID, Created: t0, LastSeen: t0.Add(x.seen), Expires: t0.Add(x.expires)}); err != nil {
					return err
				}
				if err := tx.CreateSigninLink(ctx, store.SigninLink{TokenHash: fmt.Sprint("link", i), PersonID: p.ID, OrgID: tr.mspA.ID, Purpose: "test", Created: t0, Expires: t0.Add(time.Duration(i-1) * 48 * time.Hour)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, t0, t0.Add(-30*time.Minute)); err != nil || n != 2 {
			t.Errorf("expired sessions deleted = %d, %v; want the idle and the over-age one", n, err)
		}
		if list, _ := s.SessionsOf(ctx, person); len(list) != 1 || list[0].TokenHash != "fresh" {
			t.Errorf("sessions left = %+v", list)
		}
		if n, err := s.DeleteExpiredLinks(ctx, t0); err != nil || n != 1 {
			t.Errorf("expired links deleted = %d, %v; want 1", n, err)
		}
	})
}

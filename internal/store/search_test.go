package store_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// searchRow is an end user as the brute-force filter sees it.
type searchRow struct {
	store.EndUser
	path string
}

// matches is the search rule written plainly, to check the indexes against.
func (r searchRow) matches(q string, contains bool) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	name := strings.ToLower(r.FirstName + " " + r.LastName)
	if contains && utf8.RuneCountInString(q) >= store.MinContains {
		return strings.Contains(r.Email, q) || strings.Contains(name, q)
	}
	return strings.HasPrefix(r.Email, q) || strings.HasPrefix(name, q) || strings.HasPrefix(strings.ToLower(r.LastName), q)
}

// searchWorld is a tenant tree with end users whose names hold the
// characters search syntax gives meaning to.
func searchWorld(t *testing.T, s *store.Store) (tree, []searchRow) {
	t.Helper()
	ctx := context.Background()
	tr := buildTree(t, s)
	given := []string{"Ann", "Anna", "Annabel", "Bob", "Jo", "John", "Joanna", "Zoë", `Quo"te`, "Per%cent", "Under_score", "Star*", "Back\\slash", "NEAR", "O'Neil", "Ann-Marie"}
	family := []string{"Smith", "Smithson", "Jones", "Johnson", "NEAR", "AND", "OR", "O'Brien", "100%", "a_b", `"quoted"`, "x*y", "Annson", "de la Cruz"}
	rng := rand.New(rand.NewPCG(5, 11))
	var rows []searchRow
	// Alpha One and Beta One get a second batch later: their IDs span
	// the others', as users added over time do.
	seen := map[canopy.OrgID]map[string]bool{}
	for round, c := range []canopy.Org{tr.custA1, tr.custA2, tr.custB1, tr.custA1, tr.custB1} {
		ci := round % 3
		var add []store.NewEndUser
		if seen[c.ID] == nil {
			seen[c.ID] = map[string]bool{}
		}
		seen := seen[c.ID]
		for k := 0; len(add) < 160-100*(round/3); k++ {
			g, f := given[rng.IntN(len(given))], family[rng.IntN(len(family))]
			local := strings.ToLower(strings.NewReplacer(" ", "", `"`, "", `\`, "", "'", "", "%", "pc", "*", "").Replace(g + "." + f))
			if k%5 == 0 {
				local = fmt.Sprintf("%s%d", local, k+1000*round)
			}
			email := local + "@" + c.Domain
			if ci == 2 && k%7 == 0 {
				// The same address at another customer: a tie on email
				// the keyset must page across.
				email = local + "@" + tr.custA1.Domain
			}
			if seen[email] {
				continue
			}
			seen[email] = true
			add = append(add, store.NewEndUser{Email: email, FirstName: g, LastName: f})
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.CreateEndUsers(ctx, c.ID, add, t0)
			for _, u := range add {
				rows = append(rows, searchRow{EndUser: store.EndUser{ID: ids[strings.ToLower(u.Email)], CustomerID: c.ID, Email: strings.ToLower(u.Email),
					FirstName: u.FirstName, LastName: u.LastName, Active: true}, path: c.Path})
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tr, rows
}

// searchAll pages through a search and returns every row it gave.
func searchAll(t *testing.T, s *store.Store, scope canopy.Scope, q store.EndUserSearch) []store.EndUser {
	t.Helper()
	var out []store.EndUser
	q.Limit = 7
	for range 1000 {
		page, err := s.SearchEndUsers(context.Background(), scope, q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		out = append(out, page...)
		if len(page) < q.Limit {
			return out
		}
		last := page[len(page)-1]
		q.AfterEmail, q.AfterID = last.Email, last.ID
	}
	t.Fatalf("search %+v does not end", q)
	return nil
}

func TestEndUserSearchMatchesBruteForceInEveryScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		tr, rows := searchWorld(t, s)
		scopes := []struct {
			name     string
			scope    canopy.Scope
			customer canopy.OrgID
		}{
			{"platform", canopy.ScopeOf(tr.platform), 0},
			{"distributor", canopy.ScopeOf(tr.dist), 0},
			{"MSP A", canopy.ScopeOf(tr.mspA), 0},
			{"MSP B", canopy.ScopeOf(tr.mspB), 0},
			{"customer A1 from MSP A", canopy.ScopeOf(tr.mspA), tr.custA1.ID},
			{"customer A1 itself", canopy.ScopeOf(tr.custA1), 0},
			{"customer B1 itself", canopy.ScopeOf(tr.custB1), 0},
		}
		queries := []string{"", "a", "An", "ann", " ANNA ", "jo", "john", "smith", "smithson", "zoë", "near", "NEAR", "o'", "o'brien",
			"%", "100%", "_", "a_b", "a_", `"`, `quo"te`, `"quoted"`, "*", "star*", "x*y", `\`, `back\`, "and", "or", "near smith", "ann annson",
			"son", "n j", "@", "@alphaone", "alphatwo.example", ".", "-", "de la", "zzz", "e.", `" OR "`, "john OR", "NEAR(", "ann*", "^ann", "email:ann", "{email}"}
		// Thresholds: the defaults; everything walked or read through the
		// trigram index; everything read whole.
		tunings := []struct {
			name              string
			gatherCap, smallS int64
		}{{"default", 2_000, 10_000}, {"gather by customer", 100, 10_000}, {"walk and index", 1, 0}, {"read whole", 10_000, 1 << 40}}
		for _, tu := range tunings {
			s.SetSearchThresholdsForTest(tu.gatherCap, tu.smallS)
			for _, sc := range scopes {
				for _, contains := range []bool{false, true} {
					for _, q := range queries {
						got := searchAll(t, s, sc.scope, store.EndUserSearch{Query: q, Contains: contains, Customer: sc.customer})
						var want []store.EndUser
						for _, r := range rows {
							if sc.scope.Contains(r.path) && (sc.customer == 0 || r.CustomerID == sc.customer) && r.matches(q, contains) {
								want = append(want, r.EndUser)
							}
						}
						byID := contains && utf8.RuneCountInString(strings.TrimSpace(q)) >= store.MinContains
						slices.SortFunc(want, func(a, b store.EndUser) int {
							if byID {
								return cmp.Compare(a.ID, b.ID)
							}
							return cmp.Or(strings.Compare(a.Email, b.Email), cmp.Compare(a.ID, b.ID))
						})
						if !slices.Equal(got, want) {
							t.Errorf("%s, %s, contains=%v, q=%q: got %d rows, want %d\ngot  %v\nwant %v", tu.name, sc.name, contains, q, len(got), len(want), emails(got), emails(want))
						}
					}
				}
			}
		}
	})
}

func emails(us []store.EndUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = fmt.Sprintf("%d:%s", u.ID, u.Email)
	}
	if len(out) > 12 {
		out = append(out[:12], "…")
	}
	return out
}

func TestEndUserSearchFollowsEditsAndDeletes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr, _ := searchWorld(t, s)
		var id int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.CreateEndUsers(ctx, tr.custA2.ID, []store.NewEndUser{{Email: "wendy.quartermaine@alphatwo.example", FirstName: "Wendy", LastName: "Quartermaine"}}, t0)
			id = ids["wendy.quartermaine@alphatwo.example"]
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		find := func(q string, contains bool) []int64 {
			t.Helper()
			var ids []int64
			for _, u := range searchAll(t, s, canopy.ScopeOf(tr.dist), store.EndUserSearch{Query: q, Contains: contains}) {
				ids = append(ids, u.ID)
			}
			return ids
		}
		if got := find("termain", true); !slices.Equal(got, []int64{id}) {
			t.Fatalf("contains after insert = %v; want [%d]", got, id)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.ExecForTest(ctx, `UPDATE end_users SET last_name = 'Xylophone', email = 'wendy.x@alphatwo.example' WHERE id = $1`, id)
		}); err != nil {
			t.Fatal(err)
		}
		if got := find("termain", true); len(got) != 0 {
			t.Errorf("contains the old name after update = %v; want none", got)
		}
		if got := find("lophon", true); !slices.Equal(got, []int64{id}) {
			t.Errorf("contains the new name after update = %v; want [%d]", got, id)
		}
		if got := find("xylo", false); !slices.Equal(got, []int64{id}) {
			t.Errorf("prefix of the new last name = %v; want [%d]", got, id)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.ExecForTest(ctx, `DELETE FROM end_users WHERE id = $1`, id)
		}); err != nil {
			t.Fatal(err)
		}
		if got := find("lophon", true); len(got) != 0 {
			t.Errorf("contains after delete = %v; want none", got)
		}
	})
}

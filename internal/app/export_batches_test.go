package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// An export longer than several read batches, with many entries sharing a
// millisecond, comes out exactly as the pages list it: every entry once,
// newest first, for no filter and for a filter of two actions merged.
func TestEachChangeAcrossBatchesMatchesThePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		actions := []canopy.Action{canopy.ActionUpdateCustomer, canopy.ActionUpdateSettings, canopy.ActionChangeStatus}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i := 0; i < 3500; i++ {
				at := t0.Add(time.Duration(i/7) * time.Millisecond) // seven entries a millisecond
				_, err := tx.RecordChange(ctx, canopy.Change{OrgID: f.custA.ID, OrgPath: f.custA.Path, Actor: canopy.System("test"),
					Action: actions[(i*7)%3], TargetType: "customer", TargetID: fmt.Sprint(i), TargetName: "Alpha", At: at})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		scope := canopy.ScopeOf(f.mspA)
		for _, filter := range [][]canopy.Action{nil, {canopy.ActionUpdateCustomer, canopy.ActionChangeStatus}} {
			var want []canopy.ChangeID
			page := canopy.ChangeFilter{Actions: filter, Limit: 1000}
			for {
				got, err := s.Changes(ctx, scope, f.custA.ID, page)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range got {
					want = append(want, c.ID)
				}
				if len(got) < 1000 {
					break
				}
				page.BeforeAt, page.BeforeID = got[len(got)-1].At, got[len(got)-1].ID
			}
			var got []canopy.ChangeID
			err := s.EachChange(ctx, scope, f.custA.ID, canopy.ChangeFilter{Actions: filter}, func(c *canopy.Change) error {
				got = append(got, c.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 2000 || len(got) != len(want) {
				t.Fatalf("actions %v: export %d entries, pages %d", filter, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("actions %v: entry %d is %d in the export, %d in the pages", filter, i, got[i], want[i])
				}
			}
		}
	})
}

// The CSV writer's records read back field for field with encoding/csv,
// whatever the field holds.
func TestExportCSVRecordsParse(t *testing.T) {
	fields := []string{"plain", "", " leading space", `with "quotes"`, "comma, inside", "line\nbreak", `{"a":"b","c":[1,2]}`, "'=SUM(A1)", "ünïcödé ✓"}
	var b bytes.Buffer
	w := app.NewCSVWriterForTest(&b)
	if err := w(fields); err != nil {
		t.Fatal(err)
	}
	if err := w(fields[:3]); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[0], fields) || !slices.Equal(got[1], fields[:3]) {
		t.Errorf("read back %q; want %q", got, fields)
	}
}

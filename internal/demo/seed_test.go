package demo

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Two replicas starting together on one empty PostgreSQL: both start
// cleanly and the tree is seeded once.
func TestSeedFromTwoReplicasAtOnce(t *testing.T) {
	url := storetest.NewDatabaseURL(t, store.Postgres)
	ctx := context.Background()
	var stores []*store.Store
	for i := 0; i < 2; i++ {
		s, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Seed(ctx, app.New(app.Deps{Store: s}), s, time.Now())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	root, err := stores[0].Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := stores[0].CountByKind(ctx, canopy.ScopeOf(root))
	if counts[canopy.KindPlatform] != 1 || counts[canopy.KindMSP] != 2 || counts[canopy.KindCustomer] != 12 {
		t.Errorf("tree after two seeds = %v; want one platform, 2 MSPs, 12 customers", counts)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Concurrent InBatchedTx calls may share a commit, but each stays all or
// nothing: a failing call undoes only its own two rows, and its error
// reaches only its caller.
func TestBatchedTransactionsFailAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		failed := errors.New("refused")
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InBatchedTx(ctx, func(tx *store.Tx) error {
					for _, suffix := range []string{"a", "b"} {
						if _, _, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "test", UniqueKey: fmt.Sprint(i, suffix)}, now); err != nil {
							return err
						}
					}
					if i%3 == 0 {
						return failed
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if want := i%3 == 0; errors.Is(err, failed) != want || (!want && err != nil) {
				t.Errorf("call %d: err = %v", i, err)
			}
		}
		for i := range errs {
			for _, suffix := range []string{"a", "b"} {
				// A key already present is skipped: created reports whether the row was missing.
				err := s.InTx(ctx, func(tx *store.Tx) error {
					_, created, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "test", UniqueKey: fmt.Sprint(i, suffix)}, now)
					if want := i%3 == 0; created != want {
						return fmt.Errorf("call %d row %s: missing = %v; want %v", i, suffix, created, want)
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}
		}
		// A panic reaches its caller after its statements are undone.
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v; want the panic", p)
				}
			}()
			s.InBatchedTx(ctx, func(tx *store.Tx) error { panic("boom") })
		}()
		if err := s.InBatchedTx(ctx, func(tx *store.Tx) error { return nil }); err != nil {
			t.Errorf("after a panic: %v", err)
		}
	})
}

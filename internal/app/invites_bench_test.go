package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/benchtest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkBulkInvite (W13) invites 10,000 addresses in one call, and
// BenchmarkImportEndUsers imports a 10,000-row CSV: one transaction with
// its mails (invitations) and change-log entries. They run on customer
// Alpha of a fresh store or, when storetest.DatasetEnv(d) names a
// generated dataset (a copy: the runs add rows), on its customer with the
// most active end users, with new addresses at its domain.
func BenchmarkBulkInvite(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			w := openInviteBench(b, d)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var list strings.Builder
				for j := 0; j < 10_000; j++ {
					fmt.Fprintf(&list, "%suser%d.%d@%s\n", w.prefix, i, j, w.customer.Domain)
				}
				results, err := w.app.InviteUsers(context.Background(), w.admin, w.customer.ID, app.InviteInput{Addresses: list.String()})
				if err != nil || results[9_999].Outcome != app.Invited {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "invitations/s")
		})
	}
}

// BenchmarkInvite (W13, single): one address per call, from 4×GOMAXPROCS
// goroutines (an admin's form, or the API, per call), each call timed.
func BenchmarkInvite(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			w := openInviteBench(b, d)
			var next atomic.Int64
			b.SetParallelism(4)
			benchtest.Parallel(b, "invitations", 1, func(int64) error {
				results, err := w.app.InviteUsers(context.Background(), w.admin, w.customer.ID,
					app.InviteInput{Addresses: fmt.Sprintf("%ssingle%d@%s", w.prefix, next.Add(1), w.customer.Domain)})
				if err == nil && results[0].Outcome != app.Invited {
					err = fmt.Errorf("outcome %s", results[0].Outcome)
				}
				return err
			})
		})
	}
}

func BenchmarkImportEndUsers(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			w := openInviteBench(b, d)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var csv strings.Builder
				csv.WriteString("email,first,last\n")
				for j := 0; j < 10_000; j++ {
					fmt.Fprintf(&csv, "%suser%d.%d@%s,First,Last\n", w.prefix, i, j, w.customer.Domain)
				}
				_, n, err := w.app.ImportEndUsers(context.Background(), w.admin, w.customer.ID, strings.NewReader(csv.String()))
				if err != nil || n != 10_000 {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// inviteBench is the customer W13 and the import invite into, as an
// admin of its MSP; prefix keeps a run's new addresses apart from earlier
// runs' on a dataset.
type inviteBench struct {
	app      *app.App
	admin    app.Viewer
	customer canopy.Customer
	prefix   string
}

func openInviteBench(b *testing.B, d store.Dialect) inviteBench {
	b.Helper()
	if ds, ok := storetest.OpenDataset(b, d); ok {
		c, _ := ds.BusiestCustomer(b, 1)
		return inviteBench{app: app.New(app.Deps{Store: ds.Store, Clock: canopy.NewManualClock(ds.Start(b))}),
			admin:    app.Viewer{Org: c.MSP, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"},
			customer: c, prefix: fmt.Sprintf("bench%x.", time.Now().UnixNano())}
	}
	f := setup(b, storetest.Open(b, d))
	return inviteBench{app: f.app, admin: app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}, customer: canopy.Customer{Org: f.custA}}
}

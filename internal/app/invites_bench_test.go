package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkBulkInvite (W13) invites 10,000 addresses in one call, and
// BenchmarkImportEndUsers imports a 10,000-row CSV, each into a fresh
// customer: one transaction with its mails (invitations) and change-log
// entries.
func BenchmarkBulkInvite(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			f := setup(b, s)
			admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var list strings.Builder
				for j := 0; j < 10_000; j++ {
					fmt.Fprintf(&list, "user%d.%d@alpha.example\n", i, j)
				}
				results, err := f.app.InviteUsers(context.Background(), admin, f.custA.ID, app.InviteInput{Addresses: list.String()})
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
			s := storetest.Open(b, d)
			f := setup(b, s)
			admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
			var next atomic.Int64
			b.SetParallelism(4)
			measureParallel(b, "invitations", func() error {
				results, err := f.app.InviteUsers(context.Background(), admin, f.custA.ID, app.InviteInput{Addresses: fmt.Sprintf("single%d@alpha.example", next.Add(1))})
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
			s := storetest.Open(b, d)
			f := setup(b, s)
			admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var csv strings.Builder
				csv.WriteString("email,first,last\n")
				for j := 0; j < 10_000; j++ {
					fmt.Fprintf(&csv, "user%d.%d@alpha.example,First,Last\n", i, j)
				}
				_, n, err := f.app.ImportEndUsers(context.Background(), admin, f.custA.ID, strings.NewReader(csv.String()))
				if err != nil || n != 10_000 {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

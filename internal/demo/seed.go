package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// AdminEmail is the demo platform administrator's address.
const AdminEmail = "admin@canopy.example"

// Seeded is what Seed made.
type Seeded struct {
	Platform canopy.Org
	AdminID  canopy.PersonID
	Created  bool // false when the database already had a tenant tree
}

type demoCustomer struct {
	name, domain string
	status       canopy.CustomerStatus
	trialDays    int // days until (or, negative, since) the trial's end
	users        int
}

type demoStaff struct {
	name, local string
	role        canopy.Role
}

var demoMSPs = []struct {
	name, domain string
	// managedByDistributor: the distributor opens and closes this MSP's
	// customers (the MSP sees no Delete customer).
	managedByDistributor bool
	staff                []demoStaff
	customers            []demoCustomer
}{
	{"Brightwave IT", "brightwave.example", false, []demoStaff{{"Maya Patel", "maya", canopy.RoleMSPAdmin}, {"Tom Okafor", "tom", canopy.RoleMSPAccounts}}, []demoCustomer{
		{"Northwind Traders", "northwind.example", canopy.StatusActive, 0, 14},
		{"Contoso Dental", "contosodental.example", canopy.StatusActive, 0, 9},
		{"Fabrikam Legal", "fabrikamlegal.example", canopy.StatusTrial, 9, 6},
		{"Tailspin Toys", "tailspin.example", canopy.StatusTrial, 2, 4},
		{"Woodgrove Accountants", "woodgrove.example", canopy.StatusTrialExpired, -5, 3},
		{"Litware Clinic", "litware.example", canopy.StatusActive, 0, 11},
		{"Adatum Builders", "adatum.example", canopy.StatusSuspended, 0, 2},
	}},
	{"Harbor Managed Services", "harbor-ms.example", true, []demoStaff{{"Leo Martins", "leo", canopy.RoleMSPAdmin}, {"Ana Silva", "ana", canopy.RolePartnerMarketing}}, []demoCustomer{
		{"Blue Yonder Air", "blueyonder.example", canopy.StatusActive, 0, 12},
		{"Proseware Schools", "proseware.example", canopy.StatusTrial, 12, 5},
		{"Wide World Importers", "wideworld.example", canopy.StatusActive, 0, 8},
		{"Margie's Travel", "margiestravel.example", canopy.StatusTrialExpired, -20, 3},
		{"Lucerne Publishing", "lucerne.example", canopy.StatusTrial, 6, 7},
	}},
}

var firstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia", "Mateo", "Amelia", "Ethan", "Harper"}
var lastNames = []string{"Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright"}

// Seed creates the demo tenant tree — one distributor, two MSPs, twelve
// customers in every status, staff and end users — through the same use
// cases as everything else, so every row has its change-log entry. It does
// nothing if the database already has a tenant tree.
func Seed(ctx context.Context, a *app.App, s *store.Store, now time.Time) (Seeded, error) {
	if root, err := s.Platform(ctx); err == nil {
		out := Seeded{Platform: root}
		if admin, err := s.PersonByEmail(ctx, AdminEmail); err == nil {
			out.AdminID = admin.ID
		}
		return out, nil
	} else if !errors.Is(err, canopy.ErrNotFound) {
		return Seeded{}, err
	}
	actor := canopy.System("demo seed")
	root, err := a.CreatePlatform(ctx, "Canopy")
	if errors.Is(err, canopy.ErrConflict) {
		// Another replica starting at the same moment created the root first;
		// it seeds the rest.
		return Seeded{}, nil
	}
	if err != nil {
		return Seeded{}, fmt.Errorf("seed: %w", err)
	}
	all := canopy.ScopeOf(root)
	admin, err := a.AddStaff(ctx, actor, all, app.NewStaff{OrgID: root.ID, Name: "Demo Administrator", Email: AdminEmail, Roles: []canopy.Role{canopy.RolePlatformAdmin}})
	if err != nil {
		return Seeded{}, fmt.Errorf("seed: %w", err)
	}
	dist, err := a.CreateOrg(ctx, actor, all, app.NewOrg{ParentID: root.ID, Kind: canopy.KindDistributor, Name: "Cloudmarket Distribution"})
	if err != nil {
		return Seeded{}, fmt.Errorf("seed: %w", err)
	}
	if _, err := a.AddStaff(ctx, actor, all, app.NewStaff{OrgID: dist.ID, Name: "Grace Hopper", Email: "grace@cloudmarket.example", Roles: []canopy.Role{canopy.RoleDistributorAdmin}}); err != nil {
		return Seeded{}, fmt.Errorf("seed: %w", err)
	}
	n := 0
	for _, m := range demoMSPs {
		msp, err := a.CreateOrg(ctx, actor, all, app.NewOrg{ParentID: dist.ID, Kind: canopy.KindMSP, Name: m.name})
		if err != nil {
			return Seeded{}, fmt.Errorf("seed: %w", err)
		}
		if m.managedByDistributor {
			operator := app.Viewer{Org: root, Roles: []canopy.Role{canopy.RolePlatformAdmin}, Actor: actor}
			if err := a.SetLifecycleByDistributor(ctx, operator, msp.ID, true); err != nil {
				return Seeded{}, fmt.Errorf("seed: %w", err)
			}
		}
		for _, st := range m.staff {
			if _, err := a.AddStaff(ctx, actor, all, app.NewStaff{OrgID: msp.ID, Name: st.name, Email: st.local + "@" + m.domain, Roles: []canopy.Role{st.role}}); err != nil {
				return Seeded{}, fmt.Errorf("seed: %w", err)
			}
		}
		for _, c := range m.customers {
			nc := app.NewOrg{ParentID: msp.ID, Kind: canopy.KindCustomer, Name: c.name, Domain: c.domain, Status: c.status}
			if c.status == canopy.StatusTrial || c.status == canopy.StatusTrialExpired {
				nc.TrialEndsAt = now.AddDate(0, 0, c.trialDays).Truncate(time.Hour)
			}
			cust, err := a.CreateOrg(ctx, actor, all, nc)
			if err != nil {
				return Seeded{}, fmt.Errorf("seed: %w", err)
			}
			for i := 0; i < c.users; i++ {
				first, last := firstNames[(n+i)%len(firstNames)], lastNames[(n*3+i)%len(lastNames)]
				email := strings.ToLower(first+"."+last) + "@" + c.domain
				active := i%7 != 6
				if err := a.AddEndUser(ctx, actor, all, cust.ID, email, first, last, active); err != nil {
					return Seeded{}, fmt.Errorf("seed: %w", err)
				}
			}
			n++
		}
	}
	return Seeded{Platform: root, AdminID: admin.ID, Created: true}, nil
}

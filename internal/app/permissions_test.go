package app

import (
	"testing"

	"github.com/canopy-channel/canopy/internal/canopy"
)

func TestRolePermissions(t *testing.T) {
	cases := []struct {
		role canopy.Role
		can  []Permission
		not  []Permission
	}{
		{canopy.RoleMSPAdmin, []Permission{PermManageStaff, PermOrderCustomers, PermDeleteCustomers, PermConfigurePartner}, nil},
		{canopy.RoleMSPAccounts, []Permission{PermOrderCustomers, PermViewCustomers}, []Permission{PermManageStaff, PermManageCustomers, PermProspects}},
		{canopy.RoleMSPProspects, []Permission{PermProspects}, []Permission{PermOrderCustomers, PermViewCustomers, PermManageCustomers}},
		{canopy.RoleMSPImplementationLead, []Permission{PermOrderCustomers, PermManageCustomers}, []Permission{PermManageStaff, PermDeleteCustomers}},
		{canopy.RolePartnerMarketing, []Permission{PermProspects, PermMarketing}, []Permission{PermConfigMarketing, PermOrderCustomers}},
		{canopy.RolePartnerMarketingAdmin, []Permission{PermProspects, PermMarketing, PermConfigMarketing}, []Permission{PermOrderCustomers}},
		{canopy.RoleDistributorReadOnly, []Permission{PermViewCustomers, PermViewStaff}, []Permission{PermManageStaff, PermOrderCustomers}},
		{canopy.RoleCustomerUser, nil, []Permission{PermManageStaff, PermViewCustomers}},
	}
	for _, c := range cases {
		v := Viewer{Roles: []canopy.Role{c.role}}
		for _, p := range c.can {
			if !v.Can(p) {
				t.Errorf("%s cannot %s", c.role, p)
			}
		}
		for _, p := range c.not {
			if v.Can(p) || v.Require(p) == nil {
				t.Errorf("%s can %s", c.role, p)
			}
		}
	}
	// Marketing Admin's list must not have grown Partner Marketing's.
	if (Viewer{Roles: []canopy.Role{canopy.RolePartnerMarketing}}).Can(PermConfigMarketing) {
		t.Error("Partner Marketing shares Marketing Admin's configuration right")
	}
}

func TestMayGrant(t *testing.T) {
	msp, customer := canopy.Org{Kind: canopy.KindMSP}, canopy.Org{Kind: canopy.KindCustomer}
	admin := Viewer{Org: msp, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
	accounts := Viewer{Org: msp, Roles: []canopy.Role{canopy.RoleMSPAccounts}}
	custAdmin := Viewer{Org: customer, Roles: []canopy.Role{canopy.RoleCustomerAdmin}}
	cases := []struct {
		v    Viewer
		role canopy.Role
		kind canopy.OrgKind
		want bool
	}{
		{admin, canopy.RoleMSPAccounts, canopy.KindMSP, true},
		{admin, canopy.RoleMSPAdmin, canopy.KindMSP, true},
		{admin, canopy.RoleMSPAccounts, canopy.KindCustomer, false},   // wrong level
		{admin, canopy.RolePlatformAdmin, canopy.KindPlatform, false}, // above the granter's level
		{admin, canopy.RoleCustomerAdmin, canopy.KindCustomer, true},  // below it
		{admin, "wizard", canopy.KindMSP, false},                      // unknown
		{accounts, canopy.RoleMSPAccounts, canopy.KindMSP, false},     // may not manage staff
		{custAdmin, canopy.RoleCustomerUser, canopy.KindCustomer, true},
		{custAdmin, canopy.RoleMSPAdmin, canopy.KindMSP, false},
	}
	for _, c := range cases {
		if got := c.v.MayGrant(c.role, c.kind); got != c.want {
			t.Errorf("%v granting %s at %s = %v; want %v", c.v.Roles, c.role, c.kind, got, c.want)
		}
	}
}

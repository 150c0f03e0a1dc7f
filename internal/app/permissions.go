package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Permission is something a person may be allowed to do within the subtree
// of the organization where they hold a role.
type Permission string

// Permissions.
const (
	PermViewTenants       Permission = "view_tenants"
	PermViewStaff         Permission = "view_staff"
	PermManageStaff       Permission = "manage_staff" // create, edit, remove, assign roles
	PermViewCustomers     Permission = "view_customers"
	PermOrderCustomers    Permission = "order_customers" // create (trial) customers
	PermManageCustomers   Permission = "manage_customers"
	PermDeleteCustomers   Permission = "delete_customers"
	PermAdminLogin        Permission = "admin_login"
	PermProspects         Permission = "prospects"
	PermMarketing         Permission = "marketing"
	PermConfigMarketing   Permission = "configure_marketing"
	PermConfigurePartner  Permission = "configure_partner"
	PermViewInvoices      Permission = "view_invoices"
	PermViewChangeLog     Permission = "view_change_log"
	PermReset2FA          Permission = "reset_two_step"
	PermManageCustomerOrg Permission = "manage_customer_account" // a customer admin in their own account
)

var (
	viewOnly   = []Permission{PermViewTenants, PermViewStaff, PermViewCustomers, PermViewInvoices, PermViewChangeLog}
	marketing  = []Permission{PermViewTenants, PermProspects, PermMarketing}
	everything = []Permission{PermViewTenants, PermViewStaff, PermManageStaff, PermViewCustomers, PermOrderCustomers,
		PermManageCustomers, PermDeleteCustomers, PermAdminLogin, PermProspects, PermMarketing, PermConfigMarketing,
		PermConfigurePartner, PermViewInvoices, PermViewChangeLog, PermReset2FA, PermManageCustomerOrg}
)

// rolePermissions is the one table of who may do what (PRODUCT.md, "MSP
// staff roles"). Rights apply to the holder's subtree only; the subtree is
// enforced by scope in every query, this table by Require.
var rolePermissions = map[canopy.Role][]Permission{
	canopy.RolePlatformAdmin:         everything,
	canopy.RoleDistributorAdmin:      everything,
	canopy.RoleDistributorReadOnly:   viewOnly,
	canopy.RoleMSPAdmin:              everything,
	canopy.RoleMSPAccounts:           {PermViewTenants, PermViewCustomers, PermOrderCustomers},
	canopy.RoleMSPProspects:          {PermViewTenants, PermProspects},
	canopy.RoleMSPImplementationLead: {PermViewTenants, PermViewCustomers, PermOrderCustomers, PermManageCustomers, PermAdminLogin},
	canopy.RolePartnerMarketing:      marketing,
	canopy.RolePartnerMarketingAdmin: append(slices.Clone(marketing), PermConfigMarketing),
	canopy.RoleCustomerAdmin:         {PermViewTenants, PermViewStaff, PermManageStaff, PermViewChangeLog, PermManageCustomerOrg, PermReset2FA},
	canopy.RoleCustomerUser:          {PermViewTenants},
}

// Can reports whether v holds a role granting p.
func (v Viewer) Can(p Permission) bool {
	for _, r := range v.Roles {
		if slices.Contains(rolePermissions[r], p) {
			return true
		}
	}
	return false
}

// Require returns ErrForbidden unless v may do p. Adapters answer it with
// 403 for the caller's own subtree; requests about other subtrees never get
// this far (their objects are not found).
func (v Viewer) Require(p Permission) error {
	if v.Can(p) {
		return nil
	}
	return fmt.Errorf("%s: %w", p, canopy.ErrForbidden)
}

// LifecycleRefused reports that v may not delete customers of msp because
// msp's distributor manages their lifecycle (v acts at the MSP or below);
// the distributor and the platform may.
func (v Viewer) LifecycleRefused(msp canopy.Org) bool {
	return msp.LifecycleByDistributor && v.Org.Kind.Rank() >= canopy.KindMSP.Rank()
}

// requireDistributorConfig lets through distributor (or platform) staff
// who configure partners: locks and customer lifecycle are theirs.
func (v Viewer) requireDistributorConfig(what string) error {
	if v.Org.Kind.Rank() > canopy.KindDistributor.Rank() || !v.Can(PermConfigurePartner) {
		return fmt.Errorf("%s: %w", what, canopy.ErrForbidden)
	}
	return nil
}

// MayGrant reports whether v may give role r to someone at an organization
// of kind k: the role must belong to that level, which must not be above
// the viewer's own, and v must manage staff and hold every right the role
// gives (nobody grants rights they do not have).
func (v Viewer) MayGrant(r canopy.Role, k canopy.OrgKind) bool {
	info, ok := r.Info()
	if !ok || info.Kind != k || k.Rank() < v.Org.Kind.Rank() || !v.Can(PermManageStaff) {
		return false
	}
	for _, p := range rolePermissions[r] {
		if !v.Can(p) {
			return false
		}
	}
	return true
}

// InCustomer reports whether v acts inside a customer account: one of its
// people, or staff under Admin Login. Their pages are the customer
// portal's.
func (v Viewer) InCustomer() bool { return v.Org.Kind == canopy.KindCustomer }

// MayOpen says whether v may open module m of their customer: not found
// unless the customer has it, forbidden unless v is an Admin or a User
// granted it.
func (v Viewer) MayOpen(m canopy.Module) error {
	if !v.InCustomer() || !slices.Contains(v.customerModules, m) {
		return fmt.Errorf("module %q: %w", m, canopy.ErrNotFound)
	}
	if !slices.Contains(v.Modules, m) {
		return fmt.Errorf("module %q: %w", m, canopy.ErrForbidden)
	}
	return nil
}

// Sees reports whether o, an organization in v's scope, is one v may see:
// a User granted some sub-accounts sees those and what lies beneath them,
// and no other sub-account of the customer.
func (v Viewer) Sees(o canopy.Org) bool {
	if v.SubAccounts == nil || o.Kind != canopy.KindSubAccount {
		return true
	}
	for _, id := range v.SubAccounts {
		if strings.Contains(o.Path, "/"+strconv.FormatInt(int64(id), 10)+"/") {
			return true
		}
	}
	return false
}

package canopy

// Role is a named set of rights held at one organization; it applies to that
// organization's subtree.
type Role string

// Roles by the level where they are held.
const (
	RolePlatformAdmin Role = "platform_admin"

	RoleDistributorAdmin    Role = "distributor_admin"
	RoleDistributorReadOnly Role = "distributor_readonly"

	RoleMSPAdmin              Role = "msp_admin"
	RoleMSPAccounts           Role = "msp_accounts"
	RoleMSPProspects          Role = "msp_prospects"
	RoleMSPImplementationLead Role = "msp_implementation_lead"
	RolePartnerMarketing      Role = "partner_marketing"
	RolePartnerMarketingAdmin Role = "partner_marketing_admin"

	RoleCustomerAdmin Role = "customer_admin"
	RoleCustomerUser  Role = "customer_user"
)

// RoleInfo describes a role for people and says where it may be held.
type RoleInfo struct {
	Role  Role
	Label string
	Kind  OrgKind // the organization kind where it is held
	About string
}

// Roles lists every role in display order.
var Roles = []RoleInfo{
	{RolePlatformAdmin, "Platform Administrator", KindPlatform, "Everything, for every distributor, MSP and customer of this Canopy."},
	{RoleDistributorAdmin, "Distributor Administrator", KindDistributor, "Everything for the distributor's MSPs and their customers, including staff and roles."},
	{RoleDistributorReadOnly, "Distributor Read-only", KindDistributor, "Sees the distributor's MSPs and customers; changes nothing."},
	{RoleMSPAdmin, "MSP Administrator", KindMSP, "Everything below, plus creating, editing and removing staff, assigning roles and partner configuration."},
	{RoleMSPAccounts, "MSP Accounts", KindMSP, "Places orders for new customers and views existing customers."},
	{RoleMSPProspects, "MSP Prospects", KindMSP, "Creates prospects; cannot order or manage existing customers."},
	{RoleMSPImplementationLead, "MSP Implementation Lead", KindMSP, "Places orders and provisions new customers (technical contact)."},
	{RolePartnerMarketing, "Partner Marketing", KindMSP, "Lead generation: prospects, risk reports, the sign-up widget and campaigns."},
	{RolePartnerMarketingAdmin, "Partner Marketing Admin", KindMSP, "All of Partner Marketing plus its configuration."},
	{RoleCustomerAdmin, "Admin", KindCustomer, "Everything in the customer account."},
	{RoleCustomerUser, "User", KindCustomer, "Only the modules and sub-accounts granted."},
}

// Info returns the description of r; ok is false for an unknown role.
func (r Role) Info() (RoleInfo, bool) {
	for _, info := range Roles {
		if info.Role == r {
			return info, true
		}
	}
	return RoleInfo{}, false
}

// Label is the role as people read it.
func (r Role) Label() string {
	if info, ok := r.Info(); ok {
		return info.Label
	}
	return string(r)
}

package canopy

import (
	"strconv"
	"time"
)

// Plan is a customer's plan type.
type Plan string

// Plans, in display order.
var Plans = []struct {
	Plan  Plan
	Label string
}{
	{"essentials", "Essentials"},
	{"standard", "Standard"},
	{"premium", "Premium"},
}

// Known reports whether p is one of Plans.
func (p Plan) Known() bool {
	for _, known := range Plans {
		if known.Plan == p {
			return true
		}
	}
	return false
}

// Label is the plan as people read it.
func (p Plan) Label() string {
	for _, known := range Plans {
		if known.Plan == p {
			return known.Label
		}
	}
	return string(p)
}

// Module is a part of the product a customer may have ("feature
// availability"); customer Users are granted modules one by one.
type Module string

// ModuleInfo describes a module.
type ModuleInfo struct {
	Module Module
	Label  string
	Short  string // in the navigation
}

// Modules lists every module a customer can be given, in display order.
var Modules = []ModuleInfo{
	{"training", "Security awareness training", "Training"},
	{"phishing", "Phishing simulations", "Phishing"},
	{"policies", "Policy management", "Policies"},
	{"dark_web", "Dark web monitoring", "Dark web"},
	{"reports", "Reports", "Reports"},
}

// Label is the module as people read it.
func (m Module) Label() string {
	for _, known := range Modules {
		if known.Module == m {
			return known.Label
		}
	}
	return string(m)
}

// Short is the module's name in the navigation.
func (m Module) Short() string {
	for _, known := range Modules {
		if known.Module == m {
			return known.Short
		}
	}
	return string(m)
}

// Known reports whether m is one of Modules.
func (m Module) Known() bool {
	for _, known := range Modules {
		if known.Module == m {
			return true
		}
	}
	return false
}

// Customer is a customer tenant with everything its Edit page shows.
type Customer struct {
	Org
	MSP          Org      // the owning MSP
	Distributor  Org      // the MSP's distributor
	Domains      []string // extra domains, besides Org.Domain
	Plan         Plan
	MaxUsers     int // 0: no limit
	Modules      []Module
	DisplayName  string // branding; empty: Org.Name
	PrimaryColor string // branding, "#rrggbb"; empty: Canopy's
	HasLogo      bool
}

// TrialDaysLeft is the number of started days until the trial ends (0 once
// it has ended).
func (c Org) TrialDaysLeft(now time.Time) int {
	if c.TrialEndsAt.IsZero() || !now.Before(c.TrialEndsAt) {
		return 0
	}
	return int((c.TrialEndsAt.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
}

// BrandName is the name the customer's pages and emails show.
func (c Customer) BrandName() string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return c.Name
}

// SettingKey names a customer setting that MSPs set defaults for.
type SettingKey string

// Customer settings.
const (
	SettingEnforceTwoStep    SettingKey = "enforce_two_step"
	SettingEmailChange       SettingKey = "allow_email_change"
	SettingEndUserPortal     SettingKey = "end_user_portal"
	SettingMagicLink         SettingKey = "magic_link_signin"
	SettingDomainLock        SettingKey = "domain_lock"
	SettingReportsNoInactive SettingKey = "reports_remove_inactive"
	SettingTrialDays         SettingKey = "trial_days"
)

// SettingInfo describes a setting: its label, the built-in default, and
// whether a customer may override it (trial length is an MSP default only).
type SettingInfo struct {
	Key         SettingKey
	Label       string
	Help        string
	Default     string
	Number      bool // an integer, not a toggle
	Min, Max    int  // bounds of a number
	PerCustomer bool
}

// Settings lists every setting in display order.
var Settings = []SettingInfo{
	{Key: SettingEnforceTwoStep, Label: "Enforce two-step verification for users", Help: "Every user of the customer must set up two-step verification at their next sign-in.", Default: "false", PerCustomer: true},
	{Key: SettingEmailChange, Label: "Users may change their email address", Help: "A person may change their email in My Details only if every customer they belong to allows it.", Default: "true", PerCustomer: true},
	{Key: SettingEndUserPortal, Label: "End-user portal", Help: "End users reach their training through the customer's portal link.", Default: "true", PerCustomer: true},
	{Key: SettingMagicLink, Label: "Magic-link sign-in", Help: "End users sign in to the portal with a link emailed to them; they have no password.", Default: "true", PerCustomer: true},
	{Key: SettingDomainLock, Label: "Domain Lock", Help: "Users and end users must have an address at one of the customer's domains.", Default: "true", PerCustomer: true},
	{Key: SettingReportsNoInactive, Label: "Remove inactive users from all reports", Help: "Deactivated users are left out of reports, Outstanding Courses included.", Default: "true", PerCustomer: true},
	{Key: SettingTrialDays, Label: "Free trial length (days)", Help: "How long a new customer's free trial lasts.", Default: "14", Number: true, Min: 1, Max: 365},
}

// Info returns the description of k; ok is false for an unknown key.
func (k SettingKey) Info() (SettingInfo, bool) {
	for _, s := range Settings {
		if s.Key == k {
			return s, true
		}
	}
	return SettingInfo{}, false
}

// Valid reports whether value is acceptable for the setting.
func (s SettingInfo) Valid(value string) bool {
	if s.Number {
		n, err := strconv.Atoi(value)
		return err == nil && n >= s.Min && n <= s.Max
	}
	return value == "true" || value == "false"
}

// SettingSource says where a customer's effective value comes from.
type SettingSource string

// Setting sources, weakest first.
const (
	SourceBuiltIn     SettingSource = "built_in"    // Canopy's default
	SourceMSP         SettingSource = "msp"         // the MSP's customer default
	SourceCustomer    SettingSource = "customer"    // overridden for this customer
	SourceDistributor SettingSource = "distributor" // locked by the distributor
)

// SettingValue is one setting's effective value and where it comes from.
type SettingValue struct {
	SettingInfo
	Value  string
	Source SettingSource
	// Inherited is what the value would be without the customer's override.
	Inherited       string
	InheritedSource SettingSource
}

// On reads a toggle.
func (v SettingValue) On() bool { return v.Value == "true" }

// Locked reports a value imposed by the distributor.
func (v SettingValue) Locked() bool { return v.Source == SourceDistributor }

// Overridden reports a customer's own value.
func (v SettingValue) Overridden() bool { return v.Source == SourceCustomer }

// Int reads a number setting (0 if it is not one).
func (v SettingValue) Int() int { n, _ := strconv.Atoi(v.Value); return n }

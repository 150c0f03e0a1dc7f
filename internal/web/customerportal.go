package web

import (
	"fmt"
	"net/http"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// The customer portal is what people of a customer (and staff under Admin
// Login) see: the customer's modules, and for Admins its User Management,
// Configuration, Change log, Pricing and Payment. A User sees only the
// modules granted; the rest is absent from the navigation and refused by
// URL.

// navFor is the main navigation of v.
func navFor(v *app.Viewer) []NavItem {
	if v == nil || !v.InCustomer() {
		return navItems
	}
	t := v.Org.TenantID
	items := []NavItem{{Key: "home", Label: "Home", Path: "/"}}
	for _, m := range v.Modules {
		items = append(items, NavItem{Key: "module-" + string(m), Label: m.Short(), Path: "/modules/" + string(m),
			Blurb: m.Label() + "."})
	}
	if !v.Can(app.PermManageCustomerOrg) {
		return append(items, NavItem{Key: "tenants", Label: "Account", Path: "/tenants/" + t,
			Blurb: "Your account and the sub-accounts you can reach."})
	}
	// An Admin's Configuration holds the account's tabs: Details,
	// Configuration (with sub-accounts), Change log and Users.
	return append(items,
		NavItem{Key: "customer-users", Label: "User Management", Path: "/customers/" + t + "/users",
			Blurb: "Invite users, set their permissions, deactivate or remove them; end users and groups."},
		NavItem{Key: "customer-configuration", Label: "Configuration", Path: "/customers/" + t + "/configuration",
			Blurb: "Sign-in rules, the end-user portal, Domain Lock, sub-accounts and the change log."},
		NavItem{Key: "pricing", Label: "Pricing", Path: "/pricing", Soon: true,
			Blurb: "Your plan and its prices."},
		NavItem{Key: "payment", Label: "Payment", Path: "/payment", Soon: true,
			Blurb: "How your account is paid for."})
}

// ModulePage opens one module of the viewer's customer: 404 unless the
// customer has it, 403 for a User not granted it.
func (w *Web) ModulePage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	m := canopy.Module(r.PathValue("module"))
	if err := v.MayOpen(m); err != nil {
		return err
	}
	item := NavItem{Key: "module-" + string(m), Label: m.Label(),
		Blurb: fmt.Sprintf("%s for %s arrives in a later release of Canopy.", m.Label(), v.Org.Name)}
	return w.render(rw, r, http.StatusOK, "soon", page{Title: item.Label, Nav: item.Key, Data: item})
}

// AdminOnlyPage is a customer Admin's page (Pricing, Payment): 404 outside
// a customer account, 403 for a User.
func (w *Web) AdminOnlyPage(key string) HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		v, _ := ViewerFrom(r.Context())
		if !v.InCustomer() {
			return fmt.Errorf("%s: %w", key, canopy.ErrNotFound)
		}
		if err := v.Require(app.PermManageCustomerOrg); err != nil {
			return err
		}
		for _, item := range navFor(&v) {
			if item.Key == key {
				return w.render(rw, r, http.StatusOK, "soon", page{Title: item.Label, Nav: item.Key, Data: item})
			}
		}
		return fmt.Errorf("%s: %w", key, canopy.ErrNotFound)
	}
}

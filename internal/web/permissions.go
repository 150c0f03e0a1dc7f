package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// PermissionsPage shows a customer user's permissions: Admin, or User with
// the modules and sub-accounts they may open.
func (w *Web) PermissionsPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, u, err := w.accountUserOfPage(r)
	if err != nil {
		return err
	}
	f := form{Values: url.Values{"role": {string(u.Role)}}}
	for _, m := range u.Modules {
		f.Values.Add("modules", string(m))
	}
	for _, s := range u.SubAccounts {
		f.Values.Add("sub_accounts", strconv.FormatInt(int64(s), 10))
	}
	return w.renderPermissions(rw, r, v, c, u, http.StatusOK, f)
}

// PermissionsSubmit saves a customer user's permissions.
func (w *Web) PermissionsSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, u, err := w.accountUserOfPage(r)
	if err != nil {
		return err
	}
	p := app.Permissions{Role: canopy.Role(r.PostFormValue("role"))}
	for _, m := range r.PostForm["modules"] {
		p.Modules = append(p.Modules, canopy.Module(m))
	}
	for _, s := range r.PostForm["sub_accounts"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return canopy.FieldErrors{"sub_accounts": "Choose sub-accounts from the list."}
		}
		p.SubAccounts = append(p.SubAccounts, canopy.OrgID(id))
	}
	err = w.app.SetAccountUserPermissions(r.Context(), v, c.ID, u.ID, p)
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=permissions", c.TenantID), http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderPermissions(rw, r, v, c, u, http.StatusUnprocessableEntity, form{Values: r.PostForm, Errors: fe})
}

func (w *Web) accountUserOfPage(r *http.Request) (app.Viewer, canopy.Customer, store.AccountUser, error) {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return v, c, store.AccountUser{}, err
	}
	id, err := personID(r)
	if err != nil {
		return v, c, store.AccountUser{}, err
	}
	u, err := w.app.AccountUser(r.Context(), v, c.ID, id)
	return v, c, u, err
}

func (w *Web) renderPermissions(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, u store.AccountUser, status int, f form) error {
	subs, err := w.app.SubAccounts(r.Context(), v, c.ID)
	if err != nil {
		return err
	}
	return w.customerPage(rw, r, v, c, "users", "customer_user_permissions", status,
		map[string]any{"User": u, "Form": f, "Modules": c.Modules, "SubAccounts": subs})
}

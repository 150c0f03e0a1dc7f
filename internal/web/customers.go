package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// listState is a sortable list's state in its URL, so every view can be
// bookmarked and the back button works.
type listState struct {
	Path        string
	Values      url.Values
	Sort        string
	Desc        bool
	DefaultSort string
}

// With returns the list URL with some parameters changed (and paging reset).
func (l listState) With(kv ...string) template.URL {
	v := url.Values{}
	for k, vals := range l.Values {
		v[k] = append([]string(nil), vals...)
	}
	v.Del("after_value")
	v.Del("after_id")
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return template.URL(l.Path + "?" + v.Encode())
}

func (l listState) col() string {
	if l.Sort == "" {
		return l.DefaultSort
	}
	return l.Sort
}

// SortLink toggles the direction when the column is already the sort.
func (l listState) SortLink(col string) template.URL {
	dir := "asc"
	if l.col() == col && !l.Desc {
		dir = "desc"
	}
	return l.With("sort", col, "dir", dir)
}

// AriaSort is the aria-sort value of a column header.
func (l listState) AriaSort(col string) string {
	switch {
	case l.col() != col:
		return "none"
	case l.Desc:
		return "descending"
	}
	return "ascending"
}

var statusFilters = []canopy.CustomerStatus{canopy.StatusActive, canopy.StatusTrial, canopy.StatusTrialExpired, canopy.StatusSuspended}

// Customers is the uService customers list.
func (w *Web) Customers(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if v.Org.Kind == canopy.KindCustomer {
		// A customer's own people (and Admin Login) land on their account.
		http.Redirect(rw, r, "/customers/"+v.Org.TenantID, http.StatusSeeOther)
		return nil
	}
	qs := r.URL.Query()
	q := store.CustomerQuery{Search: qs.Get("q"), Status: canopy.CustomerStatus(qs.Get("status")), Sort: qs.Get("sort"),
		Desc: qs.Get("dir") == "desc", AfterValue: qs.Get("after_value"), Limit: 50}
	if id, err := strconv.ParseInt(qs.Get("after_id"), 10, 64); err == nil {
		q.AfterID = canopy.OrgID(id)
	}
	msps, err := w.app.MSPs(r.Context(), v)
	if err != nil {
		return err
	}
	if t := qs.Get("msp"); t != "" {
		for _, m := range msps {
			if m.TenantID == t {
				q.MSP = m.ID
			}
		}
		if q.MSP == 0 {
			return canopy.ErrNotFound
		}
	}
	list, err := w.app.Customers(r.Context(), v, q)
	fe, err := formError(err)
	if err != nil {
		return err
	}
	state := listState{Path: "/customers", Values: qs, Sort: q.Sort, Desc: q.Desc, DefaultSort: "name"}
	data := map[string]any{"List": list, "Q": q, "L": state, "Errors": fe, "MSPs": msps, "MSPFilter": qs.Get("msp"),
		"Statuses": statusFilters, "ShowMSP": v.Org.Kind != canopy.KindMSP,
		"CanCreate": v.Can(app.PermOrderCustomers), "CanManage": v.Can(app.PermManageCustomers),
		"CanAdminLogin": v.Can(app.PermAdminLogin) && v.Acting == nil, "CanDelete": list.MayDelete,
		"Done": qs.Get("done"), "Filtered": q.Search != "" || q.Status != "" || q.MSP != 0}
	if list.More {
		last := list.Rows[len(list.Rows)-1]
		next := url.Values{}
		for k, vals := range qs {
			next[k] = vals
		}
		next.Set("after_value", last.SortValue)
		next.Set("after_id", strconv.FormatInt(int64(last.ID), 10))
		data["Next"] = "/customers?" + next.Encode()
	}
	if r.Header.Get("HX-Request") == "true" {
		return w.renderPartial(rw, "customers", "results", page{Viewer: &v, Data: data})
	}
	return w.render(rw, r, http.StatusOK, "customers", page{Title: "Customers", Nav: "customers", Data: data})
}

func customerForm(c canopy.Customer) form {
	vals := url.Values{"name": {c.Name}, "domain": {c.Domain}, "extra_domains": {strings.Join(c.Domains, "\n")},
		"plan": {string(c.Plan)}, "display_name": {c.DisplayName}, "primary_color": {c.PrimaryColor}}
	if c.MaxUsers > 0 {
		vals.Set("max_users", strconv.Itoa(c.MaxUsers))
	}
	for _, m := range c.Modules {
		vals.Add("modules", string(m))
	}
	return form{Values: vals}
}

func customerInput(r *http.Request, fe canopy.FieldErrors) app.CustomerInput {
	in := app.CustomerInput{Name: r.PostFormValue("name"), Domain: r.PostFormValue("domain"), ExtraDomains: r.PostFormValue("extra_domains"),
		Plan: canopy.Plan(r.PostFormValue("plan")), DisplayName: r.PostFormValue("display_name"), PrimaryColor: r.PostFormValue("primary_color")}
	if s := strings.TrimSpace(r.PostFormValue("max_users")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fe.Add("max_users", "Enter a whole number, or leave it empty for no limit.")
		}
		in.MaxUsers = n
	}
	for _, m := range r.PostForm["modules"] {
		in.Modules = append(in.Modules, canopy.Module(m))
	}
	return in
}

// NewCustomerPage is the Create customer form.
func (w *Web) NewCustomerPage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := v.Require(app.PermOrderCustomers); err != nil {
		return err
	}
	f := form{Values: url.Values{"plan": {"standard"}, "domain_lock": {"on"}}}
	if v.Org.Kind == canopy.KindMSP {
		// The form starts from the MSP's customer defaults.
		_, defaults, err := w.app.CustomerDefaults(r.Context(), v, v.Org.ID)
		if err != nil {
			return err
		}
		if !defaults[canopy.SettingDomainLock].On() {
			f.Values.Del("domain_lock")
		}
	}
	for _, m := range canopy.Modules {
		if m.Module != "dark_web" {
			f.Values.Add("modules", string(m.Module))
		}
	}
	return w.renderNewCustomer(rw, r, v, http.StatusOK, f)
}

func (w *Web) renderNewCustomer(rw http.ResponseWriter, r *http.Request, v app.Viewer, status int, f form) error {
	msps, err := w.app.MSPs(r.Context(), v)
	if err != nil {
		return err
	}
	trialDays := 0
	if v.Org.Kind == canopy.KindMSP {
		if _, defaults, err := w.app.CustomerDefaults(r.Context(), v, v.Org.ID); err == nil {
			trialDays = defaults[canopy.SettingTrialDays].Int()
		}
	}
	return w.render(rw, r, status, "customer_new", page{Title: "Create customer", Nav: "customers",
		Data: map[string]any{"Form": f, "MSPs": msps, "Plans": canopy.Plans, "Modules": canopy.Modules, "TrialDays": trialDays}})
}

// NewCustomerSubmit creates the customer and opens its page.
func (w *Web) NewCustomerSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	fe := canopy.FieldErrors{}
	in := customerInput(r, fe)
	lock := r.PostFormValue("domain_lock") == "on"
	in.DomainLock, in.AdminEmail = &lock, r.PostFormValue("admin_email")
	if t := r.PostFormValue("msp"); t != "" {
		msps, err := w.app.MSPs(r.Context(), v)
		if err != nil {
			return err
		}
		for _, m := range msps {
			if m.TenantID == t {
				in.MSPID = m.ID
			}
		}
		if in.MSPID == 0 {
			fe.Add("msp", "Choose one of your MSPs.")
		}
	}
	var c canopy.Customer
	err := fe.Err()
	if err == nil {
		c, err = w.app.CreateCustomer(r.Context(), v, in)
	}
	if err == nil {
		http.Redirect(rw, r, "/customers/"+c.TenantID+"?done=created", http.StatusSeeOther)
		return nil
	}
	errs, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderNewCustomer(rw, r, v, http.StatusUnprocessableEntity, form{Values: r.PostForm, Errors: errs})
}

// customerOfPage reads the customer named by {tenant} as the viewer may see it.
func (w *Web) customerOfPage(r *http.Request) (app.Viewer, canopy.Customer, error) {
	v, _ := ViewerFrom(r.Context())
	c, err := w.app.Customer(r.Context(), v, r.PathValue("tenant"))
	return v, c, err
}

type customerTab struct {
	Key, Label, Path string
}

func customerTabs(c canopy.Customer) []customerTab {
	base := "/customers/" + c.TenantID
	return []customerTab{{"details", "Details", base}, {"configuration", "Configuration", base + "/configuration"},
		{"changes", "Change log", base + "/changes"}, {"users", "Users", base + "/users"}}
}

func (w *Web) customerPage(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, tab, tmpl string, status int, data map[string]any) error {
	data["C"], data["Tab"], data["Tabs"] = c, tab, customerTabs(c)
	data["Now"] = time.Now()
	data["Manage"] = v.Org.ID == c.ID && v.Can(app.PermManageCustomerOrg) || v.Org.ID != c.ID && v.Can(app.PermManageCustomers)
	data["Staff"] = v.Org.ID != c.ID
	data["CanEdit"] = v.Org.ID != c.ID && v.Can(app.PermManageCustomers)
	data["Actions"] = app.AvailableActions(c.Status)
	data["CanStatus"] = v.Org.ID != c.ID && v.Can(app.PermManageCustomers)
	data["CanAdminLogin"] = v.Org.ID != c.ID && v.Can(app.PermAdminLogin) && v.Acting == nil
	data["CanDelete"] = v.Org.ID != c.ID && v.Can(app.PermDeleteCustomers) && !v.LifecycleRefused(c.MSP)
	data["Done"] = r.URL.Query().Get("done")
	nav := "customers"
	if v.InCustomer() { // the customer portal's own entries
		nav = "customer-configuration"
		if tab == "users" {
			nav = "customer-users"
		}
	}
	return w.render(rw, r, status, tmpl, page{Title: c.Name, Nav: nav, Data: data})
}

// CustomerDetails is the customer page's Details tab.
func (w *Web) CustomerDetails(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	return w.customerPage(rw, r, v, c, "details", "customer", http.StatusOK, map[string]any{"Plans": canopy.Plans, "Modules": canopy.Modules})
}

// CustomerConfiguration is the Configuration tab: IDs, parents and toggles.
func (w *Web) CustomerConfiguration(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	return w.renderConfiguration(rw, r, v, c, http.StatusOK, nil)
}

func (w *Web) renderConfiguration(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, status int, errs canopy.FieldErrors) error {
	settings, err := w.app.CustomerSettings(r.Context(), v, c.Org)
	if err != nil {
		return err
	}
	data := map[string]any{"Settings": app.SettingsList(settings, true), "PortalURL": w.app.PortalURL(c.Org), "Errors": errs}
	if subs, err := w.app.SubAccounts(r.Context(), v, c.ID); err == nil {
		data["SubAccounts"] = subs
	} else if !errors.Is(err, canopy.ErrForbidden) {
		return err
	}
	return w.customerPage(rw, r, v, c, "configuration", "customer_configuration", status, data)
}

// CustomerSettingSubmit turns one setting on or off, or resets it to inherited.
func (w *Web) CustomerSettingSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	key := canopy.SettingKey(r.PostFormValue("key"))
	reset := r.PostFormValue("reset") != ""
	err = w.app.SetCustomerSetting(r.Context(), v, c.ID, key, r.PostFormValue("value"), reset)
	if errors.Is(err, app.ErrLocked) {
		return w.renderConfiguration(rw, r, v, c, http.StatusConflict, canopy.FieldErrors{string(key): "Locked by " + c.Distributor.Name + ": it cannot be changed here."})
	}
	if fe, other := formError(err); other != nil {
		return other
	} else if fe != nil {
		return w.renderConfiguration(rw, r, v, c, http.StatusUnprocessableEntity, fe)
	}
	http.Redirect(rw, r, "/customers/"+c.TenantID+"/configuration?done=saved", http.StatusSeeOther)
	return nil
}

// EditCustomerPage is the Edit form with branding.
func (w *Web) EditCustomerPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	return w.renderEditCustomer(rw, r, v, c, http.StatusOK, customerForm(c))
}

func (w *Web) renderEditCustomer(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, status int, f form) error {
	return w.customerPage(rw, r, v, c, "details", "customer_edit", status, map[string]any{"Form": f, "Plans": canopy.Plans, "Modules": canopy.Modules})
}

// EditCustomerSubmit saves the Edit form, and the logo when one is sent.
func (w *Web) EditCustomerSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 2<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return w.renderEditCustomer(rw, r, v, c, http.StatusUnprocessableEntity,
			form{Values: url.Values{}, Errors: canopy.FieldErrors{"logo": "The upload is too large: use an image of at most 256 KB."}})
	}
	fe := canopy.FieldErrors{}
	in := customerInput(r, fe)
	var logo []byte
	if file, _, err := r.FormFile("logo"); err == nil {
		logo, err = io.ReadAll(io.LimitReader(file, 1<<20))
		file.Close()
		if err != nil {
			return err
		}
	}
	if err := fe.Err(); err == nil {
		// The logo is checked first: a refused image leaves the details unsaved too.
		if len(logo) > 0 || r.PostFormValue("remove_logo") != "" {
			err = w.app.SetCustomerLogo(r.Context(), v, c.ID, logo)
		}
		if err == nil {
			_, err = w.app.UpdateCustomer(r.Context(), v, c.ID, in)
		}
		if err == nil {
			http.Redirect(rw, r, "/customers/"+c.TenantID+"?done=saved", http.StatusSeeOther)
			return nil
		}
		errs, other := formError(err)
		if other != nil {
			return other
		}
		fe = errs
	}
	return w.renderEditCustomer(rw, r, v, c, http.StatusUnprocessableEntity, form{Values: r.PostForm, Errors: fe})
}

// CustomerLogo serves a customer's branding logo.
func (w *Web) CustomerLogo(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	ct, body, _, err := w.app.CustomerLogo(r.Context(), v, c.ID)
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", ct)
	rw.Header().Set("Cache-Control", "private, max-age=60")
	rw.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, err = rw.Write(body)
	return err
}

// CustomerActionSubmit runs an Action-menu entry.
func (w *Web) CustomerActionSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	act := app.CustomerAction(r.PostFormValue("action"))
	if _, err := w.app.ChangeCustomerStatus(r.Context(), v, c.ID, act, days); err != nil {
		return err
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/customers") || strings.HasPrefix(back, "//") {
		back = "/customers/" + c.TenantID
	}
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("done", string(act))
	u.RawQuery = q.Encode()
	http.Redirect(rw, r, u.String(), http.StatusSeeOther)
	return nil
}

// DeleteCustomerPage asks to type the customer's name.
func (w *Web) DeleteCustomerPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	return w.renderDelete(rw, r, v, c, http.StatusOK, form{Values: url.Values{}})
}

func (w *Web) renderDelete(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, status int, f form) error {
	refused := ""
	if v.LifecycleRefused(c.MSP) {
		refused = fmt.Sprintf("%s's customers are managed by %s: ask %s to close %s.", c.MSP.Name, c.Distributor.Name, c.Distributor.Name, c.Name)
	} else if err := v.Require(app.PermDeleteCustomers); err != nil || v.Org.ID == c.ID {
		return canopy.ErrNotFound
	}
	return w.render(rw, r, status, "customer_delete", page{Title: "Delete " + c.Name, Nav: "customers",
		Data: map[string]any{"C": c, "Form": f, "Refused": refused}})
}

// DeleteCustomerSubmit deletes the customer once its name is typed.
func (w *Web) DeleteCustomerSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	err = w.app.DeleteCustomer(r.Context(), v, c.ID, r.PostFormValue("confirm"))
	if err == nil {
		http.Redirect(rw, r, "/customers?done=deleted", http.StatusSeeOther)
		return nil
	}
	if errors.Is(err, app.ErrLifecycleByDistributor) {
		return w.renderDelete(rw, r, v, c, http.StatusForbidden, form{Values: r.PostForm})
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderDelete(rw, r, v, c, http.StatusUnprocessableEntity, form{Values: r.PostForm, Errors: fe})
}

// AdminLoginPage asks for the reason and length of an Admin Login.
func (w *Web) AdminLoginPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	if err := v.Require(app.PermAdminLogin); err != nil || v.Org.ID == c.ID {
		return canopy.ErrNotFound
	}
	return w.render(rw, r, http.StatusOK, "admin_login", page{Title: "Admin Login", Nav: "customers",
		Data: map[string]any{"C": c, "Form": form{Values: url.Values{"minutes": {"60"}}}}})
}

// AdminLoginSubmit starts acting inside the customer.
func (w *Web) AdminLoginSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	minutes, _ := strconv.Atoi(r.PostFormValue("minutes"))
	_, err = w.app.StartAdminLogin(r.Context(), v, sessionToken(r), c.ID, r.PostFormValue("reason"), time.Duration(minutes)*time.Minute)
	if err == nil {
		http.Redirect(rw, r, "/customers/"+c.TenantID, http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.render(rw, r, http.StatusUnprocessableEntity, "admin_login", page{Title: "Admin Login", Nav: "customers",
		Data: map[string]any{"C": c, "Form": form{Values: r.PostForm, Errors: fe}}})
}

// AdminLoginEnd ends an Admin Login and returns to the customers list.
func (w *Web) AdminLoginEnd(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := w.app.EndAdminLogin(r.Context(), v, sessionToken(r)); err != nil {
		return err
	}
	dest := "/customers"
	if v.Acting != nil {
		dest = "/customers/" + v.Acting.Customer.TenantID + "/changes"
	}
	http.Redirect(rw, r, dest, http.StatusSeeOther)
	return nil
}

// SubAccountSubmit creates, renames or deletes a sub-account.
func (w *Web) SubAccountSubmit(act string) HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		v, c, err := w.customerOfPage(r)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return canopy.FieldErrors{"form": "The form could not be read."}
		}
		id := canopy.OrgID(0)
		if raw := r.PathValue("id"); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return canopy.ErrNotFound
			}
			id = canopy.OrgID(n)
		}
		switch act {
		case "create":
			parent, _ := strconv.ParseInt(r.PostFormValue("parent"), 10, 64)
			_, err = w.app.CreateSubAccount(r.Context(), v, c.ID, canopy.OrgID(parent), r.PostFormValue("name"))
		case "rename":
			err = w.app.RenameSubAccount(r.Context(), v, c.ID, id, r.PostFormValue("name"))
		default:
			err = w.app.DeleteSubAccount(r.Context(), v, c.ID, id)
		}
		if err == nil {
			http.Redirect(rw, r, "/customers/"+c.TenantID+"/configuration?done=saved#sub-accounts", http.StatusSeeOther)
			return nil
		}
		fe, other := formError(err)
		if other != nil {
			return other
		}
		return w.renderConfiguration(rw, r, v, c, http.StatusUnprocessableEntity, fe)
	}
}

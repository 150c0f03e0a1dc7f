package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/danielgtaylor/huma/v2"
)

// OrgRef names another organization.
type OrgRef struct {
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
}

// CustomerItem is a customer as the customers list shows it.
type CustomerItem struct {
	TenantID      string     `json:"tenant_id"`
	Name          string     `json:"name"`
	Domain        string     `json:"domain" doc:"Primary domain"`
	ActiveUsers   int        `json:"active_users"`
	Status        string     `json:"status" enum:"trial,active,trial_expired,suspended"`
	StatusLabel   string     `json:"status_label"`
	TrialEndsAt   *time.Time `json:"trial_ends_at,omitempty"`
	TrialDaysLeft int        `json:"trial_days_left" doc:"Started days until the trial ends; 0 once it has ended or for a full account"`
	MSP           OrgRef     `json:"msp"`
}

// Customer is a customer with everything its Edit page holds.
type Customer struct {
	CustomerItem
	ExtraDomains           []string  `json:"extra_domains"`
	Plan                   string    `json:"plan" enum:"essentials,standard,premium"`
	MaxUsers               int       `json:"max_users" doc:"0: no limit"`
	Modules                []string  `json:"modules"`
	DisplayName            string    `json:"display_name,omitempty" doc:"Branding; empty: the name"`
	PrimaryColor           string    `json:"primary_color,omitempty" doc:"Branding, #rrggbb"`
	HasLogo                bool      `json:"has_logo"`
	Distributor            *OrgRef   `json:"distributor,omitempty"`
	LifecycleByDistributor bool      `json:"lifecycle_by_distributor" doc:"The distributor, not the MSP, deletes this customer"`
	Actions                []string  `json:"actions" doc:"Status actions that apply now: POST …/actions/{action}"`
	Created                time.Time `json:"created"`
}

func customerItem(o canopy.Org, msp OrgRef, now time.Time) CustomerItem {
	return CustomerItem{TenantID: o.TenantID, Name: o.Name, Domain: o.Domain, ActiveUsers: o.ActiveUsers, Status: string(o.Status),
		StatusLabel: o.Status.Label(), TrialEndsAt: timePtr(o.TrialEndsAt), TrialDaysLeft: o.TrialDaysLeft(now), MSP: msp}
}

func customerJSON(c canopy.Customer, now time.Time) Customer {
	out := Customer{CustomerItem: customerItem(c.Org, OrgRef{TenantID: c.MSP.TenantID, Name: c.MSP.Name}, now),
		ExtraDomains: c.Domains, Plan: string(c.Plan), MaxUsers: c.MaxUsers, DisplayName: c.DisplayName, PrimaryColor: c.PrimaryColor,
		HasLogo: c.HasLogo, LifecycleByDistributor: c.MSP.LifecycleByDistributor, Created: c.Created}
	if out.ExtraDomains == nil {
		out.ExtraDomains = []string{}
	}
	out.Modules = make([]string, len(c.Modules))
	for i, m := range c.Modules {
		out.Modules[i] = string(m)
	}
	if c.Distributor.ID != 0 {
		out.Distributor = &OrgRef{TenantID: c.Distributor.TenantID, Name: c.Distributor.Name}
	}
	out.Actions = []string{}
	for _, act := range app.AvailableActions(c.Status) {
		out.Actions = append(out.Actions, string(act))
	}
	return out
}

// relocate moves field errors to where the client sent the values: names
// maps the app's field names to locations such as "query.sort" or
// "path.key"; the others stay body fields.
func relocate(err error, names map[string]string) error {
	var fe canopy.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	out := make(canopy.FieldErrors, len(fe))
	for field, msg := range fe {
		if loc, ok := names[field]; ok {
			field = loc
		}
		out[field] = msg
	}
	return out
}

func modules(in []string) []canopy.Module {
	out := make([]canopy.Module, len(in))
	for i, m := range in {
		out[i] = canopy.Module(m)
	}
	return out
}

type listCustomersInput struct {
	Q          string `query:"q" doc:"Prefix of the name or of the primary domain"`
	Status     string `query:"status" enum:"trial,active,trial_expired,suspended,"`
	MSP        string `query:"msp" doc:"Tenant ID of one of your MSPs: only its customers (distributor and platform staff)"`
	Sort       string `query:"sort" enum:"name,domain,active_users,status," default:"name"`
	Dir        string `query:"dir" enum:"asc,desc," default:"asc"`
	AfterValue string `query:"after_value" doc:"Cursor from next of the previous page"`
	AfterID    int64  `query:"after_id" doc:"Cursor from next of the previous page"`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type listCustomersOutput struct {
	Body struct {
		Items []CustomerItem `json:"items"`
		Next  *cursor        `json:"next,omitempty" doc:"Pass as after_value and after_id for the next page"`
	}
}

type tenantInput struct {
	Tenant string `path:"tenant" doc:"Tenant ID"`
}

type customerOutput struct {
	Body Customer
}

type createCustomerInput struct {
	Body struct {
		Name         string   `json:"name" maxLength:"200"`
		Domain       string   `json:"domain" doc:"Primary domain, such as example.com"`
		ExtraDomains []string `json:"extra_domains,omitempty"`
		Plan         string   `json:"plan,omitempty" enum:"essentials,standard,premium" doc:"Default standard"`
		MaxUsers     int      `json:"max_users,omitempty" doc:"0: no limit"`
		Modules      []string `json:"modules,omitempty"`
		DomainLock   *bool    `json:"domain_lock,omitempty" doc:"Default: the MSP's customer default"`
		AdminEmail   string   `json:"admin_email,omitempty" doc:"Invite this address as the customer's Admin"`
		MSP          string   `json:"msp,omitempty" doc:"Tenant ID of the MSP it belongs to (distributor and platform staff); an MSP's staff may leave it out"`
	}
}

type putCustomerInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Name         string   `json:"name" maxLength:"200"`
		Domain       string   `json:"domain"`
		ExtraDomains []string `json:"extra_domains,omitempty"`
		Plan         string   `json:"plan,omitempty" enum:"essentials,standard,premium"`
		MaxUsers     int      `json:"max_users,omitempty" doc:"0: no limit; not below the active users"`
		Modules      []string `json:"modules,omitempty"`
		DisplayName  string   `json:"display_name,omitempty"`
		PrimaryColor string   `json:"primary_color,omitempty" doc:"#rrggbb"`
	}
}

type patchCustomerInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Name         *string   `json:"name,omitempty" maxLength:"200"`
		Domain       *string   `json:"domain,omitempty"`
		ExtraDomains *[]string `json:"extra_domains,omitempty"`
		Plan         *string   `json:"plan,omitempty" enum:"essentials,standard,premium"`
		MaxUsers     *int      `json:"max_users,omitempty" doc:"0: no limit; not below the active users"`
		Modules      *[]string `json:"modules,omitempty"`
		DisplayName  *string   `json:"display_name,omitempty"`
		PrimaryColor *string   `json:"primary_color,omitempty" doc:"#rrggbb; empty: Canopy's"`
	}
}

type logoInput struct {
	Tenant      string `path:"tenant"`
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"image/*"`
}

type logoOutput struct {
	ContentType  string `header:"Content-Type"`
	LastModified string `header:"Last-Modified"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type actionInput struct {
	Tenant string `path:"tenant"`
	Action string `path:"action" enum:"upgrade,extend_trial,suspend,resume"`
	Body   *struct {
		Days int `json:"days,omitempty" doc:"extend_trial: days to add (1 to 365)"`
	}
}

type deleteCustomerInput struct {
	Tenant  string `path:"tenant"`
	Confirm string `query:"confirm" doc:"The customer's name, exactly (or send it in the body)"`
	Body    *struct {
		Confirm string `json:"confirm"`
	}
}

type adminLoginInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Reason  string `json:"reason" doc:"Why; the customer sees it in its change log"`
		Minutes int    `json:"minutes,omitempty" doc:"Time box, 5 to 480 minutes; default 60"`
	}
}

type adminLoginOutput struct {
	Body struct {
		Customer OrgRef `json:"customer"`
		Reason   string `json:"reason"`
		Minutes  int    `json:"minutes"`
	}
}

func (a *api) registerCustomers(h huma.API) {
	tags := []string{"Customers"}
	huma.Register(h, huma.Operation{OperationID: "list-customers", Method: http.MethodGet, Path: "/api/v1/customers",
		Summary: "List customers: an MSP's own, a distributor's across its MSPs", Tags: tags},
		func(ctx context.Context, in *listCustomersInput) (*listCustomersOutput, error) {
			v := viewer(ctx)
			q := store.CustomerQuery{Search: in.Q, Status: canopy.CustomerStatus(in.Status), Sort: in.Sort, Desc: in.Dir == "desc",
				AfterValue: in.AfterValue, AfterID: canopy.OrgID(in.AfterID), Limit: in.Limit}
			if in.MSP != "" {
				msp, err := a.App.OrgOf(ctx, v, in.MSP)
				if err != nil {
					return nil, a.problem(ctx, err)
				}
				if msp.Kind != canopy.KindMSP {
					return nil, a.problem(ctx, canopy.FieldErrors{"query.msp": "Choose one of your MSPs."})
				}
				q.MSP = msp.ID
			}
			list, err := a.App.Customers(ctx, v, q)
			if err != nil {
				return nil, a.problem(ctx, relocate(err, map[string]string{"q": "query.q", "sort": "query.sort", "status": "query.status"}))
			}
			out := &listCustomersOutput{}
			out.Body.Items = make([]CustomerItem, 0, len(list.Rows))
			for _, r := range list.Rows {
				out.Body.Items = append(out.Body.Items, customerItem(r.Org, OrgRef{TenantID: r.MSPTenant, Name: r.MSPName}, list.Now))
			}
			if list.More {
				last := list.Rows[len(list.Rows)-1]
				out.Body.Next = &cursor{AfterValue: last.SortValue, AfterID: int64(last.ID)}
			}
			return out, nil
		})

	huma.Register(h, huma.Operation{OperationID: "create-customer", Method: http.MethodPost, Path: "/api/v1/customers", DefaultStatus: http.StatusCreated,
		Summary: "Create a customer (a free trial of the MSP's trial length)", Tags: tags},
		func(ctx context.Context, in *createCustomerInput) (*customerOutput, error) {
			v := viewer(ctx)
			b := in.Body
			ci := app.CustomerInput{Name: b.Name, Domain: b.Domain, ExtraDomains: strings.Join(b.ExtraDomains, "\n"), Plan: canopy.Plan(b.Plan),
				MaxUsers: b.MaxUsers, Modules: modules(b.Modules), DomainLock: b.DomainLock, AdminEmail: b.AdminEmail}
			if b.MSP != "" {
				msp, err := a.App.OrgOf(ctx, v, b.MSP)
				if errors.Is(err, canopy.ErrNotFound) {
					return nil, a.problem(ctx, canopy.FieldErrors{"msp": "Choose one of your MSPs."})
				}
				if err != nil {
					return nil, a.problem(ctx, err)
				}
				ci.MSPID = msp.ID
			}
			c, err := a.App.CreateCustomer(ctx, v, ci)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &customerOutput{Body: customerJSON(c, a.App.Now())}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "get-customer", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}", Summary: "A customer", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*customerOutput, error) {
			c, err := a.App.Customer(ctx, viewer(ctx), in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &customerOutput{Body: customerJSON(c, a.App.Now())}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "replace-customer", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}",
		Summary: "Save a customer's Edit form: every field (left out: empty)", Tags: tags},
		func(ctx context.Context, in *putCustomerInput) (*customerOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			b := in.Body
			c, err := a.App.UpdateCustomer(ctx, v, o.ID, app.CustomerInput{Name: b.Name, Domain: b.Domain, ExtraDomains: strings.Join(b.ExtraDomains, "\n"),
				Plan: canopy.Plan(b.Plan), MaxUsers: b.MaxUsers, Modules: modules(b.Modules), DisplayName: b.DisplayName, PrimaryColor: b.PrimaryColor})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &customerOutput{Body: customerJSON(c, a.App.Now())}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "update-customer", Method: http.MethodPatch, Path: "/api/v1/customers/{tenant}",
		Summary: "Change some of a customer's fields (left out: unchanged)", Tags: tags},
		func(ctx context.Context, in *patchCustomerInput) (*customerOutput, error) {
			v := viewer(ctx)
			cur, err := a.App.Customer(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			ci := app.CustomerInput{Name: cur.Name, Domain: cur.Domain, ExtraDomains: strings.Join(cur.Domains, "\n"), Plan: cur.Plan,
				MaxUsers: cur.MaxUsers, Modules: cur.Modules, DisplayName: cur.DisplayName, PrimaryColor: cur.PrimaryColor}
			b := in.Body
			if b.Name != nil {
				ci.Name = *b.Name
			}
			if b.Domain != nil {
				ci.Domain = *b.Domain
			}
			if b.ExtraDomains != nil {
				ci.ExtraDomains = strings.Join(*b.ExtraDomains, "\n")
			}
			if b.Plan != nil {
				ci.Plan = canopy.Plan(*b.Plan)
			}
			if b.MaxUsers != nil {
				ci.MaxUsers = *b.MaxUsers
			}
			if b.Modules != nil {
				ci.Modules = modules(*b.Modules)
			}
			if b.DisplayName != nil {
				ci.DisplayName = *b.DisplayName
			}
			if b.PrimaryColor != nil {
				ci.PrimaryColor = *b.PrimaryColor
			}
			c, err := a.App.UpdateCustomer(ctx, v, cur.ID, ci)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &customerOutput{Body: customerJSON(c, a.App.Now())}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "get-customer-logo", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}/logo",
		Summary: "A customer's branding logo", Tags: tags,
		Responses: map[string]*huma.Response{"200": {Description: "The image", Content: map[string]*huma.MediaType{"image/*": {}}}}},
		func(ctx context.Context, in *tenantInput) (*logoOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			ct, body, at, err := a.App.CustomerLogo(ctx, v, o.ID)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &logoOutput{ContentType: ct, LastModified: at.UTC().Format(http.TimeFormat), CacheControl: "private, no-cache", Body: body}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "put-customer-logo", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}/logo", DefaultStatus: http.StatusNoContent,
		Summary: "Set the branding logo: the image itself as the body (PNG, JPEG, GIF or WebP, at most 256 KB)", Tags: tags},
		func(ctx context.Context, in *logoInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(in.ContentType)), "image/") {
				return nil, huma.NewError(http.StatusUnsupportedMediaType, "Send the image itself as the body, with its image/… Content-Type.")
			}
			return nil, a.problem(ctx, relocate(a.App.SetCustomerLogo(ctx, v, o.ID, in.RawBody), map[string]string{"logo": "body"}))
		})

	huma.Register(h, huma.Operation{OperationID: "delete-customer-logo", Method: http.MethodDelete, Path: "/api/v1/customers/{tenant}/logo", DefaultStatus: http.StatusNoContent,
		Summary: "Remove the branding logo", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, a.App.SetCustomerLogo(ctx, v, o.ID, nil))
		})

	huma.Register(h, huma.Operation{OperationID: "customer-action", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/actions/{action}",
		Summary: "Upgrade a trial, extend it by days, suspend or resume", Tags: tags},
		func(ctx context.Context, in *actionInput) (*customerOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			days := 0
			if in.Body != nil {
				days = in.Body.Days
			}
			c, err := a.App.ChangeCustomerStatus(ctx, v, o.ID, app.CustomerAction(in.Action), days)
			if err != nil {
				return nil, a.problem(ctx, relocate(err, map[string]string{"action": "path.action"}))
			}
			return &customerOutput{Body: customerJSON(c, a.App.Now())}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "delete-customer", Method: http.MethodDelete, Path: "/api/v1/customers/{tenant}", DefaultStatus: http.StatusNoContent,
		Summary: "Delete a customer permanently (confirm with its name)", Tags: tags},
		func(ctx context.Context, in *deleteCustomerInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			confirm, where := in.Confirm, "query.confirm"
			if in.Body != nil && in.Body.Confirm != "" {
				confirm, where = in.Body.Confirm, "body.confirm"
			}
			return nil, a.problem(ctx, relocate(a.App.DeleteCustomer(ctx, v, o.ID, confirm), map[string]string{"confirm": where}))
		})

	huma.Register(h, huma.Operation{OperationID: "start-admin-login", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/admin-login", DefaultStatus: http.StatusCreated,
		Summary: "Admin Login: act inside the customer as its administrator, for a reason, for a time (this session)", Tags: tags},
		func(ctx context.Context, in *adminLoginInput) (*adminLoginOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			length := time.Duration(in.Body.Minutes) * time.Minute
			cust, err := a.App.StartAdminLogin(ctx, v, a.sessionToken(ctx), o.ID, in.Body.Reason, length)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if length == 0 {
				length = app.DefaultAdminLogin
			}
			out := &adminLoginOutput{}
			out.Body.Customer, out.Body.Reason, out.Body.Minutes = OrgRef{TenantID: cust.TenantID, Name: cust.Name}, strings.TrimSpace(in.Body.Reason), int(length.Minutes())
			return out, nil
		})

	huma.Register(h, huma.Operation{OperationID: "end-admin-login", Method: http.MethodDelete, Path: "/api/v1/me/admin-login", DefaultStatus: http.StatusNoContent,
		Summary: "End the Admin Login: back to where you signed in", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.EndAdminLogin(ctx, viewer(ctx), a.sessionToken(ctx)))
		})
}

// sessionToken is the session cookie's value: Admin Login moves that
// session, not the person's others.
func (a *api) sessionToken(ctx context.Context) string {
	if c, err := request(ctx).Cookie(a.CookieName); err == nil {
		return c.Value
	}
	return ""
}

// Setting is one setting's effective value and where it comes from.
type Setting struct {
	Key             string `json:"key"`
	Label           string `json:"label"`
	Help            string `json:"help,omitempty"`
	Value           string `json:"value" doc:"true or false; a number for trial_days"`
	Source          string `json:"source" enum:"built_in,msp,customer,distributor"`
	Inherited       string `json:"inherited" doc:"The value without this level's own"`
	InheritedSource string `json:"inherited_source" enum:"built_in,msp,customer,distributor"`
	Locked          bool   `json:"locked" doc:"Imposed by the distributor: cannot be changed here"`
}

type settingsOutput struct {
	Body struct {
		Items []Setting `json:"items"`
	}
}

func settingsJSON(m map[canopy.SettingKey]canopy.SettingValue, perCustomerOnly bool) *settingsOutput {
	out := &settingsOutput{}
	out.Body.Items = []Setting{}
	for _, s := range app.SettingsList(m, perCustomerOnly) {
		out.Body.Items = append(out.Body.Items, Setting{Key: string(s.Key), Label: s.Label, Help: s.Help, Value: s.Value, Source: string(s.Source),
			Inherited: s.Inherited, InheritedSource: string(s.InheritedSource), Locked: s.Locked()})
	}
	return out
}

type settingKeyInput struct {
	Tenant string `path:"tenant"`
	Key    string `path:"key"`
}

type putSettingInput struct {
	Tenant string `path:"tenant"`
	Key    string `path:"key"`
	Body   struct {
		Value string `json:"value" doc:"true or false; a number for trial_days"`
	}
}

// Lock is a setting as a distributor imposes it.
type Lock struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Locked bool   `json:"locked"`
	Value  string `json:"value,omitempty" doc:"The imposed value, when locked"`
}

type locksOutput struct {
	Body struct {
		Items []Lock `json:"items"`
	}
}

type lifecycleInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		ManagedByDistributor bool `json:"managed_by_distributor" doc:"On: the MSP cannot delete its customers; the distributor does"`
	}
}

// settingErr places a setting's field errors: the key is in the path, the
// value in the body.
func settingErr(err error, key string) error {
	return relocate(err, map[string]string{"key": "path.key", key: "body.value"})
}

func (a *api) registerSettings(h huma.API) {
	tags := []string{"Customer settings"}
	huma.Register(h, huma.Operation{OperationID: "customer-settings", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}/settings",
		Summary: "A customer's configuration: each setting's value and where it comes from", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*settingsOutput, error) {
			return a.customerSettings(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "set-customer-setting", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}/settings/{key}",
		Summary: "Override a setting for this customer (409 if the distributor locked it)", Tags: tags},
		func(ctx context.Context, in *putSettingInput) (*settingsOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if err := a.App.SetCustomerSetting(ctx, v, o.ID, canopy.SettingKey(in.Key), in.Body.Value, false); err != nil {
				return nil, a.problem(ctx, settingErr(err, in.Key))
			}
			return a.customerSettings(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "reset-customer-setting", Method: http.MethodDelete, Path: "/api/v1/customers/{tenant}/settings/{key}", DefaultStatus: http.StatusNoContent,
		Summary: "Return a setting to the inherited value", Tags: tags},
		func(ctx context.Context, in *settingKeyInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, settingErr(a.App.SetCustomerSetting(ctx, v, o.ID, canopy.SettingKey(in.Key), "", true), in.Key))
		})

	huma.Register(h, huma.Operation{OperationID: "customer-defaults", Method: http.MethodGet, Path: "/api/v1/msps/{tenant}/customer-defaults",
		Summary: "An MSP's defaults for its customers", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*settingsOutput, error) {
			return a.customerDefaults(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "set-customer-default", Method: http.MethodPut, Path: "/api/v1/msps/{tenant}/customer-defaults/{key}",
		Summary: "Set an MSP's default; customers without an override follow it at once", Tags: tags},
		func(ctx context.Context, in *putSettingInput) (*settingsOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if err := a.App.SetCustomerDefault(ctx, v, o.ID, canopy.SettingKey(in.Key), in.Body.Value, false); err != nil {
				return nil, a.problem(ctx, settingErr(err, in.Key))
			}
			return a.customerDefaults(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "reset-customer-default", Method: http.MethodDelete, Path: "/api/v1/msps/{tenant}/customer-defaults/{key}", DefaultStatus: http.StatusNoContent,
		Summary: "Remove an MSP's default (back to Canopy's)", Tags: tags},
		func(ctx context.Context, in *settingKeyInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, settingErr(a.App.SetCustomerDefault(ctx, v, o.ID, canopy.SettingKey(in.Key), "", true), in.Key))
		})
	huma.Register(h, huma.Operation{OperationID: "set-customer-lifecycle", Method: http.MethodPut, Path: "/api/v1/msps/{tenant}/customer-lifecycle", DefaultStatus: http.StatusNoContent,
		Summary: "Distributors: whether you, not the MSP, open and close its customers", Tags: tags},
		func(ctx context.Context, in *lifecycleInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, a.App.SetLifecycleByDistributor(ctx, v, o.ID, in.Body.ManagedByDistributor))
		})

	huma.Register(h, huma.Operation{OperationID: "distributor-locks", Method: http.MethodGet, Path: "/api/v1/distributors/{tenant}/locks",
		Summary: "The settings a distributor imposes on every customer of its MSPs", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*locksOutput, error) {
			return a.locks(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "lock-setting", Method: http.MethodPut, Path: "/api/v1/distributors/{tenant}/locks/{key}",
		Summary: "Impose a value on every customer of the distributor's MSPs", Tags: tags},
		func(ctx context.Context, in *putSettingInput) (*locksOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if err := a.App.LockCustomerDefault(ctx, v, o.ID, canopy.SettingKey(in.Key), in.Body.Value, false); err != nil {
				return nil, a.problem(ctx, settingErr(err, in.Key))
			}
			return a.locks(ctx, in.Tenant)
		})
	huma.Register(h, huma.Operation{OperationID: "unlock-setting", Method: http.MethodDelete, Path: "/api/v1/distributors/{tenant}/locks/{key}", DefaultStatus: http.StatusNoContent,
		Summary: "Stop imposing a setting", Tags: tags},
		func(ctx context.Context, in *settingKeyInput) (*struct{}, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, settingErr(a.App.LockCustomerDefault(ctx, v, o.ID, canopy.SettingKey(in.Key), "", true), in.Key))
		})
}

func (a *api) customerSettings(ctx context.Context, tenant string) (*settingsOutput, error) {
	v := viewer(ctx)
	c, err := a.App.Customer(ctx, v, tenant)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	m, err := a.App.CustomerSettings(ctx, v, c.Org)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	return settingsJSON(m, true), nil
}

func (a *api) customerDefaults(ctx context.Context, tenant string) (*settingsOutput, error) {
	v := viewer(ctx)
	o, err := a.App.OrgOf(ctx, v, tenant)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	_, m, err := a.App.CustomerDefaults(ctx, v, o.ID)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	return settingsJSON(m, false), nil
}

func (a *api) locks(ctx context.Context, tenant string) (*locksOutput, error) {
	v := viewer(ctx)
	o, err := a.App.OrgOf(ctx, v, tenant)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	_, locked, err := a.App.DistributorLocks(ctx, v, o.ID)
	if err != nil {
		return nil, a.problem(ctx, err)
	}
	out := &locksOutput{}
	out.Body.Items = make([]Lock, 0, len(canopy.Settings))
	for _, info := range canopy.Settings {
		value, ok := locked[info.Key]
		out.Body.Items = append(out.Body.Items, Lock{Key: string(info.Key), Label: info.Label, Locked: ok, Value: value})
	}
	return out, nil
}

package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/danielgtaylor/huma/v2"
)

// InviteResult is what happened to one invited address.
type InviteResult struct {
	Address string `json:"address"`
	Outcome string `json:"outcome" enum:"invited,malformed,listed_twice,already_pending,already_user,disposable,outside_domain_lock,max_users"`
	Reason  string `json:"reason"`
}

// Invitation is a pending invitation.
type Invitation struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role" enum:"customer_admin,customer_user"`
	Modules   []string  `json:"modules"`
	InvitedBy string    `json:"invited_by"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
}

// AccountUser is a user of a customer account.
type AccountUser struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Role    string   `json:"role"`
	Modules []string `json:"modules"`
	// SubAccounts are tenant IDs; empty: the whole account.
	SubAccounts []string `json:"sub_accounts"`
	Status      string   `json:"status" enum:"active,deactivated"`
}

// EndUser is an end user of a customer.
type EndUser struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Active    bool   `json:"active"`
}

type inviteInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Addresses []string `json:"addresses" maxItems:"10000" doc:"At most 10,000 at once"`
		Role      string   `json:"role,omitempty" enum:"customer_user,customer_admin," doc:"User (default) or Admin"`
		Modules   []string `json:"modules,omitempty" doc:"For Users: the modules granted"`
		// Tenant IDs of the customer's sub-accounts; none: the whole account.
		SubAccounts []string `json:"sub_accounts,omitempty" doc:"For Users: tenant IDs of the sub-accounts granted (none: the whole account)"`
	}
}

type inviteOutput struct {
	Body struct {
		Results []InviteResult `json:"results"`
	}
}

type invitationsOutput struct {
	Body struct {
		Items []Invitation `json:"items"`
	}
}

type invitationIDInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
}

type accountUsersOutput struct {
	Body struct {
		Items []AccountUser `json:"items"`
	}
}

type accountUserStatusInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Active bool `json:"active"`
	}
}

type endUsersInput struct {
	Tenant   string `path:"tenant"`
	Q        string `query:"q" maxLength:"200" doc:"Search: email, full name or last name starting with q (case-insensitive). When nothing starts with q (3+ characters), q is searched anywhere instead"`
	Contains bool   `query:"contains" doc:"Search q anywhere in the email or full name (needs 3+ characters; shorter is searched as a prefix)"`
	After    string `query:"after" doc:"The next of the previous page (asked with the same q and mode)"`
}

type endUsersOutput struct {
	Body struct {
		Items    []EndUser `json:"items"`
		Contains bool      `json:"contains,omitempty" doc:"The page was searched anywhere in email and name (asked, or nothing started with q): ask the next page with contains=true"`
		Next     string    `json:"next,omitempty" doc:"Pass as after for the next page"`
	}
}

type addEndUserInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Email     string `json:"email"`
		FirstName string `json:"first_name,omitempty"`
		LastName  string `json:"last_name,omitempty"`
	}
}

type endUserStatusInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Active bool `json:"active"`
	}
}

// customerID resolves a customer tenant ID in the viewer's subtree.
func (a *api) customerID(ctx context.Context, tenant string) (canopy.OrgID, error) {
	o, err := a.App.OrgOf(ctx, viewer(ctx), tenant)
	if err != nil {
		return 0, err
	}
	if o.Kind != canopy.KindCustomer {
		return 0, canopy.ErrNotFound
	}
	return o.ID, nil
}

func (a *api) registerUsers(h huma.API) {
	tags := []string{"Customer users"}
	huma.Register(h, huma.Operation{OperationID: "invite-users", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/invitations",
		Summary: "Invite many addresses at once; a result per address", Tags: tags},
		func(ctx context.Context, in *inviteInput) (*inviteOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			subs, err := a.subAccountIDs(ctx, id, in.Body.SubAccounts)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			results, err := a.App.InviteUsers(ctx, viewer(ctx), id, app.InviteInput{Addresses: strings.Join(in.Body.Addresses, "\n"),
				Role: canopy.Role(in.Body.Role), Modules: modules(in.Body.Modules), SubAccounts: subs})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &inviteOutput{}
			out.Body.Results = make([]InviteResult, len(results))
			for i, r := range results {
				out.Body.Results[i] = InviteResult{Address: r.Address, Outcome: string(r.Outcome), Reason: r.Reason}
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "pending-invitations", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}/invitations",
		Summary: "Pending invitations", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*invitationsOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			list, err := a.App.PendingInvitations(ctx, viewer(ctx), id)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &invitationsOutput{}
			out.Body.Items = make([]Invitation, len(list))
			for i, inv := range list {
				mods := make([]string, len(inv.Modules))
				for j, m := range inv.Modules {
					mods[j] = string(m)
				}
				out.Body.Items[i] = Invitation{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), Modules: mods, InvitedBy: inv.InviterName, Created: inv.Created, Expires: inv.Expires}
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "resend-invitation", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/invitations/{id}/resend",
		DefaultStatus: http.StatusNoContent, Summary: "Send an invitation again with a new link (the old one stops working)", Tags: tags},
		func(ctx context.Context, in *invitationIDInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.ResendInvitation(ctx, viewer(ctx), id, in.ID)
			}
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "remove-invitation", Method: http.MethodDelete, Path: "/api/v1/customers/{tenant}/invitations/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Remove a pending invitation", Tags: tags},
		func(ctx context.Context, in *invitationIDInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.RemoveInvitation(ctx, viewer(ctx), id, in.ID)
			}
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "account-users", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}/users",
		Summary: "Active and deactivated users of a customer account", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*accountUsersOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			active, deactivated, err := a.App.AccountUsers(ctx, viewer(ctx), id)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			subs, err := a.App.SubAccounts(ctx, viewer(ctx), id)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			tenantOf := make(map[canopy.OrgID]string, len(subs))
			for _, o := range subs {
				tenantOf[o.ID] = o.TenantID
			}
			out := &accountUsersOutput{}
			out.Body.Items = []AccountUser{}
			for _, u := range append(active, deactivated...) {
				mods := make([]string, len(u.Modules))
				for j, m := range u.Modules {
					mods[j] = string(m)
				}
				granted := []string{}
				for _, sub := range u.SubAccounts {
					if t, ok := tenantOf[sub]; ok {
						granted = append(granted, t)
					}
				}
				out.Body.Items = append(out.Body.Items, AccountUser{ID: int64(u.ID), Name: u.Name, Email: u.Email, Role: string(u.Role),
					Modules: mods, SubAccounts: granted, Status: u.Status})
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "set-account-user-status", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}/users/{id}/status",
		DefaultStatus: http.StatusNoContent, Summary: "Deactivate (signed out at once) or reactivate a user", Tags: tags},
		func(ctx context.Context, in *accountUserStatusInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.SetAccountUserActive(ctx, viewer(ctx), id, canopy.PersonID(in.ID), in.Body.Active)
			}
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "remove-account-user", Method: http.MethodDelete, Path: "/api/v1/customers/{tenant}/users/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Remove a user from the account (they may be invited again)", Tags: tags},
		func(ctx context.Context, in *invitationIDInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.RemoveAccountUser(ctx, viewer(ctx), id, canopy.PersonID(in.ID))
			}
			return nil, a.problem(ctx, err)
		})

	etags := []string{"End users"}
	huma.Register(h, huma.Operation{OperationID: "end-users", Method: http.MethodGet, Path: "/api/v1/customers/{tenant}/end-users",
		Summary: "End users by email, 100 a page, or a search (q), 50 a page", Tags: etags},
		func(ctx context.Context, in *endUsersInput) (*endUsersOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			page, err := a.App.EndUsers(ctx, viewer(ctx), id, app.EndUserQuery{Q: in.Q, Contains: in.Contains, After: in.After})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &endUsersOutput{}
			out.Body.Items = make([]EndUser, len(page.Users))
			for i, u := range page.Users {
				out.Body.Items[i] = EndUser{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Active: u.Active}
			}
			out.Body.Contains, out.Body.Next = page.Contains, page.Next
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "add-end-user", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/end-users",
		DefaultStatus: http.StatusNoContent, Summary: "Add an end user", Tags: etags},
		func(ctx context.Context, in *addEndUserInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.AddEndUserBy(ctx, viewer(ctx), id, in.Body.Email, in.Body.FirstName, in.Body.LastName)
			}
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "set-end-user-status", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}/end-users/{id}/status",
		DefaultStatus: http.StatusNoContent, Summary: "Deactivate or reactivate an end user", Tags: etags},
		func(ctx context.Context, in *endUserStatusInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.SetEndUserActive(ctx, viewer(ctx), id, in.ID, in.Body.Active)
			}
			return nil, a.problem(ctx, err)
		})
}

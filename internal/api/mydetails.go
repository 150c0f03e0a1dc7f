package api

import (
	"context"
	"net/http"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/danielgtaylor/huma/v2"
)

// My Details, joining a customer by invitation, a customer user's
// permissions and the end-user portal's link request.

type myDetailsOutput struct {
	Body struct {
		Name          string   `json:"name"`
		Email         string   `json:"email"`
		Phone         string   `json:"phone"`
		EmailLockedBy []string `json:"email_locked_by" doc:"Customers of yours that do not allow email changes; empty when you may change it"`
	}
}

type myDetailsInput struct {
	Body struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	}
}

type passwordChangeInput struct {
	Body struct {
		Current  string `json:"current"`
		Password string `json:"password"`
		Confirm  string `json:"confirm"`
	}
}

type emailChangeInput struct {
	Body struct {
		Email string `json:"email" doc:"The new address; a confirmation link goes there"`
	}
}

type tokenInput struct {
	Token string `path:"token"`
}

type acceptInvitationInput struct {
	Token string `path:"token"`
	Body  struct {
		Name             string `json:"name,omitempty" doc:"For a new account"`
		Password         string `json:"password,omitempty" doc:"For a new account"`
		Confirm          string `json:"confirm,omitempty"`
		SecurityQuestion string `json:"security_question,omitempty" doc:"For a new account: asked at password reset"`
		SecurityAnswer   string `json:"security_answer,omitempty"`
	}
}

type permissionsInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Role        string   `json:"role" enum:"customer_user,customer_admin"`
		Modules     []string `json:"modules,omitempty" doc:"For a User: the modules granted (never pricing, payment or user_management)"`
		SubAccounts []string `json:"sub_accounts,omitempty" doc:"For a User: tenant IDs of the sub-accounts granted"`
	}
}

type portalLinkInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Email string `json:"email"`
	}
}

type portalLinkOutput struct {
	Body struct {
		Message string `json:"message"`
	}
}

// subAccountIDs resolves sub-account tenant IDs of customer to their IDs;
// anything else is a field error.
func (a *api) subAccountIDs(ctx context.Context, customer canopy.OrgID, tenants []string) ([]canopy.OrgID, error) {
	var out []canopy.OrgID
	for _, t := range tenants {
		o, err := a.App.OrgOf(ctx, viewer(ctx), t)
		if err != nil || o.Kind != canopy.KindSubAccount {
			return nil, canopy.FieldErrors{"sub_accounts": "Give tenant IDs of the customer's sub-accounts."}
		}
		out = append(out, o.ID) // the app checks they lie under customer
	}
	return out, nil
}

func (a *api) registerMyDetails(h huma.API) {
	tags := []string{"My Details"}
	huma.Register(h, huma.Operation{OperationID: "my-details", Method: http.MethodGet, Path: "/api/v1/me/details", Summary: "Your name, email and phone", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*myDetailsOutput, error) {
			d, err := a.App.MyDetailsOf(ctx, viewer(ctx))
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &myDetailsOutput{}
			out.Body.Name, out.Body.Email, out.Body.Phone = d.Person.Name, d.Person.Email, d.Person.Phone
			out.Body.EmailLockedBy = append([]string{}, d.EmailLockedBy...)
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "update-my-details", Method: http.MethodPut, Path: "/api/v1/me/details", DefaultStatus: http.StatusNoContent,
		Summary: "Change your name and phone", Tags: tags},
		func(ctx context.Context, in *myDetailsInput) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.UpdateMyDetails(ctx, viewer(ctx), in.Body.Name, in.Body.Phone))
		})
	huma.Register(h, huma.Operation{OperationID: "change-my-password", Method: http.MethodPut, Path: "/api/v1/me/password", DefaultStatus: http.StatusNoContent,
		Summary: "Change your password (your other sessions end)", Tags: tags},
		func(ctx context.Context, in *passwordChangeInput) (*struct{}, error) {
			var token string
			if c, err := request(ctx).Cookie(a.CookieName); err == nil {
				token = c.Value
			}
			err := a.App.ChangePassword(ctx, viewer(ctx), token, in.Body.Current, in.Body.Password, in.Body.Confirm)
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "request-email-change", Method: http.MethodPost, Path: "/api/v1/me/email", DefaultStatus: http.StatusAccepted,
		Summary: "Mail a confirmation link to a new address; refused while a customer of yours forbids email changes", Tags: tags},
		func(ctx context.Context, in *emailChangeInput) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.RequestEmailChange(ctx, viewer(ctx), in.Body.Email))
		})
	huma.Register(h, huma.Operation{OperationID: "confirm-email-change", Method: http.MethodPost, Path: "/api/v1/email-changes/{token}", DefaultStatus: http.StatusNoContent,
		Summary: "Confirm a new email address with the link's token", Tags: tags},
		func(ctx context.Context, in *tokenInput) (*struct{}, error) {
			r := request(ctx)
			return nil, a.problem(ctx, a.App.ConfirmEmailChange(ctx, in.Token, clientIP(r), r.UserAgent()))
		})

	users := []string{"Customer users"}
	huma.Register(h, huma.Operation{OperationID: "accept-invitation", Method: http.MethodPost, Path: "/api/v1/invitations/{token}", DefaultStatus: http.StatusNoContent,
		Summary: "Accept an invitation: a new person gives name, password and security question", Tags: users},
		func(ctx context.Context, in *acceptInvitationInput) (*struct{}, error) {
			r := request(ctx)
			_, err := a.App.AcceptInvitation(ctx, in.Token, app.AcceptInput{Name: in.Body.Name, Password: in.Body.Password, Confirm: in.Body.Confirm,
				SecurityQuestion: in.Body.SecurityQuestion, SecurityAnswer: in.Body.SecurityAnswer}, clientIP(r), r.UserAgent())
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "set-account-user-permissions", Method: http.MethodPut, Path: "/api/v1/customers/{tenant}/users/{id}/permissions",
		DefaultStatus: http.StatusNoContent, Summary: "Make a user Admin, or User with modules and sub-accounts", Tags: users},
		func(ctx context.Context, in *permissionsInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			subs, err := a.subAccountIDs(ctx, id, in.Body.SubAccounts)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return nil, a.problem(ctx, a.App.SetAccountUserPermissions(ctx, viewer(ctx), id, canopy.PersonID(in.ID),
				app.Permissions{Role: canopy.Role(in.Body.Role), Modules: modules(in.Body.Modules), SubAccounts: subs}))
		})

	huma.Register(h, huma.Operation{OperationID: "request-portal-link", Method: http.MethodPost, Path: "/api/v1/portal/{tenant}/links", DefaultStatus: http.StatusAccepted,
		Summary: "An end user asks for a magic sign-in link to their customer's portal (the same answer for every address)", Tags: []string{"End-user portal"}},
		func(ctx context.Context, in *portalLinkInput) (*portalLinkOutput, error) {
			p, err := a.App.PortalOf(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if err := a.App.RequestPortalLink(ctx, p, in.Body.Email); err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &portalLinkOutput{}
			out.Body.Message = "If this address belongs to " + p.Customer.BrandName() + ", a link is on its way — it can take a few minutes."
			return out, nil
		})
}

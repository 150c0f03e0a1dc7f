package api

import (
	"context"
	"net/http"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/danielgtaylor/huma/v2"
)

// Staff is a staff user as the API shows them.
type Staff struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Phone          string     `json:"phone,omitempty"`
	Roles          []string   `json:"roles"`
	Status         string     `json:"status" enum:"registered,unregistered"`
	TwoStep        bool       `json:"two_step"`
	LastLogin      *time.Time `json:"last_login,omitempty"`
	LastLoginError string     `json:"last_login_error,omitempty"`
}

func status(registered time.Time) string {
	if registered.IsZero() {
		return "unregistered"
	}
	return "registered"
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type listStaffInput struct {
	Q          string `query:"q" doc:"Prefix of name or email"`
	Letter     string `query:"letter" pattern:"^[A-Za-z]?$" doc:"First letter of the name"`
	Role       string `query:"role"`
	Status     string `query:"status" enum:"registered,unregistered,"`
	Sort       string `query:"sort" enum:"name,email,status,last_login," default:"name"`
	Dir        string `query:"dir" enum:"asc,desc," default:"asc"`
	AfterValue string `query:"after_value" doc:"Cursor from next of the previous page"`
	AfterID    int64  `query:"after_id"`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type cursor struct {
	AfterValue string `json:"after_value"`
	AfterID    int64  `json:"after_id"`
}

type listStaffOutput struct {
	Body struct {
		Items []Staff `json:"items"`
		Next  *cursor `json:"next,omitempty" doc:"Pass as after_value and after_id for the next page"`
	}
}

type staffIDInput struct {
	ID int64 `path:"id"`
}

type staffOutput struct {
	Body Staff
}

type createStaffInput struct {
	Body struct {
		Name  string   `json:"name" maxLength:"200"`
		Email string   `json:"email"`
		Phone string   `json:"phone,omitempty"`
		Roles []string `json:"roles"`
	}
}

type updateStaffInput struct {
	ID   int64 `path:"id"`
	Body struct {
		Name  string   `json:"name" maxLength:"200"`
		Phone string   `json:"phone,omitempty"`
		Roles []string `json:"roles"`
	}
}

func roles(in []string) []canopy.Role {
	out := make([]canopy.Role, len(in))
	for i, r := range in {
		out[i] = canopy.Role(r)
	}
	return out
}

type meOutput struct {
	Body struct {
		ID           int64    `json:"id"`
		Name         string   `json:"name"`
		Email        string   `json:"email"`
		Organization string   `json:"organization" doc:"Tenant ID of the organization you act in"`
		Roles        []string `json:"roles"`
	}
}

func (a *api) register(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/api/v1/me", Summary: "Who you are and where you act", Tags: []string{"Session"}},
		func(ctx context.Context, _ *struct{}) (*meOutput, error) {
			v := viewer(ctx)
			out := &meOutput{}
			out.Body.ID, out.Body.Name, out.Body.Email, out.Body.Organization = int64(v.PersonID), v.Name, v.Email, v.Org.TenantID
			out.Body.Roles = make([]string, len(v.Roles))
			for i, r := range v.Roles {
				out.Body.Roles[i] = string(r)
			}
			return out, nil
		})

	huma.Register(h, huma.Operation{OperationID: "list-staff", Method: http.MethodGet, Path: "/api/v1/staff", Summary: "List the staff of your organization", Tags: []string{"Staff"}},
		func(ctx context.Context, in *listStaffInput) (*listStaffOutput, error) {
			rows, err := a.App.StaffList(ctx, viewer(ctx), store.StaffQuery{Search: in.Q, Letter: in.Letter, Role: in.Role, Status: in.Status,
				Sort: in.Sort, Desc: in.Dir == "desc", AfterValue: in.AfterValue, AfterID: canopy.PersonID(in.AfterID), Limit: in.Limit})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &listStaffOutput{}
			out.Body.Items = make([]Staff, 0, len(rows))
			for _, r := range rows {
				out.Body.Items = append(out.Body.Items, Staff{ID: int64(r.ID), Name: r.Name, Email: r.Email, Phone: r.Phone, Roles: r.Roles,
					Status: status(r.Registered), TwoStep: r.TwoStep, LastLogin: timePtr(r.LastLogin), LastLoginError: r.LastLoginError})
			}
			if len(rows) == in.Limit {
				last := rows[len(rows)-1]
				out.Body.Next = &cursor{AfterValue: last.SortValue, AfterID: int64(last.ID)}
			}
			return out, nil
		})

	huma.Register(h, huma.Operation{OperationID: "get-staff", Method: http.MethodGet, Path: "/api/v1/staff/{id}", Summary: "User Status Check", Tags: []string{"Staff"}},
		func(ctx context.Context, in *staffIDInput) (*staffOutput, error) {
			st, err := a.App.StaffStatusCheck(ctx, viewer(ctx), canopy.PersonID(in.ID))
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			v := viewer(ctx)
			var rs []string
			for _, m := range st.Memberships {
				if m.Org.ID == v.Org.ID {
					rs = m.Roles
				}
			}
			p := st.Person
			return &staffOutput{Body: Staff{ID: int64(p.ID), Name: p.Name, Email: p.Email, Phone: p.Phone, Roles: rs, Status: status(p.Registered),
				TwoStep: !p.TOTPEnabled.IsZero(), LastLogin: timePtr(p.LastLogin), LastLoginError: p.LastLoginError}}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "create-staff", Method: http.MethodPost, Path: "/api/v1/staff", DefaultStatus: http.StatusCreated,
		Summary: "Create a staff user (Unregistered; a registration email is sent)", Tags: []string{"Staff"}},
		func(ctx context.Context, in *createStaffInput) (*staffOutput, error) {
			v := viewer(ctx)
			p, err := a.App.CreateStaff(ctx, v, app.StaffInput{OrgID: v.Org.ID, Name: in.Body.Name, Email: in.Body.Email, Phone: in.Body.Phone, Roles: roles(in.Body.Roles)})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &staffOutput{Body: Staff{ID: int64(p.ID), Name: p.Name, Email: p.Email, Phone: p.Phone, Roles: in.Body.Roles, Status: "unregistered"}}, nil
		})

	huma.Register(h, huma.Operation{OperationID: "update-staff", Method: http.MethodPatch, Path: "/api/v1/staff/{id}", Summary: "Edit a staff user's name, phone and roles", Tags: []string{"Staff"}},
		func(ctx context.Context, in *updateStaffInput) (*struct{}, error) {
			err := a.App.UpdateStaff(ctx, viewer(ctx), canopy.PersonID(in.ID), app.StaffEdit{Name: in.Body.Name, Phone: in.Body.Phone, Roles: roles(in.Body.Roles)})
			return nil, a.problem(ctx, err)
		})

	huma.Register(h, huma.Operation{OperationID: "remove-staff", Method: http.MethodDelete, Path: "/api/v1/staff/{id}", DefaultStatus: http.StatusNoContent,
		Summary: "Remove access (ends their sessions at once)", Tags: []string{"Staff"}},
		func(ctx context.Context, in *staffIDInput) (*struct{}, error) {
			v := viewer(ctx)
			return nil, a.problem(ctx, a.App.RemoveAccess(ctx, v, canopy.PersonID(in.ID), v.Org.ID))
		})

	huma.Register(h, huma.Operation{OperationID: "resend-registration", Method: http.MethodPost, Path: "/api/v1/staff/{id}/resend-registration", DefaultStatus: http.StatusNoContent,
		Summary: "Send a new registration email", Tags: []string{"Staff"}},
		func(ctx context.Context, in *staffIDInput) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.ResendRegistration(ctx, viewer(ctx), canopy.PersonID(in.ID)))
		})

	huma.Register(h, huma.Operation{OperationID: "reset-two-step", Method: http.MethodPost, Path: "/api/v1/staff/{id}/reset-two-step", DefaultStatus: http.StatusNoContent,
		Summary: "Turn a person's two-step verification off", Tags: []string{"Staff"}},
		func(ctx context.Context, in *staffIDInput) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.ResetTwoStep(ctx, viewer(ctx), canopy.PersonID(in.ID)))
		})
}

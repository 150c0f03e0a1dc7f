package api

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/danielgtaylor/huma/v2"
)

// Group is a group of a customer's end users.
type Group struct {
	ID       int64          `json:"id"`
	Name     string         `json:"name"`
	Members  int            `json:"members" doc:"How many end users are in the group"`
	Managers []GroupManager `json:"managers" doc:"Users of the customer who receive the group's weekly report"`
}

// GroupManager is a user of the customer managing a group.
type GroupManager struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// ImportRow is the report of one CSV line.
type ImportRow struct {
	Line     int    `json:"line"`
	Email    string `json:"email"`
	Imported bool   `json:"imported"`
	Reason   string `json:"reason,omitempty" doc:"Why the row was not imported"`
}

func groupOut(g store.Group) Group {
	out := Group{ID: g.ID, Name: g.Name, Members: g.Members, Managers: []GroupManager{}}
	for _, m := range g.Managers {
		out.Managers = append(out.Managers, GroupManager{ID: int64(m.ID), Name: m.Name, Email: m.Email})
	}
	return out
}

func endUserOut(u store.EndUser) EndUser {
	return EndUser{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Active: u.Active}
}

type groupsOutput struct {
	Body struct {
		Items []Group `json:"items"`
	}
}

type groupOutput struct {
	Body Group
}

type createGroupInput struct {
	Tenant string `path:"tenant"`
	Body   struct {
		Name string `json:"name" maxLength:"100"`
	}
}

type groupIDInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
}

type groupMembersInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	After  string `query:"after" doc:"Email of the last member of the previous page"`
}

type addGroupMembersInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Emails []string `json:"emails" maxItems:"10000" doc:"Addresses of end users of the customer; if one is not, nothing is added"`
	}
}

type removeGroupMembersInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		EndUserIDs []int64 `json:"end_user_ids" maxItems:"10000" doc:"IDs of members; if one is not a member, nothing is removed"`
	}
}

type setGroupManagersInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Managers []int64 `json:"managers" maxItems:"1000" doc:"IDs of users of the customer (see the account users); empty: no managers"`
	}
}

type updateEndUserInput struct {
	Tenant string `path:"tenant"`
	ID     int64  `path:"id"`
	Body   struct {
		Email     *string `json:"email,omitempty" doc:"Unique in the customer; inside its Domain Lock when that is on"`
		FirstName *string `json:"first_name,omitempty" maxLength:"100"`
		LastName  *string `json:"last_name,omitempty" maxLength:"100"`
	}
}

type endUserOutput struct {
	Body EndUser
}

type importInput struct {
	Tenant      string `path:"tenant"`
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"text/csv"`
}

type importOutput struct {
	Body struct {
		Imported int         `json:"imported" doc:"Rows imported, together in one transaction"`
		Rows     []ImportRow `json:"rows" doc:"Every line of the file, imported or with the reason it was not"`
	}
}

func (a *api) registerGroups(h huma.API) {
	tags := []string{"Groups"}
	base := "/api/v1/customers/{tenant}/groups"
	huma.Register(h, huma.Operation{OperationID: "list-groups", Method: http.MethodGet, Path: base,
		Summary: "Groups of end users by name, with member counts and managers", Tags: tags},
		func(ctx context.Context, in *tenantInput) (*groupsOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			list, err := a.App.Groups(ctx, viewer(ctx), id)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &groupsOutput{}
			out.Body.Items = make([]Group, len(list))
			for i, g := range list {
				out.Body.Items[i] = groupOut(g)
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "create-group", Method: http.MethodPost, Path: base, DefaultStatus: http.StatusCreated,
		Summary: "Create a group (names are unique in the customer)", Tags: tags},
		func(ctx context.Context, in *createGroupInput) (*groupOutput, error) {
			v := viewer(ctx)
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			gid, err := a.App.CreateGroup(ctx, v, id, in.Body.Name)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			g, _, err := a.App.Group(ctx, v, id, gid, "")
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &groupOutput{Body: groupOut(g)}, nil
		})
	huma.Register(h, huma.Operation{OperationID: "get-group", Method: http.MethodGet, Path: base + "/{id}",
		Summary: "A group with its managers (its members: get-group-members)", Tags: tags},
		func(ctx context.Context, in *groupIDInput) (*groupOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			g, _, err := a.App.Group(ctx, viewer(ctx), id, in.ID, "")
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &groupOutput{Body: groupOut(g)}, nil
		})
	huma.Register(h, huma.Operation{OperationID: "get-group-members", Method: http.MethodGet, Path: base + "/{id}/members",
		Summary: "A group's members by email, 100 a page", Tags: tags},
		func(ctx context.Context, in *groupMembersInput) (*endUsersOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			_, members, err := a.App.Group(ctx, viewer(ctx), id, in.ID, in.After)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &endUsersOutput{}
			out.Body.Items = make([]EndUser, len(members))
			for i, u := range members {
				out.Body.Items[i] = endUserOut(u)
			}
			if len(members) == app.GroupMembersPage {
				out.Body.Next = members[len(members)-1].Email
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "add-group-members", Method: http.MethodPost, Path: base + "/{id}/members", DefaultStatus: http.StatusNoContent,
		Summary: "Add end users to a group by address (all or none)", Tags: tags},
		func(ctx context.Context, in *addGroupMembersInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.AddGroupMembers(ctx, viewer(ctx), id, in.ID, strings.Join(in.Body.Emails, "\n"))
			}
			return nil, a.problem(ctx, relocate(err, map[string]string{"members": "body.emails"}))
		})
	huma.Register(h, huma.Operation{OperationID: "remove-group-members", Method: http.MethodPost, Path: base + "/{id}/members/remove", DefaultStatus: http.StatusNoContent,
		Summary: "Take members out of a group by end-user ID (all or none); they stay end users", Tags: tags},
		func(ctx context.Context, in *removeGroupMembersInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.RemoveGroupMembers(ctx, viewer(ctx), id, in.ID, in.Body.EndUserIDs)
			}
			return nil, a.problem(ctx, relocate(err, map[string]string{"members": "body.end_user_ids"}))
		})
	huma.Register(h, huma.Operation{OperationID: "set-group-managers", Method: http.MethodPut, Path: base + "/{id}/managers", DefaultStatus: http.StatusNoContent,
		Summary: "Replace a group's managers", Tags: tags},
		func(ctx context.Context, in *setGroupManagersInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				people := make([]canopy.PersonID, len(in.Body.Managers))
				for i, p := range in.Body.Managers {
					people[i] = canopy.PersonID(p)
				}
				err = a.App.SetGroupManagers(ctx, viewer(ctx), id, in.ID, people)
			}
			return nil, a.problem(ctx, err)
		})
	huma.Register(h, huma.Operation{OperationID: "delete-group", Method: http.MethodDelete, Path: base + "/{id}", DefaultStatus: http.StatusNoContent,
		Summary: "Delete a group; its members stay end users", Tags: tags},
		func(ctx context.Context, in *groupIDInput) (*struct{}, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err == nil {
				err = a.App.DeleteGroup(ctx, viewer(ctx), id, in.ID)
			}
			return nil, a.problem(ctx, err)
		})

	etags := []string{"End users"}
	huma.Register(h, huma.Operation{OperationID: "update-end-user", Method: http.MethodPatch, Path: "/api/v1/customers/{tenant}/end-users/{id}",
		Summary: "Edit an end user's address or names (fields left out stay as they are)", Tags: etags},
		func(ctx context.Context, in *updateEndUserInput) (*endUserOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			u, err := a.App.UpdateEndUser(ctx, viewer(ctx), id, in.ID, app.EndUserChange{Email: in.Body.Email, FirstName: in.Body.FirstName, LastName: in.Body.LastName})
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			return &endUserOutput{Body: endUserOut(u)}, nil
		})
	huma.Register(h, huma.Operation{OperationID: "import-end-users", Method: http.MethodPost, Path: "/api/v1/customers/{tenant}/end-users/import",
		MaxBodyBytes: 32 << 20, Tags: etags,
		Summary: "Import end users from a CSV body (email, first name, last name; a header row is recognised): a report per line",
		Description: "The valid rows are imported together in one transaction; the invalid ones are reported and skipped. " +
			"A database failure imports nothing (500)."},
		func(ctx context.Context, in *importInput) (*importOutput, error) {
			id, err := a.customerID(ctx, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			if mt, _, _ := mime.ParseMediaType(in.ContentType); mt != "text/csv" {
				return nil, huma.NewError(http.StatusUnsupportedMediaType, "Send the CSV file itself as the body, with Content-Type text/csv.")
			}
			report, imported, err := a.App.ImportEndUsers(ctx, viewer(ctx), id, bytes.NewReader(in.RawBody))
			if err != nil {
				return nil, a.problem(ctx, relocate(err, map[string]string{"file": "body"}))
			}
			out := &importOutput{}
			out.Body.Imported = imported
			out.Body.Rows = make([]ImportRow, len(report))
			for i, r := range report {
				out.Body.Rows[i] = ImportRow{Line: r.Line, Email: r.Email, Imported: r.Imported, Reason: r.Reason}
			}
			return out, nil
		})
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

var letters = []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z"}

// usersQuery is the staff list's filters with the list's URL state.
type usersQuery struct {
	store.StaffQuery
	L listState
}

// Users is the staff list.
func (w *Web) Users(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	qs := r.URL.Query()
	q := usersQuery{StaffQuery: store.StaffQuery{
		Search: qs.Get("q"), Letter: qs.Get("letter"), Role: qs.Get("role"), Status: qs.Get("status"),
		Sort: qs.Get("sort"), Desc: qs.Get("dir") == "desc", AfterValue: qs.Get("after_value"), Limit: 50,
	}}
	q.L = listState{Path: "/users", Values: qs, Sort: q.Sort, Desc: q.Desc, DefaultSort: "name"}
	if id, err := strconv.ParseInt(qs.Get("after_id"), 10, 64); err == nil {
		q.AfterID = canopy.PersonID(id)
	}
	rows, err := w.app.StaffList(r.Context(), v, q.StaffQuery)
	fe, err := formError(err)
	if err != nil {
		return err
	}
	data := map[string]any{"Rows": rows, "Q": q, "Letters": letters, "Roles": rolesAt(v.Org.Kind), "Errors": fe,
		"CanManage": v.Can(app.PermManageStaff)}
	if len(rows) == q.Limit {
		last := rows[len(rows)-1]
		next := url.Values{}
		for k, vals := range qs {
			next[k] = vals
		}
		next.Set("after_value", last.SortValue)
		next.Set("after_id", strconv.FormatInt(int64(last.ID), 10))
		data["Next"] = "/users?" + next.Encode()
	}
	if r.Header.Get("HX-Request") == "true" {
		return w.renderPartial(rw, "users", "results", page{Data: data})
	}
	return w.render(rw, r, http.StatusOK, "users", page{Title: "Users", Nav: "users", Data: data})
}

func rolesAt(k canopy.OrgKind) []canopy.RoleInfo {
	var out []canopy.RoleInfo
	for _, info := range canopy.Roles {
		if info.Kind == k {
			out = append(out, info)
		}
	}
	return out
}

func personID(r *http.Request) (canopy.PersonID, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, canopy.ErrNotFound
	}
	return canopy.PersonID(id), nil
}

// staffOfPage reads the person named by the page's {id}, as the viewer may
// see them (a neighbour's staff are not found).
func (w *Web) staffOfPage(r *http.Request) (app.Viewer, canopy.PersonID, app.StaffStatus, error) {
	v, _ := ViewerFrom(r.Context())
	id, err := personID(r)
	if err != nil {
		return v, 0, app.StaffStatus{}, err
	}
	st, err := w.app.StaffStatusCheck(r.Context(), v, id)
	return v, id, st, err
}

// UserStatus is the User Status Check page.
func (w *Web) UserStatus(rw http.ResponseWriter, r *http.Request) error {
	v, id, st, err := w.staffOfPage(r)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "user_status", page{Title: st.Person.Name, Nav: "users",
		Data: map[string]any{"S": st, "CanManage": v.Can(app.PermManageStaff), "CanReset2FA": v.Can(app.PermReset2FA),
			"Self": id == v.PersonID, "Done": r.URL.Query().Get("done")}})
}

// RemoveUserPage asks for confirmation before removing access.
func (w *Web) RemoveUserPage(rw http.ResponseWriter, r *http.Request) error {
	v, _, st, err := w.staffOfPage(r)
	if err != nil {
		return err
	}
	if err := v.Require(app.PermManageStaff); err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "user_remove", page{Title: "Remove access", Nav: "users", Data: map[string]any{"S": st}})
}

// RemoveUserSubmit removes the person's access to the viewer's organization.
func (w *Web) RemoveUserSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	id, err := personID(r)
	if err != nil {
		return err
	}
	if err := w.app.RemoveAccess(r.Context(), v, id, v.Org.ID); err != nil {
		return err
	}
	http.Redirect(rw, r, "/users?removed=1", http.StatusSeeOther)
	return nil
}

// ResendRegistrationSubmit sends a new registration email.
func (w *Web) ResendRegistrationSubmit(rw http.ResponseWriter, r *http.Request) error {
	return w.userAction(rw, r, "resent", w.app.ResendRegistration)
}

// ResetTwoStepSubmit turns a person's two-step verification off.
func (w *Web) ResetTwoStepSubmit(rw http.ResponseWriter, r *http.Request) error {
	return w.userAction(rw, r, "two-step-reset", w.app.ResetTwoStep)
}

func (w *Web) userAction(rw http.ResponseWriter, r *http.Request, done string, act func(context.Context, app.Viewer, canopy.PersonID) error) error {
	v, _ := ViewerFrom(r.Context())
	id, err := personID(r)
	if err != nil {
		return err
	}
	if err := act(r.Context(), v, id); err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/users/%d?done=%s", id, done), http.StatusSeeOther)
	return nil
}

// EditUserPage shows the edit form of a staff user.
func (w *Web) EditUserPage(rw http.ResponseWriter, r *http.Request) error {
	v, _, st, err := w.staffOfPage(r)
	if err != nil {
		return err
	}
	if err := v.Require(app.PermManageStaff); err != nil {
		return err
	}
	values := url.Values{"name": {st.Person.Name}, "phone": {st.Person.Phone}}
	for _, m := range st.Memberships {
		if m.Org.ID == v.Org.ID {
			values["roles"] = m.Roles
		}
	}
	return w.render(rw, r, http.StatusOK, "user_edit", page{Title: "Edit " + st.Person.Name, Nav: "users",
		Data: map[string]any{"S": st, "Form": form{Values: values}, "Roles": grantableRoles(v)}})
}

// EditUserSubmit saves the edit form.
func (w *Web) EditUserSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	id, err := personID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	in := app.StaffEdit{Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone")}
	for _, role := range r.PostForm["roles"] {
		in.Roles = append(in.Roles, canopy.Role(role))
	}
	err = w.app.UpdateStaff(r.Context(), v, id, in)
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/users/%d?done=saved", id), http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	st, err := w.app.StaffStatusCheck(r.Context(), v, id)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusUnprocessableEntity, "user_edit", page{Title: "Edit " + st.Person.Name, Nav: "users",
		Data: map[string]any{"S": st, "Form": form{Values: r.PostForm, Errors: fe}, "Roles": grantableRoles(v)}})
}

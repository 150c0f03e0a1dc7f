package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// pathID reads the page's numeric {id}; anything else is not found.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, canopy.ErrNotFound
	}
	return id, nil
}

// customerObjectOfPage reads the page's customer and the numeric {id} of
// one of its objects.
func (w *Web) customerObjectOfPage(r *http.Request) (app.Viewer, canopy.Customer, int64, error) {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return v, c, 0, err
	}
	id, err := pathID(r)
	return v, c, id, err
}

// endUsersBack is the end-users list's query (its page, and any search)
// without the notice, for an edit form to return to the same rows.
func endUsersBack(q url.Values) string {
	q = maps.Clone(q)
	q.Del("done")
	return q.Encode()
}

// endUsersReturn is the Users tab at the list query back (as endUsersBack
// wrote it) with a notice, scrolled to the end user's row. Only a query is
// taken from the form, never a path.
func endUsersReturn(c canopy.Customer, back string, done string, id int64) string {
	q, err := url.ParseQuery(back)
	if err != nil {
		q = url.Values{}
	}
	if done != "" {
		q.Set("done", done)
	}
	return fmt.Sprintf("/customers/%s/users?%s#end-user-%d", c.TenantID, q.Encode(), id)
}

// EditEndUserPage is the form to edit an end user's address and names.
func (w *Web) EditEndUserPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	u, err := w.app.EndUser(r.Context(), v, c.ID, id)
	if err != nil {
		return err
	}
	back := r.URL.Query().Get("back")
	f := form{Values: url.Values{"email": {u.Email}, "first_name": {u.FirstName}, "last_name": {u.LastName}, "back": {back}}}
	return w.customerPage(rw, r, v, c, "users", "end_user_edit", http.StatusOK, map[string]any{"U": u, "Form": f, "Cancel": endUsersReturn(c, back, "", id)})
}

// EditEndUserSubmit saves the edit and returns to the row in the list, or
// shows the form again with each error beside its field.
func (w *Web) EditEndUserSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	email, first, last := r.PostFormValue("email"), r.PostFormValue("first_name"), r.PostFormValue("last_name")
	_, err = w.app.UpdateEndUser(r.Context(), v, c.ID, id, app.EndUserChange{Email: &email, FirstName: &first, LastName: &last})
	if err == nil {
		http.Redirect(rw, r, endUsersReturn(c, r.PostFormValue("back"), "end-user-saved", id), http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	u, err := w.app.EndUser(r.Context(), v, c.ID, id)
	if err != nil {
		return err
	}
	return w.customerPage(rw, r, v, c, "users", "end_user_edit", http.StatusUnprocessableEntity, map[string]any{"U": u, "Form": form{Values: r.PostForm, Errors: fe},
		"Cancel": endUsersReturn(c, r.PostFormValue("back"), "", id)})
}

// GroupPage shows a group: its managers, a page of its members with a
// Remove button each, the forms to add members and choose managers, and
// Delete.
func (w *Web) GroupPage(rw http.ResponseWriter, r *http.Request) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	return w.renderGroup(rw, r, v, c, id, r.URL.Query().Get("after"), http.StatusOK, nil)
}

func (w *Web) renderGroup(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, id int64, after string, status int, errs canopy.FieldErrors) error {
	g, members, err := w.app.Group(r.Context(), v, c.ID, id, after)
	if err != nil {
		return err
	}
	active, _, err := w.app.AccountUsers(r.Context(), v, c.ID)
	if err != nil {
		return err
	}
	data := map[string]any{"G": g, "Members": members, "Active": active, "After": after, "GroupErrors": errs}
	if len(members) == app.GroupMembersPage {
		data["MembersNext"] = fmt.Sprintf("/customers/%s/groups/%d?after=%s#members", c.TenantID, g.ID, url.QueryEscape(members[len(members)-1].Email))
	}
	return w.customerPage(rw, r, v, c, "users", "group", status, data)
}

// RemoveGroupMembersSubmit takes members out of a group: the one whose
// Remove button was pressed, or every ticked one.
func (w *Web) RemoveGroupMembersSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	chosen := r.PostForm["members"]
	if only := r.PostFormValue("only"); only != "" {
		chosen = []string{only}
	}
	var members []int64
	for _, raw := range chosen {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return canopy.ErrNotFound
		}
		members = append(members, n)
	}
	after := r.PostFormValue("after")
	err = w.app.RemoveGroupMembers(r.Context(), v, c.ID, id, members)
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/customers/%s/groups/%d?done=members-removed&after=%s#members", c.TenantID, id, url.QueryEscape(after)), http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	// Shown above the members, not beside the add form's field.
	return w.renderGroup(rw, r, v, c, id, after, http.StatusUnprocessableEntity, canopy.FieldErrors{"remove": fe["members"]})
}

// DeleteGroupSubmit deletes a group (its end users stay) and returns to
// the Users tab; the button asks first.
func (w *Web) DeleteGroupSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	if err := w.app.DeleteGroup(r.Context(), v, c.ID, id); err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=group-deleted#groups", c.TenantID), http.StatusSeeOther)
	return nil
}

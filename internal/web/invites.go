package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// usersTab is what the Users tab shows beside its lists: the invite form
// and its results, the end-user form, and any other section's report.
type usersTab struct {
	Invite  form
	Results []app.InviteResult
	EndUser form
	Extra   map[string]any
}

func (w *Web) renderCustomerUsers(rw http.ResponseWriter, r *http.Request, v app.Viewer, c canopy.Customer, status int, t usersTab) error {
	if t.Invite.Values == nil {
		t.Invite.Values = url.Values{"role": {string(canopy.RoleCustomerUser)}}
	}
	if t.EndUser.Values == nil {
		t.EndUser.Values = url.Values{}
	}
	f, results, endUser, extra := t.Invite, t.Results, t.EndUser, t.Extra
	var mods []canopy.ModuleInfo // the customer's modules, which its Users may be granted
	for _, m := range canopy.Modules {
		if slices.Contains(c.Modules, m.Module) {
			mods = append(mods, m)
		}
	}
	data := map[string]any{"Form": f, "Results": results, "Modules": mods, "EndUserForm": endUser}
	for k, x := range extra {
		data[k] = x
	}
	if v.Org.ID == c.ID && v.Can(app.PermManageCustomerOrg) || v.Org.ID != c.ID && v.Can(app.PermManageCustomers) {
		pending, err := w.app.PendingInvitations(r.Context(), v, c.ID)
		if err != nil {
			return err
		}
		active, deactivated, err := w.app.AccountUsers(r.Context(), v, c.ID)
		if err != nil {
			return err
		}
		data["Pending"], data["Active"], data["Deactivated"] = pending, active, deactivated
		endUsers, err := w.endUsersPage(r, v, c)
		if err != nil {
			return err
		}
		for k, x := range endUsers {
			data[k] = x
		}
		groups, err := w.app.Groups(r.Context(), v, c.ID)
		if err != nil {
			return err
		}
		data["Groups"] = groups
		subs, err := w.app.SubAccounts(r.Context(), v, c.ID)
		if err != nil {
			return err
		}
		data["SubAccounts"] = subs
	}
	invited := 0
	for _, res := range results {
		if res.Outcome == app.Invited {
			invited++
		}
	}
	data["Invited"] = invited
	return w.customerPage(rw, r, v, c, "users", "customer_users", status, data)
}

// endUsersPage is the end-user list of the Users tab: a page of the list,
// or of a search (q, and contains=1 for a search anywhere in the address
// and name), with the link to the next page in the same mode.
func (w *Web) endUsersPage(r *http.Request, v app.Viewer, c canopy.Customer) (map[string]any, error) {
	qs := r.URL.Query()
	q := app.EndUserQuery{Q: qs.Get("q"), Contains: qs.Get("contains") == "1", After: qs.Get("after")}
	page, err := w.app.EndUsers(r.Context(), v, c.ID, q)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"EndUsers": page.Users, "EndUserQ": q.Q, "EndUserContains": page.Contains, "EndUserAskContains": q.Contains,
		"EndUsersBack": endUsersBack(qs)}
	if page.Next != "" {
		next := url.Values{"after": {page.Next}}
		if q.Q != "" {
			next.Set("q", q.Q)
		}
		if page.Contains {
			next.Set("contains", "1")
		}
		data["EndUsersNext"] = fmt.Sprintf("/customers/%s/users?%s#end-users", c.TenantID, next.Encode())
	}
	return data, nil
}

// CustomerUsers is the Users tab: invite users, and the pending invitations.
// A search-as-you-type request (htmx) gets the end-user list alone.
func (w *Web) CustomerUsers(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "end-users" {
		data, err := w.endUsersPage(r, v, c)
		if err != nil {
			return err
		}
		data["C"] = c
		return w.renderPartial(rw, "customer_users", "end-users", page{Viewer: &v, Data: data})
	}
	return w.renderCustomerUsers(rw, r, v, c, http.StatusOK, usersTab{})
}

// InviteSubmit invites the pasted addresses and shows a result per address.
func (w *Web) InviteSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 2<<20)
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"addresses": "The list is too large to read: invite at most 10,000 addresses at once."}
	}
	in := app.InviteInput{Addresses: r.PostFormValue("addresses"), Role: canopy.Role(r.PostFormValue("role"))}
	for _, m := range r.PostForm["modules"] {
		in.Modules = append(in.Modules, canopy.Module(m))
	}
	for _, raw := range r.PostForm["sub_accounts"] {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return canopy.ErrNotFound
		}
		in.SubAccounts = append(in.SubAccounts, canopy.OrgID(n))
	}
	results, err := w.app.InviteUsers(r.Context(), v, c.ID, in)
	if err == nil {
		return w.renderCustomerUsers(rw, r, v, c, http.StatusOK, usersTab{Invite: form{Values: url.Values{"role": {string(in.Role)}}}, Results: results})
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderCustomerUsers(rw, r, v, c, http.StatusUnprocessableEntity, usersTab{Invite: form{Values: r.PostForm, Errors: fe}})
}

// ResendInvitationSubmit sends an invitation again with a new link.
func (w *Web) ResendInvitationSubmit(rw http.ResponseWriter, r *http.Request) error {
	return w.invitationAction(rw, r, "resent", w.app.ResendInvitation)
}

// RemoveInvitationSubmit withdraws an invitation.
func (w *Web) RemoveInvitationSubmit(rw http.ResponseWriter, r *http.Request) error {
	return w.invitationAction(rw, r, "removed", w.app.RemoveInvitation)
}

func (w *Web) invitationAction(rw http.ResponseWriter, r *http.Request, done string, act func(ctx context.Context, v app.Viewer, c canopy.OrgID, id int64) error) error {
	v, c, id, err := w.customerObjectOfPage(r)
	if err != nil {
		return err
	}
	if err := act(r.Context(), v, c.ID, id); err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=%s", c.TenantID, done), http.StatusSeeOther)
	return nil
}

// unusableInvitation says an invitation link cannot be used and, when the
// invitation is still known, who sent it so the person knows whom to ask.
func (w *Web) unusableInvitation(rw http.ResponseWriter, r *http.Request) error {
	data := map[string]any{"Unusable": true}
	if stale, err := w.app.StaleInvitationFor(r.Context(), r.PathValue("token")); err == nil {
		data["Stale"] = stale
	} else if !errors.Is(err, canopy.ErrNotFound) {
		return err
	}
	return w.render(rw, r, http.StatusGone, "invitation", page{Title: "Invitation", Data: data})
}

// InvitationPage opens an invitation link: the form to accept it. Opening
// spends nothing; only the POST accepts.
func (w *Web) InvitationPage(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	inv, customer, exists, err := w.app.InvitationFor(r.Context(), r.PathValue("token"))
	if errors.Is(err, canopy.ErrNotFound) {
		return w.unusableInvitation(rw, r)
	}
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "invitation", page{Title: "Invitation to " + customer,
		Data: map[string]any{"Inv": inv, "Customer": customer, "Exists": exists, "Form": form{Values: url.Values{}}, "Questions": securityQuestions}})
}

// InvitationSubmit accepts the invitation and sends the person to sign in.
func (w *Web) InvitationSubmit(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	_, err := w.app.AcceptInvitation(r.Context(), token, app.AcceptInput{Name: r.PostFormValue("name"),
		Password: r.PostFormValue("password"), Confirm: r.PostFormValue("confirm"),
		SecurityQuestion: r.PostFormValue("security_question"), SecurityAnswer: r.PostFormValue("security_answer")}, clientIP(r), r.UserAgent())
	if err == nil {
		return w.render(rw, r, http.StatusOK, "signin", page{Title: "Sign in", Data: form{Values: url.Values{}, Notice: "You have joined the account. Sign in with your email address and password."}})
	}
	if errors.Is(err, canopy.ErrNotFound) {
		w.log.WarnContext(r.Context(), "unusable invitation link presented", "ip", clientIP(r))
		return w.unusableInvitation(rw, r)
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	inv, customer, exists, err := w.app.InvitationFor(r.Context(), token)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusUnprocessableEntity, "invitation", page{Title: "Invitation to " + customer,
		Data: map[string]any{"Inv": inv, "Customer": customer, "Exists": exists, "Form": form{Values: r.PostForm, Errors: fe}, "Questions": securityQuestions}})
}

// AccountUserSubmit deactivates, reactivates or removes a user of the customer.
func (w *Web) AccountUserSubmit(act string) HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		v, c, n, err := w.customerObjectOfPage(r)
		if err != nil {
			return err
		}
		id := canopy.PersonID(n)
		switch act {
		case "deactivate", "reactivate":
			err = w.app.SetAccountUserActive(r.Context(), v, c.ID, id, act == "reactivate")
		default:
			err = w.app.RemoveAccountUser(r.Context(), v, c.ID, id)
		}
		if err != nil {
			return err
		}
		done := map[string]string{"deactivate": "deactivated", "reactivate": "reactivated", "remove": "user-removed"}[act]
		http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=%s", c.TenantID, done), http.StatusSeeOther)
		return nil
	}
}

// AddEndUserSubmit adds one end user to the customer.
func (w *Web) AddEndUserSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	err = w.app.AddEndUserBy(r.Context(), v, c.ID, r.PostFormValue("email"), r.PostFormValue("first_name"), r.PostFormValue("last_name"))
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=end-user-added", c.TenantID), http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderCustomerUsers(rw, r, v, c, http.StatusUnprocessableEntity, usersTab{EndUser: form{Values: r.PostForm, Errors: fe}})
}

// EndUserActiveSubmit deactivates or reactivates an end user.
func (w *Web) EndUserActiveSubmit(active bool) HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		v, c, id, err := w.customerObjectOfPage(r)
		if err != nil {
			return err
		}
		if err := w.app.SetEndUserActive(r.Context(), v, c.ID, id, active); err != nil {
			return err
		}
		http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=end-user-saved", c.TenantID), http.StatusSeeOther)
		return nil
	}
}

// ImportEndUsersSubmit imports a CSV of end users and shows the per-row report.
func (w *Web) ImportEndUsersSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, c, err := w.customerOfPage(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 33<<20)
	bad := func(msg string) error {
		return w.renderCustomerUsers(rw, r, v, c, http.StatusUnprocessableEntity, usersTab{EndUser: form{Errors: canopy.FieldErrors{"file": msg}}})
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return bad("Choose a CSV file: one end user a line, as email, first name, last name.")
	}
	defer file.Close()
	report, imported, err := w.app.ImportEndUsers(r.Context(), v, c.ID, file)
	if fe, other := formError(err); other != nil {
		return other
	} else if fe != nil {
		return bad(fe["file"])
	}
	rw.Header().Set("Cache-Control", "no-store")
	return w.renderCustomerUsers(rw, r, v, c, http.StatusOK, usersTab{Extra: map[string]any{"Import": report, "Imported": imported}})
}

// groupAction runs a group form and returns to the Users tab, or shows the
// form's errors there.
func (w *Web) groupAction(act func(r *http.Request, v app.Viewer, c canopy.Customer) error) HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		v, c, err := w.customerOfPage(r)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return canopy.FieldErrors{"form": "The form could not be read."}
		}
		err = act(r, v, c)
		// The group page's forms return there.
		onGroupPage := r.PostFormValue("from") == "group"
		if err == nil && onGroupPage {
			http.Redirect(rw, r, fmt.Sprintf("/customers/%s/groups/%s?done=group-saved", c.TenantID, r.PathValue("id")), http.StatusSeeOther)
			return nil
		}
		if err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/customers/%s/users?done=group-saved#groups", c.TenantID), http.StatusSeeOther)
			return nil
		}
		fe, other := formError(err)
		if other != nil {
			return other
		}
		if onGroupPage {
			id, err := pathID(r)
			if err != nil {
				return err
			}
			return w.renderGroup(rw, r, v, c, id, "", http.StatusUnprocessableEntity, fe)
		}
		return w.renderCustomerUsers(rw, r, v, c, http.StatusUnprocessableEntity, usersTab{Extra: map[string]any{"GroupErrors": fe}})
	}
}

// CreateGroupSubmit adds a group.
func (w *Web) CreateGroupSubmit() HandlerFunc {
	return w.groupAction(func(r *http.Request, v app.Viewer, c canopy.Customer) error {
		_, err := w.app.CreateGroup(r.Context(), v, c.ID, r.PostFormValue("name"))
		return err
	})
}

// GroupMembersSubmit adds end users to a group.
func (w *Web) GroupMembersSubmit() HandlerFunc {
	return w.groupAction(func(r *http.Request, v app.Viewer, c canopy.Customer) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		return w.app.AddGroupMembers(r.Context(), v, c.ID, id, r.PostFormValue("members"))
	})
}

// GroupManagersSubmit sets a group's managers.
func (w *Web) GroupManagersSubmit() HandlerFunc {
	return w.groupAction(func(r *http.Request, v app.Viewer, c canopy.Customer) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		var people []canopy.PersonID
		for _, raw := range r.PostForm["managers"] {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return canopy.FieldErrors{"managers": "Choose managers from the list."}
			}
			people = append(people, canopy.PersonID(n))
		}
		return w.app.SetGroupManagers(r.Context(), v, c.ID, id, people)
	})
}

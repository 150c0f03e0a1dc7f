package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// MyDetails is the signed-in person's own page: name, phone, email,
// password and two-step verification.
func (w *Web) MyDetails(rw http.ResponseWriter, r *http.Request) error {
	return w.renderMyDetails(rw, r, http.StatusOK, form{}, form{}, form{})
}

func (w *Web) renderMyDetails(rw http.ResponseWriter, r *http.Request, status int, details, email, password form) error {
	v, _ := ViewerFrom(r.Context())
	d, err := w.app.MyDetailsOf(r.Context(), v)
	if err != nil {
		return err
	}
	if details.Values == nil {
		details.Values = url.Values{"name": {d.Person.Name}, "phone": {d.Person.Phone}}
	}
	if email.Values == nil {
		email.Values = url.Values{}
	}
	switch r.URL.Query().Get("done") {
	case "saved":
		details.Notice = "Saved."
	case "email-sent":
		email.Notice = "A confirmation link is on its way to the new address; your address changes when you open it."
	case "password":
		password.Notice = "Password changed; your other sessions were signed out."
	}
	return w.render(rw, r, status, "mydetails", page{Title: "My Details", Nav: "account",
		Data: map[string]any{"D": d, "Details": details, "Email": email, "Password": password}})
}

// MyDetailsSubmit saves name and phone.
func (w *Web) MyDetailsSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	err := w.app.UpdateMyDetails(r.Context(), v, r.PostFormValue("name"), r.PostFormValue("phone"))
	if err == nil {
		http.Redirect(rw, r, "/account?done=saved", http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderMyDetails(rw, r, http.StatusUnprocessableEntity, form{Values: r.PostForm, Errors: fe}, form{}, form{})
}

// EmailChangeSubmit asks for a confirmation link at the new address.
func (w *Web) EmailChangeSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	err := w.app.RequestEmailChange(r.Context(), v, r.PostFormValue("email"))
	if err == nil {
		http.Redirect(rw, r, "/account?done=email-sent", http.StatusSeeOther)
		return nil
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderMyDetails(rw, r, http.StatusUnprocessableEntity, form{}, form{Values: r.PostForm, Errors: fe}, form{})
}

// PasswordChangeSubmit changes the password after checking the current one.
func (w *Web) PasswordChangeSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return canopy.ErrUnauthenticated
	}
	err = w.app.ChangePassword(r.Context(), v, c.Value, r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("confirm"))
	if err == nil {
		http.Redirect(rw, r, "/account?done=password", http.StatusSeeOther)
		return nil
	}
	var locked app.LockedError
	if errors.As(err, &locked) {
		err = canopy.FieldErrors{"current": locked.Error()}
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderMyDetails(rw, r, http.StatusUnprocessableEntity, form{}, form{}, form{Values: url.Values{}, Errors: fe})
}

// EmailConfirmPage shows the Continue button of a confirmation link;
// opening it spends nothing.
func (w *Web) EmailConfirmPage(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	c, err := w.app.CheckEmailChange(r.Context(), r.PathValue("token"))
	if errors.Is(err, canopy.ErrNotFound) {
		return w.render(rw, r, http.StatusGone, "email_confirm", page{Title: "Confirm your new address", Data: map[string]any{"Unusable": true}})
	}
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "email_confirm", page{Title: "Confirm your new address", Data: map[string]any{"C": c}})
}

// EmailConfirmSubmit changes the address.
func (w *Web) EmailConfirmSubmit(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	token := r.PathValue("token")
	c, err := w.app.CheckEmailChange(r.Context(), token)
	if err == nil {
		err = w.app.ConfirmEmailChange(r.Context(), token, clientIP(r), r.UserAgent())
	}
	switch {
	case err == nil:
		return w.render(rw, r, http.StatusOK, "email_confirm", page{Title: "Address changed", Data: map[string]any{"Done": c.NewEmail}})
	case errors.Is(err, canopy.ErrNotFound):
		w.log.WarnContext(r.Context(), "unusable email confirmation link presented", "ip", clientIP(r))
		return w.render(rw, r, http.StatusGone, "email_confirm", page{Title: "Confirm your new address", Data: map[string]any{"Unusable": true}})
	case errors.Is(err, canopy.ErrForbidden):
		return w.render(rw, r, http.StatusForbidden, "email_confirm", page{Title: "Confirm your new address", Data: map[string]any{"Refused": err.Error()}})
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.render(rw, r, http.StatusConflict, "email_confirm", page{Title: "Confirm your new address", Data: map[string]any{"Refused": fe["email"]}})
}

package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// form is a submitted form with its messages, re-rendered on errors so
// nothing typed is lost.
type form struct {
	Values url.Values
	Errors canopy.FieldErrors
	Notice string
}

// Get returns a submitted value.
func (f form) Get(name string) string { return f.Values.Get(name) }

// Has reports whether a multi-value field holds v.
func (f form) Has(name, v string) bool {
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// formError splits an error into field messages (shown next to the fields)
// and anything else (returned).
func formError(err error) (canopy.FieldErrors, error) {
	var fe canopy.FieldErrors
	if errors.As(err, &fe) {
		return fe, nil
	}
	return nil, err
}

// SignInSubmit checks an email and password.
func (w *Web) SignInSubmit(rw http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	f := form{Values: r.PostForm}
	token, err := w.app.SignInPassword(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		var locked app.LockedError
		var second app.SecondFactorRequired
		switch {
		case errors.As(err, &second):
			return w.render(rw, r, http.StatusOK, "signin_code", page{Title: "Two-step verification", Data: map[string]any{"Pending": second.Token}})
		case errors.As(err, &locked):
			f.Errors = canopy.FieldErrors{"form": "Too many failed attempts. Sign-in for this account is locked until " + locked.Until.Format("15:04") + " UTC; wait, or reset your password."}
		case errors.Is(err, canopy.ErrUnauthenticated):
			f.Errors = canopy.FieldErrors{"form": "The email address or password is not right."}
		default:
			return err
		}
		f.Values.Del("password")
		return w.render(rw, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Data: f})
	}
	w.startSession(rw, token)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
	return nil
}

func (w *Web) startSession(rw http.ResponseWriter, token string) {
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: w.secureCookies, SameSite: http.SameSiteLaxMode})
}

// RegisterPage asks a new staff user for a password and security question.
func (w *Web) RegisterPage(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	reg, err := w.app.RegistrationFor(r.Context(), r.PathValue("token"))
	if errors.Is(err, canopy.ErrNotFound) {
		return w.render(rw, r, http.StatusGone, "register", page{Title: "Finish setting up your account", Data: map[string]any{"Unusable": true}})
	}
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "register", page{Title: "Finish setting up your account",
		Data: map[string]any{"Reg": reg, "Form": form{Values: url.Values{}}, "Questions": securityQuestions}})
}

var securityQuestions = []string{
	"What was the name of your first pet?",
	"In which town did you go to primary school?",
	"What is the surname of your favourite teacher?",
	"What was the make of your first car?",
	"What is the name of the street you grew up on?",
}

// RegisterSubmit sets the password and security question.
func (w *Web) RegisterSubmit(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	in := app.RegisterInput{Password: r.PostFormValue("password"), Confirm: r.PostFormValue("confirm"),
		SecurityQuestion: r.PostFormValue("security_question"), SecurityAnswer: r.PostFormValue("security_answer")}
	err := w.app.Register(r.Context(), token, in, clientIP(r), r.UserAgent())
	if errors.Is(err, canopy.ErrNotFound) {
		return w.render(rw, r, http.StatusGone, "register", page{Title: "Finish setting up your account", Data: map[string]any{"Unusable": true}})
	}
	if err != nil {
		fe, other := formError(err)
		if other != nil {
			return other
		}
		reg, _ := w.app.RegistrationFor(r.Context(), token)
		f := form{Values: r.PostForm, Errors: fe}
		f.Values.Del("password")
		f.Values.Del("confirm")
		return w.render(rw, r, http.StatusUnprocessableEntity, "register", page{Title: "Finish setting up your account",
			Data: map[string]any{"Reg": reg, "Form": f, "Questions": securityQuestions}})
	}
	return w.render(rw, r, http.StatusOK, "signin", page{Title: "Sign in", Data: form{Values: url.Values{}, Notice: "Your account is ready. Sign in with your email address and new password."}})
}

// roleChoice is a role offered on the create-user form.
type roleChoice struct {
	canopy.RoleInfo
}

func grantableRoles(v app.Viewer) []roleChoice {
	var out []roleChoice
	for _, info := range canopy.Roles {
		if v.MayGrant(info.Role, v.Org.Kind) {
			out = append(out, roleChoice{info})
		}
	}
	return out
}

// NewUserPage shows the create-user form.
func (w *Web) NewUserPage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := v.Require(app.PermManageStaff); err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "user_new", page{Title: "Create user", Nav: "users",
		Data: map[string]any{"Form": form{Values: url.Values{}}, "Roles": grantableRoles(v)}})
}

// NewUserSubmit creates a staff user at the viewer's organization.
func (w *Web) NewUserSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return canopy.FieldErrors{"form": "The form could not be read."}
	}
	in := app.StaffInput{OrgID: v.Org.ID, Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone")}
	for _, role := range r.PostForm["roles"] {
		in.Roles = append(in.Roles, canopy.Role(role))
	}
	p, err := w.app.CreateStaff(r.Context(), v, in)
	if err != nil {
		fe, other := formError(err)
		if other != nil {
			return other
		}
		return w.render(rw, r, http.StatusUnprocessableEntity, "user_new", page{Title: "Create user", Nav: "users",
			Data: map[string]any{"Form": form{Values: r.PostForm, Errors: fe}, "Roles": grantableRoles(v)}})
	}
	return w.render(rw, r, http.StatusOK, "user_new", page{Title: "Create user", Nav: "users",
		Data: map[string]any{"Form": form{Values: url.Values{}, Notice: p.Name + " (" + p.Email + ") was created as Unregistered and has been sent a registration email."}, "Roles": grantableRoles(v)}})
}

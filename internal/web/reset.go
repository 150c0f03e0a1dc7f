package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// ForgotPage asks for the email address of the account to reset.
func (w *Web) ForgotPage(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "forgot", page{Title: "Reset your password", Data: form{Values: url.Values{}}})
}

// ForgotSubmit sends a reset link when the address belongs to an account,
// and answers the same either way.
func (w *Web) ForgotSubmit(rw http.ResponseWriter, r *http.Request) error {
	if err := w.app.RequestPasswordReset(r.Context(), r.PostFormValue("email")); err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "forgot", page{Title: "Reset your password", Data: form{Values: url.Values{},
		Notice: "If this address belongs to a Canopy account, a link to reset its password is on its way. It can take a few minutes."}})
}

// ResetPage shows the security question and the new-password form.
func (w *Web) ResetPage(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	info, err := w.app.PasswordResetFor(r.Context(), r.PathValue("token"))
	if errors.Is(err, canopy.ErrNotFound) {
		return w.render(rw, r, http.StatusGone, "reset", page{Title: "Choose a new password", Data: map[string]any{"Unusable": true}})
	}
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "reset", page{Title: "Choose a new password", Data: map[string]any{"Info": info, "Form": form{Values: url.Values{}}}})
}

// ResetSubmit sets the new password.
func (w *Web) ResetSubmit(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	token := r.PathValue("token")
	in := app.ResetInput{Answer: r.PostFormValue("answer"), Password: r.PostFormValue("password"), Confirm: r.PostFormValue("confirm")}
	err := w.app.ResetPassword(r.Context(), token, in, clientIP(r), r.UserAgent())
	var locked app.LockedError
	switch {
	case err == nil:
		return w.render(rw, r, http.StatusOK, "signin", page{Title: "Sign in", Data: form{Values: url.Values{}, Notice: "Your password is changed and you were signed out everywhere. Sign in with the new password."}})
	case errors.As(err, &locked):
		return w.render(rw, r, http.StatusTooManyRequests, "reset", page{Title: "Choose a new password", Data: map[string]any{"Locked": locked.Until}})
	case errors.Is(err, canopy.ErrNotFound):
		return w.render(rw, r, http.StatusGone, "reset", page{Title: "Choose a new password", Data: map[string]any{"Unusable": true}})
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	info, _ := w.app.PasswordResetFor(r.Context(), token)
	return w.render(rw, r, http.StatusUnprocessableEntity, "reset", page{Title: "Choose a new password",
		Data: map[string]any{"Info": info, "Form": form{Values: url.Values{}, Errors: fe}}})
}

package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"net/url"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/pquerna/otp"
)

// qrDataURI renders an otpauth:// URL as a PNG QR code in a data: URI (the
// CSP allows data: images; nothing leaves the server).
func qrDataURI(otpURL string) (template.URL, error) {
	key, err := otp.NewKeyFromURL(otpURL)
	if err != nil {
		return "", err
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// TwoStepPage shows the state of two-step verification and, when it is
// off, a new secret to enrol.
func (w *Web) TwoStepPage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	on, err := w.app.TwoStepEnabled(r.Context(), v)
	if err != nil {
		return err
	}
	if on {
		return w.render(rw, r, http.StatusOK, "twostep", page{Title: "Two-step verification", Nav: "account", Data: map[string]any{"On": true}})
	}
	return w.renderEnrolment(rw, r, v, http.StatusOK, nil)
}

func (w *Web) renderEnrolment(rw http.ResponseWriter, r *http.Request, v app.Viewer, status int, fe canopy.FieldErrors) error {
	enrol, err := w.app.BeginTOTP(r.Context(), v)
	if err != nil {
		return err
	}
	qr, err := qrDataURI(enrol.URL)
	if err != nil {
		return err
	}
	return w.render(rw, r, status, "twostep", page{Title: "Two-step verification", Nav: "account",
		Data: map[string]any{"Secret": enrol.Secret, "QR": qr, "Form": form{Values: url.Values{}, Errors: fe}}})
}

// TwoStepSubmit confirms enrolment with a code and shows the recovery codes once.
func (w *Web) TwoStepSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	codes, err := w.app.ConfirmTOTP(r.Context(), v, r.PostFormValue("code"))
	if err != nil {
		fe, other := formError(err)
		if other != nil {
			return other
		}
		// A failed confirmation starts over with a new secret: the old one
		// may have been seen with the wrong code.
		return w.renderEnrolment(rw, r, v, http.StatusUnprocessableEntity, fe)
	}
	// A change of privilege: the token seen before it is retired.
	if token, err := w.app.RotateSession(r.Context(), sessionToken(r)); err == nil {
		w.startSession(rw, token)
	} else {
		return err
	}
	rw.Header().Set("Cache-Control", "no-store")
	return w.render(rw, r, http.StatusOK, "twostep", page{Title: "Two-step verification", Nav: "account", Data: map[string]any{"On": true, "Codes": codes}})
}

// SecondFactorSubmit completes a sign-in with a code.
func (w *Web) SecondFactorSubmit(rw http.ResponseWriter, r *http.Request) error {
	pending := r.PostFormValue("pending")
	token, err := w.app.SignInSecondFactor(r.Context(), pending, r.PostFormValue("code"), clientIP(r), r.UserAgent())
	if err != nil {
		var locked app.LockedError
		msg := ""
		switch {
		case errors.As(err, &locked):
			msg = "Too many failed attempts. Sign-in for this account is locked until " + locked.Until.Format("15:04") + " UTC."
		case errors.Is(err, app.ErrBadSecondFactor):
			return w.render(rw, r, http.StatusUnauthorized, "signin_code", page{Title: "Two-step verification",
				Data: map[string]any{"Pending": pending, "Error": "That code is not right or was used already. Enter the current code from your app, or a recovery code."}})
		case errors.Is(err, canopy.ErrUnauthenticated):
			msg = "The sign-in took too long. Start again with your password."
		default:
			return err
		}
		return w.render(rw, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Data: form{Values: url.Values{}, Errors: canopy.FieldErrors{"form": msg}}})
	}
	w.startSession(rw, token)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
	return nil
}

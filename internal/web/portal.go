package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// portalCookie holds an end user's portal session, for that portal's path only.
const portalCookie = "canopy_portal"

func (w *Web) portalOf(r *http.Request) (app.Portal, error) {
	return w.app.PortalOf(r.Context(), r.PathValue("tenant"))
}

func portalPath(p app.Portal) string { return "/portal/" + p.Customer.TenantID }

// PortalLogo serves the customer's logo to its portal's visitors.
func (w *Web) PortalLogo(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	ct, body, err := w.app.PortalLogo(r.Context(), p)
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", ct)
	rw.Header().Set("Cache-Control", "public, max-age=300")
	rw.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, err = rw.Write(body)
	return err
}

// PortalBrand is the portal's stylesheet of the customer's colour (the
// pages' CSP allows no inline style); the colour was validated as
// #rrggbb when it was saved.
func (w *Web) PortalBrand(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/css; charset=utf-8")
	rw.Header().Set("Cache-Control", "public, max-age=300")
	if c := p.Customer.PrimaryColor; brandColor.MatchString(c) {
		fmt.Fprintf(rw, ".portal h1 { color: %[1]s; }\n.portal .button:not(.secondary) { background: %[1]s; border-color: %[1]s; }\n.portal { border-top: 4px solid %[1]s; }\n", c)
	}
	return nil
}

var brandColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// PortalHome is a customer's end-user portal: the sign-in request for
// visitors, the user's home once signed in.
func (w *Web) PortalHome(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	data := map[string]any{"P": p, "Form": form{Values: url.Values{}}}
	if c, err := r.Cookie(portalCookie); err == nil {
		u, err := w.app.PortalUser(r.Context(), p, c.Value)
		if err == nil {
			data["User"] = u
		} else if !errors.Is(err, canopy.ErrUnauthenticated) {
			return err
		}
	}
	return w.render(rw, r, http.StatusOK, "portal", page{Title: p.Customer.BrandName(), Data: data})
}

// PortalLinkRequest mails a magic link; the answer is the same for every address.
func (w *Web) PortalLinkRequest(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	err = w.app.RequestPortalLink(r.Context(), p, r.PostFormValue("email"))
	fe, other := formError(err)
	if other != nil {
		return other
	}
	f := form{Values: r.PostForm, Errors: fe}
	status := http.StatusUnprocessableEntity
	if fe == nil {
		status = http.StatusOK
		f.Notice = "If this address belongs to " + p.Customer.BrandName() + ", a link is on its way — it can take a few minutes."
	}
	return w.render(rw, r, status, "portal", page{Title: p.Customer.BrandName(), Data: map[string]any{"P": p, "Form": f}})
}

// PortalLinkPage shows a magic link's Continue button; opening it spends nothing.
func (w *Web) PortalLinkPage(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	u, err := w.app.CheckPortalLink(r.Context(), p, r.PathValue("token"))
	status, data := http.StatusOK, map[string]any{"P": p, "User": u}
	if errors.Is(err, canopy.ErrNotFound) {
		status, data["Unusable"] = http.StatusGone, true
	} else if err != nil {
		return err
	}
	return w.render(rw, r, status, "portal_link", page{Title: p.Customer.BrandName(), Data: data})
}

// PortalLinkRedeem spends the link and opens the portal.
func (w *Web) PortalLinkRedeem(rw http.ResponseWriter, r *http.Request) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	session, err := w.app.RedeemPortalLink(r.Context(), p, r.PathValue("token"))
	if errors.Is(err, canopy.ErrNotFound) {
		w.log.WarnContext(r.Context(), "unusable portal link presented", "ip", clientIP(r))
		return w.render(rw, r, http.StatusGone, "portal_link", page{Title: p.Customer.BrandName(), Data: map[string]any{"P": p, "Unusable": true}})
	}
	if err != nil {
		return err
	}
	http.SetCookie(rw, &http.Cookie{Name: portalCookie, Value: session, Path: portalPath(p), HttpOnly: true, Secure: w.secureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(rw, r, portalPath(p), http.StatusSeeOther)
	return nil
}

// PortalSignOut ends the end user's portal session.
func (w *Web) PortalSignOut(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.portalOf(r)
	if err != nil {
		return err
	}
	if c, err := r.Cookie(portalCookie); err == nil {
		if err := w.app.EndPortalSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(rw, &http.Cookie{Name: portalCookie, Value: "", Path: portalPath(p), MaxAge: -1, HttpOnly: true, Secure: w.secureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(rw, r, portalPath(p), http.StatusSeeOther)
	return nil
}

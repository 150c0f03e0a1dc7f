package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// Home is the dashboard.
func (w *Web) Home(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	if v.InCustomer() {
		return w.render(rw, r, http.StatusOK, "home", page{Title: "Home", Nav: "home", Data: map[string]any{"Cards": navFor(&v)[1:]}})
	}
	totals, err := w.app.Totals(r.Context(), v)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "home", page{Title: "Home", Nav: "home", Data: map[string]any{"Totals": totals}})
}

// Tree lists distributors and MSPs of the viewer's subtree.
func (w *Web) Tree(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	tree, err := w.app.TenantTree(r.Context(), v)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "tree", page{Title: "Tenant tree", Nav: "tenants", Data: tree})
}

// Org shows one organization of the viewer's subtree by tenant ID.
func (w *Web) Org(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	p, err := w.app.OrgByTenantID(r.Context(), v, r.PathValue("tenant"), 200)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "org", page{Title: p.Org.Name, Nav: "tenants", Data: p})
}

// Soon renders the page of a navigation entry that is not built yet.
func (w *Web) Soon(key string) HandlerFunc {
	var item NavItem
	for _, n := range navItems {
		if n.Key == key {
			item = n
		}
	}
	return func(rw http.ResponseWriter, r *http.Request) error {
		if v, _ := ViewerFrom(r.Context()); v.InCustomer() {
			return fmt.Errorf("%s: %w", key, canopy.ErrNotFound) // a partner page
		}
		return w.render(rw, r, http.StatusOK, "soon", page{Title: item.Label, Nav: item.Key, Data: item})
	}
}

// SignIn explains how to sign in.
func (w *Web) SignIn(rw http.ResponseWriter, r *http.Request) error {
	f := form{Values: url.Values{}}
	if r.URL.Query().Get("signed_out") != "" {
		f.Notice = "You are signed out."
	}
	return w.render(rw, r, http.StatusOK, "signin", page{Title: "Sign in", Data: f})
}

// LinkPage shows a one-time sign-in link with a Continue button. Opening the
// link spends nothing: mail scanners follow GETs, so only the POST signs in.
func (w *Web) LinkPage(rw http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	err := w.app.CheckSigninLink(r.Context(), token, app.PurposeFirstSignIn)
	if err != nil && !errors.Is(err, canopy.ErrNotFound) {
		return err
	}
	rw.Header().Set("Referrer-Policy", "no-referrer")
	status := http.StatusOK
	if err != nil {
		status = http.StatusGone
	}
	return w.render(rw, r, status, "link", page{Title: "Sign in", Data: map[string]any{"Usable": err == nil, "Token": token}})
}

// RedeemLink spends a sign-in link and starts a session.
func (w *Web) RedeemLink(rw http.ResponseWriter, r *http.Request) error {
	token, err := w.app.RedeemSigninLink(r.Context(), r.PostFormValue("token"), app.PurposeFirstSignIn, clientIP(r), r.UserAgent())
	if errors.Is(err, canopy.ErrNotFound) {
		w.log.WarnContext(r.Context(), "unusable sign-in link presented", "ip", clientIP(r))
		return w.render(rw, r, http.StatusGone, "link", page{Title: "Sign in", Data: map[string]any{"Usable": false}})
	}
	if err != nil {
		return err
	}
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: w.secureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(rw, r, "/", http.StatusSeeOther)
	return nil
}

// SignOut ends the session.
func (w *Web) SignOut(rw http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := w.app.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	w.clearSessionCookie(rw)
	http.Redirect(rw, r, "/signin?signed_out=1", http.StatusSeeOther)
	return nil
}

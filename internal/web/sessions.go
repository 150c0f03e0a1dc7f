package web

import (
	"fmt"
	"net/http"
)

func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// SessionsPage lists the viewer's sessions.
func (w *Web) SessionsPage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	list, err := w.app.MySessions(r.Context(), v, sessionToken(r))
	if err != nil {
		return err
	}
	notice := ""
	if n := r.URL.Query().Get("ended"); n != "" {
		notice = fmt.Sprintf("Signed out of %s other session(s).", n)
	}
	return w.render(rw, r, http.StatusOK, "sessions", page{Title: "Your sessions", Nav: "account", Data: map[string]any{"Sessions": list, "Notice": notice}})
}

// SignOutOthers ends every other session of the viewer.
func (w *Web) SignOutOthers(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	n, err := w.app.SignOutEverywhereElse(r.Context(), v, sessionToken(r))
	if err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/account/sessions?ended=%d", n), http.StatusSeeOther)
	return nil
}

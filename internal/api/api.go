// Package api serves the JSON API under /api/v1: code-first OpenAPI 3.1
// (huma on net/http's ServeMux) and RFC 9457 problem+json errors mapped
// from the domain's error kinds in one table. It calls app only.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// Deps are what the API needs.
type Deps struct {
	App           *app.App
	Log           *slog.Logger
	CookieName    string // the session cookie (API keys come later)
	SecureCookies bool   // set Secure on cookies (HTTPS)
}

type api struct {
	Deps
}

type viewerKey struct{}

// Handler returns the /api/v1 handler. Every operation needs a session,
// except the OpenAPI document.
func Handler(d Deps) http.Handler {
	mux := http.NewServeMux()
	config := huma.DefaultConfig("Canopy API", "1.0.0")
	config.OpenAPIPath = "/api/v1/openapi"
	config.DocsPath = "" // the hosted docs page loads scripts from elsewhere; the CSP forbids it
	config.SchemasPath = "/api/v1/schemas"
	config.Info.Description = "Everything in Canopy's pages, as JSON. Errors are RFC 9457 problem+json; other tenants' objects answer 404."
	h := humago.New(mux, config)
	a := &api{Deps: d}
	a.register(h)
	a.registerAccount(h)
	a.registerCustomers(h)
	a.registerSettings(h)
	a.registerChangeLog(h)
	a.registerUsers(h)
	a.registerMyDetails(h)
	a.registerGroups(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), ctxKeyRequest{}, r))
		if public(r) {
			mux.ServeHTTP(w, r)
			return
		}
		var token string
		if c, err := r.Cookie(d.CookieName); err == nil {
			token = c.Value
		}
		v, err := d.App.Authenticate(r.Context(), token, clientIP(r), r.UserAgent())
		if err != nil {
			status, title := http.StatusUnauthorized, "Sign in first: this API takes the session cookie of a signed-in person."
			if !errors.Is(err, canopy.ErrUnauthenticated) {
				status, title = http.StatusInternalServerError, "Canopy could not check the session."
				d.Log.ErrorContext(r.Context(), "api authenticate", "err", err)
			}
			writeProblem(w, status, title)
			return
		}
		if v.MustEnrolTwoStep && r.URL.Path != "/api/v1/me/two-step" && r.URL.Path != "/api/v1/me/two-step/confirm" && r.URL.Path != "/api/v1/sessions/current" {
			writeProblem(w, http.StatusForbidden, "An organization you belong to requires two-step verification: turn it on in the portal first.")
			return
		}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

// public reports the operations that need no session: the OpenAPI
// document and the ways into an account.
func public(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/v1/openapi"), strings.HasPrefix(p, "/api/v1/schemas"):
		return true
	case r.Method == http.MethodPost && (p == "/api/v1/sessions" || p == "/api/v1/sessions/second-factor" || p == "/api/v1/password/forgot"):
		return true
	case r.Method == http.MethodPost && (strings.HasPrefix(p, "/api/v1/registrations/") || strings.HasPrefix(p, "/api/v1/password/reset/")):
		return true
	case r.Method == http.MethodPost && (strings.HasPrefix(p, "/api/v1/invitations/") || strings.HasPrefix(p, "/api/v1/email-changes/") ||
		strings.HasPrefix(p, "/api/v1/portal/")):
		return true // the token or the portal's own rules decide
	}
	return false
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	b, _ := json.Marshal(huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	w.Write(b)
}

func viewer(ctx context.Context) app.Viewer {
	v, _ := ctx.Value(viewerKey{}).(app.Viewer)
	return v
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// problem maps an error kind to its problem+json response: the one table
// of this adapter. Another tenant's object is 404, like a missing one.
func (a *api) problem(ctx context.Context, err error) error {
	var fe canopy.FieldErrors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		fields := make([]string, 0, len(fe))
		for field := range fe {
			fields = append(fields, field)
		}
		sort.Strings(fields)
		details := make([]error, 0, len(fe))
		for _, field := range fields {
			// Names without a location are body fields; relocate gives others
			// theirs ("query.sort", or "body" for a raw body).
			loc := field
			if loc != "body" && !strings.Contains(field, ".") {
				loc = "body." + field
			}
			details = append(details, &huma.ErrorDetail{Location: loc, Message: fe[field]})
		}
		return huma.Error422UnprocessableEntity("The request has values that cannot be used; see errors.", details...)
	case errors.Is(err, app.ErrLifecycleByDistributor):
		return huma.Error403Forbidden("This MSP's distributor manages its customers' lifecycle (opening and closing them): only the distributor can delete this customer.")
	case errors.Is(err, app.ErrLocked):
		return huma.Error409Conflict(strings.TrimSuffix(err.Error(), ": "+app.ErrLocked.Error()) +
			". The distributor imposes this value on every customer of its MSPs; only the distributor can change it.")
	case errors.Is(err, canopy.ErrNotFound):
		return huma.Error404NotFound("Not found, or outside the organizations you can reach.")
	case errors.Is(err, canopy.ErrForbidden):
		return huma.Error403Forbidden("Your roles do not allow this.")
	case errors.Is(err, canopy.ErrConflict):
		return huma.Error409Conflict(err.Error())
	case errors.Is(err, canopy.ErrUnauthenticated):
		return huma.Error401Unauthorized(err.Error())
	case errors.Is(err, canopy.ErrInvalid):
		return huma.Error422UnprocessableEntity(err.Error())
	}
	a.Log.ErrorContext(ctx, "api request failed", "err", err)
	return huma.Error500InternalServerError("Canopy could not finish this request; nothing was changed.")
}

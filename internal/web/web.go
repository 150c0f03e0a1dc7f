// Package web serves Canopy's server-rendered pages. Templates and static
// files are embedded; static files are served under content-hashed URLs so
// browsers may cache them forever. Handlers return errors, and one table maps
// error kinds to pages a person understands.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Web holds the page handlers.
type Web struct {
	app           *app.App
	log           *slog.Logger
	version       string
	secureCookies bool
	mailboxForAll bool
	pages         map[string]*template.Template
	assets        map[string]asset // by logical name ("app.css")
	assetByURL    map[string]asset // by hashed path ("app.3f2a….css")
	// buffers hold rendered pages until they are written: a page is
	// rendered whole first, so that a template error still becomes an
	// error page, and its buffer serves the next page.
	buffers sync.Pool
}

type asset struct {
	name, url, contentType string
	body                   []byte
}

// Options configure the pages.
type Options struct {
	Version       string
	SecureCookies bool // set the Secure flag (HTTPS deployments)
	// MailboxForAll lets every signed-in person read the outbox (demo
	// installs); otherwise only staff signed in at the platform may.
	MailboxForAll bool
}

// New parses templates and fingerprints static files.
func New(a *app.App, log *slog.Logger, opts Options) (*Web, error) {
	w := &Web{app: a, log: log, version: opts.Version, secureCookies: opts.SecureCookies, mailboxForAll: opts.MailboxForAll,
		assets: map[string]asset{}, assetByURL: map[string]asset{}}
	if err := w.loadAssets(); err != nil {
		return nil, err
	}
	if err := w.loadTemplates(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Web) loadAssets() error {
	return fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a := asset{name: name, url: "/static/" + hashed, contentType: ct, body: body}
		w.assets[name], w.assetByURL[hashed] = a, a
		return nil
	})
}

// NavItem is one entry of the portal's main navigation.
type NavItem struct {
	Key, Label, Path, Blurb string
	Soon                    bool // the page is not built yet
}

// navItems is the portal's navigation, in order.
var navItems = []NavItem{
	{Key: "tenants", Label: "Tenants", Path: "/tenants"},
	{Key: "customers", Label: "Customers", Path: "/customers", Blurb: "Find, add and manage customer accounts: trials, upgrades, Admin Login and change logs."},
	{Key: "users", Label: "Users", Path: "/users", Soon: true, Blurb: "Create staff, assign roles, check a user's status and remove access."},
	{Key: "prospects", Label: "Prospects", Path: "/prospects", Soon: true, Blurb: "Add leads and run Risk Reports on their email security."},
	{Key: "risk-report-signup", Label: "Risk Report Sign Up", Path: "/risk-report-signup", Soon: true, Blurb: "Configure the embeddable Risk Report widget that brings in new prospects."},
	{Key: "invoices", Label: "Invoices", Path: "/invoices", Soon: true, Blurb: "Find and download your monthly invoices."},
	{Key: "settings", Label: "Settings", Path: "/settings", Blurb: "Partner configuration and the defaults your customers inherit."},
}

func (w *Web) loadTemplates() error {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := w.assets[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return a.url, nil
		},
		"navFor":  navFor,
		"version": func() string { return w.version },
		"lower":   strings.ToLower,
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs key-value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"roleLabel":        func(r string) string { return canopy.Role(r).Label() },
		"availableActions": app.AvailableActions,
		"diff":             diffFields,
		"add":              func(a, b int) int { return a + b },
		"isManager": func(g store.Group, id canopy.PersonID) bool {
			return slices.ContainsFunc(g.Managers, func(p store.Person) bool { return p.ID == id })
		},
		"hasModule":      func(list []canopy.Module, m canopy.Module) bool { return slices.Contains(list, m) },
		"minutesChoices": func() []int { return []int{15, 30, 60, 120, 240} },
		"mailbox":        func() bool { return w.mailboxForAll },
		"depthFrom": func(depth, root int) int {
			return min(max(depth-root, 0), 3)
		},
		"childLabel": func(k canopy.OrgKind) string {
			switch k {
			case canopy.KindPlatform:
				return "Distributors"
			case canopy.KindDistributor:
				return "MSPs"
			case canopy.KindMSP:
				return "Customers"
			}
			return "Sub-accounts"
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return err
	}
	w.pages = map[string]*template.Template{}
	entries, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := path.Base(e)
		if name == "layout.html" || name == "partials.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, e)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		w.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// Static serves fingerprinted static files with a long cache lifetime.
func (w *Web) Static(rw http.ResponseWriter, r *http.Request) {
	a, ok := w.assetByURL[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", a.contentType)
	rw.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	rw.Write(a.body)
}

// page is what every template receives.
type page struct {
	Title  string
	Nav    string
	Viewer *app.Viewer
	Data   any
}

func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p page) error {
	t, ok := w.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if p.Viewer == nil {
		if v, ok := ViewerFrom(r.Context()); ok {
			p.Viewer = &v
		}
	}
	buf := w.getBuffer()
	defer w.putBuffer(buf)
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, err := buf.WriteTo(rw)
	return err
}

func (w *Web) getBuffer() *bytes.Buffer {
	if b, ok := w.buffers.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (w *Web) putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // a rare huge page keeps no megabytes alive
		return
	}
	b.Reset()
	w.buffers.Put(b)
}

// renderPartial renders one named block of a page, for htmx swaps.
func (w *Web) renderPartial(rw http.ResponseWriter, name, block string, p page) error {
	t, ok := w.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	buf := w.getBuffer()
	defer w.putBuffer(buf)
	if err := t.ExecuteTemplate(buf, block, p); err != nil {
		return fmt.Errorf("render %s/%s: %w", name, block, err)
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := buf.WriteTo(rw)
	return err
}

// HandlerFunc is a page handler that returns its error instead of writing it.
type HandlerFunc func(rw http.ResponseWriter, r *http.Request) error

// Handle adapts a HandlerFunc: an error becomes a page for a person, by kind.
func (w *Web) Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := h(rw, r); err != nil {
			w.renderError(rw, r, err)
		}
	})
}

func (w *Web) renderError(rw http.ResponseWriter, r *http.Request, err error) {
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "Canopy could not finish this request. Nothing was changed; please try again."
	switch {
	case errors.Is(err, canopy.ErrNotFound), errors.Is(err, canopy.ErrForbidden):
		// Another tenant's object is reported as missing: its existence must not leak.
		status, title, msg = http.StatusNotFound, "Page not found", "There is nothing here, or it is outside the organizations you can reach."
	case errors.Is(err, canopy.ErrUnauthenticated):
		http.Redirect(rw, r, "/signin", http.StatusSeeOther)
		return
	case errors.Is(err, canopy.ErrInvalid):
		status, title, msg = http.StatusBadRequest, "Please check your input", err.Error()
	case errors.Is(err, canopy.ErrConflict):
		status, title, msg = http.StatusConflict, "That clashes with something that exists", err.Error()
	case errors.Is(err, context.Canceled):
		return
	}
	if status == http.StatusInternalServerError {
		w.log.ErrorContext(r.Context(), "request failed", "err", err, "path", r.URL.Path)
	}
	data := map[string]string{"Message": msg, "RequestID": rw.Header().Get("X-Request-Id")}
	if rerr := w.render(rw, r, status, "error", page{Title: title, Data: data}); rerr != nil {
		http.Error(rw, msg, status)
	}
}

// NotFound renders the not-found page for unknown paths.
func (w *Web) NotFound(rw http.ResponseWriter, r *http.Request) {
	w.renderError(rw, r, canopy.ErrNotFound)
}

type viewerKey struct{}

// ViewerFrom returns the signed-in viewer of a request.
func ViewerFrom(ctx context.Context) (app.Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(app.Viewer)
	return v, ok
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "canopy_session"

// RequireSession lets signed-in people through with their Viewer in the
// context and sends everyone else to the sign-in page.
func (w *Web) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(SessionCookie)
		if err != nil {
			http.Redirect(rw, r, "/signin", http.StatusSeeOther)
			return
		}
		v, err := w.app.Authenticate(r.Context(), c.Value, clientIP(r), r.UserAgent())
		if err != nil {
			if errors.Is(err, canopy.ErrUnauthenticated) {
				w.clearSessionCookie(rw)
				http.Redirect(rw, r, "/signin", http.StatusSeeOther)
				return
			}
			w.renderError(rw, r, err)
			return
		}
		if v.MustEnrolTwoStep && !enrolmentPath(r.URL.Path) {
			http.Redirect(rw, r, "/account/two-step", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

// enrolmentPath reports the pages a session limited to enrolment may use.
func enrolmentPath(p string) bool { return p == "/account/two-step" || p == "/signout" }

func (w *Web) clearSessionCookie(rw http.ResponseWriter) {
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: w.secureCookies, SameSite: http.SameSiteLaxMode})
}

// clientIP is the peer address; a proxy-aware variant comes with deployment
// settings for trusted proxies.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

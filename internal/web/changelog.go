package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

func changeLogQuery(qs url.Values) app.ChangeLogQuery {
	return app.ChangeLogQuery{Actions: qs["action"], Since: qs.Get("since"), Until: qs.Get("until"), Actor: qs.Get("actor"),
		BeforeAt: qs.Get("before_at"), BeforeID: qs.Get("before_id"), Limit: 50}
}

// changeLogOrg resolves the page's organization: a customer (with its tabs)
// or any other organization of the viewer's subtree.
func (w *Web) changeLogOrg(r *http.Request) (app.Viewer, canopy.Org, *canopy.Customer, string, error) {
	v, _ := ViewerFrom(r.Context())
	if strings.HasPrefix(r.URL.Path, "/customers/") {
		c, err := w.app.Customer(r.Context(), v, r.PathValue("tenant"))
		return v, c.Org, &c, "/customers/" + c.TenantID + "/changes", err
	}
	o, err := w.app.OrgOf(r.Context(), v, r.PathValue("tenant"))
	return v, o, nil, "/tenants/" + o.TenantID + "/changes", err
}

// ChangeLog is the change log of a customer (its tab) or of an MSP (its
// customers' entries included): filters by many actions, time and actor.
func (w *Web) ChangeLog(rw http.ResponseWriter, r *http.Request) error {
	v, o, c, base, err := w.changeLogOrg(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	f, ferr := app.ParseChangeFilter(changeLogQuery(qs))
	fe, err := formError(ferr)
	if err != nil {
		return err
	}
	data := map[string]any{"Org": o, "Vocabulary": canopy.Actions, "Selected": map[string]bool{}, "Values": qs, "Errors": fe, "Base": base}
	for _, a := range f.Actions {
		data["Selected"].(map[string]bool)[string(a)] = true
	}
	status := http.StatusOK
	if fe == nil {
		p, err := w.app.ChangeLog(r.Context(), v, o.ID, f)
		if err != nil {
			return err
		}
		data["Entries"] = p.Entries
		if p.More {
			last := p.Entries[len(p.Entries)-1]
			next := url.Values{}
			for k, vals := range qs {
				next[k] = vals
			}
			next.Set("before_at", last.At.Format(time.RFC3339Nano))
			next.Set("before_id", fmt.Sprint(last.ID))
			data["Next"] = base + "?" + next.Encode()
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	exp := url.Values{}
	for k, vals := range qs {
		if k != "before_at" && k != "before_id" {
			exp[k] = vals
		}
	}
	data["ExportCSV"] = base + "/export?" + withFormat(exp, "csv")
	data["ExportJSONL"] = base + "/export?" + withFormat(exp, "jsonl")
	if c != nil {
		return w.customerPage(rw, r, v, *c, "changes", "changes", status, data)
	}
	return w.render(rw, r, status, "changes", page{Title: "Change log of " + o.Name, Nav: "tenants", Data: data})
}

func withFormat(v url.Values, format string) string {
	out := url.Values{}
	for k, vals := range v {
		out[k] = vals
	}
	out.Set("format", format)
	return out.Encode()
}

// flushWriter sends what is written at once, so a long export streams.
type flushWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if err == nil {
		fw.rc.Flush() // through middleware wrappers (Unwrap)
	}
	return n, err
}

// ExportChangeLog streams the current filter's entries as CSV or JSON Lines.
func (w *Web) ExportChangeLog(rw http.ResponseWriter, r *http.Request) error {
	v, o, _, _, err := w.changeLogOrg(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	q := changeLogQuery(qs)
	q.BeforeAt, q.BeforeID = "", ""
	f, err := app.ParseChangeFilter(q)
	if err != nil {
		return err
	}
	format := qs.Get("format")
	if format == "" {
		format = app.FormatCSV
	}
	if format != app.FormatCSV && format != app.FormatJSONL {
		return canopy.FieldErrors{"format": "Export as csv or jsonl."}
	}
	// Permission and scope are checked before the first byte goes out.
	if _, err := w.app.ChangeLog(r.Context(), v, o.ID, canopy.ChangeFilter{Limit: 1}); err != nil {
		return err
	}
	name := fmt.Sprintf("change-log-%s-%s.%s", slug(o.Name), time.Now().UTC().Format("20060102-150405"), format)
	ct := "text/csv; charset=utf-8"
	if format == app.FormatJSONL {
		ct = "application/x-ndjson"
	}
	rw.Header().Set("Content-Type", ct)
	rw.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	rw.Header().Set("Cache-Control", "no-store")
	if err := w.app.ExportChangeLog(r.Context(), v, o.ID, f, format, flushWriter{rw, http.NewResponseController(rw)}); err != nil {
		// Headers are gone: the truncated download is all that can be said.
		w.log.ErrorContext(r.Context(), "change-log export failed", "err", err)
	}
	return nil
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/danielgtaylor/huma/v2"
)

// Change is one change-log entry: who (and on whose behalf) did what to
// which target, with the state before and after.
type Change struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"time"`
	Action      string          `json:"action"`
	ActionLabel string          `json:"action_label"`
	ActorKind   string          `json:"actor_kind" enum:"person,system,api_key"`
	ActorID     int64           `json:"actor_id,omitempty"`
	Actor       string          `json:"actor"`
	OnBehalfOf  string          `json:"on_behalf_of,omitempty" doc:"Under Admin Login: the customer role the actor acted in"`
	TargetType  string          `json:"target_type"`
	TargetID    string          `json:"target_id"`
	Target      string          `json:"target"`
	Before      json.RawMessage `json:"before,omitempty"`
	After       json.RawMessage `json:"after,omitempty"`
	IP          string          `json:"ip,omitempty"`
	UserAgent   string          `json:"user_agent,omitempty"`
}

type changesInput struct {
	Tenant   string   `path:"tenant"`
	Action   []string `query:"action,explode" doc:"Action names; repeat the parameter or separate with commas. None: every action"`
	Since    string   `query:"since" doc:"Date (YYYY-MM-DD) or RFC 3339 time, inclusive"`
	Until    string   `query:"until" doc:"Date (inclusive: the whole day) or RFC 3339 time, exclusive"`
	Actor    string   `query:"actor" doc:"Person ID"`
	BeforeAt string   `query:"before_at" doc:"Cursor from next of the previous page"`
	BeforeID string   `query:"before_id" doc:"Cursor from next of the previous page"`
	Limit    int      `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type changeCursor struct {
	BeforeAt string `json:"before_at"`
	BeforeID string `json:"before_id"`
}

type changesOutput struct {
	Body struct {
		Items []Change      `json:"items"`
		Next  *changeCursor `json:"next,omitempty" doc:"Pass as before_at and before_id for the next (older) page"`
	}
}

type exportInput struct {
	Tenant string   `path:"tenant"`
	Format string   `query:"format" enum:"csv,jsonl" default:"csv"`
	Action []string `query:"action,explode" doc:"Action names; repeat the parameter or separate with commas. None: every action"`
	Since  string   `query:"since" doc:"Date (YYYY-MM-DD) or RFC 3339 time, inclusive"`
	Until  string   `query:"until" doc:"Date (inclusive: the whole day) or RFC 3339 time, exclusive"`
	Actor  string   `query:"actor" doc:"Person ID"`
}

type exportOutput struct {
	Body func(ctx huma.Context)
}

// filterLocations are where ParseChangeFilter's fields come from.
var filterLocations = map[string]string{"actions": "query.action", "since": "query.since", "until": "query.until",
	"actor": "query.actor", "before": "query.before_at", "format": "query.format"}

func changeJSON(c canopy.Change) Change {
	return Change{ID: int64(c.ID), At: c.At, Action: string(c.Action), ActionLabel: c.Action.Label(), ActorKind: string(c.Actor.Kind),
		ActorID: int64(c.Actor.PersonID), Actor: c.Actor.Name, OnBehalfOf: c.Actor.OnBehalfOfName, TargetType: c.TargetType,
		TargetID: c.TargetID, Target: c.TargetName, Before: c.Before, After: c.After, IP: c.Actor.IP, UserAgent: c.Actor.UserAgent}
}

func (a *api) registerChangeLog(h huma.API) {
	tags := []string{"Change log"}
	huma.Register(h, huma.Operation{OperationID: "list-changes", Method: http.MethodGet, Path: "/api/v1/orgs/{tenant}/changes",
		Summary: "An organization's change log, newest first (an MSP's includes its customers')", Tags: tags},
		func(ctx context.Context, in *changesInput) (*changesOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			f, err := app.ParseChangeFilter(app.ChangeLogQuery{Actions: in.Action, Since: in.Since, Until: in.Until, Actor: in.Actor,
				BeforeAt: in.BeforeAt, BeforeID: in.BeforeID, Limit: in.Limit})
			if err != nil {
				return nil, a.problem(ctx, relocate(err, filterLocations))
			}
			page, err := a.App.ChangeLog(ctx, v, o.ID, f)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &changesOutput{}
			out.Body.Items = make([]Change, 0, len(page.Entries))
			for _, c := range page.Entries {
				out.Body.Items = append(out.Body.Items, changeJSON(c))
			}
			if page.More {
				last := page.Entries[len(page.Entries)-1]
				out.Body.Next = &changeCursor{BeforeAt: last.At.UTC().Format(time.RFC3339Nano), BeforeID: strconv.FormatInt(int64(last.ID), 10)}
			}
			return out, nil
		})

	huma.Register(h, huma.Operation{OperationID: "export-changes", Method: http.MethodGet, Path: "/api/v1/orgs/{tenant}/changes/export",
		Summary: "Export the change log (every matching entry) as CSV or JSON Lines, streamed", Tags: tags,
		Responses: map[string]*huma.Response{"200": {Description: "Every matching entry, newest first: CSV with a header row (cells a spreadsheet would run as formulas start with an apostrophe), or one JSON object per line",
			Content: map[string]*huma.MediaType{"text/csv": {}, "application/x-ndjson": {}}}}},
		func(ctx context.Context, in *exportInput) (*exportOutput, error) {
			v := viewer(ctx)
			o, err := a.App.OrgOf(ctx, v, in.Tenant)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			// Bad filters get a problem before the first byte of the file.
			f, err := app.ParseChangeFilter(app.ChangeLogQuery{Actions: in.Action, Since: in.Since, Until: in.Until, Actor: in.Actor})
			if err != nil {
				return nil, a.problem(ctx, relocate(err, filterLocations))
			}
			return &exportOutput{Body: func(hctx huma.Context) {
				ctype, ext := "text/csv; charset=utf-8", "csv"
				if in.Format == app.FormatJSONL {
					ctype, ext = "application/x-ndjson", "jsonl"
				}
				sw := &streamWriter{hctx: hctx, contentType: ctype,
					filename: "changes-" + o.TenantID + "-" + a.App.Now().UTC().Format("20060102-150405") + "." + ext}
				err := a.App.ExportChangeLog(hctx.Context(), v, o.ID, f, in.Format, sw)
				switch {
				case err == nil:
					if !sw.started {
						sw.start() // nothing matched and nothing buffered: still a (empty) file
					}
				case !sw.started:
					// Refused before the first byte (permissions): a problem, not a file.
					p := a.problem(hctx.Context(), relocate(err, filterLocations))
					status := http.StatusInternalServerError
					if se, ok := p.(huma.StatusError); ok {
						status = se.GetStatus()
					}
					hctx.SetHeader("Content-Type", "application/problem+json")
					hctx.SetStatus(status)
					json.NewEncoder(hctx.BodyWriter()).Encode(p)
				default:
					// Half a file must not look like a whole one: abort the
					// response so the client sees the transfer fail.
					if hctx.Context().Err() == nil { // not merely a client that went away
						a.Log.ErrorContext(hctx.Context(), "change-log export failed mid-stream", "err", err, "bytes", sw.written)
					}
					panic(http.ErrAbortHandler)
				}
			}}, nil
		})
}

// streamWriter writes an export to the response: the headers go out with
// the first bytes, and every write is flushed so the client receives the
// file as it is produced rather than when it is done.
type streamWriter struct {
	hctx        huma.Context
	contentType string
	filename    string
	started     bool
	written     int64
}

func (w *streamWriter) start() {
	w.started = true
	w.hctx.SetHeader("Content-Type", w.contentType)
	w.hctx.SetHeader("Content-Disposition", `attachment; filename="`+w.filename+`"`)
	w.hctx.SetHeader("Cache-Control", "no-store")
	w.hctx.SetStatus(http.StatusOK)
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	bw := w.hctx.BodyWriter()
	n, err := bw.Write(p)
	w.written += int64(n)
	if err != nil {
		return n, err
	}
	return n, flush(bw)
}

// flush pushes buffered bytes to the client, through middleware wrappers
// that offer Unwrap.
func flush(w io.Writer) error {
	if rw, ok := w.(http.ResponseWriter); ok {
		if err := http.NewResponseController(rw).Flush(); !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// ChangeLogQuery is a change-log filter as people and API clients write it.
type ChangeLogQuery struct {
	Actions []string // action names; none means all
	Since   string   // date (2006-01-02) or RFC 3339 time, inclusive
	Until   string   // date (inclusive: the whole day) or RFC 3339 time, exclusive
	Actor   string   // person ID
	// Paging: the last entry shown.
	BeforeAt string // RFC 3339 with milliseconds
	BeforeID string
	Limit    int
}

// ParseChangeFilter validates q; messages name the field for a person.
func ParseChangeFilter(q ChangeLogQuery) (canopy.ChangeFilter, error) {
	fe := canopy.FieldErrors{}
	var f canopy.ChangeFilter
	seen := map[canopy.Action]bool{}
	for _, raw := range q.Actions {
		for _, name := range strings.Split(raw, ",") {
			a := canopy.Action(strings.TrimSpace(name))
			if a == "" || seen[a] {
				continue
			}
			if !a.Known() {
				fe.Add("actions", fmt.Sprintf("%q is not an action of the change log.", string(a)))
				continue
			}
			seen[a] = true
			f.Actions = append(f.Actions, a)
		}
	}
	if len(f.Actions) == len(canopy.Actions) {
		f.Actions = nil // every action: no filter
	}
	parse := func(field, s string, endOfDay bool) time.Time {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC()
		}
		if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
			return t.UTC()
		}
		if t, err := time.Parse("2006-01-02", s); err == nil {
			if endOfDay {
				t = t.AddDate(0, 0, 1)
			}
			return t.UTC()
		}
		fe.Add(field, "Enter a date as YYYY-MM-DD (or a time as 2026-12-01T14:30:00Z).")
		return time.Time{}
	}
	f.Since = parse("since", q.Since, false)
	f.Until = parse("until", q.Until, true)
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		fe.Add("until", "The end of the time range must come after its start.")
	}
	if s := strings.TrimSpace(q.Actor); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("actor", "Choose a person from the list.")
		}
		f.ActorID = canopy.PersonID(id)
	}
	if q.BeforeID != "" {
		id, err1 := strconv.ParseInt(q.BeforeID, 10, 64)
		at, err2 := time.Parse(time.RFC3339Nano, q.BeforeAt)
		if err1 != nil || err2 != nil {
			fe.Add("before", "The page cursor is malformed; start again from the first page.")
		}
		f.BeforeID, f.BeforeAt = canopy.ChangeID(id), at
	}
	f.Limit = q.Limit
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return f, fe.Err()
}

// changeLogOrg checks the viewer may read org's change log and returns it;
// an MSP's log covers its customers too.
func (a *App) changeLogOrg(ctx context.Context, v Viewer, id canopy.OrgID, f *canopy.ChangeFilter) (canopy.Org, error) {
	o, err := a.store.Org(ctx, v.Scope(), id)
	if err != nil {
		return canopy.Org{}, err
	}
	if err := v.Require(PermViewChangeLog); err != nil {
		return canopy.Org{}, err
	}
	f.MSPSubtree = o.Kind == canopy.KindMSP
	return o, nil
}

// ChangeLogPage is one page of a change log, newest first.
type ChangeLogPage struct {
	Org     canopy.Org
	Entries []canopy.Change
	More    bool
}

// ChangeLog returns a page of org's change log matching f.
func (a *App) ChangeLog(ctx context.Context, v Viewer, org canopy.OrgID, f canopy.ChangeFilter) (ChangeLogPage, error) {
	o, err := a.changeLogOrg(ctx, v, org, &f)
	if err != nil {
		return ChangeLogPage{}, err
	}
	// The zero filter (a Go caller's) means the default page, as in ParseChangeFilter.
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	entries, err := a.store.Changes(ctx, v.Scope(), o.ID, f)
	if err != nil {
		return ChangeLogPage{}, err
	}
	p := ChangeLogPage{Org: o, Entries: entries}
	if len(entries) > want {
		p.Entries, p.More = entries[:want], true
	}
	return p, nil
}

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// ExportChangeLog writes every entry of org's change log matching f to w as
// CSV or JSON Lines, streamed: memory stays flat whatever the number of rows.
func (a *App) ExportChangeLog(ctx context.Context, v Viewer, org canopy.OrgID, f canopy.ChangeFilter, format string, w io.Writer) error {
	if format != FormatCSV && format != FormatJSONL {
		return canopy.FieldErrors{"format": "Export as csv or jsonl."}
	}
	o, err := a.changeLogOrg(ctx, v, org, &f)
	if err != nil {
		return err
	}
	buf := bufio.NewWriterSize(w, 32<<10)
	var write func(c *canopy.Change) error
	if format == FormatCSV {
		record := make([]string, len(ExportColumns))
		line := make([]byte, 0, 4096)
		line = appendCSV(line, ExportColumns)
		if _, err := buf.Write(line); err != nil {
			return err
		}
		write = func(c *canopy.Change) error {
			changeRecord(c, record)
			for i := range record {
				record[i] = SafeCell(record[i])
			}
			line = appendCSV(line[:0], record)
			_, err := buf.Write(line)
			return err
		}
	} else {
		enc := json.NewEncoder(buf)
		write = func(c *canopy.Change) error { return enc.Encode(exportEntry(c)) }
	}
	if err := a.store.EachChange(ctx, v.Scope(), o.ID, f, write); err != nil {
		return err
	}
	return buf.Flush()
}

// appendCSV appends one RFC 4180 record: a field holding a comma, a quote,
// a line break or a leading space is quoted, its quotes doubled. (It writes
// what encoding/csv writes, without its rune-by-rune loop over long JSON.)
func appendCSV(dst []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		if f == "" || (f[0] != ' ' && !strings.ContainsAny(f, ",\"\r\n")) {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, '"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				break
			}
			dst = append(dst, f[:j+1]...)
			dst = append(dst, '"')
			f = f[j+1:]
		}
		dst = append(dst, f...)
		dst = append(dst, '"')
	}
	return append(dst, '\r', '\n')
}

// ExportColumns is the header of a CSV export.
var ExportColumns = []string{"id", "time", "action", "action_label", "actor_kind", "actor_id", "actor", "on_behalf_of",
	"target_type", "target_id", "target", "before", "after", "ip", "user_agent", "org_id"}

func changeRecord(c *canopy.Change, r []string) {
	r[0] = strconv.FormatInt(int64(c.ID), 10)
	r[1] = c.At.Format("2006-01-02T15:04:05.000Z07:00")
	r[2] = string(c.Action)
	r[3] = c.Action.Label()
	r[4] = string(c.Actor.Kind)
	r[5] = ""
	if c.Actor.PersonID != 0 {
		r[5] = strconv.FormatInt(int64(c.Actor.PersonID), 10)
	}
	r[6] = c.Actor.Name
	r[7] = c.Actor.OnBehalfOfName
	r[8], r[9], r[10] = c.TargetType, c.TargetID, c.TargetName
	r[11], r[12] = string(c.Before), string(c.After)
	r[13], r[14] = c.Actor.IP, c.Actor.UserAgent
	r[15] = strconv.FormatInt(int64(c.OrgID), 10)
}

// SafeCell defuses a CSV cell a spreadsheet would run as a formula (one
// starting with = + - @, a tab or a carriage return) by prefixing a quote.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

type exportJSON struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"time"`
	Action     string          `json:"action"`
	ActorKind  string          `json:"actor_kind"`
	ActorID    int64           `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	OnBehalfOf string          `json:"on_behalf_of,omitempty"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Target     string          `json:"target"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	IP         string          `json:"ip,omitempty"`
	UserAgent  string          `json:"user_agent,omitempty"`
	OrgID      int64           `json:"org_id"`
}

func exportEntry(c *canopy.Change) exportJSON {
	return exportJSON{ID: int64(c.ID), At: c.At, Action: string(c.Action), ActorKind: string(c.Actor.Kind), ActorID: int64(c.Actor.PersonID),
		Actor: c.Actor.Name, OnBehalfOf: c.Actor.OnBehalfOfName, TargetType: c.TargetType, TargetID: c.TargetID, Target: c.TargetName,
		Before: c.Before, After: c.After, IP: c.Actor.IP, UserAgent: c.Actor.UserAgent, OrgID: int64(c.OrgID)}
}

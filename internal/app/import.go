package app

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// MaxImportRows bounds one CSV import of end users.
const MaxImportRows = 50_000

// ImportRow is the report of one CSV row.
type ImportRow struct {
	Line     int
	Email    string
	Imported bool
	Reason   string // why it was not imported
}

// ImportEndUsers reads a CSV of end users (email, first name, last name; a
// header row is recognised) into a customer. Every row is reported. The
// valid rows are imported together in one transaction — all of them or,
// on a database failure, none — and the invalid rows are skipped.
func (a *App) ImportEndUsers(ctx context.Context, v Viewer, customer canopy.OrgID, r io.Reader) ([]ImportRow, int, error) {
	c, err := a.store.Customer(ctx, v.Scope(), customer)
	if err != nil {
		return nil, 0, err
	}
	if err := mayManage(v, c.Org); err != nil {
		return nil, 0, err
	}
	settings, err := customerSettings(ctx, a.store, c.Org)
	if err != nil {
		return nil, 0, err
	}
	locked := settings[canopy.SettingDomainLock].On()
	domains := append([]string{c.Domain}, c.Domains...)
	cr := csv.NewReader(io.LimitReader(r, 32<<20))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	type row struct {
		report      int // index into rows
		email       string
		first, last string
	}
	var report []ImportRow
	var valid []row
	seen := map[string]bool{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				report = append(report, ImportRow{Line: pe.Line, Reason: "This line is not valid CSV: " + pe.Err.Error() + "."})
				continue
			}
			return nil, 0, canopy.FieldErrors{"file": "The file could not be read as CSV."}
		}
		if len(report) >= MaxImportRows {
			return nil, 0, canopy.FieldErrors{"file": fmt.Sprintf("The file has more than %d rows: split it.", MaxImportRows)}
		}
		email := strings.ToLower(strings.TrimSpace(rec[0]))
		if line == 1 && strings.Contains(email, "email") && !strings.Contains(email, "@") {
			line-- // a header
			continue
		}
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rr := ImportRow{Line: line, Email: email}
		_, domain, _ := strings.Cut(email, "@")
		switch {
		case !validEmail(email):
			rr.Reason = "Not an email address."
		case seen[email]:
			rr.Reason = "Listed twice in the file."
		case locked && !slices.Contains(domains, domain):
			rr.Reason = "Outside Domain Lock (" + strings.Join(domains, ", ") + ")."
		case len(get(1)) > 100 || len(get(2)) > 100:
			rr.Reason = "A name longer than 100 characters."
		default:
			valid = append(valid, row{report: len(report), email: email, first: get(1), last: get(2)})
		}
		seen[email] = true
		report = append(report, rr)
	}
	if len(report) == 0 {
		return nil, 0, canopy.FieldErrors{"file": "The file is empty: one end user a line, as email, first name, last name."}
	}
	now := a.clock.Now()
	imported := 0
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		imported = 0
		emails := make([]string, len(valid))
		for i, r := range valid {
			emails[i] = r.email
		}
		existing, err := tx.EndUserEmails(ctx, c.ID, emails)
		if err != nil {
			return err
		}
		var add []store.NewEndUser
		var added []row
		for _, r := range valid {
			if existing[r.email] {
				report[r.report].Reason = "Already an end user of " + c.Name + "."
				continue
			}
			add = append(add, store.NewEndUser{Email: r.email, FirstName: r.first, LastName: r.last})
			added = append(added, r)
		}
		ids, err := tx.CreateEndUsers(ctx, c.ID, add, now)
		if err != nil {
			return err
		}
		entries := make([]canopy.Change, len(added))
		for i, r := range added {
			entries[i] = change(v.Actor, c.Org, canopy.ActionAddUser, "end_user", fmt.Sprint(ids[r.email]), r.email, nil,
				map[string]any{"first_name": r.first, "last_name": r.last, "source": "csv"}, now)
			report[r.report].Imported = true
		}
		if err := tx.RecordChanges(ctx, entries); err != nil {
			return err
		}
		imported = len(added)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("import end users: nothing was imported: %w", err)
	}
	return report, imported, nil
}

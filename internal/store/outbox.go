package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Mail states in the outbox.
const (
	MailQueued = "queued" // waiting for delivery
	MailHeld   = "held"   // no SMTP relay configured: kept for the mailbox page
	MailSent   = "sent"
	MailFailed = "failed" // attempts exhausted
)

// Mail is a row of the outbox.
type Mail struct {
	ID        int64
	OrgID     canopy.OrgID
	Kind      string
	To        string
	FromName  string
	Subject   string
	Text      string
	HTML      string
	MessageID string
	State     string
	Attempts  int
	LastError string
	Created   time.Time
	Sent      time.Time
}

// AddMail writes a mail into the outbox inside the change's transaction and
// returns its ID; the caller enqueues its delivery job in the same transaction.
func (tx *Tx) AddMail(ctx context.Context, m Mail, now time.Time) (int64, error) {
	if m.State == "" {
		m.State = MailQueued
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (org_id, kind, to_addr, from_name, subject, text_body, html_body, message_id, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		nullInt(int64(m.OrgID)), m.Kind, m.To, m.FromName, m.Subject, m.Text, m.HTML, m.MessageID, m.State, now.UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add mail: %w", err)
	}
	return id, nil
}

// AddMails writes mails into the outbox in multi-row statements inside the
// change's transaction and returns their IDs in the order given; the
// caller enqueues their delivery in the same transaction. Each mail needs
// its own MessageID.
func (tx *Tx) AddMails(ctx context.Context, mails []Mail, now time.Time) ([]int64, error) {
	ids := make([]int64, 0, len(mails))
	per := tx.rowsPerInsert(10)
	for start := 0; start < len(mails); start += per {
		chunk := mails[start:min(start+per, len(mails))]
		args := make([]any, 0, 10*len(chunk))
		rows := make([]string, len(chunk))
		index := make(map[string]int, len(chunk))
		for i, m := range chunk {
			if m.State == "" {
				m.State = MailQueued
			}
			n := len(args)
			rows[i] = fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
			args = append(args, nullInt(int64(m.OrgID)), m.Kind, m.To, m.FromName, m.Subject, m.Text, m.HTML, m.MessageID, m.State, now.UnixMilli())
			index[m.MessageID] = i
		}
		if len(index) != len(chunk) {
			return nil, fmt.Errorf("add mails: message IDs repeat")
		}
		// RETURNING order is not promised: rows are matched by Message-ID.
		res, err := tx.QueryContext(ctx, `INSERT INTO outbox (org_id, kind, to_addr, from_name, subject, text_body, html_body, message_id, state, created_at)
			VALUES `+strings.Join(rows, ", ")+` RETURNING id, message_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("add mails: %w", err)
		}
		got := make([]int64, len(chunk))
		for res.Next() {
			var id int64
			var messageID string
			if err := res.Scan(&id, &messageID); err != nil {
				res.Close()
				return nil, fmt.Errorf("add mails: %w", err)
			}
			got[index[messageID]] = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("add mails: %w", err)
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

const mailColumns = `id, COALESCE(org_id, 0), kind, to_addr, from_name, subject, text_body, html_body, message_id, state, attempts, last_error, created_at, sent_at`

func scanMail(row interface{ Scan(...any) error }) (Mail, error) {
	var m Mail
	var created int64
	var sent sql.NullInt64
	err := row.Scan(&m.ID, &m.OrgID, &m.Kind, &m.To, &m.FromName, &m.Subject, &m.Text, &m.HTML, &m.MessageID, &m.State, &m.Attempts, &m.LastError, &created, &sent)
	m.Created, m.Sent = time.UnixMilli(created).UTC(), fromMillis(sent)
	return m, err
}

// Mail returns one outbox row.
func (s *Store) Mail(ctx context.Context, id int64) (Mail, error) {
	m, err := scanMail(s.r.QueryRowContext(ctx, `SELECT `+mailColumns+` FROM outbox WHERE id = $1`, id))
	if err != nil {
		return Mail{}, notFound("mail", err)
	}
	return m, nil
}

// RecordMailAttempt stores the outcome of one delivery attempt and moves the
// mail to state (sent, failed, held, or queued again for a retry).
func (s *Store) RecordMailAttempt(ctx context.Context, id int64, state, errMsg string, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		ok := state == MailSent
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_attempts (outbox_id, at, ok, error) VALUES ($1, $2, $3, $4)`,
			id, now.UnixMilli(), ok, truncate(errMsg, 2000)); err != nil {
			return fmt.Errorf("record mail attempt: %w", err)
		}
		var sentAt any
		if ok {
			sentAt = now.UnixMilli()
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET state = $2, attempts = attempts + 1, last_error = $3, sent_at = $4 WHERE id = $1`,
			id, state, truncate(errMsg, 2000), sentAt)
		if err != nil {
			return fmt.Errorf("record mail attempt: %w", err)
		}
		return nil
	})
}

// HoldMail marks a mail held: there is no relay to send it to.
func (s *Store) HoldMail(ctx context.Context, id int64) error {
	_, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = 'held' WHERE id = $1 AND state = 'queued'`, id)
	if err != nil {
		return fmt.Errorf("hold mail: %w", err)
	}
	return nil
}

// MailAttempt is one recorded delivery attempt.
type MailAttempt struct {
	At    time.Time
	OK    bool
	Error string
}

// MailAttempts lists a mail's delivery attempts, oldest first.
func (s *Store) MailAttempts(ctx context.Context, id int64) ([]MailAttempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at, ok, error FROM outbox_attempts WHERE outbox_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("mail attempts: %w", err)
	}
	defer rows.Close()
	var out []MailAttempt
	for rows.Next() {
		var a MailAttempt
		var at int64
		if err := rows.Scan(&at, &a.OK, &a.Error); err != nil {
			return nil, err
		}
		a.At = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// RecentMail lists the newest outbox rows, optionally only those to one
// address, older than the keyset cursor beforeID when it is set.
func (s *Store) RecentMail(ctx context.Context, to string, beforeID int64, limit int) ([]Mail, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	query := `SELECT ` + mailColumns + ` FROM outbox WHERE ($1 = '' OR to_addr = $1) AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`
	rows, err := s.r.QueryContext(ctx, query, to, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent mail: %w", err)
	}
	defer rows.Close()
	var out []Mail
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

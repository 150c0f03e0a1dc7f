package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/jobs"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/google/uuid"
)

// DeliverJob is the kind of the job that delivers one outbox mail.
const DeliverJob = "deliver-mail"

// Outbox queues mail inside transactions and delivers it from jobs.
type Outbox struct {
	store  *store.Store
	mailer Mailer // nil: no relay, mail is held for the mailbox page
	clock  canopy.Clock
	log    *slog.Logger
	domain string // right-hand side of Message-IDs
}

// NewOutbox returns an outbox; mailer may be nil.
func NewOutbox(s *store.Store, mailer Mailer, clock canopy.Clock, log *slog.Logger, domain string) *Outbox {
	if domain == "" {
		domain = "canopy.invalid"
	}
	return &Outbox{store: s, mailer: mailer, clock: clock, log: log, domain: domain}
}

type deliverPayload struct {
	MailID int64 `json:"mail_id"`
}

// Queue writes m into the outbox and enqueues its delivery, both in tx: the
// mail exists if and only if the change that causes it commits.
func (o *Outbox) Queue(ctx context.Context, tx *store.Tx, org canopy.OrgID, kind string, m Message) (int64, error) {
	now := o.clock.Now()
	if m.MessageID == "" {
		m.MessageID = o.messageID()
	}
	id, err := tx.AddMail(ctx, store.Mail{OrgID: org, Kind: kind, To: m.To, FromName: m.FromName, Subject: m.Subject,
		Text: m.Text, HTML: m.HTML, MessageID: m.MessageID}, now)
	if err != nil {
		return 0, err
	}
	if err := jobs.Enqueue(ctx, tx, now, DeliverJob, deliverPayload{MailID: id}, fmt.Sprintf("mail:%d", id), now); err != nil {
		return 0, err
	}
	return id, nil
}

// QueueAll writes many mails of one kind into the outbox and enqueues
// their deliveries, all in tx, as Queue does one, in multi-row statements.
func (o *Outbox) QueueAll(ctx context.Context, tx *store.Tx, org canopy.OrgID, kind string, msgs []Message) ([]int64, error) {
	now := o.clock.Now()
	rows := make([]store.Mail, len(msgs))
	for i, m := range msgs {
		if m.MessageID == "" {
			m.MessageID = o.messageID()
		}
		rows[i] = store.Mail{OrgID: org, Kind: kind, To: m.To, FromName: m.FromName, Subject: m.Subject, Text: m.Text, HTML: m.HTML, MessageID: m.MessageID}
	}
	ids, err := tx.AddMails(ctx, rows, now)
	if err != nil {
		return nil, err
	}
	payloads, keys := make([]any, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		payloads[i], keys[i] = deliverPayload{MailID: id}, fmt.Sprintf("mail:%d", id)
	}
	if err := jobs.EnqueueMany(ctx, tx, now, DeliverJob, payloads, keys, now); err != nil {
		return nil, err
	}
	return ids, nil
}

// messageID is a UUIDv7 (74 random bits after the time in milliseconds):
// IDs written one after another sort one after another, so each new mail
// lands at the end of the outbox's unique index on message_id instead of
// on a random page of it (a random page is a page more for every commit
// to write).
func (o *Outbox) messageID() string {
	return "<" + uuid.Must(uuid.NewV7()).String() + "@" + o.domain + ">"
}

// Register adds the delivery handler to a job runner.
func (o *Outbox) Register(r *jobs.Runner) { r.Handle(DeliverJob, o.deliver) }

// deliver sends one mail. A relay error is recorded and returned, so the
// job is retried with backoff; on the last attempt the mail is marked failed.
func (o *Outbox) deliver(ctx context.Context, j store.Job) error {
	var p deliverPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return jobs.Permanent(fmt.Errorf("deliver mail: payload: %w", err))
	}
	m, err := o.store.Mail(ctx, p.MailID)
	if errors.Is(err, canopy.ErrNotFound) {
		return nil // deleted with its organization: nothing to send
	}
	if err != nil {
		return err
	}
	if m.State == store.MailSent {
		return nil
	}
	if o.mailer == nil {
		return o.store.HoldMail(ctx, m.ID)
	}
	sendErr := o.mailer.Send(ctx, Message{To: m.To, FromName: m.FromName, Subject: m.Subject, Text: m.Text, HTML: m.HTML, MessageID: m.MessageID})
	now := o.clock.Now()
	switch {
	case sendErr == nil:
		return o.store.RecordMailAttempt(ctx, m.ID, store.MailSent, "", now)
	case j.Attempts >= j.MaxAttempts:
		o.log.ErrorContext(ctx, "mail failed for good", "mail", m.ID, "to", m.To, "err", sendErr)
		if err := o.store.RecordMailAttempt(ctx, m.ID, store.MailFailed, sendErr.Error(), now); err != nil {
			return err
		}
		return jobs.Permanent(sendErr)
	default:
		o.log.WarnContext(ctx, "mail not accepted, will retry", "mail", m.ID, "to", m.To, "attempt", j.Attempts, "err", sendErr)
		if err := o.store.RecordMailAttempt(ctx, m.ID, store.MailQueued, sendErr.Error(), now); err != nil {
			return err
		}
		return sendErr
	}
}

package mail_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/jobs"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/mail/mailtest"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func queue(t *testing.T, s *store.Store, o *mail.Outbox, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = o.Queue(context.Background(), tx, 0, "test", m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The relay refuses the first attempt and accepts the second: the job
// retries after its backoff and exactly one mail is delivered, with both
// attempts recorded.
func TestOutboxRetriesUntilTheRelayAccepts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		relay := mailtest.Start(t)
		relay.RefuseNext(1)
		clock := canopy.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		sender := mail.NewSMTPSender(mail.SMTPConfig{Host: relay.Host, Port: relay.Port, From: "noreply@canopy.example", Mode: "none", Timeout: 5 * time.Second})
		o := mail.NewOutbox(s, sender, clock, quiet, "canopy.example")
		runner := jobs.New(s, clock, quiet, jobs.Options{BackoffBase: 10 * time.Second})
		o.Register(runner)

		id := queue(t, s, o, mail.Message{To: "maya@brightwave.example", FromName: "Brightwave IT", Subject: "Finish registering your Canopy account", Text: "Open this link: https://canopy.example/register/abc"})
		runner.RunDue(ctx)
		if got := len(relay.Messages()); got != 0 || relay.Refused() != 1 {
			t.Fatalf("after the refused attempt: %d delivered, %d refused; want 0, 1", got, relay.Refused())
		}
		m, _ := s.Mail(ctx, id)
		if m.State != store.MailQueued || !strings.Contains(m.LastError, "451") {
			t.Errorf("after refusal: state %s, error %q; want queued with the relay's 451", m.State, m.LastError)
		}
		runner.RunDue(ctx) // too early: backoff holds
		if len(relay.Messages()) != 0 {
			t.Fatal("retried before the backoff")
		}
		clock.Advance(time.Minute)
		runner.RunDue(ctx)
		clock.Advance(time.Hour)
		runner.RunDue(ctx) // nothing more to do
		got := relay.Messages()
		if len(got) != 1 {
			t.Fatalf("delivered %d mails; want exactly 1", len(got))
		}
		if got[0].To[0] != "maya@brightwave.example" || got[0].Subject != "Finish registering your Canopy account" ||
			!strings.Contains(got[0].Raw, "Brightwave IT") || !strings.Contains(got[0].Raw, m.MessageID) {
			t.Errorf("delivered = %+v", got[0])
		}
		m, _ = s.Mail(ctx, id)
		attempts, _ := s.MailAttempts(ctx, id)
		if m.State != store.MailSent || m.Attempts != 2 || len(attempts) != 2 || attempts[0].OK || !attempts[1].OK {
			t.Errorf("mail = %s after %d attempts %+v; want sent after 2 (refused, accepted)", m.State, m.Attempts, attempts)
		}
	})
}

// A mail queued in a transaction that rolls back is never sent.
func TestRolledBackChangeSendsNothing(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	relay := mailtest.Start(t)
	clock := canopy.SystemClock{}
	o := mail.NewOutbox(s, mail.NewSMTPSender(mail.SMTPConfig{Host: relay.Host, Port: relay.Port, From: "noreply@canopy.example", Mode: "none", Timeout: 5 * time.Second}), clock, quiet, "")
	runner := jobs.New(s, clock, quiet, jobs.Options{})
	o.Register(runner)
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if _, err := o.Queue(ctx, tx, 0, "test", mail.Message{To: "a@example.com", Subject: "x", Text: "x"}); err != nil {
			return err
		}
		return context.Canceled // the change fails after queuing its mail
	})
	if err == nil {
		t.Fatal("transaction should have failed")
	}
	if n, _ := runner.RunDue(ctx); n != 0 || len(relay.Messages()) != 0 {
		t.Errorf("ran %d jobs, delivered %d mails; want 0, 0", n, len(relay.Messages()))
	}
}

// Without a relay, mail is held in the outbox for the mailbox page.
func TestWithoutRelayMailIsHeld(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	clock := canopy.SystemClock{}
	o := mail.NewOutbox(s, nil, clock, quiet, "")
	runner := jobs.New(s, clock, quiet, jobs.Options{})
	o.Register(runner)
	id := queue(t, s, o, mail.Message{To: "a@example.com", Subject: "Welcome", Text: "Hello"})
	runner.RunDue(ctx)
	m, err := s.Mail(ctx, id)
	if err != nil || m.State != store.MailHeld {
		t.Errorf("mail = %+v, %v; want held", m, err)
	}
	list, _ := s.RecentMail(ctx, "a@example.com", 0, 10)
	if len(list) != 1 || list[0].Subject != "Welcome" {
		t.Errorf("recent mail = %+v", list)
	}
}

func TestParseSMTPURL(t *testing.T) {
	cases := []struct {
		raw, mode, host, user, from string
		port                        int
		wantErr                     string
	}{
		{raw: "smtp://u:p@relay.example?from=noreply@x.example", mode: "starttls", host: "relay.example", port: 587, user: "u", from: "noreply@x.example"},
		{raw: "smtps://relay.example:2465?from=a@x.example", mode: "tls", host: "relay.example", port: 2465, from: "a@x.example"},
		{raw: "smtp+insecure://127.0.0.1:2525?from=a@x.example", mode: "none", host: "127.0.0.1", port: 2525, from: "a@x.example"},
		{raw: "smtp://relay.example", wantErr: "needs a sender address"},
		{raw: "http://relay.example?from=a@x.example", wantErr: "scheme"},
		{raw: "smtp://relay.example:abc?from=a@x.example", wantErr: "SMTP URL"},
	}
	for _, c := range cases {
		got, err := mail.ParseSMTPURL(c.raw)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err = %v; want %q", c.raw, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.Mode != c.mode || got.Host != c.host || got.Port != c.port || got.Username != c.user || got.From != c.from {
			t.Errorf("%s = %+v, %v", c.raw, got, err)
		}
	}
}

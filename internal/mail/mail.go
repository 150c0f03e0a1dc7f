// Package mail sends Canopy's email through a transactional outbox: a mail
// is written in the same transaction as the change that causes it, and a
// background job delivers it over SMTP, retrying with backoff until the
// relay accepts it and recording every attempt. Without a relay the mail is
// held in the outbox, where the Mailbox page shows it.
package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email.
type Message struct {
	To        string
	FromName  string // display name, e.g. the organization's brand
	Subject   string
	Text      string
	HTML      string // optional alternative
	MessageID string // stable across retries
}

// Mailer sends a message to a relay.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMTPConfig is a relay, parsed from CANOPY_SMTP_URL:
//
//	smtp://user:pass@host:587?from=noreply@example.com    STARTTLS required
//	smtps://user:pass@host:465?from=…                      TLS from the first byte
//	smtp+insecure://host:25?from=…                         no TLS (a local relay)
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string // envelope and header sender address
	Mode     string // "starttls", "tls" or "none"
	// TLSConfig overrides the TLS settings (tests use it to trust a local CA).
	TLSConfig *tls.Config
	Timeout   time.Duration
}

// ParseSMTPURL reads a relay URL.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("SMTP URL: %v", err)
	}
	c := SMTPConfig{Host: u.Hostname(), From: u.Query().Get("from"), Timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
		c.Mode, c.Port = "starttls", 587
	case "smtps":
		c.Mode, c.Port = "tls", 465
	case "smtp+insecure":
		c.Mode, c.Port = "none", 25
	default:
		return SMTPConfig{}, fmt.Errorf("SMTP URL scheme %q: use smtp://, smtps:// or smtp+insecure://", u.Scheme)
	}
	if c.Host == "" {
		return SMTPConfig{}, fmt.Errorf("SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return SMTPConfig{}, fmt.Errorf("SMTP URL port %q is not a number", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.From == "" || !strings.Contains(c.From, "@") {
		return SMTPConfig{}, fmt.Errorf("SMTP URL needs a sender address: add ?from=noreply@your-domain")
	}
	return c, nil
}

// SMTPSender delivers through one relay, a connection per message (mail
// volume is low and this keeps failures independent).
type SMTPSender struct{ cfg SMTPConfig }

// NewSMTPSender returns a sender for cfg.
func NewSMTPSender(cfg SMTPConfig) *SMTPSender { return &SMTPSender{cfg: cfg} }

// Send delivers m to the relay.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if m.FromName != "" {
		if err := msg.FromFormat(m.FromName, s.cfg.From); err != nil {
			return fmt.Errorf("sender: %w", err)
		}
	} else if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithHELO("localhost")}
	switch s.cfg.Mode {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLSConfig))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

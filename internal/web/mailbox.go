package web

import (
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Mailbox lists the outbox: where mail waits when no relay is configured.
func (w *Web) Mailbox(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	mails, err := w.app.Mailbox(r.Context(), v, w.mailboxForAll, before)
	if err != nil {
		return err
	}
	data := map[string]any{"Mails": mails}
	if len(mails) == 50 {
		data["Next"] = mails[len(mails)-1].ID
	}
	return w.render(rw, r, http.StatusOK, "mailbox", page{Title: "Mailbox", Nav: "mailbox", Data: data})
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify escapes text and turns its URLs into links, so a person can open
// a registration or sign-in link straight from the mailbox.
func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, loc := range linkPattern.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:loc[0]]))
		u := text[loc[0]:loc[1]]
		fmt.Fprintf(&b, `<a href="%s">%s</a>`, template.HTMLEscapeString(u), template.HTMLEscapeString(u))
		last = loc[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// MailboxMessage shows one mail with its links clickable.
func (w *Web) MailboxMessage(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return canopy.ErrNotFound
	}
	m, attempts, err := w.app.MailboxMessage(r.Context(), v, w.mailboxForAll, id)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "mail", page{Title: m.Subject, Nav: "mailbox",
		Data: map[string]any{"Mail": m, "Attempts": attempts, "Body": linkify(m.Text)}})
}

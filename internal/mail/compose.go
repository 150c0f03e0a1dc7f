package mail

import (
	"bytes"
	"html/template"
	"strings"
)

// Letter is the content of a transactional email, written once and
// rendered as both plain text and HTML so the two never drift apart.
type Letter struct {
	Brand       string   // the organization's branding name, shown as the sender and heading
	Color       string   // the organization's primary colour (#rrggbb) for the heading; empty: Canopy's
	To          string   // address
	Subject     string   // subject line
	Greeting    string   // "Hello Maya,"
	Paragraphs  []string // before the button
	ActionLabel string   // button text
	ActionURL   string   // button link
	After       []string // after the button (expiry, what to do if unexpected)
}

var htmlLetter = template.Must(template.New("letter").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;background:#f6f7f9;font-family:Arial,Helvetica,sans-serif;color:#1d2330">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#f6f7f9;padding:24px 0"><tr><td align="center">
<table role="presentation" width="560" cellspacing="0" cellpadding="0" style="max-width:560px;background:#ffffff;border:1px solid #e2e5eb;border-radius:8px">
<tr><td style="background:{{if .Color}}{{.Color}}{{else}}#15392f{{end}};color:#ffffff;padding:16px 24px;font-size:18px;font-weight:bold;border-radius:8px 8px 0 0">{{.Brand}}</td></tr>
<tr><td style="padding:24px;font-size:15px;line-height:1.5">
<p style="margin:0 0 16px">{{.Greeting}}</p>
{{range .Paragraphs}}<p style="margin:0 0 16px">{{.}}</p>{{end}}
{{if .ActionURL}}<p style="margin:24px 0"><a href="{{.ActionURL}}" style="background:#1f6f5c;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:bold;display:inline-block">{{.ActionLabel}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#5b6475">Or copy this link into your browser:<br><a href="{{.ActionURL}}" style="color:#1f6f5c;word-break:break-all">{{.ActionURL}}</a></p>{{end}}
{{range .After}}<p style="margin:0 0 16px;font-size:13px;color:#5b6475">{{.}}</p>{{end}}
</td></tr></table>
<p style="font-size:12px;color:#5b6475">Sent by Canopy for {{.Brand}}.</p>
</td></tr></table></body></html>`))

// Message renders the letter as a text and HTML message.
func (l Letter) Message() (Message, error) {
	var text strings.Builder
	text.WriteString(l.Greeting + "\n\n")
	for _, p := range l.Paragraphs {
		text.WriteString(p + "\n\n")
	}
	if l.ActionURL != "" {
		text.WriteString(l.ActionLabel + ":\n" + l.ActionURL + "\n\n")
	}
	for _, p := range l.After {
		text.WriteString(p + "\n\n")
	}
	text.WriteString("— " + l.Brand + "\n")
	var html bytes.Buffer
	if err := htmlLetter.Execute(&html, l); err != nil {
		return Message{}, err
	}
	return Message{To: l.To, FromName: l.Brand, Subject: l.Subject, Text: text.String(), HTML: html.String()}, nil
}

package mail_test

import (
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/mail"
)

func TestLetterRendersTextAndEscapedHTML(t *testing.T) {
	m, err := mail.Letter{Brand: "Brightwave <IT>", To: "tom@a.example", Subject: "Finish setting up", Greeting: "Hello Tom,",
		Paragraphs: []string{"Maya gave you access & roles."}, ActionLabel: "Finish registration", ActionURL: "https://canopy.example/register/abc?x=1&y=2",
		After: []string{"The link works once."}}.Message()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hello Tom,", "Maya gave you access & roles.", "Finish registration:\nhttps://canopy.example/register/abc?x=1&y=2", "— Brightwave <IT>"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"Brightwave &lt;IT&gt;", "access &amp; roles", `href="https://canopy.example/register/abc?x=1&amp;y=2"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if m.FromName != "Brightwave <IT>" {
		t.Errorf("from name = %q", m.FromName)
	}
}

func TestLetterHeadingTakesTheBrandColour(t *testing.T) {
	m, err := mail.Letter{Brand: "Globex", Color: "#aa3300", To: "a@globex.example", Subject: "Hi", Greeting: "Hello,"}.Message()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "background:#aa3300") {
		t.Errorf("HTML heading lacks the brand colour:\n%s", m.HTML)
	}
	plain, _ := mail.Letter{Brand: "Canopy", To: "a@b.example", Subject: "Hi"}.Message()
	if !strings.Contains(plain.HTML, "background:#15392f") {
		t.Error("a letter without a colour lost Canopy's heading colour")
	}
}

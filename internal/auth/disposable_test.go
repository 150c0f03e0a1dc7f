package auth

import "testing"

func TestDisposableDomains(t *testing.T) {
	d, err := NewDisposableDomains()
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() < 8000 {
		t.Errorf("list has %d domains; the vendored 1.26.0 has 8,883", d.Len())
	}
	cases := []struct {
		email string
		want  bool
	}{
		{"someone@mailinator.com", true},
		{"Someone@MAILINATOR.COM", true},
		{"x@sub.mailinator.com", true},
		{"maya@brightwave.example", false},
		{"ceo@example.com", false},
		{"not-an-address", false},
		{"x@com", false},
	}
	for _, c := range cases {
		if got := d.Address(c.email); got != c.want {
			t.Errorf("Address(%q) = %v; want %v", c.email, got, c.want)
		}
	}
}

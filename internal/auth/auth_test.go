package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", h)
	}
	if h == HashPassword("correct horse battery staple") {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{{"correct horse battery staple", true}, {"correct horse battery stapl", false}, {"", false}} {
		got, err := CheckPassword(h, c.pw)
		if err != nil || got != c.want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", c.pw, got, err, c.want)
		}
	}
	if _, err := CheckPassword("$bcrypt$nonsense", "x"); err != ErrMalformedHash {
		t.Errorf("malformed hash: err = %v", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	p, err := NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.common) < 40000 {
		t.Fatalf("common list has %d entries; want the vendored ~44,000", len(p.common))
	}
	cases := []struct {
		pw, email, want string
	}{
		{"short", "mp@brightwave.example", "at least 12"},
		{"MayaPatel@Brightwave.example", "mayapatel@brightwave.example", "email"},
		{"mayapatel-rocks-2026", "mayapatel@brightwave.example", "email"},
		{"MayaPatelRocks!", "mp@brightwave.example", "name"},
		{"qwertyuiopasdfgh", "mp@brightwave.example", "commonly used"},
		{"§§§§§§§§§§§§§§", "mp@brightwave.example", "repeat"},
		{"violet tractor under moonlight", "mp@brightwave.example", ""},
	}
	for _, c := range cases {
		got := p.Check(c.pw, c.email, "Maya Patel")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("Check(%q) = %q; want it to mention %q", c.pw, got, c.want)
		}
	}
}

func TestTOTPRefusesReplayAndOldCodes(t *testing.T) {
	secret, url, err := NewTOTPSecret("Canopy", "maya@brightwave.example")
	if err != nil || !strings.HasPrefix(url, "otpauth://totp/Canopy:") {
		t.Fatalf("secret = %q, url = %q, %v", secret, url, err)
	}
	now := time.Date(2026, 11, 23, 9, 0, 10, 0, time.UTC)
	code, _ := TOTPCode(secret, now)
	step, ok := VerifyTOTP(secret, code, now, 0)
	if !ok {
		t.Fatal("current code refused")
	}
	if _, ok := VerifyTOTP(secret, code, now, step); ok {
		t.Error("the same code was accepted twice")
	}
	// One step of skew is allowed, two are not.
	prev, _ := TOTPCode(secret, now.Add(-30*time.Second))
	if _, ok := VerifyTOTP(secret, prev, now, 0); !ok {
		t.Error("previous step's code refused")
	}
	old, _ := TOTPCode(secret, now.Add(-90*time.Second))
	if _, ok := VerifyTOTP(secret, old, now, 0); ok {
		t.Error("a code three steps old was accepted")
	}
	if _, ok := VerifyTOTP(secret, "12345", now, 0); ok {
		t.Error("a five-digit code was accepted")
	}
	// Spaces as people type them are fine.
	later := now.Add(5 * time.Minute)
	c2, _ := TOTPCode(secret, later)
	if _, ok := VerifyTOTP(secret, c2[:3]+" "+c2[3:], later, step); !ok {
		t.Error("a code typed with a space was refused")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes(10)
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 14 || c[4] != '-' || c[9] != '-' || strings.ContainsAny(c, "01IO") {
			t.Errorf("code %q is not of the form XXXX-XXXX-XXXX without ambiguous characters", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
	if got := NormalizeRecoveryCode(" 7kq2-m9xd 4tra "); got != "7KQ2M9XD4TRA" {
		t.Errorf("normalized = %q", got)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			HashPassword("violet tractor under moonlight")
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

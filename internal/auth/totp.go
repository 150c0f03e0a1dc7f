package auth

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP per RFC 6238: 30-second steps, 6 digits, SHA-1 (what every
// authenticator app supports), one step of clock skew either way.
const totpPeriod = 30

// NewTOTPSecret returns a random base32 secret and the otpauth:// URL an
// authenticator app reads from a QR code.
func NewTOTPSecret(issuer, account string) (secret, url string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", fmt.Errorf("totp secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// VerifyTOTP checks code against secret at now and returns the time step it
// matched. A step at or before lastStep is refused: pquerna/otp does not
// block replays, so the caller stores the returned step and passes it back.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	for _, s := range []int64{current - 1, current, current + 1} {
		if s <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtleEqual(want, code) {
			return s, true
		}
	}
	return 0, false
}

// TOTPCode returns the code for secret at t (tests and the enrolment page's
// self-check use it).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

func subtleEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff byte
	for i := 0; i < len(a); i++ {
		diff |= a[i] ^ b[i]
	}
	return diff == 0
}

// NewRecoveryCodes returns n one-time recovery codes like "7KQ2-M9XD-4TRA",
// unambiguous to read aloud and type.
func NewRecoveryCodes(n int) []string {
	enc := base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)
	codes := make([]string, n)
	for i := range codes {
		b := make([]byte, 8)
		rand.Read(b)
		s := enc.EncodeToString(b)[:12]
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12]
	}
	return codes
}

// NormalizeRecoveryCode makes a typed code comparable: upper case, no
// spaces or dashes.
func NormalizeRecoveryCode(code string) string {
	r := strings.NewReplacer("-", "", " ", "")
	return strings.ToUpper(r.Replace(strings.TrimSpace(code)))
}

// Package auth holds the primitives of signing in: argon2id password
// hashes, the password policy, TOTP with replay protection, recovery codes
// and random tokens. It knows nothing of storage or HTTP.
package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns an encoded argon2id hash of password
// ($argon2id$v=19$m=19456,t=2,p=1$salt$key), parameters included so they
// can be raised later without breaking old hashes.
func HashPassword(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// ErrMalformedHash means a stored hash cannot be read.
var ErrMalformedHash = errors.New("malformed password hash")

// CheckPassword reports whether password matches the encoded hash, in time
// independent of where they differ.
func CheckPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformedHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked when an account does not exist, so a sign-in for an
// unknown address costs the same time as one for a known address.
var dummyHash = HashPassword("canopy-timing-equaliser")

// CheckAgainstNothing spends the time of a password check.
func CheckAgainstNothing(password string) { CheckPassword(dummyHash, password) }

//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// Policy decides whether a password is acceptable.
type Policy struct {
	MinLength int
	common    map[string]struct{}
}

// NewPolicy loads the common-password list (about 44,000 entries of 12 or
// more characters; shorter ones fail the length rule anyway).
func NewPolicy() (*Policy, error) {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		return nil, fmt.Errorf("common passwords: %w", err)
	}
	common := make(map[string]struct{}, 45000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		common[sc.Text()] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("common passwords: %w", err)
	}
	return &Policy{MinLength: 12, common: common}, nil
}

// Check returns a reason a person can act on, or "" if password is fine.
func (p *Policy) Check(password, email, name string) string {
	n := utf8.RuneCountInString(password)
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	switch {
	case n < p.MinLength:
		return fmt.Sprintf("Use at least %d characters (this one has %d). A few unrelated words make a long password easy to remember.", p.MinLength, n)
	case n > 256:
		return "Use at most 256 characters."
	case lower == strings.ToLower(email) || (len(local) >= 4 && strings.Contains(lower, local)):
		return "Do not use your email address in your password."
	case strings.TrimSpace(name) != "" && len(name) >= 4 && strings.Contains(lower, strings.ToLower(strings.ReplaceAll(name, " ", ""))):
		return "Do not use your name in your password."
	}
	if _, ok := p.common[lower]; ok {
		return "This password is on a list of commonly used passwords that attackers try first. Choose another."
	}
	if allSame(password) {
		return "Do not repeat one character."
	}
	return ""
}

func allSame(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed disposable-domains.txt.gz
var disposableDomainsGz []byte

// DisposableDomains is the vendored list of throwaway-mail domains
// (disposable-domains.VERSION.txt says which), refused for invitations.
type DisposableDomains struct {
	domains map[string]struct{}
}

// NewDisposableDomains loads the embedded list (about 8,900 domains).
func NewDisposableDomains() (*DisposableDomains, error) {
	zr, err := gzip.NewReader(bytes.NewReader(disposableDomainsGz))
	if err != nil {
		return nil, fmt.Errorf("disposable domains: %w", err)
	}
	d := &DisposableDomains{domains: make(map[string]struct{}, 9000)}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			d.domains[line] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("disposable domains: %w", err)
	}
	return d, nil
}

// Len is the number of domains on the list.
func (d *DisposableDomains) Len() int { return len(d.domains) }

// Address reports whether email's domain, or a domain it is under, is on
// the list (mail.sharklasers.com is as disposable as sharklasers.com).
func (d *DisposableDomains) Address(email string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return false
	}
	for domain != "" {
		if _, hit := d.domains[domain]; hit {
			return true
		}
		_, rest, more := strings.Cut(domain, ".")
		if !more || !strings.Contains(rest, ".") {
			return false
		}
		domain = rest
	}
	return false
}

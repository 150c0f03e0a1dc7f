package canopy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error kinds. Wrap them with %w and the operation; adapters map each kind to
// a response in one table. Other tenants' objects are reported as ErrNotFound
// so that their existence does not leak.
var (
	ErrNotFound        = errors.New("not found")
	ErrForbidden       = errors.New("forbidden")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid input")
	ErrUnauthenticated = errors.New("unauthenticated")
)

// FieldErrors carries validation messages per field, written for a person.
// It matches ErrInvalid with errors.Is.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %s", k, f[k]))
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for field errors.
func (f FieldErrors) Is(target error) bool { return target == ErrInvalid }

// Add records a message for field unless one is already there.
func (f FieldErrors) Add(field, message string) {
	if _, ok := f[field]; !ok {
		f[field] = message
	}
}

// Err returns f as an error, or nil when it holds no message.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

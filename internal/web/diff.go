package web

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// fieldChange is one field of a change-log entry's before and after.
type fieldChange struct {
	Field, Before, After string
}

// diffFields lists the fields a change touched: for two JSON objects, the
// keys whose values differ; for one side only, every key of it. Values
// that are not objects show as one unnamed field.
func diffFields(before, after json.RawMessage) []fieldChange {
	var b, a map[string]json.RawMessage
	bOK := len(before) == 0 || json.Unmarshal(before, &b) == nil
	aOK := len(after) == 0 || json.Unmarshal(after, &a) == nil
	if !bOK || !aOK {
		return []fieldChange{{Before: display(before), After: display(after)}}
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var out []fieldChange
	for k := range keys {
		bv, av := b[k], a[k]
		if bytes.Equal(bv, av) {
			continue
		}
		out = append(out, fieldChange{Field: strings.ReplaceAll(k, "_", " "), Before: display(bv), After: display(av)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// display renders a JSON value for people: strings unquoted, absent as "—".
func display(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "—"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "" {
			return "—"
		}
		return s
	}
	var list []any
	if json.Unmarshal(v, &list) == nil {
		parts := make([]string, len(list))
		for i, x := range list {
			b, _ := json.Marshal(x)
			parts[i] = strings.Trim(string(b), `"`)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	return string(v)
}

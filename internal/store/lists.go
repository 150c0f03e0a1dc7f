package store

import (
	"strconv"
	"strings"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// Modules and sub-account IDs are stored as comma-separated lists
// (customers.modules, memberships.modules and .sub_accounts, and the same
// columns of invitations): short, always read whole, never queried into.

func joinModules(ms []canopy.Module) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}

func splitModules(s string) []canopy.Module {
	var out []canopy.Module
	for _, m := range strings.Split(s, ",") {
		if m != "" {
			out = append(out, canopy.Module(m))
		}
	}
	return out
}

func joinIDs(ids []canopy.OrgID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(int64(id), 10)
	}
	return strings.Join(parts, ",")
}

func splitIDs(s string) []canopy.OrgID {
	var out []canopy.OrgID
	for _, part := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil && id > 0 {
			out = append(out, canopy.OrgID(id))
		}
	}
	return out
}

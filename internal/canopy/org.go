package canopy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OrgID is the internal identifier of an organization.
type OrgID int64

// OrgKind is the level of a node in the tenant tree.
type OrgKind string

// The tenant tree, top to bottom.
const (
	KindPlatform    OrgKind = "platform"
	KindDistributor OrgKind = "distributor"
	KindMSP         OrgKind = "msp"
	KindCustomer    OrgKind = "customer"
	KindSubAccount  OrgKind = "sub_account"
)

// OrgKinds lists every kind in tree order.
var OrgKinds = []OrgKind{KindPlatform, KindDistributor, KindMSP, KindCustomer, KindSubAccount}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	for _, known := range OrgKinds {
		if k == known {
			return true
		}
	}
	return false
}

// Rank is the kind's level in the tree: 0 for the platform, growing downwards.
func (k OrgKind) Rank() int {
	for i, known := range OrgKinds {
		if k == known {
			return i
		}
	}
	return -1
}

// Label is the kind as people read it.
func (k OrgKind) Label() string {
	switch k {
	case KindPlatform:
		return "Platform"
	case KindDistributor:
		return "Distributor"
	case KindMSP:
		return "MSP"
	case KindCustomer:
		return "Customer"
	case KindSubAccount:
		return "Sub-account"
	}
	return string(k)
}

// ParentKindAllowed reports whether a node of kind child may sit under a node
// of kind parent: platform → distributor → msp → customer → sub_account,
// sub-accounts nesting under sub-accounts.
func ParentKindAllowed(parent, child OrgKind) bool {
	switch child {
	case KindDistributor:
		return parent == KindPlatform
	case KindMSP:
		return parent == KindDistributor
	case KindCustomer:
		return parent == KindMSP
	case KindSubAccount:
		return parent == KindCustomer || parent == KindSubAccount
	}
	return false
}

// CustomerStatus is the billing state of a customer, as on the uService list.
type CustomerStatus string

// Customer statuses.
const (
	StatusTrial        CustomerStatus = "trial"
	StatusActive       CustomerStatus = "active"
	StatusTrialExpired CustomerStatus = "trial_expired"
	StatusSuspended    CustomerStatus = "suspended"
)

// Label is the status as shown on the customers list.
func (s CustomerStatus) Label() string {
	switch s {
	case StatusTrial:
		return "Free trial"
	case StatusActive:
		return "Active"
	case StatusTrialExpired:
		return "Trial expired"
	case StatusSuspended:
		return "Suspended"
	}
	return string(s)
}

// Org is one node of the tenant tree. Path is the materialized path of
// internal IDs from the root ("/1/4/17/"); every node of a subtree has a path
// starting with its root's path, so subtree questions are one range scan.
type Org struct {
	ID       OrgID
	TenantID string // public UUID
	Kind     OrgKind
	Name     string
	ParentID OrgID // 0 for the platform root
	Path     string
	Depth    int
	Created  time.Time

	// Customer-only fields; zero for other kinds.
	Domain      string
	Status      CustomerStatus
	TrialEndsAt time.Time
	ActiveUsers int

	// MSP-only: the distributor opens and closes this MSP's customers.
	LifecycleByDistributor bool
}

// OrgPath builds the materialized path of a child from its parent's path.
func OrgPath(parentPath string, id OrgID) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return parentPath + strconv.FormatInt(int64(id), 10) + "/"
}

// Scope is the subtree a request may see: the node the caller acts in and
// everything beneath it. The zero Scope sees nothing.
type Scope struct {
	Root OrgID
	Path string
}

// ScopeOf returns the scope rooted at o.
func ScopeOf(o Org) Scope { return Scope{Root: o.ID, Path: o.Path} }

// Valid reports whether the scope names a subtree.
func (s Scope) Valid() bool {
	return s.Root > 0 && strings.HasPrefix(s.Path, "/") && strings.HasSuffix(s.Path, "/")
}

// Contains reports whether the node with the given path lies in the scope.
func (s Scope) Contains(path string) bool {
	return s.Valid() && strings.HasPrefix(path, s.Path)
}

// Bounds returns the half-open range [lo, hi) of paths inside the scope.
// '/' is followed by '0' in byte order and IDs are digits, so replacing the
// final '/' with '0' bounds exactly the paths that extend s.Path. Columns
// compared this way must use byte ordering (COLLATE "C" on PostgreSQL).
func (s Scope) Bounds() (lo, hi string) {
	if !s.Valid() {
		// An empty range: nothing is in an invalid scope.
		return "1", "0"
	}
	return s.Path, s.Path[:len(s.Path)-1] + "0"
}

func (s Scope) String() string { return fmt.Sprintf("scope(%d %s)", s.Root, s.Path) }

// PathIDs splits a materialized path into its IDs, root first (nil if the
// path is malformed).
func PathIDs(path string) []OrgID {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	out := make([]OrgID, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, OrgID(id))
	}
	return out
}

// The tree has a fixed shape (platform, distributor, MSP, customer, …), so
// a node's distributor and MSP are read off its path; 0 above that level.

// DistributorOfPath returns the distributor on a path.
func DistributorOfPath(path string) OrgID {
	if ids := PathIDs(path); len(ids) >= 2 {
		return ids[1]
	}
	return 0
}

// MSPOfPath returns the MSP on a path.
func MSPOfPath(path string) OrgID {
	if ids := PathIDs(path); len(ids) >= 3 {
		return ids[2]
	}
	return 0
}

package app

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/google/uuid"
)

// NewOrg is what it takes to add a node to the tenant tree.
type NewOrg struct {
	ParentID canopy.OrgID
	Kind     canopy.OrgKind
	Name     string
	// Customers only.
	Domain      string
	Status      canopy.CustomerStatus
	TrialEndsAt time.Time
}

var domainPattern = regexp.MustCompile(`^(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$`)

// ValidDomain reports whether d looks like a DNS domain name.
func ValidDomain(d string) bool { return len(d) <= 253 && domainPattern.MatchString(d) }

func (n *NewOrg) validate() error {
	fe := canopy.FieldErrors{}
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case n.Name == "":
		fe.Add("name", "Enter a name.")
	case utf8.RuneCountInString(n.Name) > 200:
		fe.Add("name", "Use at most 200 characters.")
	}
	if !n.Kind.Valid() || n.Kind == canopy.KindPlatform {
		fe.Add("kind", "Choose distributor, MSP, customer or sub-account.")
	}
	if n.Kind == canopy.KindCustomer {
		n.Domain = strings.ToLower(strings.TrimSpace(n.Domain))
		if !ValidDomain(n.Domain) {
			fe.Add("domain", "Enter a domain such as example.com.")
		}
		switch n.Status {
		case "":
			n.Status = canopy.StatusTrial
		case canopy.StatusTrial, canopy.StatusActive, canopy.StatusTrialExpired, canopy.StatusSuspended:
		default:
			fe.Add("status", "Choose a known status.")
		}
	}
	return fe.Err()
}

// CreatePlatform creates the root of a new install's tenant tree.
func (a *App) CreatePlatform(ctx context.Context, name string) (canopy.Org, error) {
	now := a.clock.Now()
	var root canopy.Org
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		root, err = tx.CreatePlatform(ctx, uuid.NewString(), name, now)
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(canopy.System("setup"), root, canopy.ActionCreateOrg, "organization", root.TenantID, root.Name, nil, orgSnapshot(root), now))
		return err
	})
	return root, err
}

// CreateOrg adds a node under n.ParentID, which must lie in scope, and logs
// it in the same transaction.
func (a *App) CreateOrg(ctx context.Context, actor canopy.Actor, scope canopy.Scope, n NewOrg) (canopy.Org, error) {
	if err := n.validate(); err != nil {
		return canopy.Org{}, err
	}
	now := a.clock.Now()
	var created canopy.Org
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		created, err = tx.CreateOrg(ctx, scope, canopy.Org{
			TenantID: uuid.NewString(), Kind: n.Kind, Name: n.Name, ParentID: n.ParentID,
			Domain: n.Domain, Status: n.Status, TrialEndsAt: n.TrialEndsAt,
		}, now)
		if err != nil {
			return err
		}
		action := canopy.ActionCreateOrg
		if n.Kind == canopy.KindCustomer {
			action = canopy.ActionCreateCustomer
		}
		_, err = tx.RecordChange(ctx, change(actor, created, action, string(n.Kind), created.TenantID, created.Name, nil, orgSnapshot(created), now))
		return err
	})
	if err != nil {
		return canopy.Org{}, fmt.Errorf("create %s: %w", n.Kind, err)
	}
	return created, nil
}

func orgSnapshot(o canopy.Org) map[string]any {
	m := map[string]any{"name": o.Name, "kind": o.Kind, "tenant_id": o.TenantID}
	if o.Kind == canopy.KindCustomer {
		m["domain"] = o.Domain
		m["status"] = o.Status
		if !o.TrialEndsAt.IsZero() {
			m["trial_ends_at"] = o.TrialEndsAt.Format(time.RFC3339)
		}
	}
	return m
}

// TreeNode is an organization with how many children it has.
type TreeNode struct {
	canopy.Org
	Children int
}

// Tree is the tenant tree as the viewer sees it: the distributors and MSPs
// of their subtree with customer counts, and totals by kind.
type Tree struct {
	Root   canopy.Org
	Nodes  []TreeNode // distributors and MSPs in tree order
	Totals Totals
}

// Totals counts a subtree's organizations by kind.
type Totals struct {
	Distributors, MSPs, Customers, SubAccounts int
}

// maxTreeNodes bounds the tree page; customers are listed per MSP, not here.
const maxTreeNodes = 5000

// TenantTree returns the viewer's subtree down to MSP level.
func (a *App) TenantTree(ctx context.Context, v Viewer) (Tree, error) {
	scope := v.Scope()
	nodes, err := a.store.Orgs(ctx, scope, []canopy.OrgKind{canopy.KindPlatform, canopy.KindDistributor, canopy.KindMSP}, maxTreeNodes)
	if err != nil {
		return Tree{}, err
	}
	totals, err := a.Totals(ctx, v)
	if err != nil {
		return Tree{}, err
	}
	// Customers are not loaded here: their counts per MSP come from one
	// grouped query; the other levels are counted from the nodes.
	customerCounts, err := a.store.ChildCountsOfKind(ctx, scope, canopy.KindCustomer)
	if err != nil {
		return Tree{}, err
	}
	children := map[canopy.OrgID][]canopy.Org{}
	for _, n := range nodes {
		children[n.ParentID] = append(children[n.ParentID], n)
	}
	t := Tree{Root: v.Org, Totals: totals}
	// Depth-first from the viewer's root, siblings by name.
	var walk func(o canopy.Org)
	walk = func(o canopy.Org) {
		kids := children[o.ID]
		sort.Slice(kids, func(i, j int) bool {
			if kids[i].Name != kids[j].Name {
				return kids[i].Name < kids[j].Name
			}
			return kids[i].ID < kids[j].ID
		})
		count := len(kids)
		if o.Kind == canopy.KindMSP {
			count = customerCounts[o.ID]
		}
		t.Nodes = append(t.Nodes, TreeNode{Org: o, Children: count})
		for _, k := range kids {
			walk(k)
		}
	}
	for _, n := range nodes {
		if n.ID == v.Org.ID {
			walk(n)
		}
	}
	return t, nil
}

// Totals counts the organizations of the viewer's subtree by kind.
func (a *App) Totals(ctx context.Context, v Viewer) (Totals, error) {
	counts, err := a.store.CountByKind(ctx, v.Scope())
	if err != nil {
		return Totals{}, err
	}
	return Totals{Distributors: counts[canopy.KindDistributor], MSPs: counts[canopy.KindMSP],
		Customers: counts[canopy.KindCustomer], SubAccounts: counts[canopy.KindSubAccount]}, nil
}

// OrgPage is one organization with its place in the tree and its children.
type OrgPage struct {
	Org       canopy.Org
	Ancestors []canopy.Org // from the viewer's root down to the parent
	Children  []canopy.Org
	More      bool // more children than shown
	Changes   []canopy.Change
}

// OrgByTenantID returns the page of the organization with that tenant ID,
// or ErrNotFound if it is not in the viewer's subtree.
func (a *App) OrgByTenantID(ctx context.Context, v Viewer, tenantID string, childLimit int) (OrgPage, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return OrgPage{}, fmt.Errorf("organization %q: %w", tenantID, canopy.ErrNotFound)
	}
	scope := v.Scope()
	o, err := a.store.OrgByTenantID(ctx, scope, tenantID)
	if err != nil {
		return OrgPage{}, err
	}
	if !v.Sees(o) {
		return OrgPage{}, fmt.Errorf("organization %q: %w", tenantID, canopy.ErrNotFound)
	}
	anc, err := a.store.Ancestors(ctx, scope, o)
	if err != nil {
		return OrgPage{}, err
	}
	if len(anc) > 0 {
		anc = anc[:len(anc)-1]
	}
	kids, err := a.store.Children(ctx, scope, o.ID, "", 0, childLimit+1)
	if err != nil {
		return OrgPage{}, err
	}
	page := OrgPage{Org: o, Ancestors: anc}
	if len(kids) > childLimit {
		kids, page.More = kids[:childLimit], true
	}
	for _, k := range kids {
		if v.Sees(k) {
			page.Children = append(page.Children, k)
		}
	}
	if !v.Can(PermViewChangeLog) {
		return page, nil
	}
	page.Changes, err = a.store.Changes(ctx, scope, o.ID, canopy.ChangeFilter{Limit: 10})
	return page, err
}

// OrgOf returns the organization with that tenant ID if it lies in the
// viewer's subtree.
func (a *App) OrgOf(ctx context.Context, v Viewer, tenantID string) (canopy.Org, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return canopy.Org{}, fmt.Errorf("organization %q: %w", tenantID, canopy.ErrNotFound)
	}
	o, err := a.store.OrgByTenantID(ctx, v.Scope(), tenantID)
	if err == nil && !v.Sees(o) {
		return canopy.Org{}, fmt.Errorf("organization %q: %w", tenantID, canopy.ErrNotFound)
	}
	return o, err
}

// PortalURL is the stable address of a customer's end-user portal.
func (a *App) PortalURL(customer canopy.Org) string {
	return a.baseURL + "/portal/" + customer.TenantID
}

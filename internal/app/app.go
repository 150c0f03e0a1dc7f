// Package app holds Canopy's use cases, one file per area: authorization by
// subtree, validation, change-log entries and outbox mail. It is the only
// place business rules live; it knows nothing of HTTP.
package app

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
)

// App is the set of use cases over one store.
type App struct {
	store       *store.Store
	outbox      *mail.Outbox
	policy      *auth.Policy
	disposable  *auth.DisposableDomains
	baseURL     string
	clock       canopy.Clock
	log         *slog.Logger
	sessionIdle time.Duration
	sessionMax  time.Duration
	platform    atomic.Pointer[canopy.Scope] // the whole tree, once read
}

// Deps are what App needs.
type Deps struct {
	Store       *store.Store
	Outbox      *mail.Outbox // default: an outbox with no relay (mail is held)
	BaseURL     string       // public URL for links in mail
	Policy      *auth.Policy // default: auth.NewPolicy()
	Clock       canopy.Clock
	Log         *slog.Logger
	SessionIdle time.Duration // default 30 minutes
	SessionMax  time.Duration // default 12 hours
}

// New returns the use cases over d.Store.
func New(d Deps) *App {
	if d.Clock == nil {
		d.Clock = canopy.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.SessionIdle <= 0 {
		d.SessionIdle = 30 * time.Minute
	}
	if d.SessionMax <= 0 {
		d.SessionMax = 12 * time.Hour
	}
	if d.Outbox == nil {
		d.Outbox = mail.NewOutbox(d.Store, nil, d.Clock, d.Log, "")
	}
	if d.Policy == nil {
		p, err := auth.NewPolicy()
		if err != nil {
			// The list is embedded in the binary; failing to read it is a build defect.
			panic(err)
		}
		d.Policy = p
	}
	disposable, err := auth.NewDisposableDomains()
	if err != nil {
		// Embedded in the binary, like the password list.
		panic(err)
	}
	if d.BaseURL == "" {
		d.BaseURL = "http://127.0.0.1:8080"
	}
	return &App{store: d.Store, outbox: d.Outbox, policy: d.Policy, disposable: disposable, baseURL: strings.TrimRight(d.BaseURL, "/"),
		clock: d.Clock, log: d.Log, sessionIdle: d.SessionIdle, sessionMax: d.SessionMax}
}

// Viewer is who is asking: a signed-in person acting in one organization,
// and so seeing exactly that organization's subtree.
type Viewer struct {
	PersonID canopy.PersonID
	Name     string
	Email    string
	Org      canopy.Org
	Roles    []canopy.Role
	Actor    canopy.Actor
	// MustEnrolTwoStep: an organization of theirs requires two-step
	// verification and they have not enrolled; only enrolment is open.
	MustEnrolTwoStep bool
	// Acting is set under Admin Login: Org is then the customer and Roles
	// are a customer Admin's.
	Acting *Acting
	// Inside a customer account (its people, and Admin Login): Modules
	// are the modules the viewer may open — all of the customer's for an
	// Admin, those granted and still available for a User. SubAccounts,
	// when not nil, are the only sub-accounts (with what lies beneath
	// them) a User may see; a User granted none sees them all.
	Modules         []canopy.Module
	SubAccounts     []canopy.OrgID
	customerModules []canopy.Module
}

// Acting describes an Admin Login: a staff person acting inside a customer
// as its administrator, for a reason, until a time.
type Acting struct {
	Customer canopy.Org
	FromOrg  canopy.OrgID
	Reason   string
	Until    time.Time
}

// Scope is the subtree the viewer may see.
func (v Viewer) Scope() canopy.Scope { return canopy.ScopeOf(v.Org) }

// change builds a change-log entry about org by actor at now.
func change(actor canopy.Actor, org canopy.Org, action canopy.Action, targetType, targetID, targetName string, before, after any, now time.Time) canopy.Change {
	return canopy.Change{
		OrgID: org.ID, OrgPath: org.Path, Actor: actor, Action: action,
		TargetType: targetType, TargetID: targetID, TargetName: targetName,
		Before: canopy.Snapshot(before), After: canopy.Snapshot(after), At: now,
	}
}

package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/mail"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/google/uuid"
)

// End-user portal limits.
const (
	PortalLinkTTL      = 15 * time.Minute
	portalSessionTTL   = 8 * time.Hour
	portalLinksPerUser = 3 // per PortalLinkTTL
)

// Portal is a customer's end-user portal as its visitors see it.
type Portal struct {
	Customer   canopy.Customer
	Open       bool // the end-user portal is on
	MagicLink  bool // magic-link sign-in is on
	DomainLock bool // links go only to addresses at the customer's domains
}

// ErrPortalClosed answers a portal that is off, or a tenant that is not a customer.
var ErrPortalClosed = fmt.Errorf("this portal is not open: %w", canopy.ErrNotFound)

// PortalOf returns the portal of the customer with that tenant ID.
func (a *App) PortalOf(ctx context.Context, tenantID string) (Portal, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return Portal{}, ErrPortalClosed
	}
	all, err := a.platformScope(ctx)
	if err != nil {
		return Portal{}, err
	}
	// The tenant ID in the URL names the customer; nothing else is read.
	c, err := a.store.PortalCustomer(ctx, all, tenantID)
	if errors.Is(err, canopy.ErrNotFound) {
		return Portal{}, ErrPortalClosed
	}
	if err != nil {
		return Portal{}, err
	}
	settings, err := customerSettings(ctx, a.store, c.Org)
	if err != nil {
		return Portal{}, err
	}
	p := Portal{Customer: c, Open: settings[canopy.SettingEndUserPortal].On(), MagicLink: settings[canopy.SettingMagicLink].On(),
		DomainLock: settings[canopy.SettingDomainLock].On()}
	if !p.Open || c.Status == canopy.StatusSuspended {
		return Portal{}, ErrPortalClosed
	}
	return p, nil
}

// platformScope is the whole tree, read once: there is one platform and
// its path never changes.
func (a *App) platformScope(ctx context.Context) (canopy.Scope, error) {
	if s := a.platform.Load(); s != nil {
		return *s, nil
	}
	root, err := a.store.Platform(ctx)
	if err != nil {
		return canopy.Scope{}, err
	}
	s := canopy.ScopeOf(root)
	a.platform.Store(&s)
	return s, nil
}

// PortalLogo returns the portal's customer's logo (ErrNotFound without one).
func (a *App) PortalLogo(ctx context.Context, p Portal) (string, []byte, error) {
	ct, body, _, err := a.store.Logo(ctx, canopy.ScopeOf(p.Customer.Org), p.Customer.ID)
	return ct, body, err
}

// RequestPortalLink mails a magic link to an active end user of the
// portal's customer. It answers the same whatever the address: unknown,
// deactivated, outside the Domain Lock or asked too often get no mail,
// and nothing tells them apart. The portal's settings are those PortalOf
// read for this request.
func (a *App) RequestPortalLink(ctx context.Context, p Portal, email string) error {
	if !p.MagicLink {
		return nil
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !validEmail(email) {
		return canopy.FieldErrors{"email": "Enter your work email address, such as name@example.com."}
	}
	c := p.Customer
	_, domain, _ := strings.Cut(email, "@")
	if p.DomainLock && domain != c.Domain && !slices.Contains(c.Domains, domain) {
		return nil
	}
	now := a.clock.Now()
	since := now.Add(-PortalLinkTTL)
	// One read answers the common refusals without taking the writer; the
	// INSERT checks activity and the limit again, atomically.
	u, recent, err := a.store.EndUserForLink(ctx, c.ID, email, since)
	if errors.Is(err, canopy.ErrNotFound) || (err == nil && (!u.Active || recent >= portalLinksPerUser)) {
		return nil
	}
	if err != nil {
		return err
	}
	token, hash := newToken()
	// The mail is written before the transaction: it is most of the work
	// and holds no lock.
	msg, err := mail.Letter{Brand: c.BrandName(), Color: c.PrimaryColor, To: u.Email, Subject: "Your sign-in link for " + c.BrandName(),
		Greeting:    "Hello " + u.Name() + ",",
		Paragraphs:  []string{"Here is your link to " + c.BrandName() + "'s training portal."},
		ActionLabel: "Open the portal", ActionURL: a.baseURL + "/portal/" + c.TenantID + "/link/" + token,
		After: []string{"The link works once, for 15 minutes. If you did not ask for it, ignore this email."},
	}.Message()
	if err != nil {
		return err
	}
	return a.store.InBatchedTx(ctx, func(tx *store.Tx) error {
		created, err := tx.CreatePortalLink(ctx, store.PortalLink{TokenHash: hash, EndUserID: u.ID, CustomerID: c.ID,
			Created: now, Expiry: now.Add(PortalLinkTTL), Limit: portalLinksPerUser, Since: since})
		if err != nil || !created {
			return err
		}
		_, err = a.outbox.Queue(ctx, tx, c.ID, "portal_link", msg)
		return err
	})
}

// ErrPortalLinkUnusable answers a link that is unknown, used, expired, of
// another customer or of a deactivated user.
var ErrPortalLinkUnusable = fmt.Errorf("this sign-in link cannot be used: it has expired or was used already; ask for a new one: %w", canopy.ErrNotFound)

// CheckPortalLink reads a usable link without spending it (mail scanners
// open links; only the Continue button's POST signs in).
func (a *App) CheckPortalLink(ctx context.Context, p Portal, token string) (store.EndUser, error) {
	u, err := a.store.PeekPortalLink(ctx, hashToken(token), p.Customer.ID, a.clock.Now())
	if errors.Is(err, canopy.ErrNotFound) {
		return store.EndUser{}, ErrPortalLinkUnusable
	}
	return u, err
}

// RedeemPortalLink spends a link and opens a portal session; its token is
// returned for the cookie.
func (a *App) RedeemPortalLink(ctx context.Context, p Portal, token string) (string, error) {
	now := a.clock.Now()
	session, hash := newToken()
	err := a.store.SpendPortalLink(ctx, hashToken(token), p.Customer.ID, now, hash, now.Add(portalSessionTTL))
	if errors.Is(err, canopy.ErrNotFound) {
		return "", ErrPortalLinkUnusable
	}
	if err != nil {
		return "", err
	}
	return session, nil
}

// PortalUser returns the end user of a portal session of p's customer.
func (a *App) PortalUser(ctx context.Context, p Portal, session string) (store.EndUser, error) {
	if session == "" {
		return store.EndUser{}, canopy.ErrUnauthenticated
	}
	u, err := a.store.PortalSession(ctx, hashToken(session), p.Customer.ID, a.clock.Now())
	if errors.Is(err, canopy.ErrNotFound) {
		return store.EndUser{}, canopy.ErrUnauthenticated
	}
	return u, err
}

// EndPortalSession signs an end user out.
func (a *App) EndPortalSession(ctx context.Context, session string) error {
	return a.store.DeletePortalSession(ctx, hashToken(session))
}

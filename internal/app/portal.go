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
	Customer  canopy.Customer
	Open      bool // the end-user portal is on
	MagicLink bool // magic-link sign-in is on
}

// ErrPortalClosed answers a portal that is off, or a tenant that is not a customer.
var ErrPortalClosed = fmt.Errorf("this portal is not open: %w", canopy.ErrNotFound)

// PortalOf returns the portal of the customer with that tenant ID.
func (a *App) PortalOf(ctx context.Context, tenantID string) (Portal, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return Portal{}, ErrPortalClosed
	}
	root, err := a.store.Platform(ctx)
	if err != nil {
		return Portal{}, err
	}
	// The tenant ID in the URL names the customer; nothing else is read.
	c, err := a.store.CustomerByTenantID(ctx, canopy.ScopeOf(root), tenantID)
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
	p := Portal{Customer: c, Open: settings[canopy.SettingEndUserPortal].On(), MagicLink: settings[canopy.SettingMagicLink].On()}
	if !p.Open || c.Status == canopy.StatusSuspended {
		return Portal{}, ErrPortalClosed
	}
	return p, nil
}

// RequestPortalLink mails a magic link to an active end user of the
// portal's customer. It answers the same whatever the address: unknown,
// deactivated, outside the Domain Lock or asked too often get no mail,
// and nothing tells them apart.
func (a *App) RequestPortalLink(ctx context.Context, p Portal, email string) error {
	if !p.MagicLink {
		return nil
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !validEmail(email) {
		return canopy.FieldErrors{"email": "Enter your work email address, such as name@example.com."}
	}
	c := p.Customer
	settings, err := customerSettings(ctx, a.store, c.Org)
	if err != nil {
		return err
	}
	_, domain, _ := strings.Cut(email, "@")
	if settings[canopy.SettingDomainLock].On() && !slices.Contains(append([]string{c.Domain}, c.Domains...), domain) {
		return nil
	}
	u, err := a.store.EndUserByEmail(ctx, c.ID, email)
	if errors.Is(err, canopy.ErrNotFound) || (err == nil && !u.Active) {
		return nil
	}
	if err != nil {
		return err
	}
	now := a.clock.Now()
	if n, err := a.store.RecentPortalLinks(ctx, u.ID, now.Add(-PortalLinkTTL)); err != nil || n >= portalLinksPerUser {
		return err
	}
	token, hash := newToken()
	link := a.baseURL + "/portal/" + c.TenantID + "/link/" + token
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreatePortalLink(ctx, hash, u.ID, c.ID, now, now.Add(PortalLinkTTL)); err != nil {
			return err
		}
		msg, err := mail.Letter{Brand: c.BrandName(), Color: c.PrimaryColor, To: u.Email, Subject: "Your sign-in link for " + c.BrandName(),
			Greeting:    "Hello " + u.Name() + ",",
			Paragraphs:  []string{"Here is your link to " + c.BrandName() + "'s training portal."},
			ActionLabel: "Open the portal", ActionURL: link,
			After: []string{"The link works once, for 15 minutes. If you did not ask for it, ignore this email."},
		}.Message()
		if err != nil {
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
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.SpendPortalLink(ctx, hashToken(token), p.Customer.ID, now)
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrPortalLinkUnusable
		}
		if err != nil {
			return err
		}
		return tx.CreatePortalSession(ctx, hash, u, now, now.Add(portalSessionTTL))
	})
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

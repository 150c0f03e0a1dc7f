package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Link purposes.
const (
	// PurposeFirstSignIn is the one-time link printed for the demo platform
	// administrator at first start.
	PurposeFirstSignIn = "first_sign_in"
)

// touchEvery limits how often a session's last-seen time is written: the
// idle timeout needs minute precision, not a write per request.
const touchEvery = time.Minute

// newToken returns a random URL-safe token and the hash stored for it.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IssueSigninLink creates a single-use sign-in link token for person at org,
// valid for ttl. The caller shows or mails the token; only its hash is stored.
func (a *App) IssueSigninLink(ctx context.Context, person canopy.PersonID, org canopy.OrgID, purpose string, ttl time.Duration) (string, error) {
	now := a.clock.Now()
	token, hash := newToken()
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSigninLink(ctx, store.SigninLink{TokenHash: hash, PersonID: person, OrgID: org, Purpose: purpose, Created: now, Expires: now.Add(ttl)})
	})
	if err != nil {
		return "", fmt.Errorf("issue sign-in link: %w", err)
	}
	return token, nil
}

// ErrLinkUnusable is returned for a link that is unknown, used or expired:
// one answer for all three, so a guess learns nothing.
var ErrLinkUnusable = fmt.Errorf("this sign-in link cannot be used: it has expired or was used already: %w", canopy.ErrNotFound)

// CheckSigninLink reports whether a link could be redeemed, without spending
// it (a GET that mail scanners may follow must not sign anyone in).
func (a *App) CheckSigninLink(ctx context.Context, token, purpose string) error {
	if _, err := a.store.PeekSigninLink(ctx, hashToken(token), purpose, a.clock.Now()); err != nil {
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrLinkUnusable
		}
		return err
	}
	return nil
}

// RedeemSigninLink spends a link and opens a session; the session token is
// returned for the cookie. The sign-in is logged in the same transaction.
func (a *App) RedeemSigninLink(ctx context.Context, token, purpose, ip, userAgent string) (string, error) {
	now := a.clock.Now()
	var sessionToken string
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		link, err := tx.SpendSigninLink(ctx, hashToken(token), purpose, now)
		if errors.Is(err, canopy.ErrNotFound) {
			return ErrLinkUnusable
		}
		if err != nil {
			return err
		}
		p, err := tx.PersonByID(ctx, link.PersonID)
		if err != nil {
			return err
		}
		// The link names where the person signs in; that defines their scope.
		org, err := tx.OrgUnscoped(ctx, link.OrgID)
		if err != nil {
			return err
		}
		sessionToken, err = a.openSession(ctx, tx, p, org, purpose, ip, userAgent, now)
		return err
	})
	if err != nil {
		return "", err
	}
	return sessionToken, nil
}

// Authenticate returns the viewer of a session token, or ErrUnauthenticated
// if the session is unknown, idle too long or past its absolute lifetime.
func (a *App) Authenticate(ctx context.Context, token, ip, userAgent string) (Viewer, error) {
	if token == "" {
		return Viewer{}, canopy.ErrUnauthenticated
	}
	hash := hashToken(token)
	sess, err := a.store.SessionByHash(ctx, hash)
	if errors.Is(err, canopy.ErrNotFound) {
		return Viewer{}, canopy.ErrUnauthenticated
	}
	if err != nil {
		return Viewer{}, err
	}
	now := a.clock.Now()
	// A membership removed or deactivated since sign-in ends the session.
	if sess.MembershipStatus != "active" {
		if err := a.store.DeleteSession(ctx, hash); err != nil {
			a.log.Warn("could not delete session of a removed membership", "err", err)
		}
		return Viewer{}, canopy.ErrUnauthenticated
	}
	if !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= a.sessionIdle {
		if err := a.store.DeleteSession(ctx, hash); err != nil {
			a.log.Warn("could not delete expired session", "err", err)
		}
		return Viewer{}, canopy.ErrUnauthenticated
	}
	// The session's organization (read with it) is where the person signed
	// in; it defines their scope.
	org := sess.Org
	if now.Sub(sess.LastSeen) >= touchEvery {
		if err := a.store.TouchSession(ctx, hash, now); err != nil {
			a.log.Warn("could not touch session", "err", err)
		}
	}
	roles := make([]canopy.Role, len(sess.Roles))
	for i, r := range sess.Roles {
		roles[i] = canopy.Role(r)
	}
	v := Viewer{
		PersonID: sess.PersonID, Name: sess.PersonName, Email: sess.PersonEmail, Org: org, Roles: roles, MustEnrolTwoStep: sess.MustEnrolTwoStep,
		Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: sess.PersonID, Name: sess.PersonName, IP: ip, UserAgent: userAgent},
	}
	if sess.ActingFromOrgID != 0 {
		if !now.Before(sess.ActingUntil) {
			// The time box is over: back to where the person signed in.
			if err := a.endActing(ctx, hash, v, sess, "time limit reached"); err != nil {
				return Viewer{}, err
			}
			return a.Authenticate(ctx, token, ip, userAgent)
		}
		v.Roles = []canopy.Role{canopy.RoleCustomerAdmin}
		v.Acting = &Acting{Customer: org, FromOrg: sess.ActingFromOrgID, Reason: sess.ActingReason, Until: sess.ActingUntil}
		v.Actor.OnBehalfOfName = actingAs(org)
	}
	if org.Kind == canopy.KindCustomer {
		v.customerModules = sess.CustomerModules
		v.Modules = sess.CustomerModules
		if !v.Can(PermManageCustomerOrg) {
			v.Modules = nil
			for _, m := range sess.GrantedModules {
				if slices.Contains(sess.CustomerModules, m) {
					v.Modules = append(v.Modules, m)
				}
			}
			if len(sess.GrantedSubAccounts) > 0 { // none chosen: the whole account
				v.SubAccounts = sess.GrantedSubAccounts
			}
		}
	}
	return v, nil
}

// actingAs is how the change log names the context of an Admin Login.
func actingAs(customer canopy.Org) string {
	return customer.Name + " administrator (Admin Login)"
}

// SignOut ends the session of token.
func (a *App) SignOut(ctx context.Context, token string) error {
	return a.store.DeleteSession(ctx, hashToken(token))
}

// SessionInfo is one of the viewer's sessions, for the sessions page.
type SessionInfo struct {
	Current   bool
	Created   time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
}

// MySessions lists the sessions of the person signed in with token.
func (a *App) MySessions(ctx context.Context, v Viewer, token string) ([]SessionInfo, error) {
	all, err := a.store.SessionsOf(ctx, v.PersonID)
	if err != nil {
		return nil, err
	}
	current := hashToken(token)
	out := make([]SessionInfo, len(all))
	for i, s := range all {
		out[i] = SessionInfo{Current: s.TokenHash == current, Created: s.Created, LastSeen: s.LastSeen, IP: s.IP, UserAgent: s.UserAgent}
	}
	return out, nil
}

// SignOutEverywhereElse ends every session of the viewer but this one.
func (a *App) SignOutEverywhereElse(ctx context.Context, v Viewer, token string) (int64, error) {
	return a.store.EndOtherSessions(ctx, v.PersonID, hashToken(token))
}

// RotateSession replaces a session's token (after a change of privilege,
// so a token seen before the change is worthless) and returns the new one.
func (a *App) RotateSession(ctx context.Context, token string) (string, error) {
	newToken, newHash := newToken()
	if err := a.store.RotateSession(ctx, hashToken(token), newHash); err != nil {
		return "", err
	}
	return newToken, nil
}

// linkHolder reads a usable link of purpose without spending it and loads
// the person it is for; unusable links answer unusable.
func (a *App) linkHolder(ctx context.Context, token, purpose string, unusable error) (store.SigninLink, store.Credentials, error) {
	link, err := a.store.PeekSigninLink(ctx, hashToken(token), purpose, a.clock.Now())
	if errors.Is(err, canopy.ErrNotFound) {
		return store.SigninLink{}, store.Credentials{}, unusable
	}
	if err != nil {
		return store.SigninLink{}, store.Credentials{}, err
	}
	var c store.Credentials
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err = tx.Credentials(ctx, link.PersonID)
		return err
	})
	return link, c, err
}

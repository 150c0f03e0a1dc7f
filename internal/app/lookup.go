package app

import (
	"context"
	"fmt"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/google/uuid"
)

// OrgByTenant returns the organization with that public tenant ID if it
// lies in the viewer's subtree: adapters name organizations by tenant ID
// and the use cases take internal IDs. Another tenant's is ErrNotFound.
func (a *App) OrgByTenant(ctx context.Context, v Viewer, tenantID string) (canopy.Org, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return canopy.Org{}, fmt.Errorf("organization %q: %w", tenantID, canopy.ErrNotFound)
	}
	return a.store.OrgByTenantID(ctx, v.Scope(), tenantID)
}

// Now is the app's clock, for adapters that show durations (a trial's days
// left) the same way the use cases compute them.
func (a *App) Now() time.Time { return a.clock.Now() }

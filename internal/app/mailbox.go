package app

import (
	"context"
	"fmt"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// MayReadMailbox reports whether v may read the outbox: on a demo install
// everyone signed in may; otherwise only staff signed in at the platform,
// because the outbox holds every tenant's mail.
func MayReadMailbox(v Viewer, demo bool) bool {
	return demo || v.Org.Kind == canopy.KindPlatform
}

// Mailbox lists the newest mails of the outbox.
func (a *App) Mailbox(ctx context.Context, v Viewer, demo bool, beforeID int64) ([]store.Mail, error) {
	if !MayReadMailbox(v, demo) {
		return nil, fmt.Errorf("mailbox: %w", canopy.ErrNotFound)
	}
	return a.store.RecentMail(ctx, "", beforeID, 50)
}

// MailboxMessage returns one mail with its delivery attempts.
func (a *App) MailboxMessage(ctx context.Context, v Viewer, demo bool, id int64) (store.Mail, []store.MailAttempt, error) {
	if !MayReadMailbox(v, demo) {
		return store.Mail{}, nil, fmt.Errorf("mailbox: %w", canopy.ErrNotFound)
	}
	m, err := a.store.Mail(ctx, id)
	if err != nil {
		return store.Mail{}, nil, err
	}
	attempts, err := a.store.MailAttempts(ctx, id)
	return m, attempts, err
}

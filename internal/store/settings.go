package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
)

// SettingRow is one stored setting of an organization.
type SettingRow struct {
	OrgID  canopy.OrgID
	Key    canopy.SettingKey
	Value  string
	Locked bool
}

// SettingsOf returns the stored settings of the given organizations (a
// customer, its MSP and its distributor: the layers of its effective
// settings). Callers pass organizations they have already read in scope.
func (s *Store) SettingsOf(ctx context.Context, orgs ...canopy.OrgID) ([]SettingRow, error) {
	return settingsOf(ctx, s.r, orgs)
}

// SettingsOf is Store.SettingsOf inside a write transaction.
func (tx *Tx) SettingsOf(ctx context.Context, orgs ...canopy.OrgID) ([]SettingRow, error) {
	return settingsOf(ctx, tx, orgs)
}

func settingsOf(ctx context.Context, q querier, orgs []canopy.OrgID) ([]SettingRow, error) {
	if len(orgs) == 0 {
		return nil, nil
	}
	args := make([]any, len(orgs))
	ph := make([]string, len(orgs))
	for i, o := range orgs {
		args[i], ph[i] = int64(o), fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT org_id, key, value, locked FROM org_settings WHERE org_id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	var out []SettingRow
	for rows.Next() {
		var r SettingRow
		if err := rows.Scan(&r.OrgID, &r.Key, &r.Value, &r.Locked); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutSetting stores an organization's value for key.
func (tx *Tx) PutSetting(ctx context.Context, org canopy.OrgID, key canopy.SettingKey, value string, locked bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO org_settings (org_id, key, value, locked, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, locked = excluded.locked, updated_at = excluded.updated_at`,
		org, string(key), value, locked, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("put setting %s: %w", key, err)
	}
	return nil
}

// DeleteSetting removes an organization's value for key (it inherits again).
func (tx *Tx) DeleteSetting(ctx context.Context, org canopy.OrgID, key canopy.SettingKey) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM org_settings WHERE org_id = $1 AND key = $2`, org, string(key)); err != nil {
		return fmt.Errorf("delete setting %s: %w", key, err)
	}
	return nil
}

// RefreshTwoStepOfCustomers recomputes orgs.enforce_two_step, which sign-in
// reads, for every customer in scope from the layered setting: the
// distributor's lock, else the customer's override, else the MSP's default,
// else off. One statement, whatever the number of customers.
func (tx *Tx) RefreshTwoStepOfCustomers(ctx context.Context, scope canopy.Scope) error {
	lo, hi := scope.Bounds()
	key := string(canopy.SettingEnforceTwoStep)
	_, err := tx.ExecContext(ctx, `UPDATE orgs SET enforce_two_step = COALESCE(
			(SELECT s.value = 'true' FROM org_settings s JOIN customers c ON c.distributor_id = s.org_id
			  WHERE c.org_id = orgs.id AND s.key = $3 AND s.locked = $4),
			(SELECT s.value = 'true' FROM org_settings s WHERE s.org_id = orgs.id AND s.key = $3),
			(SELECT s.value = 'true' FROM org_settings s WHERE s.org_id = orgs.parent_id AND s.key = $3),
			$5)
		WHERE kind = 'customer' AND path >= $1 AND path < $2`, lo, hi, key, true, false)
	if err != nil {
		return fmt.Errorf("refresh two-step: %w", err)
	}
	return nil
}

package app

import (
	"context"
	"fmt"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// layered computes effective settings from the stored rows of a customer
// (0 when computing an MSP's defaults), its MSP and its distributor.
// Strongest first: the distributor's lock, the customer's override, the
// MSP's default, Canopy's built-in default.
func layered(rows []store.SettingRow, customer, msp, distributor canopy.OrgID) map[canopy.SettingKey]canopy.SettingValue {
	type layer struct {
		value string
		ok    bool
	}
	var locks, overrides, defaults = map[canopy.SettingKey]layer{}, map[canopy.SettingKey]layer{}, map[canopy.SettingKey]layer{}
	for _, r := range rows {
		switch {
		case r.OrgID == distributor && r.Locked:
			locks[r.Key] = layer{r.Value, true}
		case customer != 0 && r.OrgID == customer:
			overrides[r.Key] = layer{r.Value, true}
		case r.OrgID == msp:
			defaults[r.Key] = layer{r.Value, true}
		}
	}
	out := make(map[canopy.SettingKey]canopy.SettingValue, len(canopy.Settings))
	for _, info := range canopy.Settings {
		v := canopy.SettingValue{SettingInfo: info, Inherited: info.Default, InheritedSource: canopy.SourceBuiltIn}
		if d := defaults[info.Key]; d.ok && info.Valid(d.value) {
			v.Inherited, v.InheritedSource = d.value, canopy.SourceMSP
		}
		v.Value, v.Source = v.Inherited, v.InheritedSource
		if o := overrides[info.Key]; o.ok && info.PerCustomer && info.Valid(o.value) {
			v.Value, v.Source = o.value, canopy.SourceCustomer
		}
		if l := locks[info.Key]; l.ok && info.Valid(l.value) {
			v.Value, v.Source = l.value, canopy.SourceDistributor
			v.Inherited, v.InheritedSource = l.value, canopy.SourceDistributor
		}
		out[info.Key] = v
	}
	return out
}

// settingsQuerier is what both the store and a transaction offer.
type settingsQuerier interface {
	SettingsOf(ctx context.Context, orgs ...canopy.OrgID) ([]store.SettingRow, error)
}

func (a *App) mspDefaults(ctx context.Context, q settingsQuerier, msp canopy.Org) (map[canopy.SettingKey]canopy.SettingValue, error) {
	dist := distributorOf(msp)
	rows, err := q.SettingsOf(ctx, msp.ID, dist)
	if err != nil {
		return nil, err
	}
	return layered(rows, 0, msp.ID, dist), nil
}

func customerSettings(ctx context.Context, q settingsQuerier, c canopy.Org) (map[canopy.SettingKey]canopy.SettingValue, error) {
	dist := distributorOf(c)
	rows, err := q.SettingsOf(ctx, c.ID, c.ParentID, dist)
	if err != nil {
		return nil, err
	}
	return layered(rows, c.ID, c.ParentID, dist), nil
}

func distributorOf(o canopy.Org) canopy.OrgID { return canopy.DistributorOfPath(o.Path) }

// SettingsList orders effective settings as canopy.Settings does.
func SettingsList(m map[canopy.SettingKey]canopy.SettingValue, perCustomerOnly bool) []canopy.SettingValue {
	var out []canopy.SettingValue
	for _, info := range canopy.Settings {
		if perCustomerOnly && !info.PerCustomer {
			continue
		}
		out = append(out, m[info.Key])
	}
	return out
}

// CustomerSettings returns a customer's effective settings with where each
// comes from.
func (a *App) CustomerSettings(ctx context.Context, v Viewer, c canopy.Org) (map[canopy.SettingKey]canopy.SettingValue, error) {
	if !v.Scope().Contains(c.Path) {
		return nil, fmt.Errorf("settings: %w", canopy.ErrNotFound)
	}
	return customerSettings(ctx, a.store, c)
}

// SetCustomerSetting overrides one setting for a customer (value "") or,
// with reset, returns it to the inherited value. A value the distributor
// locked cannot be changed.
func (a *App) SetCustomerSetting(ctx context.Context, v Viewer, id canopy.OrgID, key canopy.SettingKey, value string, reset bool) error {
	info, ok := key.Info()
	if !ok || !info.PerCustomer {
		return canopy.FieldErrors{"key": fmt.Sprintf("%q is not a customer setting.", key)}
	}
	if !reset && !info.Valid(value) {
		return canopy.FieldErrors{string(key): "Use true or false."}
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), id)
		if err != nil {
			return err
		}
		if c.Kind != canopy.KindCustomer {
			return fmt.Errorf("settings: %w", canopy.ErrNotFound)
		}
		if err := mayManage(v, c); err != nil {
			return err
		}
		current, err := customerSettings(ctx, tx, c)
		if err != nil {
			return err
		}
		cur := current[key]
		if cur.Locked() {
			return fmt.Errorf("%s is locked by the distributor: %w", info.Label, ErrLocked)
		}
		if reset {
			if !cur.Overridden() {
				return nil
			}
			err = tx.DeleteSetting(ctx, c.ID, key)
			value = cur.Inherited
		} else {
			if cur.Overridden() && cur.Value == value {
				return nil
			}
			err = tx.PutSetting(ctx, c.ID, key, value, false, now)
		}
		if err != nil {
			return err
		}
		if key == canopy.SettingEnforceTwoStep {
			if err := tx.RefreshTwoStepOfCustomers(ctx, canopy.ScopeOf(c)); err != nil {
				return err
			}
		}
		after := map[string]any{string(key): value}
		if reset {
			after["inherited"] = true
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionUpdateSettings, "customer", c.TenantID, c.Name,
			map[string]any{string(key): cur.Value}, after, now))
		return err
	})
}

// ErrLocked refuses a change to a setting the distributor locked. It is a
// kind of ErrConflict: the request is understood, the state forbids it.
var ErrLocked = fmt.Errorf("setting locked by the distributor: %w", canopy.ErrConflict)

// CustomerDefaults returns an MSP's customer defaults (with distributor locks).
func (a *App) CustomerDefaults(ctx context.Context, v Viewer, msp canopy.OrgID) (canopy.Org, map[canopy.SettingKey]canopy.SettingValue, error) {
	o, err := a.store.Org(ctx, v.Scope(), msp)
	if err != nil {
		return canopy.Org{}, nil, err
	}
	if o.Kind != canopy.KindMSP {
		return canopy.Org{}, nil, fmt.Errorf("customer defaults of a %s: %w", o.Kind.Label(), canopy.ErrNotFound)
	}
	if !v.Can(PermViewCustomers) {
		return canopy.Org{}, nil, fmt.Errorf("customer defaults: %w", canopy.ErrForbidden)
	}
	m, err := a.mspDefaults(ctx, a.store, o)
	return o, m, err
}

// SetCustomerDefault sets (or, with reset, removes) an MSP's default for
// its customers. Customers without an override follow it at once.
func (a *App) SetCustomerDefault(ctx context.Context, v Viewer, msp canopy.OrgID, key canopy.SettingKey, value string, reset bool) error {
	info, ok := key.Info()
	if !ok {
		return canopy.FieldErrors{"key": fmt.Sprintf("%q is not a setting.", key)}
	}
	if !reset && !info.Valid(value) {
		if info.Number {
			return canopy.FieldErrors{string(key): fmt.Sprintf("Enter a number from %d to %d.", info.Min, info.Max)}
		}
		return canopy.FieldErrors{string(key): "Use true or false."}
	}
	if !v.Can(PermConfigurePartner) {
		return fmt.Errorf("customer defaults: %w", canopy.ErrForbidden)
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.Org(ctx, v.Scope(), msp)
		if err != nil {
			return err
		}
		if o.Kind != canopy.KindMSP {
			return fmt.Errorf("customer defaults of a %s: %w", o.Kind.Label(), canopy.ErrNotFound)
		}
		current, err := a.mspDefaults(ctx, tx, o)
		if err != nil {
			return err
		}
		cur := current[key]
		if cur.Locked() {
			return fmt.Errorf("%s is locked by the distributor: %w", info.Label, ErrLocked)
		}
		if reset {
			if cur.Source != canopy.SourceMSP {
				return nil
			}
			err, value = tx.DeleteSetting(ctx, o.ID, key), info.Default
		} else {
			if cur.Source == canopy.SourceMSP && cur.Value == value {
				return nil
			}
			err = tx.PutSetting(ctx, o.ID, key, value, false, now)
		}
		if err != nil {
			return err
		}
		if key == canopy.SettingEnforceTwoStep {
			if err := tx.RefreshTwoStepOfCustomers(ctx, canopy.ScopeOf(o)); err != nil {
				return err
			}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionUpdateDefaults, "msp", o.TenantID, o.Name,
			map[string]any{string(key): cur.Value}, map[string]any{string(key): value}, now))
		return err
	})
}

// DistributorLocks returns the settings a distributor imposes (key → value).
func (a *App) DistributorLocks(ctx context.Context, v Viewer, dist canopy.OrgID) (canopy.Org, map[canopy.SettingKey]string, error) {
	o, err := a.store.Org(ctx, v.Scope(), dist)
	if err != nil {
		return canopy.Org{}, nil, err
	}
	if o.Kind != canopy.KindDistributor {
		return canopy.Org{}, nil, fmt.Errorf("locks of a %s: %w", o.Kind.Label(), canopy.ErrNotFound)
	}
	rows, err := a.store.SettingsOf(ctx, o.ID)
	if err != nil {
		return canopy.Org{}, nil, err
	}
	out := map[canopy.SettingKey]string{}
	for _, r := range rows {
		if r.Locked {
			out[r.Key] = r.Value
		}
	}
	return o, out, nil
}

// LockCustomerDefault makes a distributor impose value for key on every
// customer of its MSPs (or, with unlock, stop imposing it).
func (a *App) LockCustomerDefault(ctx context.Context, v Viewer, dist canopy.OrgID, key canopy.SettingKey, value string, unlock bool) error {
	info, ok := key.Info()
	if !ok {
		return canopy.FieldErrors{"key": fmt.Sprintf("%q is not a setting.", key)}
	}
	if !unlock && !info.Valid(value) {
		return canopy.FieldErrors{string(key): "Use a valid value for this setting."}
	}
	if err := v.requireDistributorConfig("lock setting"); err != nil {
		return err
	}
	now := a.clock.Now()
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		o, err := tx.Org(ctx, v.Scope(), dist)
		if err != nil {
			return err
		}
		if o.Kind != canopy.KindDistributor {
			return fmt.Errorf("lock setting: %w", canopy.ErrNotFound)
		}
		if unlock {
			err = tx.DeleteSetting(ctx, o.ID, key)
		} else {
			err = tx.PutSetting(ctx, o.ID, key, value, true, now)
		}
		if err != nil {
			return err
		}
		if key == canopy.SettingEnforceTwoStep {
			if err := tx.RefreshTwoStepOfCustomers(ctx, canopy.ScopeOf(o)); err != nil {
				return err
			}
		}
		after := map[string]any{string(key): value, "locked": !unlock}
		_, err = tx.RecordChange(ctx, change(v.Actor, o, canopy.ActionUpdateDefaults, "distributor", o.TenantID, o.Name, nil, after, now))
		return err
	})
}

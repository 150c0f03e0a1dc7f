package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
)

// Settings is partner configuration: an MSP's customer defaults, a
// distributor's locks and its MSPs' customer lifecycle.
func (w *Web) Settings(rw http.ResponseWriter, r *http.Request) error {
	if v, _ := ViewerFrom(r.Context()); v.InCustomer() {
		return fmt.Errorf("partner settings: %w", canopy.ErrNotFound) // a customer's are on its Configuration tab
	}
	return w.renderSettings(rw, r, http.StatusOK, nil)
}

func (w *Web) renderSettings(rw http.ResponseWriter, r *http.Request, status int, errs canopy.FieldErrors) error {
	v, _ := ViewerFrom(r.Context())
	data := map[string]any{"Errors": errs, "Done": r.URL.Query().Get("done"), "CanEdit": v.Can(app.PermConfigurePartner)}
	switch v.Org.Kind {
	case canopy.KindMSP:
		_, defaults, err := w.app.CustomerDefaults(r.Context(), v, v.Org.ID)
		if err != nil {
			return err
		}
		data["Defaults"] = app.SettingsList(defaults, false)
	case canopy.KindDistributor:
		_, locks, err := w.app.DistributorLocks(r.Context(), v, v.Org.ID)
		if err != nil {
			return err
		}
		msps, err := w.app.MSPs(r.Context(), v)
		if err != nil {
			return err
		}
		data["Settings"], data["Locks"], data["MSPs"] = canopy.Settings, locks, msps
	}
	return w.render(rw, r, status, "settings", page{Title: "Settings", Nav: "settings", Data: data})
}

func (w *Web) settingResult(rw http.ResponseWriter, r *http.Request, key string, err error) error {
	if err == nil {
		http.Redirect(rw, r, "/settings?done=saved", http.StatusSeeOther)
		return nil
	}
	if errors.Is(err, app.ErrLocked) {
		return w.renderSettings(rw, r, http.StatusConflict, canopy.FieldErrors{key: "Locked by your distributor: it cannot be changed here."})
	}
	fe, other := formError(err)
	if other != nil {
		return other
	}
	return w.renderSettings(rw, r, http.StatusUnprocessableEntity, fe)
}

// DefaultSubmit sets or resets one of the MSP's customer defaults.
func (w *Web) DefaultSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	key := r.PostFormValue("key")
	err := w.app.SetCustomerDefault(r.Context(), v, v.Org.ID, canopy.SettingKey(key), r.PostFormValue("value"), r.PostFormValue("reset") != "")
	return w.settingResult(rw, r, key, err)
}

// LockSubmit locks or unlocks a default for every customer of the distributor's MSPs.
func (w *Web) LockSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	key := r.PostFormValue("key")
	err := w.app.LockCustomerDefault(r.Context(), v, v.Org.ID, canopy.SettingKey(key), r.PostFormValue("value"), r.PostFormValue("unlock") != "")
	return w.settingResult(rw, r, key, err)
}

// LifecycleSubmit says whether the distributor manages an MSP's customers' lifecycle.
func (w *Web) LifecycleSubmit(rw http.ResponseWriter, r *http.Request) error {
	v, _ := ViewerFrom(r.Context())
	o, err := w.app.OrgOf(r.Context(), v, r.PostFormValue("msp"))
	if err != nil {
		return err
	}
	err = w.app.SetLifecycleByDistributor(r.Context(), v, o.ID, r.PostFormValue("on") == "true")
	return w.settingResult(rw, r, "lifecycle", err)
}

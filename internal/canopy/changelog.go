package canopy

import (
	"encoding/json"
	"time"
)

// Action names a kind of change in the change log. The vocabulary lives here
// and only here; filters, exports and the UI list it from Actions.
type Action string

// The twenty actions of the distributor portal's change log, then Canopy's own.
const (
	ActionAddClient         Action = "add_client"
	ActionAddCompany        Action = "add_company"
	ActionAddCompanyGroup   Action = "add_company_group"
	ActionAddRole           Action = "add_role"
	ActionAddRoleGroup      Action = "add_role_group"
	ActionAddSupportUser    Action = "add_support_user"
	ActionAddUser           Action = "add_user"
	ActionAddUserGroup      Action = "add_user_group"
	ActionGrantRole         Action = "grant_role"
	ActionGrantRoleGroup    Action = "grant_role_group"
	ActionRemoveClient      Action = "remove_client"
	ActionRemoveCompany     Action = "remove_company"
	ActionRemoveCompanyGrp  Action = "remove_company_group"
	ActionRemoveRole        Action = "remove_role"
	ActionRemoveRoleGroup   Action = "remove_role_group"
	ActionRemoveSupportUser Action = "remove_support_user"
	ActionRemoveUser        Action = "remove_user"
	ActionRemoveUserGroup   Action = "remove_user_group"
	ActionRevokeRole        Action = "revoke_role"
	ActionRevokeRoleGroup   Action = "revoke_role_group"

	ActionCreateOrg          Action = "create_organization"
	ActionUpdateOrg          Action = "update_organization"
	ActionDeleteOrg          Action = "delete_organization"
	ActionCreateCustomer     Action = "create_customer"
	ActionUpdateCustomer     Action = "update_customer"
	ActionDeleteCustomer     Action = "delete_customer"
	ActionChangeStatus       Action = "change_customer_status"
	ActionExpireTrial        Action = "expire_trial"
	ActionUpdateSettings     Action = "update_settings"
	ActionUpdateUser         Action = "update_user"
	ActionDeactivateUser     Action = "deactivate_user"
	ActionReactivateUser     Action = "reactivate_user"
	ActionSignIn             Action = "sign_in"
	ActionAdminLoginStart    Action = "admin_login_start"
	ActionAdminLoginEnd      Action = "admin_login_end"
	ActionInviteSent         Action = "invite_sent"
	ActionInviteResent       Action = "invite_resent"
	ActionInviteRevoked      Action = "invite_revoked"
	ActionInviteAccepted     Action = "invite_accepted"
	ActionEmailChanged       Action = "email_changed"
	ActionReset2FA           Action = "reset_two_step"
	ActionAddGroupMember     Action = "add_group_member"
	ActionRemoveGroupMember  Action = "remove_group_member"
	ActionSetGroupManagers   Action = "set_group_managers"
	ActionDirectorySyncRun   Action = "directory_sync_run"
	ActionCreateSubAccount   Action = "create_sub_account"
	ActionDeleteSubAccount   Action = "delete_sub_account"
	ActionCreateAPIKey       Action = "create_api_key"
	ActionRevokeAPIKey       Action = "revoke_api_key"
	ActionUpdateDefaults     Action = "update_customer_defaults"
	ActionRegistrationResent Action = "registration_resent"
)

// ActionInfo describes an action for people: its label and whether it is one
// of the twenty classic portal actions.
type ActionInfo struct {
	Action  Action
	Label   string
	Classic bool
}

// Actions is the whole vocabulary in display order.
var Actions = []ActionInfo{
	{ActionAddClient, "Add client", true},
	{ActionAddCompany, "Add company", true},
	{ActionAddCompanyGroup, "Add company group", true},
	{ActionAddRole, "Add role", true},
	{ActionAddRoleGroup, "Add role group", true},
	{ActionAddSupportUser, "Add support user", true},
	{ActionAddUser, "Add user", true},
	{ActionAddUserGroup, "Add user group", true},
	{ActionGrantRole, "Grant role", true},
	{ActionGrantRoleGroup, "Grant role group", true},
	{ActionRemoveClient, "Remove client", true},
	{ActionRemoveCompany, "Remove company", true},
	{ActionRemoveCompanyGrp, "Remove company group", true},
	{ActionRemoveRole, "Remove role", true},
	{ActionRemoveRoleGroup, "Remove role group", true},
	{ActionRemoveSupportUser, "Remove support user", true},
	{ActionRemoveUser, "Remove user", true},
	{ActionRemoveUserGroup, "Remove user group", true},
	{ActionRevokeRole, "Revoke role", true},
	{ActionRevokeRoleGroup, "Revoke role group", true},

	{ActionCreateOrg, "Create organization", false},
	{ActionUpdateOrg, "Update organization", false},
	{ActionDeleteOrg, "Delete organization", false},
	{ActionCreateCustomer, "Create customer", false},
	{ActionUpdateCustomer, "Update customer", false},
	{ActionDeleteCustomer, "Delete customer", false},
	{ActionChangeStatus, "Change customer status", false},
	{ActionExpireTrial, "Trial expired", false},
	{ActionUpdateSettings, "Update settings", false},
	{ActionUpdateDefaults, "Update customer defaults", false},
	{ActionUpdateUser, "Update user", false},
	{ActionDeactivateUser, "Deactivate user", false},
	{ActionReactivateUser, "Reactivate user", false},
	{ActionEmailChanged, "Email changed", false},
	{ActionReset2FA, "Reset two-step verification", false},
	{ActionRegistrationResent, "Registration email resent", false},
	{ActionSignIn, "Sign in", false},
	{ActionAdminLoginStart, "Admin Login started", false},
	{ActionAdminLoginEnd, "Admin Login ended", false},
	{ActionInviteSent, "Invitation sent", false},
	{ActionInviteResent, "Invitation resent", false},
	{ActionInviteRevoked, "Invitation revoked", false},
	{ActionInviteAccepted, "Invitation accepted", false},
	{ActionAddGroupMember, "Add group member", false},
	{ActionRemoveGroupMember, "Remove group member", false},
	{ActionSetGroupManagers, "Set group managers", false},
	{ActionCreateSubAccount, "Create sub-account", false},
	{ActionDeleteSubAccount, "Delete sub-account", false},
	{ActionDirectorySyncRun, "Directory sync run", false},
	{ActionCreateAPIKey, "Create API key", false},
	{ActionRevokeAPIKey, "Revoke API key", false},
}

var actionIndex = func() map[Action]ActionInfo {
	m := make(map[Action]ActionInfo, len(Actions))
	for _, a := range Actions {
		m[a.Action] = a
	}
	return m
}()

// Known reports whether a is in the vocabulary.
func (a Action) Known() bool { _, ok := actionIndex[a]; return ok }

// Label is the action as people read it.
func (a Action) Label() string {
	if info, ok := actionIndex[a]; ok {
		return info.Label
	}
	return string(a)
}

// ChangeID identifies a change-log entry; IDs grow with time.
type ChangeID int64

// Change is one change-log entry: who (and on whose behalf) did what to
// which target of which organization, with the state before and after.
type Change struct {
	ID         ChangeID
	OrgID      OrgID  // the node the change concerns (customer, MSP, …)
	OrgPath    string // its materialized path at the time, for subtree views
	Actor      Actor
	Action     Action
	TargetType string
	TargetID   string
	TargetName string
	Before     json.RawMessage // nil when there was nothing before
	After      json.RawMessage // nil when nothing remains after
	At         time.Time
}

// ChangeFilter selects change-log entries of one organization: any of the
// actions (none means all), a time range [Since, Until) and an actor.
type ChangeFilter struct {
	Actions []Action
	Since   time.Time
	Until   time.Time
	ActorID PersonID
	// MSPSubtree widens an MSP's log to its customers' entries as well.
	MSPSubtree bool
	// Keyset paging, newest first: entries strictly older than the cursor
	// (BeforeAt, BeforeID) — the last entry of the previous page.
	BeforeAt time.Time
	BeforeID ChangeID
	Limit    int
}

// Snapshot marshals v for a change's Before or After; nil stays nil.
func Snapshot(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Values passed here are plain structs and maps; a failure is a bug.
		panic("canopy: snapshot: " + err.Error())
	}
	return b
}

package server

import "net/http"

// routes lists every route Canopy serves: web pages, static files,
// operations endpoints and the /api/v1 subtree (its operations are listed
// in internal/api and its OpenAPI document); /scim/v2 and the end-user
// portal join as they arrive.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	w := s.Web
	signedIn := func(h http.Handler) http.Handler { return w.RequireSession(h) }
	// Attempts to guess passwords, codes and links: 20 a minute per address.
	perMinute := 20
	if s.AttemptsPerMinute > 0 {
		perMinute = s.AttemptsPerMinute
	}
	attempts := newIPLimiter(perMinute, perMinute).throttle

	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metricsHandler())

	// JSON API (OpenAPI document at /api/v1/openapi.json).
	if s.API != nil {
		mux.Handle("/api/v1/", s.API)
		// The API's ways into an account are throttled like the pages'.
		for _, p := range []string{"POST /api/v1/sessions", "POST /api/v1/sessions/second-factor", "POST /api/v1/password/forgot",
			"POST /api/v1/password/reset/{token}", "POST /api/v1/registrations/{token}", "POST /api/v1/invitations/{token}",
			"POST /api/v1/email-changes/{token}", "POST /api/v1/portal/{tenant}/links", "PUT /api/v1/me/password"} {
			mux.Handle(p, attempts(s.API))
		}
	}

	// Static files under content-hashed names.
	mux.HandleFunc("GET /static/", w.Static)

	// Sign-in.
	mux.Handle("GET /signin", w.Handle(w.SignIn))
	mux.Handle("POST /signin", attempts(w.Handle(w.SignInSubmit)))
	mux.Handle("POST /signin/code", attempts(w.Handle(w.SecondFactorSubmit)))
	mux.Handle("GET /password/forgot", w.Handle(w.ForgotPage))
	mux.Handle("POST /password/forgot", attempts(w.Handle(w.ForgotSubmit)))
	mux.Handle("GET /password/reset/{token}", w.Handle(w.ResetPage))
	mux.Handle("POST /password/reset/{token}", attempts(w.Handle(w.ResetSubmit)))
	mux.Handle("GET /register/{token}", w.Handle(w.RegisterPage))
	mux.Handle("POST /register/{token}", w.Handle(w.RegisterSubmit))
	mux.Handle("GET /signin/link/{token}", w.Handle(w.LinkPage))
	mux.Handle("GET /invitations/{token}", w.Handle(w.InvitationPage))
	mux.Handle("POST /invitations/{token}", attempts(w.Handle(w.InvitationSubmit)))
	mux.Handle("POST /signin/link", attempts(w.Handle(w.RedeemLink)))
	mux.Handle("POST /signout", w.Handle(w.SignOut))

	// End-user portals: magic-link sign-in only, by customer tenant ID.
	mux.Handle("GET /portal/{tenant}", w.Handle(w.PortalHome))
	mux.Handle("GET /portal/{tenant}/logo", w.Handle(w.PortalLogo))
	mux.Handle("GET /portal/{tenant}/brand.css", w.Handle(w.PortalBrand))
	mux.Handle("POST /portal/{tenant}/link", attempts(w.Handle(w.PortalLinkRequest)))
	mux.Handle("GET /portal/{tenant}/link/{token}", w.Handle(w.PortalLinkPage))
	mux.Handle("POST /portal/{tenant}/link/{token}", attempts(w.Handle(w.PortalLinkRedeem)))
	mux.Handle("POST /portal/{tenant}/signout", w.Handle(w.PortalSignOut))

	// Portal pages.
	mux.Handle("GET /{$}", signedIn(w.Handle(w.Home)))
	mux.Handle("GET /tenants", signedIn(w.Handle(w.Tree)))
	mux.Handle("GET /tenants/{tenant}", signedIn(w.Handle(w.Org)))
	mux.Handle("GET /account", signedIn(w.Handle(w.MyDetails)))
	mux.Handle("POST /account", signedIn(w.Handle(w.MyDetailsSubmit)))
	mux.Handle("POST /account/email", signedIn(w.Handle(w.EmailChangeSubmit)))
	mux.Handle("POST /account/password", attempts(signedIn(w.Handle(w.PasswordChangeSubmit))))
	mux.Handle("GET /account/email/{token}", w.Handle(w.EmailConfirmPage))
	mux.Handle("POST /account/email/{token}", attempts(w.Handle(w.EmailConfirmSubmit)))
	mux.Handle("GET /account/sessions", signedIn(w.Handle(w.SessionsPage)))
	mux.Handle("POST /account/sessions/others", signedIn(w.Handle(w.SignOutOthers)))
	mux.Handle("GET /account/two-step", signedIn(w.Handle(w.TwoStepPage)))
	mux.Handle("POST /account/two-step", signedIn(w.Handle(w.TwoStepSubmit)))
	mux.Handle("GET /users", signedIn(w.Handle(w.Users)))
	mux.Handle("GET /users/{id}", signedIn(w.Handle(w.UserStatus)))
	mux.Handle("GET /users/{id}/remove", signedIn(w.Handle(w.RemoveUserPage)))
	mux.Handle("POST /users/{id}/remove", signedIn(w.Handle(w.RemoveUserSubmit)))
	mux.Handle("GET /users/{id}/edit", signedIn(w.Handle(w.EditUserPage)))
	mux.Handle("POST /users/{id}/edit", signedIn(w.Handle(w.EditUserSubmit)))
	mux.Handle("POST /users/{id}/resend", signedIn(w.Handle(w.ResendRegistrationSubmit)))
	mux.Handle("POST /users/{id}/reset-two-step", signedIn(w.Handle(w.ResetTwoStepSubmit)))
	mux.Handle("GET /users/new", signedIn(w.Handle(w.NewUserPage)))
	mux.Handle("POST /users/new", signedIn(w.Handle(w.NewUserSubmit)))
	mux.Handle("GET /mailbox", signedIn(w.Handle(w.Mailbox)))
	mux.Handle("GET /mailbox/{id}", signedIn(w.Handle(w.MailboxMessage)))
	// Customers (uService).
	mux.Handle("GET /customers", signedIn(w.Handle(w.Customers)))
	mux.Handle("GET /customers/new", signedIn(w.Handle(w.NewCustomerPage)))
	mux.Handle("POST /customers/new", signedIn(w.Handle(w.NewCustomerSubmit)))
	mux.Handle("GET /customers/{tenant}", signedIn(w.Handle(w.CustomerDetails)))
	mux.Handle("GET /customers/{tenant}/edit", signedIn(w.Handle(w.EditCustomerPage)))
	mux.Handle("POST /customers/{tenant}/edit", signedIn(w.Handle(w.EditCustomerSubmit)))
	mux.Handle("GET /customers/{tenant}/logo", signedIn(w.Handle(w.CustomerLogo)))
	mux.Handle("GET /customers/{tenant}/configuration", signedIn(w.Handle(w.CustomerConfiguration)))
	mux.Handle("POST /customers/{tenant}/settings", signedIn(w.Handle(w.CustomerSettingSubmit)))
	mux.Handle("POST /customers/{tenant}/sub-accounts", signedIn(w.Handle(w.SubAccountSubmit("create"))))
	mux.Handle("POST /customers/{tenant}/sub-accounts/{id}/rename", signedIn(w.Handle(w.SubAccountSubmit("rename"))))
	mux.Handle("POST /customers/{tenant}/sub-accounts/{id}/delete", signedIn(w.Handle(w.SubAccountSubmit("delete"))))
	mux.Handle("GET /customers/{tenant}/users", signedIn(w.Handle(w.CustomerUsers)))
	mux.Handle("POST /customers/{tenant}/invitations", signedIn(w.Handle(w.InviteSubmit)))
	mux.Handle("POST /customers/{tenant}/end-users", signedIn(w.Handle(w.AddEndUserSubmit)))
	mux.Handle("POST /customers/{tenant}/groups", signedIn(w.Handle(w.CreateGroupSubmit())))
	mux.Handle("POST /customers/{tenant}/groups/{id}/members", signedIn(w.Handle(w.GroupMembersSubmit())))
	mux.Handle("POST /customers/{tenant}/groups/{id}/managers", signedIn(w.Handle(w.GroupManagersSubmit())))
	mux.Handle("GET /customers/{tenant}/groups/{id}", signedIn(w.Handle(w.GroupPage)))
	mux.Handle("POST /customers/{tenant}/groups/{id}/members/remove", signedIn(w.Handle(w.RemoveGroupMembersSubmit)))
	mux.Handle("POST /customers/{tenant}/groups/{id}/delete", signedIn(w.Handle(w.DeleteGroupSubmit)))
	mux.Handle("GET /customers/{tenant}/end-users/{id}/edit", signedIn(w.Handle(w.EditEndUserPage)))
	mux.Handle("POST /customers/{tenant}/end-users/{id}/edit", signedIn(w.Handle(w.EditEndUserSubmit)))
	mux.Handle("POST /customers/{tenant}/end-users/import", signedIn(w.Handle(w.ImportEndUsersSubmit)))
	mux.Handle("POST /customers/{tenant}/end-users/{id}/deactivate", signedIn(w.Handle(w.EndUserActiveSubmit(false))))
	mux.Handle("POST /customers/{tenant}/end-users/{id}/reactivate", signedIn(w.Handle(w.EndUserActiveSubmit(true))))
	for _, act := range []string{"deactivate", "reactivate", "remove"} {
		mux.Handle("POST /customers/{tenant}/users/{id}/"+act, signedIn(w.Handle(w.AccountUserSubmit(act))))
	}
	mux.Handle("GET /customers/{tenant}/users/{id}/permissions", signedIn(w.Handle(w.PermissionsPage)))
	mux.Handle("POST /customers/{tenant}/users/{id}/permissions", signedIn(w.Handle(w.PermissionsSubmit)))
	mux.Handle("POST /customers/{tenant}/invitations/{id}/resend", signedIn(w.Handle(w.ResendInvitationSubmit)))
	mux.Handle("POST /customers/{tenant}/invitations/{id}/remove", signedIn(w.Handle(w.RemoveInvitationSubmit)))
	mux.Handle("POST /customers/{tenant}/action", signedIn(w.Handle(w.CustomerActionSubmit)))
	mux.Handle("GET /customers/{tenant}/delete", signedIn(w.Handle(w.DeleteCustomerPage)))
	mux.Handle("POST /customers/{tenant}/delete", signedIn(w.Handle(w.DeleteCustomerSubmit)))
	mux.Handle("GET /customers/{tenant}/admin-login", signedIn(w.Handle(w.AdminLoginPage)))
	mux.Handle("POST /customers/{tenant}/admin-login", signedIn(w.Handle(w.AdminLoginSubmit)))
	mux.Handle("POST /admin-login/end", signedIn(w.Handle(w.AdminLoginEnd)))
	mux.Handle("GET /customers/{tenant}/changes", signedIn(w.Handle(w.ChangeLog)))
	mux.Handle("GET /customers/{tenant}/changes/export", signedIn(w.Handle(w.ExportChangeLog)))
	mux.Handle("GET /tenants/{tenant}/changes", signedIn(w.Handle(w.ChangeLog)))
	mux.Handle("GET /tenants/{tenant}/changes/export", signedIn(w.Handle(w.ExportChangeLog)))
	mux.Handle("GET /settings", signedIn(w.Handle(w.Settings)))
	mux.Handle("POST /settings/defaults", signedIn(w.Handle(w.DefaultSubmit)))
	mux.Handle("POST /settings/locks", signedIn(w.Handle(w.LockSubmit)))
	mux.Handle("POST /settings/lifecycle", signedIn(w.Handle(w.LifecycleSubmit)))
	// The customer portal: modules, and Admin-only pages.
	mux.Handle("GET /modules/{module}", signedIn(w.Handle(w.ModulePage)))
	mux.Handle("GET /pricing", signedIn(w.Handle(w.AdminOnlyPage("pricing"))))
	mux.Handle("GET /payment", signedIn(w.Handle(w.AdminOnlyPage("payment"))))
	for _, key := range []string{"prospects", "risk-report-signup", "invoices"} {
		mux.Handle("GET /"+key, signedIn(w.Handle(w.Soon(key))))
	}

	mux.Handle("/", http.HandlerFunc(w.NotFound))

	return s.middleware(mux)
}

package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/danielgtaylor/huma/v2"
)

type signInInput struct {
	Body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
}

type sessionOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      struct {
		SecondFactorRequired bool   `json:"second_factor_required"`
		Pending              string `json:"pending,omitempty" doc:"Send with the code to /api/v1/sessions/second-factor within five minutes"`
	}
}

type secondFactorInput struct {
	Body struct {
		Pending string `json:"pending"`
		Code    string `json:"code" doc:"Six digits from the authenticator app, or a recovery code"`
	}
}

type registerInput struct {
	Token string `path:"token"`
	Body  struct {
		Password         string `json:"password"`
		Confirm          string `json:"confirm"`
		SecurityQuestion string `json:"security_question"`
		SecurityAnswer   string `json:"security_answer"`
	}
}

type forgotInput struct {
	Body struct {
		Email string `json:"email"`
	}
}

type resetInput struct {
	Token string `path:"token"`
	Body  struct {
		Answer   string `json:"answer"`
		Password string `json:"password"`
		Confirm  string `json:"confirm"`
	}
}

type sessionInfo struct {
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

type sessionsOutput struct {
	Body struct {
		Items []sessionInfo `json:"items"`
	}
}

type endedOutput struct {
	Body struct {
		Ended int64 `json:"ended"`
	}
}

type enrolOutput struct {
	Body struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
}

type confirmInput struct {
	Body struct {
		Code string `json:"code"`
	}
}

type recoveryOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      struct {
		RecoveryCodes []string `json:"recovery_codes" doc:"Shown once"`
	}
}

// sessionCookie is the cookie the pages use, so a browser signed in by the
// API is signed in to the pages too.
func (a *api) sessionCookie(token string) http.Cookie {
	return http.Cookie{Name: a.CookieName, Value: token, Path: "/", HttpOnly: true, Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode}
}

type ctxKeyRequest struct{}

func request(ctx context.Context) *http.Request {
	r, _ := ctx.Value(ctxKeyRequest{}).(*http.Request)
	if r == nil {
		r = &http.Request{}
	}
	return r
}

func (a *api) registerAccount(h huma.API) {
	tags := []string{"Session"}
	huma.Register(h, huma.Operation{OperationID: "sign-in", Method: http.MethodPost, Path: "/api/v1/sessions", DefaultStatus: http.StatusCreated,
		Summary: "Sign in with email and password (sets the session cookie, or asks for a second factor)", Tags: tags},
		func(ctx context.Context, in *signInInput) (*sessionOutput, error) {
			r := request(ctx)
			token, err := a.App.SignInPassword(ctx, in.Body.Email, in.Body.Password, clientIP(r), r.UserAgent())
			out := &sessionOutput{}
			var second app.SecondFactorRequired
			if errors.As(err, &second) {
				out.Body.SecondFactorRequired, out.Body.Pending = true, second.Token
				return out, nil
			}
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out.SetCookie = a.sessionCookie(token)
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "sign-in-second-factor", Method: http.MethodPost, Path: "/api/v1/sessions/second-factor", DefaultStatus: http.StatusCreated,
		Summary: "Finish signing in with a TOTP or recovery code", Tags: tags},
		func(ctx context.Context, in *secondFactorInput) (*sessionOutput, error) {
			r := request(ctx)
			token, err := a.App.SignInSecondFactor(ctx, in.Body.Pending, in.Body.Code, clientIP(r), r.UserAgent())
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &sessionOutput{SetCookie: a.sessionCookie(token)}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "sign-out", Method: http.MethodDelete, Path: "/api/v1/sessions/current", DefaultStatus: http.StatusNoContent, Summary: "Sign out", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			if c, err := request(ctx).Cookie(a.CookieName); err == nil {
				return nil, a.problem(ctx, a.App.SignOut(ctx, c.Value))
			}
			return nil, nil
		})
	huma.Register(h, huma.Operation{OperationID: "my-sessions", Method: http.MethodGet, Path: "/api/v1/me/sessions", Summary: "Your sessions", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
			c, _ := request(ctx).Cookie(a.CookieName)
			list, err := a.App.MySessions(ctx, viewer(ctx), c.Value)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &sessionsOutput{}
			out.Body.Items = make([]sessionInfo, len(list))
			for i, s := range list {
				out.Body.Items[i] = sessionInfo{Current: s.Current, Created: s.Created, LastSeen: s.LastSeen, IP: s.IP, UserAgent: s.UserAgent}
			}
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "sign-out-others", Method: http.MethodDelete, Path: "/api/v1/me/sessions/others", Summary: "Sign out everywhere else", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*endedOutput, error) {
			c, _ := request(ctx).Cookie(a.CookieName)
			n, err := a.App.SignOutEverywhereElse(ctx, viewer(ctx), c.Value)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &endedOutput{}
			out.Body.Ended = n
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "begin-two-step", Method: http.MethodPost, Path: "/api/v1/me/two-step", Summary: "Start two-step enrolment: a new secret to add to an authenticator app", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*enrolOutput, error) {
			e, err := a.App.BeginTOTP(ctx, viewer(ctx))
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &enrolOutput{}
			out.Body.Secret, out.Body.OTPAuthURL = e.Secret, e.URL
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "confirm-two-step", Method: http.MethodPost, Path: "/api/v1/me/two-step/confirm", Summary: "Turn two-step on with a code; returns recovery codes once and a new session cookie", Tags: tags},
		func(ctx context.Context, in *confirmInput) (*recoveryOutput, error) {
			codes, err := a.App.ConfirmTOTP(ctx, viewer(ctx), in.Body.Code)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			c, _ := request(ctx).Cookie(a.CookieName)
			token, err := a.App.RotateSession(ctx, c.Value)
			if err != nil {
				return nil, a.problem(ctx, err)
			}
			out := &recoveryOutput{SetCookie: a.sessionCookie(token)}
			out.Body.RecoveryCodes = codes
			return out, nil
		})

	account := []string{"Account"}
	huma.Register(h, huma.Operation{OperationID: "register", Method: http.MethodPost, Path: "/api/v1/registrations/{token}", DefaultStatus: http.StatusNoContent,
		Summary: "Finish registration: password and security question", Tags: account},
		func(ctx context.Context, in *registerInput) (*struct{}, error) {
			r := request(ctx)
			return nil, a.problem(ctx, a.App.Register(ctx, in.Token, app.RegisterInput{Password: in.Body.Password, Confirm: in.Body.Confirm,
				SecurityQuestion: in.Body.SecurityQuestion, SecurityAnswer: in.Body.SecurityAnswer}, clientIP(r), r.UserAgent()))
		})
	huma.Register(h, huma.Operation{OperationID: "forgot-password", Method: http.MethodPost, Path: "/api/v1/password/forgot", DefaultStatus: http.StatusAccepted,
		Summary: "Mail a password-reset link (the same answer whether or not the address exists)", Tags: account},
		func(ctx context.Context, in *forgotInput) (*struct{}, error) {
			return nil, a.problem(ctx, a.App.RequestPasswordReset(ctx, in.Body.Email))
		})
	huma.Register(h, huma.Operation{OperationID: "reset-password", Method: http.MethodPost, Path: "/api/v1/password/reset/{token}", DefaultStatus: http.StatusNoContent,
		Summary: "Set a new password with the security answer; ends every session", Tags: account},
		func(ctx context.Context, in *resetInput) (*struct{}, error) {
			r := request(ctx)
			return nil, a.problem(ctx, a.App.ResetPassword(ctx, in.Token, app.ResetInput{Answer: in.Body.Answer, Password: in.Body.Password, Confirm: in.Body.Confirm}, clientIP(r), r.UserAgent()))
		})
}

package app_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

var resetLink = regexp.MustCompile(`/password/reset/([A-Za-z0-9_-]+)`)

func TestPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		registeredStaff(t, f, "tom@a.example")
		other, err := f.app.SignInPassword(ctx, "tom@a.example", pw, "", "")
		if err != nil {
			t.Fatal(err)
		}
		// Unknown and known addresses get the same answer; only the known one gets mail.
		if err := f.app.RequestPasswordReset(ctx, "nobody@a.example"); err != nil {
			t.Errorf("unknown address: %v", err)
		}
		if err := f.app.RequestPasswordReset(ctx, "Tom@A.example"); err != nil {
			t.Fatal(err)
		}
		mails, _ := s.RecentMail(ctx, "", 0, 10)
		var token string
		for _, m := range mails {
			if m.To == "nobody@a.example" {
				t.Error("mail sent to an unknown address")
			}
			if m.Subject == "Reset your Canopy password" {
				token = resetLink.FindStringSubmatch(m.Text)[1]
			}
		}
		if token == "" {
			t.Fatal("no reset mail")
		}
		info, err := f.app.PasswordResetFor(ctx, token)
		if err != nil || info.Question != "Pet?" {
			t.Fatalf("reset info = %+v, %v", info, err)
		}
		newPw := "amber kettle across the valley"
		var fe canopy.FieldErrors
		err = f.app.ResetPassword(ctx, token, app.ResetInput{Answer: "Fido", Password: newPw, Confirm: newPw}, "", "")
		if !errors.As(err, &fe) || fe["answer"] == "" {
			t.Fatalf("wrong answer: err = %v", err)
		}
		err = f.app.ResetPassword(ctx, token, app.ResetInput{Answer: "rex", Password: "short", Confirm: "short"}, "", "")
		if !errors.As(err, &fe) || fe["password"] == "" {
			t.Fatalf("weak password: err = %v", err)
		}
		// The answer compares without case or surrounding spaces.
		if err := f.app.ResetPassword(ctx, token, app.ResetInput{Answer: "  REX ", Password: newPw, Confirm: newPw}, "", ""); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if _, err := f.app.Authenticate(ctx, other, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("an existing session survived the reset: %v", err)
		}
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", pw, "", ""); !errors.Is(err, app.ErrBadCredentials) {
			t.Errorf("old password still works: %v", err)
		}
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", newPw, "", ""); err != nil {
			t.Errorf("new password: %v", err)
		}
		if err := f.app.ResetPassword(ctx, token, app.ResetInput{Answer: "rex", Password: newPw, Confirm: newPw}, "", ""); !errors.Is(err, app.ErrResetLinkUnusable) {
			t.Errorf("reused link: %v", err)
		}
		// Links expire after an hour.
		if err := f.app.RequestPasswordReset(ctx, "tom@a.example"); err != nil {
			t.Fatal(err)
		}
		mails, _ = s.RecentMail(ctx, "tom@a.example", 0, 1)
		late := resetLink.FindStringSubmatch(mails[0].Text)[1]
		f.clock.Advance(61 * time.Minute)
		if _, err := f.app.PasswordResetFor(ctx, late); !errors.Is(err, app.ErrResetLinkUnusable) {
			t.Errorf("expired link: %v", err)
		}
	})
}

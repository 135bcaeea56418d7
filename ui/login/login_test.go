package login_test

import (
	"strings"
	"testing"

	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/login"
)

func form(t *testing.T, w, h int) *login.Model {
	t.Helper()
	ctx := uitest.Context(uitest.Profiles[0].Profile, w, h)
	ctx.Session = ""
	m := login.New(ctx, "https://shadow.example.com")
	m.SetSize(w, h)
	uitest.Msgs(m.Init())
	return m
}

func typeText(m *login.Model, s string) {
	for _, r := range s {
		m.Update(uitest.Key(string(r)))
	}
}

// TestPasswordIsNeverDrawnAndNeverKept types a password: neither it nor its length is
// drawn, it leaves in one Submitted message, and the field is empty afterwards.
func TestPasswordIsNeverDrawnAndNeverKept(t *testing.T) {
	m := form(t, 80, 24)
	if !m.Capturing() {
		t.Fatal("the form must take every key")
	}
	typeText(m, "sam@example.com")
	uitest.Press(m, "tab")
	const secret = "correct horse battery staple"
	typeText(m, secret)
	view := uitest.Plain(m.View())
	if strings.Contains(view, "horse") || strings.Contains(view, "•••") || strings.Contains(view, "***") {
		t.Fatalf("the password shows:\n%s", view)
	}
	sub, ok := uitest.Find[login.Submitted](uitest.Press(m, "enter"))
	if !ok || sub.Email != "sam@example.com" || sub.Password != secret {
		t.Fatalf("submitted %+v", sub)
	}
	if !m.Busy() || !strings.Contains(uitest.Plain(m.View()), "Signing in") {
		t.Fatal("no sign of the sign-in on its way")
	}
	m.Update(login.Failed{Tag: common.Tag{Seq: sub.Seq + 1000}, Message: "stale"})
	if !m.Busy() {
		t.Fatal("a reply to another attempt was taken")
	}
	m.Update(login.Failed{Tag: sub.Tag, Message: "Wrong email or password."})
	if m.Busy() || !strings.Contains(uitest.Plain(m.View()), "Wrong email or password.") {
		t.Fatalf("the failure is not said:\n%s", uitest.Plain(m.View()))
	}
	if _, ok := uitest.Find[login.Submitted](uitest.Press(m, "enter")); ok {
		t.Fatal("the password was kept: enter signed in again without one")
	}
	if !strings.Contains(uitest.Plain(m.View()), "Enter your password.") {
		t.Fatalf("an empty password is not asked for:\n%s", uitest.Plain(m.View()))
	}
}

func TestEmptyFieldsAreAskedFor(t *testing.T) {
	m := form(t, 80, 24)
	if _, ok := uitest.Find[login.Submitted](uitest.Press(m, "enter")); ok {
		t.Fatal("submitted without an email")
	}
	if !strings.Contains(uitest.Plain(m.View()), "Enter your email.") {
		t.Fatalf("%s", uitest.Plain(m.View()))
	}
	typeText(m, "sam@example.com")
	uitest.Press(m, "enter") // enter on the email moves to the password
	typeText(m, "pw")
	if sub, ok := uitest.Find[login.Submitted](uitest.Press(m, "enter")); !ok || sub.Password != "pw" {
		t.Fatalf("submitted %+v", sub)
	}
}

func TestFitsEverySize(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range []uitest.Size{{W: 120, H: 40}, {W: 80, H: 24}, {W: 40, H: 12}, {W: 20, H: 6}} {
			ctx := uitest.Context(p.Profile, sz.W, sz.H)
			m := login.New(ctx, "https://\x1b]0;evil\x07shadow.example.com/"+strings.Repeat("x", 100))
			m.SetSize(sz.W, sz.H)
			m.Init()
			uitest.AssertFrame(t, m.View(), sz.W, sz.H)
		}
	}
}

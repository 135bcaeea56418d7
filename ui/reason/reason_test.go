package reason_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/reason"
)

func opened(p uitest.Profile, w, h int) *reason.Model {
	ctx := uitest.Context(p.Profile, w, h)
	m := reason.New(ctx)
	m.SetSize(w, h)
	m.Open(uitest.Users(1)[0])
	return m
}

func typeText(m *reason.Model, s string) {
	for _, r := range s {
		m.Update(uitest.Key(string(r)))
	}
}

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := opened(p, sz.W, sz.H)
				typeText(m, "TICKET-4411 driver cannot see route")
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				uitest.Golden(t, m.View())
			})
			t.Run(fmt.Sprintf("refused/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := opened(p, sz.W, sz.H)
				req, _ := uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
				m.Update(reason.Refused{Tag: req.Tag, Err: fmt.Errorf("start session: %w", api.ErrorBody{
					Code: api.CodeReasonRequired, Message: "A reason or ticket number is required to impersonate users of Acme Logistics."})})
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				if !strings.Contains(uitest.Plain(view), "A reason or ticket number is required") {
					t.Fatalf("the server's words are not shown:\n%s", view)
				}
				uitest.Golden(t, view)
			})
		}
	}
}

func TestSubmitCancelAndStaleRefusals(t *testing.T) {
	m := opened(uitest.Profiles[0], 80, 24)
	if !m.Capturing() {
		t.Fatal("the prompt must take every key")
	}
	typeText(m, "  q1 \u202Eticket ")
	first, ok := uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
	if !ok || first.Reason != "q1 ticket" || first.User.ID != "u-000001" || first.Session != "sess-1" {
		t.Fatalf("submitted %+v", first)
	}
	if !m.Busy() || !strings.Contains(m.View(), "Starting the session") {
		t.Fatal("no spinner while starting")
	}
	if msgs := uitest.Press(m, "esc", "x"); len(msgs) != 0 {
		t.Fatalf("keys acted while the server was answering: %v", msgs)
	}
	m.Update(reason.Refused{Tag: first.Tag, Err: errors.New("connection refused")})
	if m.Busy() || !strings.Contains(uitest.Plain(m.View()), "connection refused") {
		t.Fatalf("refusal not shown:\n%s", m.View())
	}
	second, _ := uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
	m.Update(reason.Refused{Tag: first.Tag, Err: errors.New("late reply to the first try")})
	if !m.Busy() {
		t.Fatal("a stale refusal stopped the second try")
	}
	m.Update(reason.Refused{Tag: second.Tag, Err: api.ErrorBody{Code: api.CodeTargetPrivileged}})
	if !strings.Contains(uitest.Plain(m.View()), "target_privileged") {
		t.Fatalf("a refusal without a message should show its code:\n%s", m.View())
	}
	c, ok := uitest.Find[reason.Cancelled](uitest.Press(m, "esc"))
	if !ok || c.User.ID != "u-000001" {
		t.Fatal("esc did not cancel")
	}
	// Reopening forgets the last attempt.
	m.Open(uitest.Users(2)[1])
	m.Update(reason.Refused{Tag: second.Tag, Err: errors.New("stale")})
	if strings.Contains(m.View(), "stale") || strings.Contains(m.View(), "refused") {
		t.Fatal("a refusal for an earlier user was shown")
	}
	for _, sz := range [][2]int{{1, 1}, {20, 6}, {40, 12}} {
		m.SetSize(sz[0], sz[1])
		uitest.AssertFrame(t, m.View(), sz[0], sz[1])
	}
}

// TestRefusalWords: a refusal by the server is called one, with its code and the way
// on in full; a failure to reach it is not called a refusal.
func TestRefusalWords(t *testing.T) {
	m := opened(uitest.Profiles[0], 80, 24)
	req, _ := uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
	m.Update(reason.Refused{Tag: req.Tag, Err: fmt.Errorf("start session: %w", api.ErrorBody{
		Code: api.CodeReasonRequired, Message: "A reason is required: a ticket number or a sentence saying why."})})
	view := strings.Join(strings.Fields(strings.ReplaceAll(uitest.Plain(m.View()), "┃", "")), " ")
	if !strings.Contains(view, "The server refused: A reason is required: a ticket number or a sentence saying why. (reason_required)") ||
		!strings.Contains(view, "esc to pick someone else") {
		t.Fatalf("the refusal is not said in full:\n%s", m.View())
	}
	req, _ = uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
	m.Update(reason.Refused{Tag: req.Tag, Err: errors.New("start session: cannot reach the server at 127.0.0.1:9")})
	view = uitest.Plain(m.View())
	if strings.Contains(view, "refused") || !strings.Contains(view, "The session did not start") {
		t.Fatalf("an unreachable server is called a refusal:\n%s", view)
	}
}

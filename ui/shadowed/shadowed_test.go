package shadowed_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/shadowed"
)

// sessions are what GET /me/impersonations tells a company admin: two sessions on its
// users, one still active, one with a hostile reason.
func sessions() *api.ImpersonationsPage {
	ended := uitest.Now.Add(-50 * time.Minute)
	sam := api.UserRef{ID: "s-sam", Name: "Sam Rivera", Email: "support@shadow.demo"}
	return &api.ImpersonationsPage{Scope: api.TransparencyCompany, NextCursor: "c2", Impersonations: []api.Impersonation{
		{Session: api.Session{ID: "is-1", User: api.UserRef{Name: "Nora Lindqvist", Email: "nora@acme.demo"}, Impersonator: sam,
			Reason: "TICKET-4411 cannot see the North dashboards", StartedAt: uitest.Now.Add(-4 * time.Minute), State: api.SessionActive},
			ImpersonatorOrganisation: "shadow support", DurationSeconds: 240, Refused: 1,
			Viewed: []api.ViewedItem{{What: "the dashboard list", Count: 1}, {What: "dashboard Fleet overview", Count: 2}}},
		{Session: api.Session{ID: "is-0", User: api.UserRef{Name: "Tom Berg", Email: "tom@acme.demo"}, Impersonator: sam,
			Reason: hostile.Strings["osc title"], StartedAt: uitest.Now.Add(-2 * time.Hour), EndedAt: &ended, State: api.SessionEnded},
			ImpersonatorOrganisation: "shadow support", DurationSeconds: 4000},
	}}
}

func opened(t *testing.T, p uitest.Profile, w, h int) *shadowed.Model {
	m := shadowed.New(uitest.Context(p.Profile, w, h))
	m.SetSize(w, h)
	req, ok := uitest.Find[shadowed.Requested](uitest.Msgs(m.Init()))
	if !ok {
		t.Fatal("Init asked for nothing")
	}
	m.Update(shadowed.Loaded{Tag: req.Tag, Page: sessions()})
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := opened(t, p, sz.W, sz.H)
				view := m.View()
				plain := uitest.Plain(view)
				uitest.AssertFrame(t, view, sz.W, sz.H)
				for _, want := range []string{"Who shadowed your company's users", "row 1 of 2+ sessions", "Sam Rivera", "Nora Lindqvist", "TICKET-4411", "4 min", "Viewed 2 things · 1 refused"} {
					if !strings.Contains(plain, want) {
						t.Errorf("%q missing:\n%s", want, plain)
					}
				}
				uitest.Golden(t, view)
				uitest.Press(m, "enter")
				whole := m.View()
				uitest.AssertFrame(t, whole, sz.W, sz.H)
				if !strings.Contains(uitest.Plain(whole), "dashboard Fleet overview ×2") || !strings.Contains(uitest.Plain(whole), "still active") {
					t.Fatalf("the session is not shown whole:\n%s", uitest.Plain(whole))
				}
			})
		}
	}
}

// m asks for the next page; esc leaves.
func TestMoreAndBack(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 80, 24)
	req, ok := uitest.Find[shadowed.Requested](uitest.Press(m, "m"))
	if !ok || req.Cursor != "c2" {
		t.Fatalf("m asked %+v", req)
	}
	if _, ok := uitest.Find[shadowed.Closed](uitest.Press(m, "esc")); !ok {
		t.Fatal("esc does not leave")
	}
}

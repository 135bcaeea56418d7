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
				for _, want := range []string{"Who shadowed your company's users", "row 1 of 2+ sessions", "Sam Rivera", "Nora Lindqvist", "TICKET-4411", "4 min", "Viewed 2 things: the dashboard list, dashboard Fleet overview ×2 · 1 refused"} {
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

// fleet is the sessions of two pages on Acme's users by two admins: Sam (support) and
// Ada (Acme's admin), on Nora and Tom, 4 minutes to 40 days ago.
func fleet() (first, second *api.ImpersonationsPage) {
	sam := api.UserRef{ID: "s-sam", Name: "Sam Rivera"}
	ada := api.UserRef{ID: "u-ada", Name: "Ada Admin"}
	nora := api.UserRef{ID: "u-nora", Name: "Nora Lindqvist"}
	tom := api.UserRef{ID: "u-tom", Name: "Tom Berg"}
	s := func(id string, who, whom api.UserRef, ago time.Duration, why string) api.Impersonation {
		end := uitest.Now.Add(-ago + 3*time.Minute)
		return api.Impersonation{Session: api.Session{ID: id, User: whom, Impersonator: who, Reason: why,
			StartedAt: uitest.Now.Add(-ago), EndedAt: &end, State: api.SessionEnded}, DurationSeconds: 180,
			Viewed: []api.ViewedItem{{What: "their permission matrix", Count: 1}}}
	}
	first = &api.ImpersonationsPage{Scope: api.TransparencyCompany, NextCursor: "c2", Impersonations: []api.Impersonation{
		s("is-4", sam, nora, 4*time.Minute, "TICKET-1 fleet totals"),
		s("is-3", ada, tom, 50*time.Hour, "checking Tom's access")}}
	second = &api.ImpersonationsPage{Scope: api.TransparencyCompany, Impersonations: []api.Impersonation{
		s("is-2", sam, tom, 72*time.Hour, "TICKET-2 jobs missing"),
		s("is-1", ada, nora, 40*24*time.Hour, "onboarding")}}
	return first, second
}

// filtered is the page after the first page of fleet, narrowed to Sam's sessions (a):
// every page read, and the last seven days (t, t).
func filtered(t *testing.T, p uitest.Profile, w, h int) *shadowed.Model {
	t.Helper()
	first, second := fleet()
	m := shadowed.New(uitest.Context(p.Profile, w, h))
	m.SetSize(w, h)
	req, _ := uitest.Find[shadowed.Requested](uitest.Msgs(m.Init()))
	m.Update(shadowed.Loaded{Tag: req.Tag, Page: first})
	more, ok := uitest.Find[shadowed.Requested](uitest.Press(m, "a"))
	if !ok || more.Cursor != "c2" {
		t.Fatalf("a filter by admin does not read the next page: %+v", more)
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 1 of 1+ session") || !strings.Contains(v, "of the 2 read so far") {
		t.Fatalf("a partial answer is not said as such:\n%s", v)
	}
	m.Update(shadowed.Loaded{Tag: more.Tag, Cursor: "c2", Page: second})
	uitest.Press(m, "t", "t")
	return m
}

func TestFilteredGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := filtered(t, p, sz.W, sz.H)
				view := m.View()
				plain := strings.Join(uitest.AssertFrame(t, view, sz.W, sz.H), "\n")
				for _, want := range []string{"row 1 of 2 sessions", "Filter: by Sam Rivera · started last 7 days", "TICKET-1", "TICKET-2", "Viewed 1 thing: their permission matrix"} {
					if !strings.Contains(plain, want) {
						t.Errorf("%q missing:\n%s", want, plain)
					}
				}
				if strings.Contains(plain, "Ada Admin") || strings.Contains(plain, "read so far") {
					t.Errorf("another admin's session, or a whole answer said partial:\n%s", plain)
				}
				uitest.Golden(t, view)
			})
		}
	}
}

// TestFiltersNarrowAndSayWhatIsRead: who (a) and when (t) narrow the sessions read,
// reading every page first; whom (u) is asked of the server; nothing matching is said
// in words; x clears; a window ending before the oldest session read needs no more pages.
func TestFiltersNarrowAndSayWhatIsRead(t *testing.T) {
	m := filtered(t, uitest.Profiles[0], 120, 40)
	say := func() string { return strings.Join(uitest.AssertFrame(t, m.View(), 120, 40), "\n") }
	uitest.Press(m, "t") // last 30 days
	if v := say(); !strings.Contains(v, "row 1 of 2 sessions") || !strings.Contains(v, "started last 30 days") {
		t.Fatalf("30 days:\n%s", v)
	}
	uitest.Press(m, "t", "t") // any time, then the last 24 h
	if v := say(); !strings.Contains(v, "row 1 of 1 session") || strings.Contains(v, "TICKET-2") {
		t.Fatalf("24 h:\n%s", v)
	}
	uitest.Press(m, "a", "t", "t", "t") // any admin, any time
	if v := say(); !strings.Contains(v, "row 1 of 4 sessions") || !strings.Contains(v, "Filter: a this admin") {
		t.Fatalf("unfiltered:\n%s", v)
	}
	uitest.Press(m, "down", "a", "t") // Ada's, the last 24 h: none
	if v := say(); !strings.Contains(v, "no session matches") || !strings.Contains(v, "No session matches the filter.") || !strings.Contains(v, "by Ada Admin") {
		t.Fatalf("no match is not said:\n%s", v)
	}
	uitest.Press(m, "x")
	if v := say(); !strings.Contains(v, "of 4 sessions") {
		t.Fatalf("x does not clear:\n%s", v)
	}
	// u asks the server for the sessions on the user under the cursor, from the first page.
	req, ok := uitest.Find[shadowed.Requested](uitest.Press(m, "g", "u"))
	if !ok || req.User != "u-nora" || req.Cursor != "" {
		t.Fatalf("u asked %+v", req)
	}
	first, _ := fleet()
	m.Update(shadowed.Loaded{Tag: req.Tag, Page: &api.ImpersonationsPage{Scope: api.TransparencyCompany, Impersonations: first.Impersonations[:1]}})
	if v := say(); !strings.Contains(v, "Filter: on Nora Lindqvist") || !strings.Contains(v, "row 1 of 1 session") {
		t.Fatalf("whom:\n%s", v)
	}
	if req, ok := uitest.Find[shadowed.Requested](uitest.Press(m, "x")); !ok || req.User != "" {
		t.Fatalf("x does not ask for every user again: %+v", req)
	}

	// The last 24 h on the first page alone: its oldest session is older, so it is whole.
	m = shadowed.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
	m.SetSize(120, 40)
	r, _ := uitest.Find[shadowed.Requested](uitest.Msgs(m.Init()))
	m.Update(shadowed.Loaded{Tag: r.Tag, Page: first})
	if _, asked := uitest.Find[shadowed.Requested](uitest.Press(m, "t")); asked {
		t.Fatal("read further than the window")
	}
	if v := say(); !strings.Contains(v, "row 1 of 1 session") || strings.Contains(v, "so far") {
		t.Fatalf("a window within the first page:\n%s", v)
	}
}

// The hints offer only keys that do something: on an empty list with no further page,
// neither enter (no session to show) nor m (nothing more to read).
func TestHintsOfferOnlyWhatWorks(t *testing.T) {
	keys := func(m *shadowed.Model) string {
		var out []string
		for _, b := range m.ShortHelp() {
			out = append(out, b.Help().Key)
		}
		return " " + strings.Join(out, " ") + " "
	}
	m := shadowed.New(uitest.Context(uitest.Profiles[0].Profile, 80, 24))
	m.SetSize(80, 24)
	req, _ := uitest.Find[shadowed.Requested](uitest.Msgs(m.Init()))
	m.Update(shadowed.Loaded{Tag: req.Tag, Page: &api.ImpersonationsPage{Scope: api.TransparencyCompany}})
	m.View()
	if k := keys(m); strings.Contains(k, " enter ") || strings.Contains(k, " m ") || strings.Contains(k, " a ") {
		t.Errorf("an empty list offers %q", k)
	}
	full := opened(t, uitest.Profiles[0], 80, 24)
	if k := keys(full); !strings.Contains(k, " enter ") || !strings.Contains(k, " m ") {
		t.Errorf("a list with a further page offers %q", k)
	}
}

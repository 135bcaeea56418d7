package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/picker"
)

// The demo's fleet manager (Nora Lindqvist) may share the Fuel & distance dashboard; the
// technician may not: the cell the compare tests ask about.
const (
	compareResource = "Fuel & distance"
	compareAction   = "share"
)

// compareDriver is a session on the fleet manager, on the Permissions tab, with the
// compare view open on Fuel & distance × share.
func compareDriver(t *testing.T, e *testEnv, profile colorprofile.Profile, w, h int) *driver {
	t.Helper()
	d := newDriver(t, New(e.options(profile)), w, h)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-7")
	d.press("2", "/")
	d.typeText(compareResource)
	d.press("enter")
	for range 12 { // to the share column: c opens the compare of the cell under the cursor
		d.press("c")
		c := d.m.sess.compare
		if c == nil {
			t.Fatalf("c does not open the compare view:\n%s", d.view())
		}
		res, action := c.Cell()
		if action == compareAction {
			if res.Name != compareResource {
				t.Fatalf("compare opened on %q", res.Name)
			}
			return d
		}
		d.press("esc", "right")
		if d.m.sess.compare != nil {
			t.Fatal("esc does not close the compare view")
		}
	}
	t.Fatalf("no %s column:\n%s", compareAction, d.view())
	return nil
}

// pickToCompare searches the compare view's picker for email and picks the user.
func pickToCompare(d *driver, email string) {
	d.t.Helper()
	d.press("/")
	d.typeText(email)
	d.press("enter", "enter")
}

// settle waits until nothing is on its way and the journal has synced, as the model
// knows it: then the frame is the same on every run.
func (d *driver) settle() {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !settled(d.m) {
		if time.Now().After(deadline) {
			d.t.Fatalf("never settled:\n%s", d.view())
		}
		time.Sleep(5 * time.Millisecond)
		d.feed(nil)
	}
}

func serverState(t *testing.T, e *testEnv, id string) string {
	t.Helper()
	s, err := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id)
	if err != nil {
		t.Fatalf("asking the server for session %s: %v", id, err)
	}
	return s.State
}

func actions(t *testing.T, e *testEnv, id string) []string {
	t.Helper()
	entries, err := e.journal.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Data.Action)
	}
	return out
}

func TestCompareShowsWhyOneMayAndTheOtherMayNot(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 120, 40)
	first := d.m.SessionID()
	pickToCompare(d, server.DemoTechnicianEmail)
	s := d.m.sess
	if s.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	second, tech := s.second.id, s.second.info.User
	v := d.view()
	if !contains(v, "ALLOWED: Nora Lindqvist · share · Fuel & distance", "NOT GRANTED: "+tech+" · share · Fuel & distance", "(differs)") {
		t.Fatalf("the two decisions and the differing step are not shown:\n%s", v)
	}
	if b := d.m.Banner().User; !strings.Contains(b, "Nora Lindqvist") || !strings.Contains(b, tech) ||
		!strings.Contains(strings.SplitN(v, "\n", 2)[0], "Nora Lindqvist and "+tech) {
		t.Fatalf("the banner does not name both users (%q):\n%s", b, v)
	}
	if st := serverState(t, e, second); st != api.SessionActive {
		t.Fatalf("the second session is %q on the server while compared", st)
	}
	d.press("esc")
	if d.m.sess.compare != nil || d.m.sess.second != nil || d.m.SessionID() != first {
		t.Fatal("esc does not close the compare and go back to the session")
	}
	if st := serverState(t, e, second); st != api.SessionEnded {
		t.Fatalf("the second session is %q on the server after the compare closed", st)
	}
	if b := d.m.Banner().User; b != "Nora Lindqvist" || strings.Contains(d.view(), tech) {
		t.Fatalf("the banner still names %q after the compare closed:\n%s", b, d.view())
	}
	if got := strings.Join(actions(t, e, second), ","); got != "session.start,explain,session.end" {
		t.Fatalf("the second session's journal: %s", got)
	}
	if got := strings.Join(actions(t, e, first), ","); !strings.Contains(got, "session.start,") || !strings.Contains(got, "explain") {
		t.Fatalf("the first session's journal: %s", got)
	}
}

func TestCompareEndsWithTheSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	pickToCompare(d, server.DemoTechnicianEmail)
	if d.m.sess.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	second := d.m.sess.second.id
	d.press("q", "y")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("the session did not end: %s\n%s", d.m.Screen(), d.view())
	}
	if st := serverState(t, e, second); st != api.SessionEnded {
		t.Fatalf("the second session is %q on the server after the main one ended", st)
	}
	if got := strings.Join(actions(t, e, second), ","); got != "session.start,explain,session.end" {
		t.Fatalf("the second session's journal: %s", got)
	}
}

func TestCompareWithARefusedUserStartsNothing(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	page, err := e.client.Users(context.Background(), client.UsersQuery{Query: server.DemoOutOfScopeEmail})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("the out-of-scope user: %v %+v", err, page)
	}
	u := page.Users[0]
	// The picker would not offer them; the server must refuse them all the same.
	u.Impersonable = true
	before, _ := e.journal.SessionRecords("")
	d.send(picker.Picked{User: u})
	if d.m.sess.second != nil || d.m.sess.compare == nil {
		t.Fatal("a refused user got a session, or the compare view closed")
	}
	v := d.view()
	if !contains(v, "Could not compare with "+u.Name) || strings.Contains(d.m.Banner().User, u.Name) {
		t.Fatalf("the refusal is not shown (or the banner names them):\n%s", v)
	}
	after, _ := e.journal.SessionRecords("")
	if len(after) != len(before)+1 || after[len(after)-1].Data.Action != api.ActionSessionRefused {
		t.Fatalf("the refusal is not journaled as one session.refused: %+v", after[len(after)-1].Data)
	}
	if !contains(v, "not allowed", "outside the companies you may support") {
		t.Fatalf("the server's code is not shown:\n%s", v)
	}
	d.press("esc")
	if d.m.sess.compare != nil {
		t.Fatal("esc does not close the compare view after a refusal")
	}
}

func TestCompareGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				e := newTestEnv(t, server.DemoSeed)
				d := compareDriver(t, e, p.Profile, sz.W, sz.H)
				pickToCompare(d, server.DemoTechnicianEmail)
				d.settle()
				f := d.m.Frame()
				uitest.AssertFrame(t, f, sz.W, sz.H)
				uitest.Golden(t, f)
			})
		}
	}
}

func TestCompareOnATinyTerminal(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ANSI256, 100, 30)
	pickToCompare(d, server.DemoTechnicianEmail)
	for _, sz := range [][2]int{{20, 6}, {15, 4}} {
		d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		f := d.m.Frame()
		if !strings.Contains(uitest.Plain(f), "IMPERSONATING") {
			t.Fatalf("%dx%d: no banner:\n%s", sz[0], sz[1], f)
		}
	}
	d.send(tea.WindowSizeMsg{Width: 1, Height: 1})
	_ = d.m.Frame() // no room for the banner's words: it must not panic (safeFrame would hide one)
	if d.m.crash != nil {
		t.Fatalf("a 1x1 terminal crashed the compare: %v", d.m.crash.value)
	}
}

func TestShutdownEndsTheComparesSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	pickToCompare(d, server.DemoTechnicianEmail)
	if d.m.sess.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	first, second := d.m.SessionID(), d.m.sess.second.id
	var out strings.Builder
	if err := d.m.Shutdown(&out); err != nil {
		t.Fatalf("Shutdown: %v (%s)", err, out.String())
	}
	for _, id := range []string{first, second} {
		if st := serverState(t, e, id); st != api.SessionEnded {
			t.Errorf("session %s is %q on the server after shadow was stopped", id, st)
		}
		if got := actions(t, e, id); got[len(got)-1] != api.ActionSessionEnd {
			t.Errorf("session %s's journal ends with %v", id, got)
		}
	}
}

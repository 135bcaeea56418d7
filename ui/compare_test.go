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
	// The list is every cell decided otherwise, and nothing else: set against the two
	// matrices as the server serves them, compared cell by cell here.
	want := differingCells(t, e, server.DemoFleetManagerEmail, server.DemoTechnicianEmail)
	diff := s.compare.Diff()
	if diff.Differing != want || diff.OnlyFirst+diff.OnlySecond != 0 || want == 0 {
		t.Fatalf("the diff lists %d differing cells (%d, %d only one sees); the server's matrices differ in %d", diff.Differing, diff.OnlyFirst, diff.OnlySecond, want)
	}
	if !contains(v, fmt.Sprintf("of %d · %d cells differ", want, want), "Nora Lindqvist's permissions with "+tech) {
		t.Fatalf("the list does not say where the cursor is and how much differs:\n%s", v)
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
	if got := strings.Join(actions(t, e, second), ","); got != "session.start,view,explain,session.end" {
		t.Fatalf("the second session's journal: %s", got)
	}
	if got := strings.Join(actions(t, e, first), ","); !strings.Contains(got, "session.start,") || !strings.Contains(got, "view,explain") {
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
	if got := strings.Join(actions(t, e, second), ","); got != "session.start,view,explain,session.end" {
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

// differingCells signs in as the two users themselves and counts the cells of their
// matrices decided otherwise, one by one.
func differingCells(t *testing.T, e *testEnv, first, second string) int {
	t.Helper()
	read := func(email string) map[string]string {
		pm, err := e.staff(t, email).Permissions(context.Background())
		if err != nil {
			t.Fatalf("%s's matrix: %v", email, err)
		}
		out := map[string]string{}
		for _, r := range pm.Rows {
			for i, a := range pm.Actions {
				out[r.Resource.ID+" "+a] = string(r.Effects[i])
			}
		}
		return out
	}
	a, b := read(first), read(second)
	n := 0
	for cell, x := range a {
		if y, ok := b[cell]; ok && x != y {
			n++
		}
	}
	return n
}

// isExplainDue is the compare view's pause after the cursor moves.
func isExplainDue(msg tea.Msg) bool { return fmt.Sprintf("%T", msg) == "compare.explainDue" }

func count(list []string, what string) int {
	n := 0
	for _, a := range list {
		if a == what {
			n++
		}
	}
	return n
}

// The list's cursor moves with j/k, g/G, and the chains follow it once it rests: a
// held key (every pause still running when the next key comes) explains once, in each
// session's journal; both sessions then reconcile clean with the server's audit.
func TestCompareListFollowsTheCursorAndReconciles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 120, 40)
	pickToCompare(d, server.DemoTechnicianEmail)
	s := d.m.sess
	if s.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	first, second := s.id, s.second.id
	n := s.compare.Diff().Differing
	before := count(actions(t, e, second), api.ActionExplain)
	d.hold = isExplainDue
	d.press("j", "j", "j")
	d.hold = nil
	held := d.held
	d.held = nil
	for _, msg := range held {
		d.send(msg)
	}
	if got := count(actions(t, e, second), api.ActionExplain) - before; got != 1 {
		t.Fatalf("a held key explained %d times in the second session's journal, want 1", got)
	}
	d.settle()
	v := d.view()
	row := s.compare.Diff().Rows[s.compare.Diff().Index(compareResourceID(t, d), compareAction)+3]
	if !contains(v, fmt.Sprintf("row %d of %d", d.m.sess.compare.Diff().Index(compareResourceID(t, d), compareAction)+4, n), "· "+row.Action+" · "+row.Resource.Name) {
		t.Fatalf("the chains are not of the row the cursor rests on (%s on %s):\n%s", row.Action, row.Resource.Name, v)
	}
	d.press("G")
	if !contains(d.view(), fmt.Sprintf("row %d of %d", n, n)) {
		t.Fatalf("G does not reach the last row:\n%s", d.view())
	}
	d.press("g")
	if !contains(d.view(), fmt.Sprintf("row 1 of %d", n)) {
		t.Fatalf("g does not go back to the first row:\n%s", d.view())
	}
	d.press("esc")
	d.settle()
	for _, id := range []string{first, second} {
		a, err := e.client.SessionAudit(context.Background(), id)
		if err != nil {
			t.Fatalf("the server's audit of %s: %v", id, err)
		}
		if sum := a.Summary; !sum.Consistent || sum.Unjournaled != 0 || sum.Unserved != 0 || sum.Unrecognised != 0 || sum.Matched == 0 {
			t.Fatalf("session %s does not reconcile clean: %+v\nunjournaled: %+v", id, sum, a.Unjournaled)
		}
	}
}

// compareResourceID is the id of the resource the compare was opened on.
func compareResourceID(t *testing.T, d *driver) string {
	t.Helper()
	res, _ := d.m.sess.compare.Cell()
	return res.ID
}

// comparing is a compare of the fleet manager with the technician, shown.
func comparing(t *testing.T, e *testEnv) (d *driver, first, second string) {
	t.Helper()
	d = compareDriver(t, e, colorprofile.ASCII, 100, 30)
	pickToCompare(d, server.DemoTechnicianEmail)
	if d.m.sess.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	return d, d.m.sess.id, d.m.sess.second.id
}

// assertCompareEnded checks the compare is closed with the server's words said, the
// banner back to the one user and the main session going on, and the second session's
// journal ending with its expiry.
func assertCompareEnded(t *testing.T, e *testEnv, d *driver, first, second string, words ...string) {
	t.Helper()
	v := d.view()
	if d.m.sess == nil || d.m.SessionID() != first || d.m.sess.compare != nil || d.m.sess.second != nil {
		t.Fatalf("the compare did not end (or the session ended with it):\n%s", v)
	}
	if d.m.Dialog() != "Compare ended" || !contains(v, words...) {
		t.Fatalf("the end is not said with %q:\n%s", words, v)
	}
	if b := d.m.Banner().User; b != "Nora Lindqvist" {
		t.Fatalf("the banner names %q after the compare ended", b)
	}
	got := actions(t, e, second)
	if got[len(got)-1] != api.ActionSessionExpire {
		t.Fatalf("the second session's journal ends with %v", got)
	}
}

// The second session is polled: when the company's admin ends it, the next poll ends
// the compare with the server's word, and the session goes on alone.
func TestCompareEndsWhenTheServerEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, first, second := comparing(t, e)
	if err := e.staff(t, server.DemoCompanyAdminEmail).EndSession(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	d.send(secondPollDue{id: second})
	assertCompareEnded(t, e, d, first, second, "compare's session on Tomás", "ended elsewhere", "So the compare is over")
	if st := serverState(t, e, first); st != api.SessionActive {
		t.Fatalf("the main session is %q after its compare's session was ended", st)
	}
}

// A poll of the second session the server refuses (401: it no longer takes the
// sign-in, as after a restart) ends the compare at once with the server's reason. The
// server only refused to say: the session is still active there, and the end shadow
// asks is refused too (the same sign-in), so the journal and the dialog say it could
// not be ended and stays open until its expiry, never that the server ended it.
func TestCompareEndedOnARefusedPollSaysItsSessionIsStillOpen(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, first, second := comparing(t, e)
	until := d.m.sess.second.view.Session().ExpiresAt.UTC()
	e.faults.signOutEveryone()
	d.send(secondPollDue{id: second})
	v := d.view()
	if d.m.sess == nil || d.m.SessionID() != first || d.m.sess.compare != nil || d.m.sess.second != nil || d.m.Dialog() != "Compare ended" {
		t.Fatalf("the compare did not end:\n%s", v)
	}
	if !contains(v, "The server refused to say whether the compare's session on Tomás", "token is not valid",
		"could not be ended on the server", "stays open there", until.Format("15:04")+" UTC") {
		t.Fatalf("the dialog does not say the compare's session is still open on the server:\n%s", v)
	}
	if st := serverState(t, e, second); st != api.SessionActive {
		t.Fatalf("the second session is %q on the server: the test's premise is gone", st)
	}
	entries, err := e.journal.SessionRecords(second)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1].Data
	if got := actions(t, e, second); count(got, api.ActionSessionExpire)+count(got, api.ActionSessionEnd) != 0 ||
		last.Action != api.ActionError || !strings.Contains(last.Details, "still open there until "+until.Format(time.RFC3339)) {
		t.Fatalf("the second session's journal: %v, last %q", got, last.Details)
	}
}

// A read of the second session the server refuses ends the compare too.
func TestCompareEndsWhenTheServerRefusesItsRead(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, first, second := comparing(t, e)
	if err := e.staff(t, server.DemoCompanyAdminEmail).EndSession(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	d.press("j")
	assertCompareEnded(t, e, d, first, second, "compare's session on Tomás", "is over")
}

// LostAfter polls of the second session unanswered hide the compare (CONNECTION LOST,
// in the banner and the view) until the server answers again.
func TestCompareShowsConnectionLostForItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, _, second := comparing(t, e)
	e.stop(t)
	for range LostAfter {
		d.send(secondPollDue{id: second})
	}
	v := d.view()
	if !contains(v, "CONNECTION LOST to the compare's session on Tomás", "esc closes the compare") || strings.Contains(v, "not granted") || strings.Contains(v, "ALLOWED") {
		t.Fatalf("the lost compare is not said, or its data is still shown:\n%s", v)
	}
	if b := d.m.Banner().User; !strings.Contains(b, "CONNECTION LOST") {
		t.Fatalf("the banner does not say the compare's session is lost: %q", b)
	}
	e.start(t)
	d.send(secondPollDue{id: second})
	v = d.view()
	if strings.Contains(v, "CONNECTION LOST") || !contains(v, "cells differ") {
		t.Fatalf("the compare does not come back once the server answers:\n%s", v)
	}
}

// Under the compare view tab and the number keys switch nothing behind it, and the
// hints (status line and help) do not offer them.
func TestTabKeysDoNothingUnderTheCompare(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 120, 40)
	for _, picked := range []bool{false, true} {
		if picked {
			pickToCompare(d, server.DemoTechnicianEmail)
		}
		d.press("tab", "1", "3", "shift+tab")
		if d.m.Tab() != TabPermissions || d.m.sess.compare == nil {
			t.Fatalf("a tab key switched the tab (%d) or closed the compare:\n%s", d.m.Tab(), d.view())
		}
		if status := d.view()[strings.LastIndex(d.view(), "\n"):]; strings.Contains(status, "next tab") {
			t.Fatalf("the status line offers tab under the compare: %q", status)
		}
		d.press("?")
		if v := d.view(); strings.Contains(v, "next tab") || strings.Contains(v, "dashboards") {
			t.Fatalf("the help offers the tab keys under the compare:\n%s", v)
		}
		d.press("tab")
		if d.m.Tab() != TabPermissions {
			t.Fatal("tab over the help switched the tab under the compare")
		}
		d.press("esc")
	}
	d.press("esc", "tab")
	if d.m.Tab() != TabJournal {
		t.Fatalf("tab does not switch tabs once the compare is closed: %d", d.m.Tab())
	}
}

// The two ops leads are granted alike: the compare says in words that nothing differs.
func TestCompareGoldenNothingDiffers(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				e := newTestEnv(t, server.DemoSeed)
				d := newDriver(t, New(e.options(p.Profile)), sz.W, sz.H)
				d.startSession(server.DemoOpsLeadEmail, "TICKET-8")
				d.press("2", "c")
				if d.m.sess.compare == nil {
					t.Fatalf("c does not open the compare view:\n%s", d.view())
				}
				pickToCompare(d, server.DemoPeerOpsLeadEmail)
				d.settle()
				if d.m.sess.second == nil || !strings.Contains(d.view(), "No cell differs: both may do the same") {
					t.Fatalf("nothing differing is not said:\n%s", d.view())
				}
				f := d.m.Frame()
				uitest.AssertFrame(t, f, sz.W, sz.H)
				uitest.Golden(t, f)
			})
		}
	}
}

package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/banner"
)

// A restarted server (same state, same address) no longer takes the tokens it gave
// before: the next poll ends the session at once with the server's words, journaled,
// instead of counting down over the user's data.
func TestRestartedServerEndsTheSessionAtTheNextPoll(t *testing.T) {
	t.Parallel()
	e := newTestEnvIn(t, server.DemoSeed, t.TempDir())
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	e.restart(t)
	d.send(pollDue{session: id})
	if d.m.SessionID() != "" || d.m.Screen() != ScreenPicker || d.m.Dialog() != "Session ended" {
		t.Fatalf("the session outlived its server: %q\n%s", d.m.Screen(), d.view())
	}
	view := d.view()
	if !strings.Contains(view, "refused") || strings.Contains(view, "Fleet overview") {
		t.Fatalf("the end is not said in the server's words:\n%s", view)
	}
	entries, err := e.journal.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1].Data
	if last.Action != api.ActionSessionExpire || !strings.Contains(last.Details, "refused the session's poll: ") {
		t.Fatalf("journaled %s %q", last.Action, last.Details)
	}
}

// A read refused 401 ends the session at once, with the server's reason.
func TestRefusedReadEndsTheSessionWithTheServersReason(t *testing.T) {
	t.Parallel()
	e := newTestEnvIn(t, server.DemoSeed, t.TempDir())
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	e.restart(t)
	d.press("2") // the permission matrix, read with the session's token
	if d.m.SessionID() != "" || !strings.Contains(d.view(), "no longer accepts the session's token (") {
		t.Fatalf("a refused read did not end the session:\n%s", d.view())
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionExpire {
		t.Fatalf("journaled %v", got)
	}
}

// A server that takes the connection and never answers: each poll gives up after the
// poll's interval, so CONNECTION LOST comes after LostAfter intervals (20 s by default),
// not after LostAfter request timeouts, and the reason is said in words.
func TestHungServerShowsConnectionLostAfterLostAfterPolls(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ASCII)
	opts.Poll = 300 * time.Millisecond // the request timeout stays 45 s
	d := newDriver(t, New(opts), 100, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	e.faults.hang.Store(true)
	defer e.faults.hang.Store(false)
	start := time.Now()
	for range LostAfter {
		d.send(pollDue{session: id})
	}
	// Each poll gives up after minPollTimeout (1 s: the interval is shorter); with the
	// request timeout they would take 90 s, and the driver's 20 s bound would fail first.
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("%d unanswered polls took %v", LostAfter, took)
	}
	v := d.view()
	if !strings.Contains(v, banner.WordLost) || strings.Contains(v, "Fleet overview") {
		t.Fatalf("a hung server left the data on screen after %d polls:\n%s", LostAfter, v)
	}
	if strings.Contains(v, "deadline") || strings.Contains(v, "context") || !strings.Contains(v, "did not answer in") {
		t.Fatalf("the lost screen does not say why in words:\n%s", v)
	}
}

// A stopped server: after LostAfter unanswered polls the banner says CONNECTION LOST
// and no data of the user is on screen, on any tab; the keys of the pages do nothing,
// q still ends. Once the server answers again, the data is back.
func TestStoppedServerShowsConnectionLostUntilItAnswers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	if !strings.Contains(d.view(), "Fleet overview") {
		t.Fatalf("no dashboard before the server stopped:\n%s", d.view())
	}
	e.stop(t)
	for i := 1; i < LostAfter; i++ {
		d.send(pollDue{session: id})
		if strings.Contains(d.view(), banner.WordLost) {
			t.Fatalf("CONNECTION LOST after %d of %d unanswered polls", i, LostAfter)
		}
	}
	d.send(pollDue{session: id})
	for _, tab := range []string{"1", "2", "3"} {
		d.press(tab)
		view := d.view()
		if !strings.Contains(strings.SplitN(view, "\n", 3)[1], banner.WordLost) && !strings.Contains(strings.SplitN(view, "\n", 2)[0], banner.WordLost) {
			t.Fatalf("the banner does not say %s:\n%s", banner.WordLost, view)
		}
		for _, data := range []string{"Fleet overview", "Active vehicles", "Truck", "session.start"} {
			if strings.Contains(view, data) {
				t.Fatalf("%q is still shown while the connection is lost:\n%s", data, view)
			}
		}
		if !strings.Contains(view, "Nothing of the user's data is shown") || !strings.Contains(view, "cannot reach") {
			t.Fatalf("the screen does not say why:\n%s", view)
		}
	}
	if d.m.SessionID() != id {
		t.Fatal("an unanswered poll ended the session")
	}
	e.start(t)
	d.send(pollDue{session: id})
	d.press("1")
	if view := d.view(); strings.Contains(view, banner.WordLost) || !strings.Contains(view, "Fleet overview") {
		t.Fatalf("the data is not back once the server answers:\n%s", view)
	}
	e.stop(t)
	d.send(pollDue{session: id})
	d.send(pollDue{session: id})
	d.press("q", "y")
	if d.m.SessionID() != "" {
		t.Fatal("q does not end a session whose connection is lost")
	}
	e.start(t)
}

// Every banner line says CONNECTION LOST at the usual widths and keeps its promise
// (IMPERSONATING, READ-ONLY) at every width.
func TestBannerSaysConnectionLost(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	d.m.sess.info.Lost = true
	for w := 15; w <= 120; w++ {
		lines := banner.Lines(d.m.ctx.Styles, d.m.sess.info, d.m.ctx.Now(), w)
		all := strings.Join(lines, " ")
		if w >= 40 && !strings.Contains(all, banner.WordLost) {
			t.Fatalf("at %d columns: %q", w, all)
		}
		if w >= banner.MinWidth && (!strings.Contains(all, "IMPERSONATING") || !strings.Contains(all, "READ-ONLY")) {
			t.Fatalf("at %d columns the banner lost its words: %q", w, all)
		}
	}
	_ = context.Background()
}

// The reason given is on screen for the whole session, on every tab.
func TestReasonIsShownDuringTheSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-4711 dashboards look empty")
	for _, tab := range []string{"1", "2", "3"} {
		d.press(tab)
		if v := d.view(); !strings.Contains(v, "reason: TICKET-4711") {
			t.Fatalf("tab %s does not show the reason:\n%s", tab, v)
		}
	}
}

// The Journal tab sets the journal against the server's log (a): a session whose every
// read was journaled says so; a read made without a record (here, the session's view
// called directly, as a client that forgot its journal would) is said as such.
func TestJournalTabShowsTheServersReconciliation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	d.press("3")
	synced := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for e.journal.Status().Pending > 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		d.feed(d.m.readRecords()) // the tab reads its records (and their sync state) again
	}
	synced()
	d.press("a")
	if v := d.view(); !strings.Contains(v, "Server's log: all ") || !strings.Contains(v, "served are journaled") {
		t.Fatalf("the reconciliation is not said:\n%s", v)
	}
	if _, err := d.m.sess.view.Permissions(context.Background()); err != nil { // no record
		t.Fatal(err)
	}
	d.press("a")
	if v := d.view(); !strings.Contains(v, "1 read served that no record accounts for") {
		t.Fatalf("an unjournaled read is not said:\n%s", v)
	}
	if d.m.SessionID() != id {
		t.Fatal("checking ended the session")
	}
}

// A company admin sees who shadowed the company's users (w on the picker), from the
// server's record: here a session support started on Nora, with its reason.
func TestCompanyAdminSeesWhoShadowedItsUsers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	support := e.staff(t, server.DemoSupportEmail)
	users, err := support.Users(context.Background(), client.UsersQuery{Query: server.DemoFleetManagerEmail})
	if err != nil || len(users.Users) != 1 {
		t.Fatalf("%v %+v", err, users)
	}
	v, s, err := support.StartSession(context.Background(), users.Users[0].ID, "TICKET-77 fleet totals look wrong")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Dashboards(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := support.EndSession(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	opts := e.options(colorprofile.ASCII)
	opts.Credentials = &Credentials{Email: server.DemoCompanyAdminEmail, Password: server.DemoSupportPassword}
	d := newDriver(t, New(opts), 120, 40)
	if d.m.Screen() != ScreenPicker || !strings.Contains(d.statusLine(), "w who shadowed you") {
		t.Fatalf("the picker does not offer w: %q\n%s", d.statusLine(), d.view())
	}
	d.press("w")
	view := d.view()
	if d.m.Screen() != ScreenShadowed || !contains(view, "Who shadowed your company's users", "Sam Rivera", "Nora Lindqvist", "TICKET-77 fleet totals") {
		t.Fatalf("the screen does not say who shadowed whom:\n%s", view)
	}
	d.press("enter")
	if v := d.view(); !strings.Contains(v, "Viewed") || !strings.Contains(v, "ended") {
		t.Fatalf("the session is not shown whole:\n%s", v)
	}
	d.press("esc", "esc")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("esc does not go back to the picker: %q", d.m.Screen())
	}
}

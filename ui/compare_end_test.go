package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// The compare's second session is ended on the server and its end journaled, once,
// whatever ends while the compare is starting: the server has started it and the
// command has read both matrices, but the root has not yet heard of it (its reply is
// held back here).

// startingCompare is a compare whose second session the server has started, its
// compareStarted held back: the root does not know the session yet.
func startingCompare(t *testing.T, e *testEnv, opts Options) (d *driver, second *session) {
	t.Helper()
	d = newDriver(t, New(opts), 100, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-7")
	d.press("2", "c")
	if d.m.sess.compare == nil {
		t.Fatalf("c does not open the compare view:\n%s", d.view())
	}
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(compareStarted); return ok }
	pickToCompare(d, server.DemoTechnicianEmail)
	d.hold = nil
	if len(d.held) != 1 {
		t.Fatalf("held %d messages, want the compare's start", len(d.held))
	}
	second = d.held[0].(compareStarted).second
	if second == nil || d.m.sess.second != nil {
		t.Fatal("no second session was started, or the root already holds it")
	}
	if st := serverState(t, e, second.id); st != api.SessionActive {
		t.Fatalf("the second session is %q on the server while the compare starts", st)
	}
	return d, second
}

// assertSecondEnded checks the second session is ended on the server and its journal
// ends with one session.end whose details hold why.
func assertSecondEnded(t *testing.T, e *testEnv, id, why string) {
	t.Helper()
	if st := serverState(t, e, id); st != api.SessionEnded {
		t.Errorf("the compare's second session is %q on the server", st)
	}
	entries, err := e.journal.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	got := actions(t, e, id)
	last := entries[len(entries)-1].Data
	if last.Action != api.ActionSessionEnd || count(got, api.ActionSessionEnd) != 1 || !strings.Contains(last.Details, why) {
		t.Errorf("the compare's second session's journal: %v, last %q", got, last.Details)
	}
}

func TestShutdownWhileTheCompareStartsEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, second := startingCompare(t, e, e.options(colorprofile.ASCII))
	var out strings.Builder
	if err := d.m.Shutdown(&out); err != nil {
		t.Fatalf("Shutdown: %v (%s)", err, out.String())
	}
	assertSecondEnded(t, e, second.id, "shadow was stopped")
	// The held reply coming late changes nothing.
	d.send(d.held[0])
	if got := count(actions(t, e, second.id), api.ActionSessionEnd); got != 1 {
		t.Fatalf("the second session's end is journaled %d times", got)
	}
}

func TestCtrlCWhileTheCompareStartsEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, second := startingCompare(t, e, e.options(colorprofile.ASCII))
	d.press("ctrl+c")
	if !d.quit {
		t.Fatalf("ctrl+c did not quit: %s", d.m.Screen())
	}
	assertSecondEnded(t, e, second.id, "the admin quit shadow")
	if err := d.m.Shutdown(&strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	assertSecondEnded(t, e, second.id, "the admin quit shadow")
}

func TestPanicWhileTheCompareStartsEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, second := startingCompare(t, e, e.options(colorprofile.ASCII))
	d.feed(d.m.crashed("index out of range [7] with length 3")) // what Update's recover calls
	if !d.quit {
		t.Fatal("shadow did not quit after the panic")
	}
	assertSecondEnded(t, e, second.id, "internal error")
	if err := d.m.Shutdown(&strings.Builder{}); !errors.Is(err, ErrInternal) {
		t.Fatalf("Shutdown = %v", err)
	}
	assertSecondEnded(t, e, second.id, "internal error")
}

func TestPanicInACommandWhileTheCompareStartsEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, second := startingCompare(t, e, e.options(colorprofile.ASCII))
	d.m.ProgramEnded(errors.Join(tea.ErrProgramKilled, tea.ErrProgramPanic))
	if err := d.m.Shutdown(&strings.Builder{}); !errors.Is(err, ErrInternal) {
		t.Fatalf("Shutdown = %v", err)
	}
	assertSecondEnded(t, e, second.id, "internal error")
}

// The session the compare is opened from ends (elsewhere, or by its time limit) while
// the compare starts: the compare's session ends with it.
func TestTheSessionEndingWhileTheCompareStartsEndsItsSession(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"ended elsewhere", "expired"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, server.DemoSeed)
			d, second := startingCompare(t, e, e.options(colorprofile.ASCII))
			first := d.m.SessionID()
			switch how {
			case "ended elsewhere":
				if err := e.staff(t, server.DemoCompanyAdminEmail).EndSession(context.Background(), first); err != nil {
					t.Fatal(err)
				}
				d.send(pollDue{session: first})
			case "expired":
				// By this machine's countdown (the server's clock, shared here, would
				// expire the compare's session too).
				d.m.sess.info.ExpiresAt = e.clock.Now()
				d.send(tick{session: first})
			}
			if d.m.sess != nil {
				t.Fatalf("the session did not end (%s):\n%s", how, d.view())
			}
			assertSecondEnded(t, e, second.id, "(the compare's session)")
			d.send(d.held[0])
			assertSecondEnded(t, e, second.id, "(the compare's session)")
		})
	}
}

// The session is left before the compare's reads come: the command that started the
// compare's session ends it itself, since nobody will show it.
func TestACompareStartedForAnEndedSessionEndsItself(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	s := d.m.sess
	u := pickable(t, e, server.DemoTechnicianEmail)
	cmd := d.m.startCompare(s, common.Tag{Session: s.id}, u)
	s.cancel() // the session ends before the command runs
	msg, ok := cmd().(compareStarted)
	if !ok || msg.second == nil {
		t.Fatalf("the command started no session: %+v", msg)
	}
	if d.m.seconds.get(msg.second.id) != nil {
		t.Fatal("the compare's session is still registered as open")
	}
	assertSecondEnded(t, e, msg.second.id, "ended before the compare started")
}

// A matrix the server will not give: the compare's session ends at once, journaled,
// and the view says why.
func TestACompareThatCannotReadEndsItsSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	e.faults.failPermissions.Store(true)
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(compareStarted); return ok }
	pickToCompare(d, server.DemoTechnicianEmail)
	d.hold = nil
	second := d.held[0].(compareStarted).second
	d.send(d.held[0])
	if d.m.sess.second != nil || !contains(d.view(), "down for maintenance") {
		t.Fatalf("the compare did not say the read failed, or kept its session:\n%s", d.view())
	}
	assertSecondEnded(t, e, second.id, "could not read the permissions")
}

// ctrl+c while the session (and so its compare) is ending: the program's context is
// cancelled under the end's requests. The compare's session is still ended on the
// server and journaled once, by the end or by Shutdown, never journaled as ended while
// still open.
func TestCtrlCWhileEndingStillEndsTheComparesSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := e.options(colorprofile.ASCII)
	opts.Context = ctx
	d := newDriver(t, New(opts), 100, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-7")
	d.press("2", "c")
	pickToCompare(d, server.DemoTechnicianEmail)
	if d.m.sess.second == nil {
		t.Fatalf("no second session:\n%s", d.view())
	}
	first, second := d.m.SessionID(), d.m.sess.second.id
	d.press("q")
	_, end := d.m.Update(uitest.Key("y"))
	cancel() // ctrl+c: Run cancels every request on its way
	run(end, 20*time.Second, d.late)
	if err := d.m.Shutdown(&strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	assertSecondEnded(t, e, second, "(the compare's session)")
	if st := serverState(t, e, first); st != api.SessionEnded {
		t.Fatalf("the main session is %q", st)
	}
}

// Under the compare, esc closes the compare, never a load the tab behind it waits for,
// and the status line does not offer esc to cancel it.
func TestEscUnderTheCompareClosesItNotATabsLoad(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 120, 40)
	s := d.m.sess
	_, l := s.startLoad(common.Tag{Session: s.id, Seq: 1 << 40}, TabPermissions, "the permission matrix", e.clock.Now(), time.Minute)
	if st := d.statusLine(); strings.Contains(st, "esc cancels") || strings.Contains(st, "loading") {
		t.Fatalf("the status line offers esc for the tab's load under the compare: %q", st)
	}
	d.press("esc")
	if s.compare != nil || l.cancelled.Load() {
		t.Fatalf("esc cancelled the tab's load (%v) or did not close the compare", l.cancelled.Load())
	}
	if st := d.statusLine(); !strings.Contains(st, "esc cancels") {
		t.Fatalf("once the compare is closed the load is not said: %q", st)
	}
	d.press("esc")
	if !l.cancelled.Load() {
		t.Fatal("esc does not cancel the load once the compare is closed")
	}
}

// pickable is the directory's entry of the user with email, as the picker gives it.
func pickable(t testing.TB, e *testEnv, email string) api.User {
	t.Helper()
	page, err := e.staff(t, server.DemoSupportEmail).Users(context.Background(), client.UsersQuery{Query: email})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("the user %s: %v %+v", email, err, page)
	}
	return page.Users[0]
}

package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// stalledView opens the Permissions tab against a server that does not answer it, and
// returns the channel its view's messages come out on once the call ends.
func stalledView(t *testing.T, e *testEnv, d *driver, keys ...string) <-chan []tea.Msg {
	t.Helper()
	e.faults.stallPermissions.Store(true)
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = d.m.Update(uitest.Key(k))
	}
	req, ok := uitest.Find[matrix.Requested](run(cmd, 10*time.Second, d.late))
	if !ok {
		t.Fatal("the Permissions tab asked for nothing")
	}
	_, cmd = d.m.Update(req)
	got := make(chan []tea.Msg, 1)
	go func() { got <- run(cmd, time.Minute, d.late) }()
	select {
	case <-e.faults.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the permissions request never reached the server")
	}
	return got
}

// deliver feeds what a view's call brought.
func deliver(t *testing.T, d *driver, got <-chan []tea.Msg) {
	t.Helper()
	select {
	case msgs := <-got:
		for _, msg := range msgs {
			d.send(msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the view's call did not end")
	}
}

// A server that does not answer: the status line says what loads and for how long,
// esc stops it at once (the server sees the request go), and the page says it was
// cancelled, in words; the session goes on.
func TestEscCancelsAHungLoad(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	got := stalledView(t, e, d, "2")
	if s := d.statusLine(); !strings.Contains(s, "loading the permission matrix… 0 s · esc cancels") {
		t.Fatalf("the status line does not say what loads: %q", s)
	}
	e.clock.Advance(12 * time.Second)
	if s := d.statusLine(); !strings.Contains(s, "loading the permission matrix… 12 s") {
		t.Fatalf("the status line does not count: %q", s)
	}
	if v := d.view(); !strings.Contains(v, "Loading permissions") {
		t.Fatalf("the tab does not say it loads:\n%s", v)
	}
	d.m.Update(uitest.Key("esc"))
	select {
	case <-e.faults.gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not stop the request")
	}
	deliver(t, d, got)
	v := d.view()
	if !strings.Contains(v, "cancelled (esc)") || strings.Contains(v, "context canceled") || strings.Contains(d.statusLine(), "loading") {
		t.Fatalf("the cancel is not said in words:\n%s", v)
	}
	if d.m.SessionID() != id || d.m.Tab() != TabPermissions {
		t.Fatal("esc ended more than the load")
	}
	e.faults.stallPermissions.Store(false)
	d.press("r")
	if v := d.view(); !strings.Contains(v, "resources ×") {
		t.Fatalf("r does not load the matrix again after a cancel:\n%s", v)
	}
}

// A server that answers too late: the page and the status line say so in words, never
// "context deadline exceeded"; at 80 columns the status line keeps "q end session".
func TestTimeoutIsSaidInWords(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ASCII)
	opts.RequestTimeout = 200 * time.Millisecond
	d := newDriver(t, New(opts), 80, 24)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	got := stalledView(t, e, d, "2")
	deliver(t, d, got)
	if s := d.statusLine(); !strings.Contains(s, "error: ") || !strings.Contains(s, "q end session") {
		t.Fatalf("at 80 columns with an error the way out is not hinted: %q", s)
	}
	v := d.view() + d.statusLine()
	if strings.Contains(v, "deadline") || strings.Contains(v, "context") {
		t.Fatalf("a Go error string is on screen:\n%s", v)
	}
	if !strings.Contains(v, "did not answer") {
		t.Fatalf("the timeout is not said:\n%s", v)
	}
}

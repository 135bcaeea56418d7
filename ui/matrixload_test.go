package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/matrix"
)

// pagedSeed is a generated organisation whose Fleet Manager sees 11,055 resources: the
// matrix comes in four pages (100 rows, then 5,000, 5,000 and 955).
var pagedSeed = server.Seed{Demo: true, GenerateResources: 11_000}

// openPaged starts a session on the Fleet Manager and opens the Permissions tab, holding
// back the request for the second page: the tab shows the first page alone.
func openPaged(t *testing.T, e *testEnv, opts Options) *driver {
	t.Helper()
	d := newDriver(t, New(opts), 140, 30) // a first page of 100 rows: more than three screens
	d.startSession(server.DemoFleetManagerEmail, "TICKET-10 big matrix")
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(matrix.MoreRequested); return ok }
	d.press("2")
	d.hold = nil
	return d
}

// more lets the held request for the next page go, and everything after it.
func (d *driver) more() {
	d.t.Helper()
	held := d.held
	d.held = nil
	if len(held) != 1 {
		d.t.Fatalf("%d requests for more held, want 1", len(held))
	}
	d.send(held[0])
}

// waitSynced waits (up to 10 s) until the journal has no record pending.
func waitSynced(j *audit.Journal) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for j.Status().Pending > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// viewRecords are the session's view and explain records' details.
func viewRecords(t *testing.T, j *audit.Journal, id string) (views []string, errs []string) {
	t.Helper()
	entries, err := j.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Data.Action {
		case api.ActionView, api.ActionExplain:
			views = append(views, e.Data.Details)
		case api.ActionError:
			errs = append(errs, e.Data.Details)
		}
	}
	return views, errs
}

// The matrix in pages against the real server: the first page is shown alone with the
// rows it holds said honestly ("rows 1–100 of 11,055"), then the rest arrive and the
// summary says the whole; one view record names the four pages; a cell of the last
// page says its source in words and explains; and the server's reconciliation of the
// session (the Journal tab's a, and `shadow journal verify --server`) is clean.
func TestMatrixLoadsInPages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, pagedSeed)
	dir := t.TempDir()
	j, _, err := audit.Open(audit.Options{StateDir: dir, Now: e.clock.Now,
		Actor: api.UserRef{Name: "Sam Rivera", Email: server.DemoSupportEmail}})
	if err != nil {
		t.Fatal(err)
	}
	opts := e.options(colorprofile.ASCII)
	opts.Journal = j
	d := openPaged(t, e, opts)
	id := d.m.SessionID()

	first := d.view()
	if !strings.Contains(first, "row 1 · rows 1–100 of 11,055 resources × 6 actions · loading 5,000 more…") {
		t.Fatalf("the first page is not said as such:\n%s", first)
	}
	if views, _ := viewRecords(t, j, id); len(views) != 3 || views[2] !=
		"permissions: 11055 resources × 6 actions in 4 pages (100 rows shown first, then up to 5000 a page)" {
		t.Fatalf("the view is not journaled once, naming its pages, before it is shown: %q", views)
	}
	d.press("G")
	if v := d.view(); !strings.Contains(v, "… loading rows 101–5,100 of 11,055 (esc stops)") {
		t.Fatalf("past the rows loaded, nothing says what loads:\n%s", v)
	}
	d.more()
	all := d.view()
	if !strings.Contains(all, "of 11,055 resources × 6 actions") || strings.Contains(all, "rows 1–") || strings.Contains(all, "loading") {
		t.Fatalf("the whole matrix is not said once loaded:\n%s", all)
	}
	if views, errs := viewRecords(t, j, id); len(views) != 3 || len(errs) != 0 {
		t.Fatalf("later pages made records of their own: %q %q", views, errs)
	}
	// The cursor waited on the placeholder row; it now rests on the first row the page brought.
	if !strings.Contains(all, "row 101 of 11,055") {
		t.Fatalf("the cursor did not stay where the rows came:\n%s", all)
	}
	d.press("G", "right", "right", "right", "enter") // delete on the last row: an explicit deny
	v := d.view()
	if !contains(v, "row 11,055 of 11,055", "✗ denied by explicit deny ", "Why? delete on ") || strings.Contains(v, "an unknown source") {
		t.Fatalf("a cell of the last page does not explain:\n%s", v)
	}
	views, _ := viewRecords(t, j, id)
	if last := views[len(views)-1]; !strings.HasPrefix(last, "explain delete on ") {
		t.Fatalf("the explain of the last page's cell is not journaled: %q", last)
	}

	synced := func() {
		t.Helper()
		waitSynced(j)
		d.feed(d.m.readRecords())
	}
	synced()
	d.press("3", "a")
	if v := d.view(); !strings.Contains(v, "Server's log: all ") || !strings.Contains(v, "served are journaled") {
		t.Fatalf("the paged load does not reconcile in the Journal tab:\n%s", v)
	}
	a, err := e.staff(t, server.DemoSupportEmail).SessionAudit(context.Background(), id)
	if err != nil || !a.Summary.Consistent || a.Summary.Unjournaled != 0 {
		t.Fatalf("the server's reconciliation: %v %+v", err, a.Summary)
	}
	pages := 0
	for _, q := range a.Requests {
		if q.Path == api.Prefix+"/permissions" {
			pages++
		}
	}
	if pages != 4 {
		t.Fatalf("the server served %d requests for the matrix, want its 4 pages", pages)
	}

	d.press("q", "y")
	synced()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := audit.CommandEnv{Stdout: &out, Stderr: &out,
		Getenv:    func(k string) string { return map[string]string{"SHADOW_TOKEN": "signed-in-by-the-test"}[k] },
		NewRemote: func(audit.RemoteOptions) (audit.Remote, error) { return e.staff(t, server.DemoSupportEmail), nil }}
	if err := audit.RunCommand(context.Background(), []string{"verify", "--server=" + e.ts.URL, "--state-dir", dir}, env); err != nil ||
		!strings.Contains(out.String(), "1 session set against what the server served: 1 consistent, 0 findings") {
		t.Fatalf("journal verify --server after a paged load: %v\n%s", err, out.String())
	}
	// show --server lists each request with the record accounting for it: the later
	// pages with their view's record, none as "read not journaled" (a tester saw every
	// later page so marked under a summary saying all were journaled).
	out.Reset()
	if err := audit.RunCommand(context.Background(), []string{"show", id, "--server=" + e.ts.URL, "--state-dir", dir}, env); err != nil ||
		strings.Contains(out.String(), "read not journaled") || strings.Count(out.String(), "a later page of its view") != 3 {
		t.Fatalf("journal show --server after a paged load (want its 3 later pages with the view's record): %v\n%s", err, out.String())
	}
}

// A server that fails the third page: the rows loaded stay, the summary and the
// placeholder row say in words what did not load and how to try again, the failure is
// journaled, the session goes on, and the reconciliation stays clean.
func TestMatrixFailedPageKeepsWhatLoaded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, pagedSeed)
	e.faults.failPage.Store(3)
	d := openPaged(t, e, e.options(colorprofile.ASCII))
	id := d.m.SessionID()
	d.more()
	d.press("G")
	v := d.view()
	for _, want := range []string{"rows 1–5,100 of 11,055 resources × 6 actions · rest not loaded",
		"rows 5,101–11,055 of 11,055 not loaded · r reloads", "the server failed (HTTP 503): the permission service is down for maintenance"} {
		if !strings.Contains(v, want) {
			t.Errorf("the failed page: %q is not on screen:\n%s", want, v)
		}
	}
	if s := d.statusLine(); !strings.Contains(s, "the server failed (HTTP 503)") {
		t.Errorf("the status line does not say the page failed: %q", s)
	}
	d.press("up")
	if v := d.view(); !strings.Contains(v, "row 5,100 · rows 1–5,100 of 11,055") {
		t.Errorf("the last row loaded is not there:\n%s", v)
	}
	if _, errs := viewRecords(t, e.journal, id); len(errs) != 1 || !strings.HasPrefix(errs[0], "permissions: rows 5101–10100 of 11055 did not load: ") {
		t.Fatalf("the failed page is not journaled: %q", errs)
	}
	if d.m.SessionID() != id || d.m.Tab() != TabPermissions {
		t.Fatal("a failed page ended more than its load")
	}
	waitSynced(e.journal)
	a, err := e.staff(t, server.DemoSupportEmail).SessionAudit(context.Background(), id)
	if err != nil || !a.Summary.Consistent {
		t.Fatalf("the reconciliation after a failed page: %v %+v", err, a.Summary)
	}
	e.faults.failPage.Store(0)
	d.press("r")
	if v := d.view(); !strings.Contains(v, "of 11,055 resources × 6 actions") || strings.Contains(v, "rows 1–") {
		t.Fatalf("r does not load the whole matrix again:\n%s", v)
	}
}

// A server that hangs on a later page: esc stops it (the server sees the request go),
// the rows loaded stay, and the page says it was cancelled, in words.
func TestEscStopsBackgroundPages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, pagedSeed)
	d := openPaged(t, e, e.options(colorprofile.ASCII))
	e.faults.stallPermissions.Store(true)
	held := d.held[0]
	d.held = nil
	_, cmd := d.m.Update(held)
	got := make(chan []tea.Msg, 1)
	go func() { got <- run(cmd, time.Minute, d.late) }()
	select {
	case <-e.faults.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the page request never reached the server")
	}
	if s := d.statusLine(); !strings.Contains(s, "loading rows 101–5,100 of 11,055 of the permission matrix… 0 s · esc cancels") {
		t.Fatalf("the status line does not say which rows load: %q", s)
	}
	d.m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	select {
	case <-e.faults.gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not stop the page")
	}
	deliver(t, d, got)
	e.faults.stallPermissions.Store(false)
	d.press("G")
	v := d.view()
	if !contains(v, "rows 1–100 of 11,055", "rest not loaded", "rows 101–11,055 of 11,055 not loaded · r reloads: cancelled (esc)") || strings.Contains(v, "context canceled") {
		t.Fatalf("the cancel is not said in words, or the rows loaded are gone:\n%s", v)
	}
}

package ui

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// sessionAudit is the server's reconciliation of the session the driver shows, once
// the journal is synced.
func sessionAudit(t *testing.T, e *testEnv, d *driver) (views, errs []string, sum string, consistent bool) {
	t.Helper()
	id := d.m.SessionID()
	waitSynced(e.journal)
	a, err := e.staff(t, server.DemoSupportEmail).SessionAudit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	views, errs = viewRecords(t, e.journal, id)
	var b strings.Builder
	for _, q := range a.Unjournaled {
		b.WriteString(" unjournaled: " + q.Path + " " + q.Details)
	}
	for _, r := range a.Records {
		if r.Finding != "" {
			b.WriteString(" finding: " + r.Details + ": " + r.Finding)
		}
	}
	return views, errs, b.String(), a.Summary.Consistent
}

// ownJournal gives opts a journal of its own in a state dir the test can verify.
func ownJournal(t *testing.T, e *testEnv, opts *Options) (*audit.Journal, string) {
	t.Helper()
	dir := t.TempDir()
	j, _, err := audit.Open(audit.Options{StateDir: dir, Now: e.clock.Now,
		Actor: api.UserRef{Name: "Sam Rivera", Email: server.DemoSupportEmail}})
	if err != nil {
		t.Fatal(err)
	}
	opts.Journal = j
	return j, dir
}

// cleanEverywhere checks the session is clean as the admin and the auditor see it: the
// Journal tab's a, then (the journal closed) `shadow journal verify --server`.
func cleanEverywhere(t *testing.T, e *testEnv, d *driver, j *audit.Journal, dir string) {
	t.Helper()
	waitSynced(j)
	d.feed(d.m.readRecords())
	d.press("3", "a")
	if v := d.view(); !strings.Contains(v, "Server's log: all ") || !strings.Contains(v, "served are journaled") {
		t.Errorf("the Journal tab's a does not say the session is clean:\n%s", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := audit.CommandEnv{Stdout: &out, Stderr: &out,
		Getenv:    func(k string) string { return map[string]string{"SHADOW_TOKEN": "signed-in-by-the-test"}[k] },
		NewRemote: func(audit.RemoteOptions) (audit.Remote, error) { return e.staff(t, server.DemoSupportEmail), nil }}
	err := audit.RunCommand(context.Background(), []string{"verify", "--server=" + e.ts.URL, "--state-dir", dir}, env)
	if m := regexp.MustCompile(`(\d+) sessions? set against what the server served: (\d+) consistent, 0 findings`).FindStringSubmatch(out.String()); err != nil || m == nil || m[1] != m[2] {
		t.Errorf("journal verify --server: %v\n%s", err, out.String())
	}
}

// r while a later page of the matrix is on its way: the page's request reaches the
// server after the new view's first request, yet the server counts it to its own view,
// so the honest session reconciles. The reload cancels the page the old view had on
// its way (as esc does) and journals that as an error record naming its rows.
func TestAReloadWhileAPageIsOnItsWayReconciles(t *testing.T) {
	e := newTestEnv(t, pagedSeed)
	opts := e.options(colorprofile.ASCII)
	c, err := client.New(client.Options{BaseURL: e.ts.URL, Version: "test", MaxAttempts: 1}) // no cache: every view asks
	if err != nil {
		t.Fatal(err)
	}
	opts.Client = c
	j, dir := ownJournal(t, e, &opts)
	e.journal = j
	d := openPaged(t, e, opts)
	old := d.held[0] // the old view's page 2, asked for; its request is about to go on the wire
	d.held = nil
	e.clock.Advance(time.Second)
	d.press("r") // a new view: first page, then its three later pages
	e.clock.Advance(time.Second)
	d.send(old) // the old view's page request reaches the server (its reply is dropped)
	if views, errs, sum, ok := sessionAudit(t, e, d); !ok {
		t.Errorf("reload during paging does not reconcile:%s\nrecords %q errors %q", sum, views, errs)
	}
	cleanEverywhere(t, e, d, j, dir)
}

// r while a page is on its way and held there: the reload cancels it, and the error
// record says the reload did, with the rows that did not come.
func TestAReloadCancelsThePageOnItsWay(t *testing.T) {
	e := newTestEnv(t, pagedSeed)
	opts := e.options(colorprofile.ASCII)
	j, dir := ownJournal(t, e, &opts)
	e.journal = j
	d := openPaged(t, e, opts)
	e.faults.stallPermissions.Store(true)
	held := d.held[0]
	d.held = nil
	_, cmd := d.m.Update(held)
	got := make(chan []tea.Msg, 1)
	go func() { got <- run(cmd, time.Minute, d.late) }()
	select {
	case <-e.faults.stalled: // the page's request is at the server, unanswered
	case <-time.After(10 * time.Second):
		t.Fatal("the page request never reached the server")
	}
	_, reload := d.m.Update(uitest.Key("r"))
	var next []tea.Cmd // the reload asks for the new view's first page: that cancels the old page
	for _, msg := range run(reload, 10*time.Second, d.late) {
		_, c := d.m.Update(msg)
		next = append(next, c)
	}
	select {
	case <-e.faults.gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("r did not stop the old view's page")
	}
	e.faults.stallPermissions.Store(false)
	deliver(t, d, got)
	d.feed(tea.Batch(next...))
	if v := d.view(); !strings.Contains(v, "of 11,055 resources × 6 actions") || strings.Contains(v, "loading") {
		t.Fatalf("the reload did not load the matrix again:\n%s", v)
	}
	views, errs, sum, ok := sessionAudit(t, e, d)
	if !ok {
		t.Errorf("does not reconcile:%s\nrecords %q errors %q", sum, views, errs)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "rows 101–5100 of 11055") || !strings.Contains(errs[0], "reloaded") {
		t.Errorf("the cancelled page is not journaled as cancelled by the reload: %q", errs)
	}
	cleanEverywhere(t, e, d, j, dir)
}

// c (compare) while the matrix's later pages still load: the compare's whole matrix
// read sits between the view's pages, which stay the view's, so the honest session
// reconciles.
func TestACompareWhilePagesLoadReconciles(t *testing.T) {
	e := newTestEnv(t, pagedSeed)
	opts := e.options(colorprofile.ASCII)
	j, dir := ownJournal(t, e, &opts)
	e.journal = j
	d := openPaged(t, e, opts)
	more := d.held[0]
	d.held = nil
	e.clock.Advance(time.Second)
	d.press("c")
	if d.m.sess.compare == nil {
		t.Fatalf("c did not open the compare:\n%s", d.view())
	}
	pickToCompare(d, server.DemoTechnicianEmail)
	if d.m.sess.second == nil {
		t.Fatalf("no compare session:\n%s", d.view())
	}
	e.clock.Advance(time.Second)
	d.send(more) // the matrix tab's background load goes on under the compare
	if views, errs, sum, ok := sessionAudit(t, e, d); !ok {
		t.Errorf("an honest session (matrix in pages, compare opened meanwhile) does not reconcile:%s\nrecords %q errors %q", sum, views, errs)
	}
	d.press("esc") // the compare closes
	cleanEverywhere(t, e, d, j, dir)
}

// r after the whole matrix is in, with the client's cache on: the reload reads a new
// view from the server, and the session (two views of four pages) reconciles.
func TestAReloadReadsANewViewNotTheCachedOne(t *testing.T) {
	e := newTestEnv(t, pagedSeed)
	opts := e.options(colorprofile.ASCII) // the caching client
	j, dir := ownJournal(t, e, &opts)
	e.journal = j
	d := openPaged(t, e, opts)
	d.more()
	e.clock.Advance(time.Second)
	d.press("r")
	if v := d.view(); !strings.Contains(v, "of 11,055 resources × 6 actions") || strings.Contains(v, "loading") {
		t.Fatalf("the reload did not load the matrix again:\n%s", v)
	}
	views, errs, sum, ok := sessionAudit(t, e, d)
	if !ok {
		t.Errorf("a reload after a full load does not reconcile:%s\nrecords %q errors %q", sum, views, errs)
	}
	cleanEverywhere(t, e, d, j, dir)
}

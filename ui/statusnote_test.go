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
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

// TestAnotherSignInsJournalIsToldInAFewWords: a journal in the state dir that the
// server holds as another identity's (a customer's company admin started it) is left
// for its owner, and the status line says so in a few plain words, not the sync loop's
// error chain, and keeps its key hints at 80 and 120 columns, on the picker and in a
// session (the tester saw "note: journal: journal 01M…: belongs elsewhere: fo…" push
// every hint but "q end session" out).
func TestAnotherSignInsJournalIsToldInAFewWords(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	state := t.TempDir()
	theirs, _, err := audit.Open(audit.Options{StateDir: state,
		Actor: api.UserRef{ID: "u-customer-admin", Name: "Customer Admin", Email: server.DemoCompanyAdminEmail}})
	if err != nil {
		t.Fatal(err)
	}
	var first audit.Record
	for i := range 3 {
		rec, err := theirs.Append(context.Background(), api.RecordBody{SessionID: "s-customer", Action: api.ActionView,
			Actor: api.UserRef{ID: "u-customer-admin"}, Details: "dashboard d-fleet"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = rec
		}
	}
	owner, err := client.New(client.Options{BaseURL: e.ts.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Login(context.Background(), server.DemoCompanyAdminEmail, server.DemoSupportPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.PutJournalRecords(context.Background(), theirs.ID(), []api.WireRecord{first.Wire()}); err != nil {
		t.Fatal(err) // the server now holds the journal as the customer admin's
	}
	if err := theirs.Close(context.Background()); err != nil && !errors.Is(err, audit.ErrUnsynced) {
		t.Fatal(err)
	}

	opts := e.options(colorprofile.ASCII)
	opts.Journal, opts.StateDir = nil, state
	d := newDriver(t, New(opts), 80, 24)
	const words = "1 journal of another sign-in kept for its owner"
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.m.note, "another sign-in") {
		if time.Now().After(deadline) {
			t.Fatalf("never told: note %q\n%s", d.m.note, d.view())
		}
		time.Sleep(5 * time.Millisecond)
		d.feed(nil)
	}
	if d.m.note != words {
		t.Fatalf("note %q, want %q", d.m.note, words)
	}
	check := func(where string, w int, hint string) {
		t.Helper()
		d.send(tea.WindowSizeMsg{Width: w, Height: 24})
		line := d.statusLine()
		for _, bad := range []string{"belongs elsewhere", "forbidden", theirs.ID(), "• │"} {
			if strings.Contains(line, bad) {
				t.Errorf("%s at %d columns: %q on the status line: %q", where, w, bad, line)
			}
		}
		if !strings.Contains(line, "note: 1 journal of another") || !strings.Contains(line, hint) ||
			!strings.HasSuffix(strings.TrimRight(line, " "), "? help") {
			t.Errorf("%s at %d columns: the note or the hints are lost: %q", where, w, line)
		}
	}
	check("picker", 80, "enter")
	check("picker", 120, "enter")
	if w := 120; !strings.Contains(d.statusLine(), "note: "+words) {
		t.Errorf("at %d columns the note is cut: %q", w, d.statusLine())
	}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.startSession(server.DemoFleetManagerEmail, "TICKET-7")
	check("session", 80, "q end session")
	check("session", 120, "q end session • ↓/j down")
	d.m.Shutdown(discard{})
}

package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/common"
)

// TestEndingItYourselfSaysSoOnThePicker: after q, y the picker's top line says whom
// the session was with, that the admin ended it and when, and how many records the
// journal holds of it — "pending" while the server has not acknowledged the last of
// them (the sync loop's word held back here), "synced" once it has; the word goes when
// the next session starts.
func TestEndingItYourselfSaysSoOnThePicker(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := newDriver(t, New(e.options(colorprofile.ASCII)), 140, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	d.press("2", "3")

	// Until the sync loop says otherwise, the model knows of no acknowledgement.
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(syncStatus); return ok }
	d.press("q", "y")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("not on the picker: %q", d.m.Screen())
	}
	n := len(sessionActions(t, e.journal, id))
	at := e.clock.Now().UTC().Format("15:04")
	said := fmt.Sprintf("session with Nora Lindqvist ended by you at %s UTC; journal: %d records, ", at, n)
	if l := d.topLine(); !strings.Contains(l, said) || strings.Contains(l, "records, synced") || !strings.Contains(l, " pending") {
		t.Fatalf("status line %q, want %q… pending", l, said)
	}

	// Once the server has acknowledged them, and only then, it says synced.
	held := d.held
	d.hold, d.held = nil, nil
	for _, msg := range held {
		d.send(msg)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.topLine(), said+"synced") {
		if time.Now().After(deadline) {
			t.Fatalf("never said synced: %q (journal %+v)", d.topLine(), e.journal.Status())
		}
		time.Sleep(10 * time.Millisecond)
		d.feed(nil)
	}
	if st := e.journal.Status(); st.Acked < st.Head {
		t.Fatalf("said synced with the journal at %+v", st)
	}

	d.startSession(server.DemoFleetManagerEmail, "TICKET-2")
	if strings.Contains(d.view(), "ended by you") {
		t.Fatalf("the last session's end is still said:\n%s", d.view())
	}
	// An end the admin did not ask for says nothing of the kind.
	d.press("ctrl+c")
	if strings.Contains(d.view(), "ended by you") {
		t.Fatalf("ctrl+c said it was ended by you:\n%s", d.view())
	}
}

// topLine is the first line of the frame.
func (d *driver) topLine() string { return strings.SplitN(d.view(), "\n", 2)[0] }

// At 80 columns the picker's top line still says who, when, and the journal's state,
// the name cut first.
func TestEndedLineFitsNarrowTerminals(t *testing.T) {
	k := &sessionKept{user: "Maximiliane Alexandra von Habsburg-Lothringen", at: time.Date(2026, 1, 2, 3, 12, 0, 0, time.UTC), seqs: []uint64{1, 2}}
	st := common.NewStyles(colorprofile.ASCII)
	for _, w := range []int{200, 75, 60} {
		got := k.line(st, 1, w)
		if safetext.Width(got) > w || !strings.HasSuffix(got, "ended by you at 03:12 UTC · 2 records, 1 pending") && !strings.HasSuffix(got, "journal: 2 records, 1 pending") {
			t.Errorf("%d cells: %q", w, got)
		}
	}
	if got := k.line(st, 2, 75); !strings.HasSuffix(got, "2 records, synced") {
		t.Errorf("synced: %q", got)
	}
}

func TestEndedNoteCountsPendingRecords(t *testing.T) {
	k := &sessionKept{user: "Ava \x1b[31mEriksen", at: time.Date(2026, 1, 2, 3, 12, 0, 0, time.UTC), seqs: []uint64{3, 4, 5}}
	for _, c := range []struct {
		acked uint64
		want  string
	}{{0, "3 pending"}, {4, "1 pending"}, {5, "synced"}, {9, "synced"}} {
		want := "session with Ava Eriksen ended by you at 03:12 UTC; journal: 3 records, " + c.want
		if got := k.note(c.acked); got != want {
			t.Errorf("acked %d: %q, want %q", c.acked, got, want)
		}
	}
	one := &sessionKept{user: "Ava", at: k.at, seqs: []uint64{1}}
	if got := one.note(1); !strings.Contains(got, "1 record, synced") {
		t.Errorf("one record: %q", got)
	}
}

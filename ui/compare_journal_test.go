package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/picker"
)

// recordsOf is the journal's records of session id with action, in order.
func recordsOf(t *testing.T, e *testEnv, id, action string) []api.RecordBody {
	t.Helper()
	entries, err := e.journal.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []api.RecordBody
	for _, en := range entries {
		if en.Data.Action == action {
			out = append(out, en.Data)
		}
	}
	return out
}

// The compare's start and end are in the main session's own records too (naming the
// second user and session, and why it ended), the server takes them, and the session
// still reconciles clean.
func TestCompareStartAndEndAreInTheSessionsOwnRecords(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, first, second := comparing(t, e)
	tech := d.m.sess.second.name
	d.press("esc")
	d.settle() // every record synced: the server accepted them
	starts, ends := recordsOf(t, e, first, ActionCompareStart), recordsOf(t, e, first, ActionCompareEnd)
	if len(starts) != 1 || !strings.Contains(starts[0].Details, tech) || !strings.Contains(starts[0].Details, second) {
		t.Fatalf("the session's records do not hold one compare.start naming %s and session %s: %+v", tech, second, starts)
	}
	if len(ends) != 1 || !strings.Contains(ends[0].Details, second) || !strings.Contains(ends[0].Details, "the compare view was closed") {
		t.Fatalf("the session's records do not hold one compare.end saying why: %+v", ends)
	}
	if starts[0].User == nil || starts[0].User.ID != d.m.sess.user.ID || ends[0].User.ID != d.m.sess.user.ID {
		t.Fatal("the compare's records in the session are not of the session's user")
	}
	got := strings.Join(actions(t, e, first), ",")
	if !strings.Contains(got, ActionCompareStart+",view,explain") || !strings.HasSuffix(got, ActionCompareEnd) {
		t.Fatalf("the session's journal: %s", got)
	}
	a, err := e.client.SessionAudit(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	if sum := a.Summary; !sum.Consistent || sum.Unverified != 0 {
		t.Fatalf("the session does not reconcile clean with the compare's records: %+v", sum)
	}
}

// Ending the main session ends the compare: its end is in the session's records before
// the session's own end.
func TestCompareEndIsJournaledBeforeTheSessionsEnd(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d, first, _ := comparing(t, e)
	d.press("q", "y")
	got := actions(t, e, first)
	if n := len(got); n < 2 || got[n-2] != ActionCompareEnd || got[n-1] != api.ActionSessionEnd {
		t.Fatalf("the session's journal does not end compare.end, session.end: %v", got)
	}
}

// A user the server refuses is journaled in the session's own records, with the
// server's code, before the refusal is shown.
func TestCompareRefusalIsInTheSessionsOwnRecords(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 100, 30)
	u := pickable(t, e, server.DemoOutOfScopeEmail)
	d.send(picker.Picked{User: u})
	recs := recordsOf(t, e, d.m.SessionID(), ActionCompareRefused)
	if len(recs) != 1 || !strings.Contains(recs[0].Details, u.ID) || !strings.Contains(recs[0].Details, string(api.CodeTargetOutOfScope)) {
		t.Fatalf("the refusal is not in the session's records with the server's code: %+v", recs)
	}
	if !strings.Contains(d.view(), "Could not compare with "+u.Name) {
		t.Fatalf("the refusal is not shown:\n%s", d.view())
	}
	d.settle()
}

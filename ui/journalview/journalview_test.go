package journalview_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/journalview"
)

func page(p uitest.Profile, w, h int, entries []journalview.Entry) *journalview.Model {
	m := journalview.New(uitest.Context(p.Profile, w, h))
	m.SetSize(w, h)
	m.Update(journalview.Updated{Entries: entries})
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := page(p, sz.W, sz.H, uitest.JournalEntries(12))
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				uitest.Golden(t, view)
			})
		}
	}
}

func TestFollowsNewRecordsAndSaysSyncState(t *testing.T) {
	entries := uitest.JournalEntries(40)
	m := page(uitest.Profiles[0], 80, 24, entries[:30])
	view := uitest.Plain(m.View())
	if !strings.Contains(view, "❯  30") || !strings.Contains(view, "all synced") {
		t.Fatalf("not following the tail:\n%s", view)
	}
	m.Update(journalview.Updated{Entries: entries})
	if view = uitest.Plain(m.View()); !strings.Contains(view, "❯  40") {
		t.Fatalf("did not follow the new records:\n%s", view)
	}
	uitest.Press(m, "up", "up")
	m.Update(journalview.Updated{Entries: append(entries, entries[0])})
	if view = uitest.Plain(m.View()); !strings.Contains(view, "❯  38") {
		t.Fatalf("moved the cursor while the admin was reading:\n%s", view)
	}
	for i := range entries {
		entries[i].Sync = journalview.Synced
	}
	entries[5].Sync = journalview.Rejected
	entries[5].Details = hostile.Strings["osc 52 clipboard"] + hostile.Strings["bidi override"]
	m.Update(journalview.Updated{Entries: entries})
	uitest.Press(m, "g", "down", "down", "down", "down", "down")
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	if !strings.Contains(lines[0], "1 REJECTED by the server") || !strings.Contains(lines[23], "Details: DavePeggy evil.exe txt") {
		t.Fatalf("rejected record or its details:\n%s", strings.Join(lines, "\n"))
	}
	if one := uitest.Plain(page(uitest.Profiles[0], 80, 24, entries[:1]).View()); !strings.Contains(one, "of 1 record ·") {
		t.Fatalf("one record is not '1 record':\n%s", one)
	}
	empty := page(uitest.Profiles[0], 80, 24, nil)
	if !strings.Contains(empty.View(), "No records yet.") {
		t.Fatal("empty journal")
	}
}

// TestTitlesAreNotCut: the users' columns are titled so that no title is cut short.
func TestTitlesAreNotCut(t *testing.T) {
	for _, w := range []int{80, 100, 120, 150, 200} {
		m := page(uitest.Profiles[0], w, 24, uitest.JournalEntries(3))
		header := uitest.AssertFrame(t, m.View(), w, 24)[1]
		if strings.Contains(header, "…") || !strings.Contains(header, "Details") {
			t.Fatalf("%d cells: %q", w, header)
		}
	}
}

// TestShortTerminalsShowRecords: at any height the newest record is shown.
func TestShortTerminalsShowRecords(t *testing.T) {
	for h := 2; h <= 8; h++ {
		m := page(uitest.Profiles[0], 20, h, uitest.JournalEntries(12))
		if v := strings.Join(uitest.AssertFrame(t, m.View(), 20, h), "\n"); !strings.Contains(v, "❯  12") {
			t.Fatalf("height %d: no record shown:\n%s", h, v)
		}
	}
}

// At 80×24 a session's journal names the admin and the user once, in the title, and
// gives their columns to the details; a journal naming several keeps the columns.
// enter shows the record under the cursor whole (every field, the details wrapped),
// esc goes back.
func TestSessionJournalReadsAt80x24(t *testing.T) {
	entries := uitest.JournalEntries(12)
	entries[11].Details = "explain update on vehicle:00001 (Truck 01): allow by role Fleet Manager via team North, the end of a long line of details"
	m := page(uitest.Profiles[0], 80, 24, entries)
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	if !strings.Contains(lines[0], "Sam Support as Alice Andersen") || strings.Contains(lines[1], "Admin") || strings.Contains(lines[1], "As user") {
		t.Fatalf("the users are repeated on every row:\n%s", strings.Join(lines, "\n"))
	}
	if n := strings.Count(strings.Join(lines, "\n"), "Alice Andersen"); n != 1 {
		t.Fatalf("the impersonated user is said %d times", n)
	}
	uitest.Press(m, "enter")
	whole := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	if !strings.Contains(whole, "Journal record 12") || !strings.Contains(whole, "Fleet Manager via team North") || !strings.Contains(whole, "User performing action Sam Support") || !strings.Contains(whole, "Impersonated user      Alice Andersen") {
		t.Fatalf("the record is not shown whole:\n%s", whole)
	}
	uitest.Press(m, "esc")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Journal · row 12 of 12") {
		t.Fatalf("esc does not go back:\n%s", v)
	}
	entries[3].User = "Bob Berg"
	m = page(uitest.Profiles[0], 80, 24, entries)
	if l := uitest.AssertFrame(t, m.View(), 80, 24)[1]; !strings.Contains(l, "As user") {
		t.Fatalf("a journal of two users lost its columns: %q", l)
	}
}

// searched is a page of 40 records (every fifth an explain of vehicle:00001) with
// "vehicle" searched and kept.
func searched(t *testing.T, p uitest.Profile, w, h int) *journalview.Model {
	t.Helper()
	m := page(p, w, h, uitest.JournalEntries(40))
	uitest.Press(m, "g", "/")
	if !m.Capturing() {
		t.Fatal("/ does not give the search the keyboard")
	}
	uitest.Press(m, "v", "e", "h", "i", "c", "l", "e", "enter")
	return m
}

func TestSearchGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := searched(t, p, sz.W, sz.H)
				uitest.Press(m, "n")
				view := m.View()
				plain := strings.Join(uitest.AssertFrame(t, view, sz.W, sz.H), "\n")
				if !strings.Contains(plain, "Search: vehicle · match 2 of 8") || !strings.Contains(plain, "row 10 of 40 records") {
					t.Fatalf("search or row not said:\n%s", plain)
				}
				uitest.Golden(t, view)
			})
		}
	}
}

// TestSearchMovesFromMatchToMatch: / searches every field of the records, the cursor goes
// to the first match from where it is, n/N go to the next/previous one (wrapping), the
// line says "match K of N" and the title "row N of M"; a search matching nothing says so
// in words; esc clears it; keys typed into it are text; records arriving are searched.
func TestSearchMovesFromMatchToMatch(t *testing.T) {
	m := searched(t, uitest.Profiles[0], 80, 24)
	say := func() string { return strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n") }
	if v := say(); !strings.Contains(v, "match 1 of 8") || !strings.Contains(v, "row 5 of 40") || !strings.Contains(v, "❯   5") {
		t.Fatalf("the first match is not row 5:\n%s", v)
	}
	uitest.Press(m, "N")
	if v := say(); !strings.Contains(v, "match 8 of 8") || !strings.Contains(v, "row 40 of 40") {
		t.Fatalf("N before the first does not wrap to the last:\n%s", v)
	}
	uitest.Press(m, "n")
	if v := say(); !strings.Contains(v, "match 1 of 8") {
		t.Fatalf("n after the last does not wrap to the first:\n%s", v)
	}
	uitest.Press(m, "down")
	if v := say(); !strings.Contains(v, "8 matches · this row is none") {
		t.Fatalf("off a match, the line still names one:\n%s", v)
	}
	uitest.Press(m, "n")
	if v := say(); !strings.Contains(v, "match 2 of 8") || !strings.Contains(v, "row 10 of 40") {
		t.Fatalf("n from between matches:\n%s", v)
	}

	// Another field: the admin's name, the record's seq, the action; case does not count.
	for _, c := range [][2]string{{"SAM SUP", " of 40 ·"}, {"2025-03-14", " of 40 ·"}, {"session.start", " of 8 ·"}, {"d-fleet", " of 8 ·"}} {
		q, want := c[0], c[1]
		uitest.Press(m, "/")
		uitest.Press(m, strings.Split(q, "")...)
		if v := say(); !strings.Contains(v, want) {
			t.Fatalf("%q: want %q:\n%s", q, want, v)
		}
		uitest.Press(m, "esc")
	}

	// Nothing matches: said in words; q and 1 are text, not the root's keys.
	uitest.Press(m, "/", "q", "1", "z")
	if v := say(); !strings.Contains(v, "Search: q1z") || !strings.Contains(v, "no record matches") {
		t.Fatalf("no match is not said:\n%s", v)
	}
	uitest.Press(m, "esc")
	if v := say(); strings.Contains(v, "Search") || !strings.Contains(v, "Details:") || m.Capturing() {
		t.Fatalf("esc does not clear the search:\n%s", v)
	}

	// Hostile text is searched as drawn, and records arriving are searched as they come.
	entries := uitest.JournalEntries(40)
	m = page(uitest.Profiles[0], 80, 24, entries)
	uitest.Press(m, "/", "e", "v", "i", "l", "enter")
	if v := say(); !strings.Contains(v, "no record matches") {
		t.Fatalf("evil found before it came:\n%s", v)
	}
	more := append(entries, journalview.Entry{Seq: 41, Time: entries[39].Time, Action: "view",
		Details: "x" + hostile.Strings["osc 52 clipboard"] + hostile.Strings["bidi override"]})
	m.Update(journalview.Updated{Entries: more})
	uitest.Press(m, "g", "n")
	if v := say(); !strings.Contains(v, "match 1 of 1") || !strings.Contains(v, "row 41 of 41") {
		t.Fatalf("a record that came is not searched:\n%s", v)
	}
	uitest.Press(m, "esc")
	if v := say(); strings.Contains(v, "Search") {
		t.Fatalf("esc does not drop a kept search:\n%s", v)
	}
}

// TestSearchOfALargeJournalIndexesOffTheUI: a journal too large to index between two
// frames is indexed by a command; meanwhile the line says so, keys are taken, and the
// search runs on what was typed when the index comes.
func TestSearchOfALargeJournalIndexesOffTheUI(t *testing.T) {
	entries := uitest.JournalEntries(5000)
	entries[1234].Details = "the one explain of vehicle:99999"
	m := page(uitest.Profiles[0], 80, 24, entries)
	msgs := uitest.Press(m, "g", "/")
	idx, ok := uitest.Find[journalview.Indexed](msgs)
	if !ok {
		t.Fatal("5,000 records are indexed on the UI's goroutine")
	}
	uitest.Press(m, "9", "9", "9", "9", "9")
	if v := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n"); !strings.Contains(v, "reading 5000 records to search them…") {
		t.Fatalf("indexing is not said:\n%s", v)
	}
	m.Update(journalview.Updated{Entries: append(entries, journalview.Entry{Seq: 5001, Action: "view", Actor: "Sam Support", User: "Alice Andersen", Details: "vehicle:99999 again"})})
	m.Update(idx)
	if v := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n"); !strings.Contains(v, "Search: 99999") || !strings.Contains(v, "❯ 1235 ") || !strings.Contains(v, "match 1 of 2") || !strings.Contains(v, "row 1235 of 5001") {
		t.Fatalf("the search did not run when the index came:\n%s", v)
	}
	// An index asked for before esc is dropped.
	msgs = uitest.Press(m, "esc", "esc", "/")
	uitest.Press(m, "esc")
	if old, ok := uitest.Find[journalview.Indexed](msgs); ok {
		m.Update(old)
	}
	if v := uitest.Plain(m.View()); strings.Contains(v, "Search") {
		t.Fatalf("a dropped search came back:\n%s", v)
	}
}

// longRecord is one record whose details are far longer than a screen, ending in a word
// that is only seen when the view has scrolled to it.
func longRecord() journalview.Entry {
	return journalview.Entry{Seq: 1, EventID: "01JEVENT0000000000000000001", SessionID: "ses_42", Time: time.Unix(0, 0), Action: "error",
		Actor: "Sam", User: "Nora", Details: strings.Repeat("word ", 400) + "THE-END"}
}

// TestRecordViewScrolls (R8): a record too long for the screen opens in the detail view,
// whose keys move it: G shows the end of the details, and esc closes it back to the list.
func TestRecordViewScrolls(t *testing.T) {
	m := journalview.New(uitest.Context(colorprofile.ASCII, 80, 24))
	m.SetSize(80, 24)
	m.Update(journalview.Updated{Entries: []journalview.Entry{longRecord()}})
	m.Update(uitest.Key("enter"))
	before := uitest.Plain(m.View())
	if !strings.Contains(before, "lines 1–") || strings.Contains(before, "THE-END") {
		t.Fatalf("the record's view does not start at its top:\n%s", before)
	}
	m.Update(uitest.Key("j"))
	if after := uitest.Plain(m.View()); after == before {
		t.Fatalf("j moved nothing in the record's view:\n%s", after)
	}
	m.Update(uitest.Key("G"))
	if v := uitest.Plain(m.View()); !strings.Contains(v, "THE-END") {
		t.Fatalf("G did not scroll to the end of the details:\n%s", v)
	}
	if !m.TakesEsc() {
		t.Fatal("with the record open the page does not take esc (the root would stop a load instead)")
	}
	m.Update(uitest.Key("esc"))
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 1 of 1 record") || m.TakesEsc() {
		t.Fatalf("esc did not close the record's view:\n%s", v)
	}
}

// TestRecordViewCopiesIds: in the record's view Y sends its event id when copying is on,
// and the hints are the view's own (esc closes it).
func TestRecordViewCopiesIds(t *testing.T) {
	ctx := uitest.Context(colorprofile.ASCII, 100, 40)
	ctx.Clipboard.On = true
	m := journalview.New(ctx)
	m.SetSize(100, 40)
	m.Update(journalview.Updated{Entries: []journalview.Entry{longRecord()}})
	m.Update(uitest.Key("enter"))
	for range 5 { // Timestamp, Action, the two users, Sync: then the event id
		m.Update(uitest.Key("j"))
	}
	_, cmd := m.Update(uitest.Key("Y"))
	if cmd == nil {
		t.Fatalf("Y on the event id sent nothing:\n%s", uitest.Plain(m.View()))
	}
	if msg := cmd(); fmt.Sprintf("%T", msg) != "tea.setClipboardMsg" || reflect.ValueOf(msg).String() != "01JEVENT0000000000000000001" {
		t.Fatalf("Y sent %T %v, not the event id", msg, msg)
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, "sent the event id") {
		t.Fatalf("the view does not say what Y sent:\n%s", v)
	}
	var hints []string
	for _, b := range m.ShortHelp() {
		hints = append(hints, b.Help().Key+" "+b.Help().Desc)
	}
	if !slices.Contains(hints, "esc close") || !slices.Contains(hints, "Y copy (OSC 52)") {
		t.Fatalf("the hints are not the record view's: %q", hints)
	}
}

// TestAppendedKeepsTheCountsTrue: an Appended adds only the records after the last held
// (one held already is not counted twice), marks synced every record up to the
// acknowledged seq, and the title's counts and the open record's sync state follow.
func TestAppendedKeepsTheCountsTrue(t *testing.T) {
	m := journalview.New(uitest.Context(colorprofile.ASCII, 100, 30))
	m.SetSize(100, 30)
	entries := uitest.JournalEntries(10) // the last 3 pending
	for i := range entries {
		entries[i].Sync = journalview.Pending
	}
	m.Update(journalview.Appended{Entries: entries[:6]})
	if v := uitest.Plain(m.View()); !strings.Contains(v, "6 pending sync") || m.LastSeq() != 6 {
		t.Fatalf("first records: last seq %d:\n%s", m.LastSeq(), v)
	}
	m.Update(uitest.Key("enter")) // record 6, whole
	m.Update(journalview.Appended{Entries: entries[5:], Acked: 7})
	if v := uitest.Plain(m.View()); !strings.Contains(v, "synced") || strings.Contains(v, "pending") {
		t.Fatalf("the open record does not say it is synced:\n%s", v)
	}
	m.Update(uitest.Key("esc"))
	if v := uitest.Plain(m.View()); !strings.Contains(v, "of 10 records") || !strings.Contains(v, "3 pending sync") {
		t.Fatalf("after 4 more records and seq 7 acknowledged, the title says:\n%s", v)
	}
	m.Update(journalview.Appended{Acked: 10})
	if v := uitest.Plain(m.View()); !strings.Contains(v, "all synced") {
		t.Fatalf("with every record acknowledged the title says:\n%s", v)
	}
}

// The Details line under the table ends with an ellipsis when the details are cut, so a
// cut never reads as the whole text.
func TestDetailsLineSaysItIsCut(t *testing.T) {
	for _, sz := range uitest.Sizes {
		m := page(uitest.Profiles[0], sz.W, sz.H, []journalview.Entry{longRecord()})
		lines := uitest.AssertFrame(t, m.View(), sz.W, sz.H)
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, "Details: ") {
				found = true
				if !strings.HasSuffix(strings.TrimRight(l, " "), "…") {
					t.Errorf("%dx%d: the details are cut with no ellipsis: %q", sz.W, sz.H, l)
				}
			}
		}
		if !found && sz.H >= 24 {
			t.Errorf("%dx%d: no Details line:\n%s", sz.W, sz.H, strings.Join(lines, "\n"))
		}
	}
}

package journalview_test

import (
	"fmt"
	"strings"
	"testing"

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

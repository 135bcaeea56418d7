package journalview_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/internal/benchlat"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/journalview"
)

// bigJournal is n records of a long session: views and explains of n/5 distinct
// vehicles, so a search narrows as it is typed.
func bigJournal(n int) []journalview.Entry {
	out := uitest.JournalEntries(n)
	for i := range out {
		out[i].Details = fmt.Sprintf("%s · vehicle:%05d (Truck %d)", out[i].Details, i/5, i/5)
	}
	return out
}

// searchKeys types "vehicle:0001" and erases it: each keystroke that extends the query
// narrows the matches it has, each erasure searches every record again.
var searchKeys = func() []string {
	q := strings.Split("vehicle:0001", "")
	keys := append([]string{}, q...)
	for range q {
		keys = append(keys, "backspace")
	}
	return keys
}()

// BenchmarkJournalSearchKeystroke is one keystroke in the journal's search — the key,
// the search, the frame (120×40, no colour) — over a journal of 10,000 and 100,000
// records, p50/p99 over the keystrokes of searchKeys; the baseline, in the same run, is
// the same keystrokes searched the plain way: every field of every record cleaned and
// lower-cased again at each keystroke (no index kept), then the same frame.
func BenchmarkJournalSearchKeystroke(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		entries := bigJournal(n)
		b.Run(fmt.Sprintf("records=%d/shadow", n), func(b *testing.B) {
			m := journalview.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
			m.SetSize(120, 40)
			m.Update(journalview.Updated{Entries: entries})
			start := time.Now()
			for _, msg := range uitest.Press(m, "g", "/") { // the index, built by a command
				m.Update(msg)
			}
			index := time.Since(start)
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				uitest.Press(m, searchKeys[i%len(searchKeys)])
				_ = m.View()
				ds = append(ds, time.Since(t0))
			}
			benchlat.Report(b, ds)
			b.ReportMetric(float64(index.Microseconds())/1e3, "first-/-ms") // builds the index
		})
		b.Run(fmt.Sprintf("records=%d/baseline-rescan", n), func(b *testing.B) {
			m := journalview.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
			m.SetSize(120, 40)
			m.Update(journalview.Updated{Entries: entries})
			query := ""
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if k := searchKeys[i%len(searchKeys)]; k == "backspace" {
					query = query[:len(query)-1]
				} else {
					query += k
				}
				q, hits := strings.ToLower(query), 0
				for _, e := range entries {
					for _, f := range [...]string{fmt.Sprint(e.Seq), e.Time.UTC().Format(time.RFC3339Nano), e.Action, e.Actor, e.User, e.Details} {
						if strings.Contains(strings.ToLower(safetext.Clean(f)), q) {
							hits++
							break
						}
					}
				}
				_ = m.View()
				ds = append(ds, time.Since(t0))
				if hits == 0 && q != "" {
					b.Fatalf("%q matched nothing", q)
				}
			}
			benchlat.Report(b, ds)
		})
	}
}

// BenchmarkJournalRecordArrives is a new record reaching a 100,000-record journal while a
// search is kept: the page takes the whole list again (as the root sends it), searches
// only the new record, and draws.
func BenchmarkJournalRecordArrives(b *testing.B) {
	entries := bigJournal(100_001)
	m := journalview.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
	m.SetSize(120, 40)
	m.Update(journalview.Updated{Entries: entries[:100_000]})
	for _, msg := range uitest.Press(m, "/", "T", "r", "u", "c", "k", "enter") {
		m.Update(msg)
	}
	b.ResetTimer()
	for i := range b.N {
		m.Update(journalview.Updated{Entries: entries[:100_000+i%2]})
		_ = m.View()
	}
}

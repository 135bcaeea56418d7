package ui

import (
	"context"
	"fmt"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/journalview"
)

// BenchmarkJournalTabSyncStatus is what one journal sync status costs the Journal tab of
// a session with 100,000 records (a real bbolt journal): the read and the page's update
// after one more record was written (the write itself not timed). shadow reads the
// records after the tab's last and the acknowledged seq, and appends (readRecords,
// journalview.Appended); the baseline, in the same run, is what the root did before:
// every record of the session read again (SessionRecords, a scan of the whole journal),
// every entry mapped again and the page's rows replaced (journalview.Updated).
func BenchmarkJournalTabSyncStatus(b *testing.B) {
	const n = 100_000
	admin := api.UserRef{ID: "usr_admin", Name: "Sam Support"}
	user := &api.UserRef{ID: "usr_alice", Name: "Alice Andersen"}
	body := func(i int) api.RecordBody {
		return api.RecordBody{SessionID: "ses_bench", Action: api.ActionView, Actor: admin, User: user,
			Details: fmt.Sprintf("dashboard d-%d: Fleet overview", i)}
	}
	j, _, err := audit.Open(audit.Options{StateDir: b.TempDir(), Actor: admin})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close(context.Background()) })
	ps := make([]*audit.Pending, 0, n)
	for i := range n {
		ps = append(ps, j.Submit(body(i)))
	}
	for _, p := range ps {
		if _, err := p.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	written := n
	for _, c := range []struct {
		name   string
		update func(page *journalview.Model) error
	}{
		{"shadow", func(page *journalview.Model) error {
			entries, acked, err := j.SessionRecordsAfter("ses_bench", page.LastSeq())
			page.Update(journalview.Appended{Entries: journalEntries(entries).Entries, Acked: acked})
			return err
		}},
		{"baseline", func(page *journalview.Model) error {
			entries, err := j.SessionRecords("ses_bench")
			page.Update(journalEntries(entries))
			return err
		}},
	} {
		b.Run(fmt.Sprintf("records=%d/%s", n, c.name), func(b *testing.B) {
			page := journalview.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
			page.SetSize(120, 40)
			if err := c.update(page); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				if _, err := j.Append(context.Background(), body(written)); err != nil {
					b.Fatal(err)
				}
				written++
				b.StartTimer()
				if err := c.update(page); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if page.LastSeq() != uint64(written) {
				b.Fatalf("the tab holds up to seq %d of %d", page.LastSeq(), written)
			}
		})
	}
}

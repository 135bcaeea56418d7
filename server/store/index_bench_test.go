package store

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
)

// eventSizes are the log sizes of the audit benchmarks: 10k and 100k, and 1M with
// SHADOW_BENCH_LARGE set (benchlat.Sizes), as docs/BENCHMARKS.md's runs do.
func eventSizes() []int { return benchlat.Sizes(10_000, 100_000, 1_000_000) }

// auditLog fills s with n events shaped like a server's log: sessions of 20 requests by
// one of 50 staff on one of 10,000 users in one of 1,000 companies, with a start event
// each; a minute apart from t0.
func auditLog(b *testing.B, s *Store, n int) {
	const chunk = 1_000 // bbolt splits a node only at commit: a larger transaction inserting into one run shifts ever longer slices
	for from := 0; from < n; from += chunk {
		var evs []Event
		for i := from; i < min(n, from+chunk); i++ {
			sess := i / 20
			kind := api.EventRequest
			if i%20 == 0 {
				kind = api.EventSessionStart
			}
			evs = append(evs, Event{AuditEvent: api.AuditEvent{Time: t0.Add(time.Duration(i) * time.Minute), Kind: kind,
				SessionID: "ses_" + strconv.Itoa(sess), Actor: api.UserRef{ID: fmt.Sprintf("u-staff-%d", sess%50), Name: "Staff Member"},
				User: &api.UserRef{ID: fmt.Sprintf("u-%d", sess%10_000), Name: "A User"}, Method: "GET", Path: "/api/v1/dashboards/d-1", Status: 200},
				Companies: []string{fmt.Sprintf("c-%d", sess%1_000)}})
		}
		if err := s.update(func(tx *bolt.Tx) error { return appendEvents(tx, evs) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditEventsPage: one page of up to 50 events of GET /audit/events'
// filters, as the store answers it, over logs of 10k to 1M events; beside it, in the
// same run, the walk of the whole log the store did before the event index ("scan":
// the requests it took to fill the page or prove there is none, summed). Every filter
// is read as a reader would (staff of vendor-wide or narrow scope, a company admin).
func BenchmarkAuditEventsPage(b *testing.B) {
	staff, narrow := &Reader{Staff: true}, &Reader{Staff: true, Scope: []string{"c-7", "c-8"}}
	for _, n := range eventSizes() {
		s := open(b, b.TempDir())
		auditLog(b, s, n)
		last := t0.Add(time.Duration(n) * time.Minute)
		for _, c := range []struct {
			name string
			f    EventFilter
		}{
			{"session", EventFilter{SessionID: "ses_" + strconv.Itoa(n/40), Reader: staff}},
			{"actor", EventFilter{ActorID: "u-staff-7", Reader: staff}},
			{"user", EventFilter{UserID: "u-77", Reader: staff}},
			{"company admin", EventFilter{Reader: &Reader{Company: "c-77"}}},
			{"narrow staff, kind", EventFilter{Kind: api.EventSessionStart, Reader: narrow}},
			{"actor, last day", EventFilter{ActorID: "u-staff-7", Since: last.Add(-24 * time.Hour), Reader: staff}},
			{"no match", EventFilter{ActorID: "u-staff-1", UserID: "u-2", Reader: staff}},
		} {
			for _, way := range []string{"index", "scan"} {
				b.Run(fmt.Sprintf("%d events/%s/%s", n, c.name, way), func(b *testing.B) {
					f := c.f
					f.Limit, f.noIndex = 50, way == "scan"
					var got, requests int
					for b.Loop() {
						got, requests = 0, 0
						for f.Cursor = ""; ; {
							page, next, err := s.Events(f)
							if err != nil {
								b.Fatal(err)
							}
							got, requests = got+len(page), requests+1
							if next == "" || got >= 50 {
								break
							}
							f.Cursor = next
						}
					}
					b.ReportMetric(float64(got), "events")
					b.ReportMetric(float64(requests), "requests")
				})
			}
		}
	}
}

// BenchmarkIndexRebuild: opening a state file of before (schema 1: events, no index)
// of 10k to 1M events, which builds the event index once (buildIndex), with the index's
// share of the file.
func BenchmarkIndexRebuild(b *testing.B) {
	for _, n := range eventSizes() {
		b.Run(fmt.Sprintf("%d events", n), func(b *testing.B) {
			dir := b.TempDir()
			s := open(b, dir)
			auditLog(b, s, n)
			var postings, pages int
			for b.Loop() {
				b.StopTimer()
				err := s.update(func(tx *bolt.Tx) error {
					tx.Bucket(bucketMeta).Put([]byte("schema"), []byte("1"))
					tx.Bucket(bucketMeta).Delete(keyIndexVersion)
					return tx.DeleteBucket(bucketIndex)
				})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
				b.StartTimer()
				s = open(b, dir)
				b.StopTimer()
				s.db.View(func(tx *bolt.Tx) error {
					st := tx.Bucket(bucketIndex).Stats()
					postings, pages = st.KeyN, st.LeafPageN+st.BranchPageN
					return nil
				})
				b.StartTimer()
			}
			b.ReportMetric(float64(postings)/float64(n), "postings/event")
			b.ReportMetric(float64(pages*4096)/float64(n), "index-bytes/event")
		})
	}
}

package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
	"github.com/shadowview/shadow/server/store"
)

// BenchmarkAuditEventsHTTP: one GET /audit/events page (limit 50) through the real
// handler in process, over a log of 10k, 100k (and with SHADOW_BENCH_LARGE, 1M) events (sessions of 20 requests by 50 staff on
// 10,000 users; one session in 1,000 of Acme's, the rest of 999 other companies),
// as vendor-wide staff and as Acme's admin. It uses the server's exported API only, so
// the same file runs against a tree of before for the baseline.
func BenchmarkAuditEventsHTTP(b *testing.B) {
	for _, n := range benchlat.Sizes(10_000, 100_000, 1_000_000) {
		e := newBenchEnv(b, DemoSeed)
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		for from := 0; from < n; from += 1000 { // small commits: bbolt splits a node only at commit
			var evs []store.Event
			for i := from; i < min(n, from+1000); i++ {
				sess := i / 20
				company := fmt.Sprintf("c-gen-%d", sess%1000)
				if sess%1000 == 0 {
					company = "c-acme"
				}
				evs = append(evs, store.Event{AuditEvent: api.AuditEvent{Time: start.Add(time.Duration(i) * time.Second), Kind: api.EventRequest,
					SessionID: "ses_" + strconv.Itoa(sess), Actor: api.UserRef{ID: fmt.Sprintf("u-staff-%d", sess%50)},
					User: &api.UserRef{ID: fmt.Sprintf("u-%d", sess%10_000)}, Method: "GET", Path: "/api/v1/dashboards/d-1", Status: 200},
					Companies: []string{company}})
			}
			if err := e.s.store.AppendEvents(evs...); err != nil {
				b.Fatal(err)
			}
		}
		ada := e.login(b, DemoCompanyAdminEmail)
		for _, c := range []struct{ name, query, token string }{
			{"actor", "actor=u-staff-7", e.support},
			{"user", "user=u-77", e.support},
			{"session", "session=ses_" + strconv.Itoa(n/40), e.support},
			{"company admin", "", ada},
			{"no match", "actor=u-staff-1&user=u-2", e.support},
		} {
			b.Run(fmt.Sprintf("%d events/%s", n, c.name), func(b *testing.B) {
				var page api.AuditEventsPage
				for b.Loop() {
					rec := e.serve(b, "GET", "/api/v1/audit/events?limit=50&"+c.query, c.token, nil, 200)
					page = api.AuditEventsPage{}
					if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
						b.Fatal(err)
					}
				}
				more := 0.0
				if page.NextCursor != "" {
					more = 1
				}
				b.ReportMetric(float64(len(page.Events)), "events")
				b.ReportMetric(more, "has-next")
			})
		}
	}
}

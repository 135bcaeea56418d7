package server

import (
	"encoding/json"
	"testing"

	"github.com/shadowview/shadow/api"
)

// BenchmarkMyImpersonations is Acme's admin reading GET /me/impersonations: a page of 50
// sessions, each with 20 impersonated reads to summarise from the request log, side by
// side with the baseline of reading the same 1,000 request events as a page of the audit
// log (GET /audit/events, five pages of 200). docs/BENCHMARKS.md, ## Transparency.
func BenchmarkMyImpersonations(b *testing.B) {
	e := newBenchEnv(b, DemoSeed)
	ada := e.login(b, DemoCompanyAdminEmail)
	for range 50 {
		var s api.StartSessionResponse
		rec := e.serve(b, "POST", "/api/v1/impersonation/sessions", e.support, api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "bench"}, 201)
		decodeBench(b, rec.Body.Bytes(), &s)
		for range 20 {
			e.serve(b, "GET", "/api/v1/dashboards", s.Token, nil, 200)
		}
		e.serve(b, "DELETE", "/api/v1/impersonation/sessions/"+s.Session.ID, e.support, nil, 204)
	}
	b.Run("impersonations", func(b *testing.B) {
		for b.Loop() {
			var page api.ImpersonationsPage
			decodeBench(b, e.serve(b, "GET", "/api/v1/me/impersonations?limit=50", ada, nil, 200).Body.Bytes(), &page)
			if len(page.Impersonations) != 50 || page.Impersonations[0].Viewed[0].Count != 20 {
				b.Fatalf("%d sessions", len(page.Impersonations))
			}
		}
	})
	b.Run("baseline-audit-events", func(b *testing.B) {
		for b.Loop() {
			cursor := ""
			n := 0
			for range 5 {
				var page api.AuditEventsPage
				path := "/api/v1/audit/events?kind=request&limit=200"
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				decodeBench(b, e.serve(b, "GET", path, ada, nil, 200).Body.Bytes(), &page)
				n += len(page.Events)
				cursor = page.NextCursor
			}
			if n != 1000 {
				b.Fatalf("%d events", n)
			}
		}
	})
}

func decodeBench(b *testing.B, raw []byte, v any) {
	b.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		b.Fatalf("decode %T: %v", v, err)
	}
}

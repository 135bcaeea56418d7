package client

import (
	"testing"
	"time"
)

// BenchmarkDashboardRevisit measures going back to a dashboard already seen in a
// session, three ways side by side against the real server on loopback:
//
//   - uncached: no cache, every visit is a full request and decode;
//   - revalidate-304: the entry is past its TTL, so the client asks with
//     If-None-Match, the server answers 304, and the cached body is decoded;
//   - fresh-hit: the entry is within its TTL and no request is sent.
//
// Run: go test -run '^$' -bench DashboardRevisit -benchmem ./client/
func BenchmarkDashboardRevisit(b *testing.B) {
	ts := newTestServer(b)
	ctx := ctxT(b)

	plain := staff(b, ts)
	uncached, _ := startNora(b, plain)
	list, err := uncached.Dashboards(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The biggest dashboard the user can see, so the comparison is not flattered.
	id, widest := "", -1
	for _, d := range list.Dashboards {
		if d.WidgetCount > widest {
			id, widest = d.ID, d.WidgetCount
		}
	}

	clk := newTestClock()
	cached, _ := startNora(b, cachedStaff(b, ts, openCache(b, b.TempDir(), clk)))
	if _, err := cached.Dashboard(ctx, id); err != nil {
		b.Fatal(err)
	}

	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := uncached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("revalidate-304", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			clk.Advance(2 * time.Hour) // every visit finds the entry stale
			if _, err := cached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-hit", func(b *testing.B) {
		b.ReportAllocs()
		before := ts.reached.Load()
		for b.Loop() {
			if _, err := cached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		if ts.reached.Load() != before {
			b.Fatal("a fresh hit sent a request")
		}
	})
}

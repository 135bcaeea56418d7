package client

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkDashboardRevisit measures going back to a dashboard already seen in a
// session, three ways side by side against the real server on loopback:
//
//   - uncached: no cache, every visit is a full request and decode;
//   - revalidate-304: the entry is past its TTL, so the client asks with
//     If-None-Match, the server answers 304, and the cached body is decoded;
//   - fresh-hit: the entry is within its TTL and no request is sent;
//   - fresh-hit-decode: the same, parsing the cached JSON instead of copying the
//     memoised value.
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
	// The same fresh hit without the in-memory memo: the entry is decoded from the
	// file's JSON every time (what the first fresh hit after a revalidation costs).
	cached.mu.Lock()
	cached.memo = nil
	cached.mu.Unlock()
	b.Run("fresh-hit-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// throttled models a slow link on the reply body: each write takes as long as its bytes
// need at bytesPerSecond.
type throttled struct {
	http.ResponseWriter
	bytesPerSecond int
}

func (t throttled) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(len(p)) * time.Second / time.Duration(t.bytesPerSecond))
	return t.ResponseWriter.Write(p)
}

// BenchmarkDashboardRevisitSlowLink is the same revisit over a 1 Mbit/s link (the
// reply body is delivered at 125 kB/s), where a 304's empty body is what counts.
//
// Run: go test -run '^$' -bench DashboardRevisitSlowLink -benchmem ./client/
func BenchmarkDashboardRevisitSlowLink(b *testing.B) {
	ts := newTestServer(b)
	ctx := ctxT(b)
	const rate = 125_000
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		pass(throttled{w, rate}, r)
		return true
	})
	uncached, _ := startNora(b, staff(b, ts))
	list, err := uncached.Dashboards(ctx)
	if err != nil {
		b.Fatal(err)
	}
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
		for b.Loop() {
			if _, err := uncached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("revalidate-304", func(b *testing.B) {
		for b.Loop() {
			clk.Advance(2 * time.Hour)
			if _, err := cached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-hit", func(b *testing.B) {
		for b.Loop() {
			if _, err := cached.Dashboard(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package client

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkDashboardRevisit measures going back to a dashboard already seen in a
// session, side by side against the real server on loopback:
//
//   - uncached: no cache, every visit is a full request and decode;
//   - revalidate-304: the entry is past its TTL, so the client asks with
//     If-None-Match, the server answers 304, and the cached reply is used;
//   - fresh-hit: the entry is within its TTL and no request is sent;
//   - fresh-hit-decode: the same, parsing the cached JSON instead of copying the
//     memoised value.
//
// Run: go test -run '^$' -bench DashboardRevisit -benchmem ./client/
func BenchmarkDashboardRevisit(b *testing.B) {
	r := newRevisit(b, newTestServer(b))
	r.run(b, "uncached", r.uncached, false)
	r.run(b, "revalidate-304", r.cached, true)
	before := r.ts.reached.Load()
	r.run(b, "fresh-hit", r.cached, false)
	if r.ts.reached.Load() != before {
		b.Fatal("a fresh hit sent a request")
	}
	r.cached.mu.Lock()
	r.cached.memo = nil
	r.cached.mu.Unlock()
	r.run(b, "fresh-hit-decode", r.cached, false)
}

// BenchmarkDashboardRevisitSlowLink is the same revisit over a 1 Mbit/s link (the
// reply body is delivered at 125 kB/s), where a 304's empty body is what counts.
func BenchmarkDashboardRevisitSlowLink(b *testing.B) {
	ts := newTestServer(b)
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		pass(throttled{w, 125_000}, r)
		return true
	})
	r := newRevisit(b, ts)
	r.run(b, "uncached", r.uncached, false)
	r.run(b, "revalidate-304", r.cached, true)
	r.run(b, "fresh-hit", r.cached, false)
}

// revisit is one dashboard seen in two sessions on Nora: one without a cache, one
// with a real cache file whose clock the benchmark moves.
type revisit struct {
	ts               *testServer
	uncached, cached *View
	clk              *testClock
	dashboard        string
}

func newRevisit(b *testing.B, ts *testServer) revisit {
	r := revisit{ts: ts, clk: newTestClock()}
	r.uncached, _ = startNora(b, staff(b, ts))
	list, err := r.uncached.Dashboards(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	// The biggest dashboard the user can see, so the comparison is not flattered.
	widest := -1
	for _, d := range list.Dashboards {
		if d.WidgetCount > widest {
			r.dashboard, widest = d.ID, d.WidgetCount
		}
	}
	r.cached, _ = startNora(b, cachedStaff(b, ts, openCache(b, b.TempDir(), r.clk)))
	if _, err := r.cached.Dashboard(b.Context(), r.dashboard); err != nil {
		b.Fatal(err)
	}
	return r
}

// run visits the dashboard through v; stale moves the cache's clock past the TTL
// before every visit. Each visit is bounded by the client's own RequestTimeout, and the
// run by its benchmark's context: one deadline shared by every run and iteration (the
// 30 s ctxT of the tests) expired under load before the last sub-benchmark finished.
func (r revisit) run(b *testing.B, name string, v *View, stale bool) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		ctx := b.Context()
		for b.Loop() {
			if stale {
				r.clk.Advance(2 * time.Hour)
			}
			if _, err := v.Dashboard(ctx, r.dashboard); err != nil {
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

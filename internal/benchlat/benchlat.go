// Package benchlat times every iteration of a benchmark and reports the latency
// percentiles as the benchmark's figures (b.ReportMetric), so a tail — a GC pause
// landing in a request, one slow query shape — shows where a mean would hide it.
//
// It is for benchmarks only: it owns timing and reporting, never what is measured.
package benchlat

import (
	"os"
	"slices"
	"testing"
	"time"
)

// Loop runs f once per b.Loop iteration, timing each call, and reports p50, p99 and
// the maximum in µs. The garbage collector runs as it would in service: a pause that
// falls inside a call is counted in that call.
func Loop(b *testing.B, f func()) {
	b.Helper()
	var ds []time.Duration
	for b.Loop() {
		t := time.Now()
		f()
		ds = append(ds, time.Since(t))
	}
	Report(b, ds)
}

// Report reports p50, p99 and the maximum of ds in µs.
func Report(b *testing.B, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}

// LargeEnv, set to anything, makes Sizes include the largest size. The million-user
// runs take minutes; `.ci/run` runs every benchmark once to keep them working, and the
// two smaller sizes do that.
const LargeEnv = "SHADOW_BENCH_LARGE"

// Sizes is the sizes a scale benchmark runs at: small and mid, and large too when
// LargeEnv is set (docs/BENCHMARKS.md's runs set it).
func Sizes(small, mid, large int) []int {
	if os.Getenv(LargeEnv) == "" {
		return []int{small, mid}
	}
	return []int{small, mid, large}
}

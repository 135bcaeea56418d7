package ui_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDemoStartup runs the built binary as a new user does (`shadow`, nothing
// configured, a fresh home each time) in a pseudo-terminal and measures from exec to
// the first frame that shows the picker with the demo's users, and the process's
// resident memory then (VmRSS) and at its peak (VmHWM).
func BenchmarkDemoStartup(b *testing.B) {
	bin := shadowBinary(b)
	var ds []time.Duration
	var rss, hwm float64
	for i := 0; i < b.N; i++ {
		home := b.TempDir()
		start := time.Now()
		s := startShadow(b, bin, home)
		s.waitFor(b, "the picker", "Pick a user to shadow", "44 users")
		ds = append(ds, time.Since(start))
		rss, hwm = procMemory(b, s.pid, "VmRSS:"), procMemory(b, s.pid, "VmHWM:")
		s.typeKeys("\x03")
		s.exit(b, 0)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[(len(ds)-1)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(rss/1024, "rss-MiB")
	b.ReportMetric(hwm/1024, "peak-rss-MiB")
	b.ReportMetric(0, "ns/op")
}

// procMemory reads a kB figure from /proc/<pid>/status.
func procMemory(b *testing.B, pid int, field string) float64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

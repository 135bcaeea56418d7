package ui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/internal/benchlat"
	"github.com/shadowview/shadow/server"
)

// baselineEnv names a shadow binary built from an earlier commit, run beside this one
// in BenchmarkPickerRSSFullScroll (docs/BENCHMARKS.md builds it from 69183f9, the picker
// that kept every page it loaded).
const baselineEnv = "SHADOW_BENCH_BASELINE_BIN"

// BenchmarkPickerRSSFullScroll is the whole process's memory after scrolling the whole
// directory: the built binary in a pseudo-terminal against `shadow serve
// --generate-users N` on loopback, signed in on the login screen, scrolled to the
// directory's end, then VmRSS and VmHWM (and VmRSS's anonymous and file-backed parts)
// read from /proc/<pid>/status. N is 1,000, and
// 100,000 with SHADOW_BENCH_LARGE set. With SHADOW_BENCH_BASELINE_BIN set, that binary is
// measured the same way in the same run; its picker's G went to the last row loaded, so
// it is pressed until the list holds every user.
func BenchmarkPickerRSSFullScroll(b *testing.B) {
	sizes := []int{1_000}
	if os.Getenv(benchlat.LargeEnv) != "" {
		sizes = []int{100_000}
	}
	bins := []struct{ name, path string }{{"shadow", shadowBinary(b)}}
	if base := os.Getenv(baselineEnv); base != "" {
		bins = append(bins, struct{ name, path string }{"baseline", base})
	}
	for _, n := range sizes {
		url := serve(b, bins[0].path, filepath.Join(b.TempDir(), "server"), "--generate-users", fmt.Sprint(n))
		for _, bin := range bins {
			b.Run(fmt.Sprintf("users=%d/%s", n, bin.name), func(b *testing.B) {
				var rss, hwm, anon, file float64
				var took time.Duration
				for range b.N {
					s := startShadow(b, bin.path, b.TempDir(), "--server", url)
					s.waitFor(b, "the login screen", "Password:")
					s.typeKeys(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
					s.waitFor(b, "the picker's first page", "Pick a user to shadow", " users")
					start := time.Now()
					scrollToEnd(b, s, bin.name == "baseline")
					took = time.Since(start)
					rss, hwm = procMemory(b, s.pid, "VmRSS:"), procMemory(b, s.pid, "VmHWM:")
					// The heap and stacks, and the files mapped (the bbolt journal and cache).
					anon, file = procMemory(b, s.pid, "RssAnon:"), procMemory(b, s.pid, "RssFile:")
					s.typeKeys("\x03")
					s.exit(b, 0)
				}
				b.ReportMetric(rss/1024, "rss-MiB")
				b.ReportMetric(hwm/1024, "peak-rss-MiB")
				b.ReportMetric(anon/1024, "anon-MiB")
				b.ReportMetric(file/1024, "file-MiB")
				b.ReportMetric(took.Seconds(), "scroll-s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

var (
	rowOfUsers = regexp.MustCompile(`row ([0-9,]+) of ([0-9,]+) users`)
	loaded     = regexp.MustCompile(`([0-9,]+) loaded`)
	allUsers   = regexp.MustCompile(`· [0-9,]+ users`)
)

// scrollToEnd scrolls the picker to the directory's last user. This build's G goes to
// the real end and the title then says "row M of M users". The baseline's G went to the
// last row loaded (and so asked for the next page): it is pressed again each time the
// "N loaded" count grows, until the title has no such count (every user held). The
// baseline's G typed before its first page was drawn was lost (its title said "0 users"
// then, and its G found no page after the empty list): one that changed nothing is
// pressed again. This build's is not: its title gives no count before the first page,
// and a G typed meanwhile waits for it (TestGBeforeTheFirstPageGoesToTheEnd).
func scrollToEnd(b *testing.B, s *vtScreen, baseline bool) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	last, seen, still := "", "", time.Now()
	s.typeKeys("G")
	for time.Now().Before(deadline) {
		text := s.text()
		if text != seen {
			seen, still = text, time.Now()
		} else if baseline && time.Since(still) > time.Second {
			s.typeKeys("G")
			still = time.Now()
		}
		if !baseline {
			if m := rowOfUsers.FindStringSubmatch(text); m != nil && m[1] == m[2] {
				return
			}
		} else {
			head := strings.SplitN(text, "\n", 3)
			title := strings.Join(head[:min(2, len(head))], " ")
			switch m := loaded.FindStringSubmatch(title); {
			case m == nil && allUsers.MatchString(title): // not "100+ users": the total is known
				s.typeKeys("G") // and the cursor on the last
				return
			case m != nil && m[1] != last:
				last = m[1]
				s.typeKeys("G")
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("the picker never reached the end:\n%s", s.text())
}

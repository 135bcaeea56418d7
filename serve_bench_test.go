package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowview/shadow/internal/benchlat"
)

// BenchmarkServeGenerated: `shadow serve --generate-users N` as a user starts it — a
// new process (this test binary running main), a throwaway store — from exec to the
// first answered request, and its memory then: resident (VmRSS) and peak (VmHWM).
// Goal at 1,000,000 users: ready in ≤ 10 s within ≤ 1 GiB. The million only with
// benchlat.LargeEnv set.
func BenchmarkServeGenerated(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range benchlat.Sizes(10_000, 100_000, 1_000_000) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			var ready, cpu time.Duration
			var rss, hwm float64
			for b.Loop() {
				ready, cpu, rss, hwm = startServe(b, exe, n)
			}
			b.ReportMetric(ready.Seconds(), "ready-s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
			b.ReportMetric(rss/1024, "rss-MiB")
			b.ReportMetric(hwm/1024, "peak-rss-MiB")
			b.ReportMetric(0, "ns/op") // the figures above are the ones that count
		})
	}
}

// startServe starts the server, waits for its banner and one answered request, reads
// the CPU time it took (user + system: what the wall time would be alone on one core,
// whatever else the machine runs) and its memory, and stops it.
func startServe(b *testing.B, exe string, n int) (ready, cpu time.Duration, rssKiB, hwmKiB float64) {
	b.Helper()
	cmd := exec.Command(exe, "-test.run=^$", "serve", "--addr", "127.0.0.1:0", "--generate-users", strconv.Itoa(n))
	cmd.Env = append(os.Environ(), mainEnv+"=1", "SHADOW_SERVER=", "SHADOW_TOKEN=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	url := ""
	for url == "" && sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
			url = strings.TrimSpace(after)
		}
	}
	if url == "" {
		b.Fatalf("serve printed no address: %v", sc.Err())
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("healthz: %d", resp.StatusCode)
	}
	ready = time.Since(t0)
	go func() { // the rest of the banner, so the server never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command's closing parenthesis; utime and stime are the 14th and
	// 15th of the whole line, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	cpu = time.Duration(utime+stime) * 10 * time.Millisecond
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			v, _ := strconv.ParseFloat(f[1], 64)
			if f[0] == "VmRSS:" {
				rssKiB = v
			} else {
				hwmKiB = v
			}
		}
	}
	return ready, cpu, rssKiB, hwmKiB
}

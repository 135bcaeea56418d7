package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Benchmarks for docs/BENCHMARKS.md (## Journal). Run on the file system journals live
// on (t.TempDir is on it here); see that section for the command.

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkDurableAppendVsFdatasync measures, side by side in one loop, a single
// durable journal append (submit → group commit → told) and the floor it is compared
// with: appending the same bytes to a plain file and fdatasync-ing it.
func BenchmarkDurableAppendVsFdatasync(b *testing.B) {
	dir := b.TempDir()
	j, _, err := Open(Options{StateDir: dir, Actor: testAdmin})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	raw, err := os.OpenFile(filepath.Join(dir, "raw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	line, _ := json.Marshal(sampleBody("s", 0))
	line = append(line, '\n')
	var journal, plain []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if _, err := j.Append(context.Background(), sampleBody("s", i)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := raw.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(raw.Fd())); err != nil {
			b.Fatal(err)
		}
		journal, plain = append(journal, t1.Sub(t0)), append(plain, time.Since(t1))
	}
	jp50, jp99 := percentile(journal, .50), percentile(journal, .99)
	rp50, rp99 := percentile(plain, .50), percentile(plain, .99)
	b.ReportMetric(float64(jp50.Microseconds()), "journal-p50-µs")
	b.ReportMetric(float64(jp99.Microseconds()), "journal-p99-µs")
	b.ReportMetric(float64(rp50.Microseconds()), "fdatasync-p50-µs")
	b.ReportMetric(float64(rp99.Microseconds()), "fdatasync-p99-µs")
	b.ReportMetric(100*float64(rp50)/float64(jp50), "ratio-p50-%")
	b.ReportMetric(100*float64(rp99)/float64(jp99), "ratio-p99-%")
}

// BenchmarkGroupedAppendThroughput: many appenders at once, each waiting for its
// record to be durable, as group commit is meant to serve them.
func BenchmarkGroupedAppendThroughput(b *testing.B) {
	j, _, err := Open(Options{StateDir: b.TempDir(), Actor: testAdmin})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	const appenders = 64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/appenders + 1
	for g := range appenders {
		wg.Go(func() {
			for i := range per {
				if _, err := j.Append(context.Background(), sampleBody("s", g*per+i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(per*appenders)/time.Since(start).Seconds(), "records/s")
}

// filledJournal is a new journal holding n records, appended as fast as group commit
// takes them.
func filledJournal(b *testing.B, n int) *Journal {
	j, _, err := Open(Options{StateDir: b.TempDir(), Actor: testAdmin})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]*Pending, 0, n)
	for i := range n {
		ps = append(ps, j.Submit(sampleBody("s", i)))
	}
	for _, p := range ps {
		if _, err := p.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return j
}

// BenchmarkVerify: the full offline check of one journal file (chain, contiguity,
// receipt, bbolt consistency).
func BenchmarkVerify(b *testing.B) {
	const n = 200_000
	j := filledJournal(b, n)
	path := j.Path()
	j.Close(context.Background())
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		rs, err := VerifyFile(path, VerifyOptions{})
		if err != nil || !rs[0].OK() || rs[0].Records != n {
			b.Fatalf("%v %+v", err, rs)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkSyncDrain: how fast the sync loop empties a journal of 20,000 records into
// the reference server (real handler, loopback HTTP, the server's durable store).
func BenchmarkSyncDrain(b *testing.B) {
	const n = 20_000
	fs := newFaultyServer(b)
	remote := adminRemote(b, fs.http.URL)
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		j := filledJournal(b, n)
		ch, cancel := j.Subscribe()
		b.StartTimer()
		start := time.Now()
		if err := j.StartSync(remote, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		for st := range ch {
			if st.State == SyncSynced && st.Acked == n {
				break
			}
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		if err := j.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
}

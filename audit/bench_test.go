package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
)

// Benchmarks for docs/BENCHMARKS.md (## Journal). Run on the file system journals live
// on (t.TempDir is on it here); see that section for the command.

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkDurableAppendVsFdatasync measures, side by side in one loop, a single
// durable journal append (submit → group commit → told) in format v2 and in v1 (as main
// writes it, a journal of its own), the floor it is compared with (appending the same bytes to a plain file and fdatasync-ing it), and between
// them bbolt's own commit of the same bytes (one Put in one Update, on a scratch file
// opened as the journal's are): what is left when the journal's work is taken away,
// two fdatasyncs (the data pages, then the meta page that makes them visible).
func BenchmarkDurableAppendVsFdatasync(b *testing.B) {
	dir := b.TempDir()
	j, _, err := Open(Options{StateDir: dir, Actor: testAdmin})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	newJournalFormat = formatV1
	j1, _, err := Open(Options{StateDir: filepath.Join(dir, "v1"), Actor: testAdmin})
	newJournalFormat = formatV2
	if err != nil {
		b.Fatal(err)
	}
	defer j1.Close(context.Background())
	raw, err := os.OpenFile(filepath.Join(dir, "raw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	db, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, boltOptions(false, time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	line, _ := json.Marshal(sampleBody("s", 0))
	line = append(line, '\n')
	var journal, journalV1, plain, bare []time.Duration
	b.ResetTimer()
	appendTo := func(j *Journal, i int) time.Duration {
		t := time.Now()
		if _, err := j.Append(context.Background(), sampleBody("s", i)); err != nil {
			b.Fatal(err)
		}
		return time.Since(t)
	}
	for i := 0; b.Loop(); i++ {
		var d, dv1 time.Duration
		if i%2 == 0 { // in turns, so neither format always follows the other's sync
			d, dv1 = appendTo(j, i), appendTo(j1, i)
		} else {
			dv1, d = appendTo(j1, i), appendTo(j, i)
		}
		journalV1 = append(journalV1, dv1)
		t1 := time.Now()
		if _, err := raw.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(raw.Fd())); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucketRecords)
			if err != nil {
				return err
			}
			bk.FillPercent = recordsFill
			return bk.Put(seqKey(uint64(i+1)), encodeRecord(api.ZeroHash, api.ZeroHash, line))
		})
		if err != nil {
			b.Fatal(err)
		}
		journal, plain, bare = append(journal, d), append(plain, t2.Sub(t1)), append(bare, time.Since(t2))
	}
	jp50, jp99 := percentile(journal, .50), percentile(journal, .99)
	rp50, rp99 := percentile(plain, .50), percentile(plain, .99)
	b.ReportMetric(float64(jp50.Microseconds()), "journal-p50-µs")
	b.ReportMetric(float64(jp99.Microseconds()), "journal-p99-µs")
	b.ReportMetric(float64(percentile(journalV1, .50).Microseconds()), "journal-v1-p50-µs")
	b.ReportMetric(float64(percentile(journalV1, .99).Microseconds()), "journal-v1-p99-µs")
	// The two appends of one iteration ran moments apart, under the same load: the median
	// of their differences says what the format costs, free of the load's swings.
	diffs := make([]time.Duration, len(journal))
	for i := range journal {
		diffs[i] = journal[i] - journalV1[i]
	}
	b.ReportMetric(float64(percentile(diffs, .50).Microseconds()), "v2-minus-v1-median-µs")
	b.ReportMetric(float64(rp50.Microseconds()), "fdatasync-p50-µs")
	b.ReportMetric(float64(rp99.Microseconds()), "fdatasync-p99-µs")
	bp50 := percentile(bare, .50)
	b.ReportMetric(float64(bp50.Microseconds()), "bbolt-p50-µs")
	b.ReportMetric(100*float64(rp50)/float64(jp50), "ratio-p50-%")
	b.ReportMetric(100*float64(rp99)/float64(jp99), "ratio-p99-%")
	b.ReportMetric(100*float64(rp50)/float64(bp50), "ratio-raw/bbolt-p50-%")
	b.ReportMetric(100*float64(bp50)/float64(jp50), "ratio-bbolt/journal-p50-%")
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

// receiptedJournal is the file of a closed journal of n records in format, whose head
// the server acknowledged: a pinned key and a signed receipt, as a synced journal holds,
// so verify checks the receipt too.
func receiptedJournal(b *testing.B, n int, format string) string {
	defer func(f string) { newJournalFormat = f }(newJournalFormat)
	newJournalFormat = format
	j := filledJournal(b, n)
	path, id := j.Path(), j.ID()
	j.Close(context.Background()) // its error says the records are not synced: true, and meant

	f, st, err := openJournal(path, time.Second, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.close()
	pub, priv, _ := ed25519.GenerateKey(nil)
	pin := newOp(opPin)
	pin.key = api.AuditKey{KeyID: "bench", Algorithm: "ed25519", PublicKey: pub}
	r := api.Receipt{JournalID: id, Seq: st.Head.Seq, Hash: st.Head.Hash.String(), IssuedAt: time.Now(), KeyID: "bench"}
	r.Sign(priv)
	ack := newOp(opAck)
	ack.ack = Acknowledgement{Seq: r.Seq, Hash: r.Hash, Receipt: r}
	for _, o := range []*op{pin, ack} {
		if err := f.w.do(o); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// cpuTime is the CPU time this process has used, user and system, on every core.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dropCache asks the kernel to forget the file's pages (they are clean: bbolt synced
// them), so the next read comes from the disk: a cold file without root or a reboot.
func dropCache(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVerify: the full offline check of one journal file of 10k and 100k records
// (and 1M with SHADOW_BENCH_LARGE set: benchlat.Sizes) (chain, contiguity, the receipt,
// bbolt consistency), warm (the file in the page cache) and cold (a file written by an
// earlier step, its pages dropped before each run), for records in format v2 and, in the
// same run, as main wrote them (v1); with the file's bytes per record.
func BenchmarkVerify(b *testing.B) {
	for _, n := range benchlat.Sizes(10_000, 100_000, 1_000_000) {
		b.Run(fmt.Sprintf("%d records", n), func(b *testing.B) { verifyBench(b, n) })
	}
}

func verifyBench(b *testing.B, n int) {
	for _, layout := range []struct{ name, format string }{{"v2", formatV2}, {"v1", formatV1}} {
		path := receiptedJournal(b, n, layout.format)
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, cold := range []bool{false, true} {
			name := layout.name + "/warm"
			if cold {
				name = layout.name + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				var took, cpu time.Duration
				for b.Loop() {
					if cold {
						b.StopTimer()
						dropCache(b, path)
						b.StartTimer()
					}
					start, cpu0 := time.Now(), cpuTime(b)
					rs, err := VerifyFile(path, VerifyOptions{})
					took, cpu = took+time.Since(start), cpu+cpuTime(b)-cpu0
					if err != nil || !rs[0].OK() || rs[0].Records != uint64(n) || rs[0].Acked != uint64(n) || rs[0].KeyID != "bench" {
						b.Fatalf("%v %+v", err, rs)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/took.Seconds(), "records/s")
				// CPU time (every core) per record: what the machine's load cannot change.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n)/float64(b.N), "cpu-ns/record")
				b.ReportMetric(float64(fi.Size())/float64(n), "file-bytes/record")
			})
		}
	}
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

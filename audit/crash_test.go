package audit

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashAppender is the child of the crash test: it appends from several goroutines and
// prints each record's seq and hash once Append says it is durable, until it is killed.
func crashAppender() error {
	j, _, err := Open(Options{StateDir: os.Getenv("CRASH_STATE_DIR"), Actor: testAdmin})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.Write(fmt.Appendf(nil, format, args...)) // one write per line: nothing half-said
	}
	say("journal %s\n", j.Path())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				rec, err := j.Append(context.Background(), sampleBody(fmt.Sprintf("s-%d", g), i))
				if err != nil {
					say("error %v\n", err)
					return
				}
				say("durable %d %s\n", rec.Seq, rec.Hash)
			}
		})
	}
	wg.Wait()
	return nil
}

func TestSIGKILLNeverLosesARecordReportedDurable(t *testing.T) {
	t.Parallel()
	const rounds = 100
	var dir string
	totalDurable := 0
	start := time.Now()
	for round := range rounds {
		if round%10 == 0 {
			dir = t.TempDir() // each dir also sees the remains of the rounds before it
		}
		cmd := childCommand(t, "crash-appender", "CRASH_STATE_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		var got []string
		if round%8 == 7 {
			// Killed while still opening: creation must never leave a broken journal.
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		} else {
			// Wait for a random number of durable records (so a loaded machine still
			// tests something), then kill a random moment later.
			for want := 1 + rand.IntN(60); len(got) < want; {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("child exited early; said %q", got)
					}
					got = append(got, l)
				case <-time.After(20 * time.Second):
					t.Fatalf("child stalled; said %d lines", len(got))
				}
			}
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		for l := range lines {
			got = append(got, l)
		}
		totalDurable += checkCrashRound(t, round, dir, got)
	}
	if totalDurable < 10*rounds {
		t.Fatalf("only %d records reported durable over %d rounds: the kills came too early to test much", totalDurable, rounds)
	}
	t.Logf("%d rounds, %d durable records checked, %v", rounds, totalDurable, time.Since(start))
}

// checkCrashRound checks every record the child reported durable is in its journal with
// the same hash, and every journal in dir verifies.
func checkCrashRound(t *testing.T, round int, dir string, lines []string) int {
	t.Helper()
	var path string
	durable := map[uint64]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "journal":
			path = f[1]
		case len(f) == 3 && f[0] == "durable":
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("round %d: bad line %q", round, l)
			}
			durable[seq] = f[2]
		default:
			t.Fatalf("round %d: child said %q", round, l)
		}
	}
	mustVerifyAll(t, dir)
	temps, _ := filepath.Glob(filepath.Join(JournalsDir(dir), tempPrefix+"*"))
	if len(temps) > 1 { // this round's kill may leave one; the next Open removes it
		t.Fatalf("round %d: temporaries pile up: %v", round, temps)
	}
	if path == "" {
		return 0
	}
	jd, err := loadJournal(path)
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	stored := map[uint64]string{}
	for _, e := range jd.Entries {
		stored[e.Seq] = e.Hash.String()
	}
	for seq, hash := range durable {
		if stored[seq] != hash {
			ents, _ := os.ReadDir(JournalsDir(dir))
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			var around []string
			for _, e := range jd.Entries {
				if e.Seq+3 >= seq && e.Seq <= seq+3 {
					around = append(around, fmt.Sprintf("%d %s %.120s", e.Seq, e.Hash, string(e.Body)))
				}
			}
			t.Fatalf("round %d: record %d was reported durable (%s) but the journal %s holds %q\nfiles: %v\naround: %s\nlines: %q", round, seq, hash, path, stored[seq], names, strings.Join(around, "\n"), lines)
		}
	}
	return len(durable)
}

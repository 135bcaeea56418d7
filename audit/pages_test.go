package audit

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// closedJournal is a state dir holding one closed journal of n records.
func closedJournal(t *testing.T, n int) (dir, path string, recs []Record) {
	t.Helper()
	dir = t.TempDir()
	j := openTest(t, dir)
	recs = appendN(t, j, "s-1", n)
	closeTest(t, j)
	return dir, j.Path(), recs
}

func scribble(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A damaged meta page is a finding, never a crash: bbolt reads the file through the
// other meta page, so the records are still read and checked, and bbolt's own check
// (which would assert on the damaged page, on a goroutine nobody can recover) is not run.
func TestADamagedMetaPageIsAFindingNotACrash(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		page int
		at   int64 // within the page: 0 is its header, past 16 the meta bbolt checksums
		want string
	}{
		{0, 0, "meta page 0 is damaged (its header names page"},
		{1, 0, "meta page 1 is damaged (its header names page"},
		{0, pageHeaderSize + 20, "meta page 0 is damaged (its checksum does not match); bbolt is using meta page 1"},
		{1, pageHeaderSize + 20, "meta page 1 is damaged (its checksum does not match); bbolt is using meta page 0"},
	} {
		page := c.page
		dir, path, recs := closedJournal(t, 5)
		scribble(t, path, int64(page*pageSize)+c.at, []byte("garbagegarbage"))
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}

		reports, err := VerifyFile(path, VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		if r.OK() {
			t.Fatalf("meta page %d damaged, yet the journal verifies", page)
		}
		if !strings.Contains(strings.Join(r.Problems, "\n"), c.want) {
			t.Fatalf("meta page %d damaged at %d: problems %q, want %q", page, c.at, r.Problems, c.want)
		}
		// bbolt reads the journal as of one of its last two commits: the records are
		// still there to be read and checked.
		if r.Records < uint64(len(recs))-1 || r.FirstBad != 0 {
			t.Fatalf("meta page %d damaged: %d records, first bad %d: %q", page, r.Records, r.FirstBad, r.Problems)
		}

		out, err := runCLI(t, "verify", "--state-dir", dir)
		if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(out, "FAIL") {
			t.Fatalf("journal verify: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "list", "--state-dir", dir); unsyncedOK(err) != nil || !strings.Contains(out, "s-1") {
			t.Fatalf("journal list: %v\n%s", err, out)
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("reading a damaged journal changed it (%v)", err)
		}
	}
}

// Random damage anywhere in a real journal — one with a branch page over its records, a
// pinned server key and a receipt — never crashes or hangs verify or the offline
// readers (a panic on bbolt's own goroutine would kill this test binary). verify either
// finds the damage or passes, and when it passes the records read are exactly the ones
// written: the damage hit only space not in use.
func TestRandomDamageIsFoundOrHarmlessNeverACrash(t *testing.T) {
	t.Parallel()
	const records, acked = 120, 60
	sj := signedJournalOf(t, records, acked)
	dir, path, recs := sj.dir, sj.path, sj.recs
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustVerifyAll(t, dir)
	freelist := freelistPageOf(t, path)
	if root := recordsRoot(t, path); root.branches == 0 {
		t.Fatalf("the records bucket has no branch page (%+v): the test wants one", root)
	}

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SHADOW_DAMAGE_SEED"); s != "" { // replay a failure's seed
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	found, harmless := 0, 0
	for round := range 200 {
		rdir := t.TempDir()
		if err := os.MkdirAll(JournalsDir(rdir), 0o700); err != nil {
			t.Fatal(err)
		}
		rpath := filepath.Join(JournalsDir(rdir), filepath.Base(path))
		if err := os.WriteFile(rpath, pristine, 0o600); err != nil {
			t.Fatal(err)
		}
		var done []string
		for range 1 + rng.IntN(3) {
			var at int64
			switch rng.IntN(5) { // the pages bbolt trusts most, often; anywhere, as often
			case 0:
				at = rng.Int64N(pageHeaderSize + 64)
			case 1:
				at = pageSize + rng.Int64N(pageHeaderSize+64)
			case 2:
				at = freelist*pageSize + rng.Int64N(pageSize)
			default:
				at = rng.Int64N(int64(len(pristine)))
			}
			b := make([]byte, 1+rng.IntN(16))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			scribble(t, rpath, at, b)
			done = append(done, fmt.Sprintf("%d bytes at %d (page %d)", len(b), at, at/pageSize))
		}
		what := fmt.Sprintf("round %d (seed %d): %s", round, seed, strings.Join(done, ", "))

		finished := make(chan struct{})
		go func() {
			defer close(finished)
			reports, err := VerifyFile(rpath, VerifyOptions{})
			if err != nil {
				t.Errorf("%s: verify: %v", what, err)
				return
			}
			ok := reports[0].OK()
			// list, show and export read the same file whatever verify said.
			for _, args := range [][]string{{"list"}, {"show", sj.id}, {"export"}, {"export", "--format", "csv"}, {"verify"}} {
				out, err := runCLI(t, append(args, "--state-dir", rdir)...)
				if args[0] == "verify" && ok && errors.Is(err, ErrVerifyFailed) && strings.Contains(err.Error(), "covered by no receipt") {
					continue // half the journal is unreceipted: verify says so, and exits non-zero for it
				}
				if ok && unsyncedOK(err) != nil {
					t.Errorf("%s: verify passed, but journal %s failed: %v\n%s", what, args[0], err, out)
				}
			}
			if !ok {
				found++
				return
			}
			harmless++
			a, err := LoadArchive(rdir)
			if err != nil || len(a.Journals) != 1 || len(a.Journals[0].Entries) != records {
				t.Errorf("%s: verify passed, but the journal reads differently: %v", what, err)
				return
			}
			for i, e := range a.Journals[0].Entries {
				if e.Seq != recs[i].Seq || e.Hash != recs[i].Hash || !bytes.Equal(e.Body, recs[i].Body) || e.Synced != (e.Seq <= acked) {
					t.Errorf("%s: verify passed, but record %d reads differently: seq %d/%d hash %s/%s synced %v (acked %d)\nbody read    %q\nbody written %q",
						what, recs[i].Seq, e.Seq, recs[i].Seq, e.Hash, recs[i].Hash, e.Synced, acked, e.Body, recs[i].Body)
					return
				}
			}
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: verify and the readers did not finish in 10 s", what)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("200 rounds (seed %d): damage found in %d, harmless in %d", seed, found, harmless)
	if found == 0 || harmless == 0 {
		t.Fatalf("the damage was always found (%d) or never (%d): the test does not test both ways", found, harmless)
	}
}

// newestMeta is the newest meta page of a bbolt file.
func newestMeta(t *testing.T, path string) boltMeta {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &pageChecker{data: data, ps: pageSize}
	m := c.meta(0)
	if m1 := c.meta(1); m1.txid > m.txid {
		m = m1
	}
	if !m.ok {
		t.Fatalf("no valid meta page: %+v", m)
	}
	return m
}

// freelistPageOf is the freelist page of a bbolt file.
func freelistPageOf(t *testing.T, path string) int64 {
	t.Helper()
	m := newestMeta(t, path)
	if m.freelist == noFreelist {
		t.Fatalf("no freelist page: %+v", m)
	}
	return int64(m.freelist)
}

// recordsTree is where the records bucket's tree starts, and how many branch pages it has.
type recordsTree struct {
	root     uint64
	branches int
}

func recordsRoot(t *testing.T, path string) (rt recordsTree) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		rt = recordsTree{root: uint64(b.Root()), branches: b.Stats().BranchPageN}
		return nil
	})
	return rt
}

// Damage bbolt would crash or loop on, aimed at the page that has it, is named.
func TestDamagedPagesAreNamed(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		damage   func(t *testing.T, path string)
		want     string // a regexp
		readable bool   // the records can still be read
	}{
		"freelist page header": {func(t *testing.T, path string) {
			scribble(t, path, freelistPageOf(t, path)*pageSize, []byte{0xEE, 0xEE})
		}, "the freelist page", true},
		"branch page pointing to itself": {func(t *testing.T, path string) {
			root := recordsRoot(t, path).root
			b := make([]byte, 8)
			byteOrder.PutUint64(b, root)
			scribble(t, path, int64(root)*pageSize+pageHeaderSize+8, b) // element 0's page id
		}, "is reached twice", false},
		"branch key outside its page": {func(t *testing.T, path string) {
			root := recordsRoot(t, path).root
			scribble(t, path, int64(root)*pageSize+pageHeaderSize, []byte{0xFF, 0xFF, 0xFF, 0x7F}) // element 0's key position
		}, "key lies outside the page", false},
		"file cut short": {func(t *testing.T, path string) {
			// bbolt grows a file ahead of use: cut into the pages in use.
			if err := os.Truncate(path, int64(newestMeta(t, path).hwm-2)*pageSize); err != nil {
				t.Fatal(err)
			}
		}, "the file was cut short|bbolt could not read it", false}, // the latter: Open met the cut, loading the freelist
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir, path, _ := closedJournal(t, 120)
			if recordsRoot(t, path).branches == 0 {
				t.Fatal("the records bucket has no branch page")
			}
			c.damage(t, path)
			reports, err := VerifyFile(path, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := reports[0]
			if r.OK() || !regexp.MustCompile(c.want).MatchString(strings.Join(r.Problems, "\n")) {
				t.Fatalf("problems %q, want %q", r.Problems, c.want)
			}
			if c.readable != (r.Records == 120) {
				t.Fatalf("%d records read; readable %v", r.Records, c.readable)
			}
			out, err := runCLI(t, "list", "--state-dir", dir)
			if c.readable != (unsyncedOK(err) == nil) {
				t.Fatalf("journal list: %v\n%s", err, out)
			}
			if !c.readable && !regexp.MustCompile(c.want).MatchString(out) {
				t.Fatalf("journal list does not say why the journal cannot be read:\n%s", out)
			}
		})
	}
}

package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// Tests of what the journal commands say: each finding of issue 13 that today's main
// got wrong, against the real server.

// syncCLI runs `shadow journal sync` against url, signed in as the demo support admin.
func syncCLI(t *testing.T, dir, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &out,
		Getenv: func(k string) string {
			return map[string]string{"SHADOW_SERVER": url, "SHADOW_TOKEN": "signed-in-by-the-test"}[k]
		},
		NewRemote: func(RemoteOptions) (Remote, error) { return adminRemote(t, url), nil }}
	err := RunCommand(context.Background(), append([]string{"sync", "--state-dir", dir, "--timeout", "20s"}, args...), env)
	return out.String(), err
}

// damagedJournal is an ended journal of n records, the first acked of them synced to
// fs, then damaged by damage.
func damagedJournal(t *testing.T, fs *faultyServer, n, acked int, damage func(t *testing.T, path string)) (dir string, j *Journal, recs []Record) {
	t.Helper()
	dir = t.TempDir()
	j = openTest(t, dir)
	recs = appendN(t, j, "s-damaged", acked)
	if err := j.StartSync(adminRemote(t, fs.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == uint64(acked) })
	closeTest(t, j)
	// The rest is written after the sync stopped: pending, as a crash would leave it.
	f, _, err := openJournal(j.Path(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := acked; i < n; i++ {
		b := sampleBody("s-damaged", i)
		b.EventID, b.Time = fmt.Sprintf("01J%023d", i), time.Now().UTC()
		body, err := boundRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		o := newOp(opAppend)
		o.body = body
		if err := f.w.do(o); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, o.rec)
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	damage(t, j.Path())
	return dir, j, recs
}

func deleteRecord(seq uint64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete(seqKey(seq)) }); err != nil {
			t.Fatal(err)
		}
	}
}

func corruptBody(seq uint64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			v := append([]byte(nil), b.Get(seqKey(seq))...)
			v[len(v)-3] ^= 0x01 // a bit flipped in the body: the hash no longer matches
			return b.Put(seqKey(seq), v)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Finding 1 and 4: a damaged journal's intact records reach the server, the damaged
// ones are named by seq, journal sync never says "synced" and exits non-zero, and verify
// names the set-aside file. Today's main set such a journal aside in silence (a head
// that is not its last record), or let one bad record block every record after it
// (a flipped bit), and said "synced".
func TestADamagedJournalsIntactRecordsStillSync(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		damage   func(t *testing.T, path string)
		lost     string
		carried  []int // indexes into recs
		acked, n int
	}{
		"its last record lost":   {deleteRecord(10), "10", []int{3, 4, 5, 6, 7, 8}, 3, 10},
		"a record's bit flipped": {corruptBody(6), "6", []int{3, 4, 6, 7, 8, 9}, 3, 10},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := newFaultyServer(t)
			dir, old, recs := damagedJournal(t, fs, c.n, c.acked, c.damage)
			out, err := syncCLI(t, dir, fs.http.URL)
			if err == nil || strings.Contains(out, "everything is acknowledged") {
				t.Fatalf("journal sync of a damaged journal passed: %v\n%s", err, out)
			}
			for _, want := range []string{old.ID(), "damaged", "lost (damaged or missing): seqs " + c.lost, ".corrupt-"} {
				if !strings.Contains(out, want) {
					t.Errorf("sync output lacks %q:\n%s", want, out)
				}
			}
			// The intact records after the receipt are on the server, byte for byte.
			held := map[string]bool{}
			remote := adminRemote(t, fs.http.URL)
			a, err := LoadArchive(dir)
			if err != nil {
				t.Fatal(err)
			}
			var into *JournalData
			for _, jd := range a.Journals {
				if jd.ID != old.ID() {
					into = jd
				}
			}
			if into == nil {
				t.Fatalf("no journal carries the damaged one's records: %+v", a.Journals)
			}
			for _, e := range remote.serverRecords(t, into.ID) {
				held[e.Details] = true
			}
			for _, i := range c.carried {
				d, _ := recs[i].Decode()
				if !held[d.Details] {
					t.Errorf("record %d (%q) is not on the server", recs[i].Seq, d.Details)
				}
			}
			headers := 0
			for _, e := range into.Entries {
				if e.Data.Action == api.ActionJournalRecovered {
					headers++
				}
			}
			if len(held) != len(c.carried)+headers || headers == 0 {
				t.Errorf("the server holds %d records of journal %s, want %d and %d journal.recovered", len(held), into.ID, len(c.carried), headers)
			}
			// The carried bodies are the original bytes, and verify checks their hashes.
			var bodies [][]byte
			for _, e := range into.Entries {
				if e.Data.Action != api.ActionJournalRecovered {
					bodies = append(bodies, e.Body)
				}
			}
			for k, i := range c.carried {
				if k >= len(bodies) || !bytes.Equal(bodies[k], recs[i].Body) {
					t.Fatalf("carried record %d is not byte for byte record %d", k, recs[i].Seq)
				}
			}
			vout, err := runCLI(t, "verify", "--state-dir", dir)
			if !errors.Is(err, ErrVerifyFailed) || strings.Contains(vout, "no journals to verify") {
				t.Fatalf("verify after the recovery: %v\n%s", err, vout)
			}
			for _, want := range []string{"set-aside file " + filepath.Base(old.Path()), "carried into journal " + into.ID,
				"their original hashes check out", "lost (damaged or missing, and not on the server): seqs " + c.lost} {
				if !strings.Contains(vout, want) {
					t.Errorf("verify output lacks %q:\n%s", want, vout)
				}
			}
		})
	}
}

// Finding 2: after the server is restored from a backup that lacks records, the next
// `journal sync` finds a fully acknowledged journal's records missing, says so record
// by record, and sends them again. Today's main never looked: "synced".
func TestARestoredServersLostRecordsAreFoundAndSentAgain(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	backup := t.TempDir()
	fs.restartWith(func(data string) { copyDir(t, data, backup) }) // a backup before anything synced
	dir := t.TempDir()
	j := openTest(t, dir)
	appendN(t, j, "s", 5)
	if err := j.StartSync(adminRemote(t, fs.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 5 })
	closeTest(t, j)
	fs.restartWith(func(data string) {
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		copyDir(t, backup, data)
	})
	restore := func() {
		fs.restartWith(func(data string) {
			if err := os.RemoveAll(data); err != nil {
				t.Fatal(err)
			}
			copyDir(t, backup, data)
		})
	}
	// verify --server reports each lost record, and sends it again.
	vout, verr := verifyServerCLI(t, dir, fs.http.URL)
	if !errors.Is(verr, ErrVerifyFailed) || strings.Count(vout, "missing on the server") != 5 || strings.Count(vout, "sent again") != 5 ||
		!strings.Contains(vout, "5 records the server lost sent to it again: the one thing verify writes") {
		t.Fatalf("verify --server did not report each lost record: %v\n%s", verr, vout)
	}
	checkServerHoldsExactly(t, adminRemote(t, fs.http.URL), j.Path())
	restore()
	out, err := syncCLI(t, dir, fs.http.URL)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	checkServerHoldsExactly(t, adminRemote(t, fs.http.URL), j.Path())
	if !strings.Contains(out, "missing on the server") || !strings.Contains(out, "sent again") {
		t.Fatalf("sync did not say what it found and did:\n%s", out)
	}
	if vout, err := verifyServerCLI(t, dir, fs.http.URL); err != nil || !strings.Contains(vout, "0 differences") {
		t.Fatalf("verify --server after the resend: %v\n%s", err, vout)
	}
}

// The same, found by a running program's sync loop: its periodic comparison looks at
// ended runs' journals even when they are fully acknowledged.
func TestTheSyncLoopRechecksAcknowledgedJournals(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	backup := t.TempDir()
	fs.restartWith(func(data string) { copyDir(t, data, backup) })
	dir := t.TempDir()
	old := openTest(t, dir)
	appendN(t, old, "s-old", 4)
	if err := old.StartSync(adminRemote(t, fs.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, old, 20*time.Second, func(s Status) bool { return s.Acked == 4 })
	closeTest(t, old)
	fs.restartWith(func(data string) {
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		copyDir(t, backup, data)
	})
	j := openTest(t, dir)
	defer closeTest(t, j)
	opts := fastSync
	opts.ReconcileEvery = 100 * time.Millisecond
	if err := j.StartSync(adminRemote(t, fs.http.URL), opts); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, j, 20*time.Second, func(s Status) bool {
		n := 0
		for _, f := range s.Findings {
			if f.JournalID == old.ID() && f.Kind == FindingMissing && f.Resent {
				n++
			}
		}
		return n == 4
	})
	if !strings.Contains(st.Notices[len(st.Notices)-1], "sent again") {
		t.Fatalf("the user was not told: %q", st.Notices)
	}
	checkServerHoldsExactly(t, adminRemote(t, fs.http.URL), old.Path())
}

func verifyServerCLI(t *testing.T, dir, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &out,
		Getenv:    func(k string) string { return map[string]string{"SHADOW_TOKEN": "signed-in-by-the-test"}[k] },
		NewRemote: func(RemoteOptions) (Remote, error) { return adminRemote(t, url), nil }}
	err := RunCommand(context.Background(), append([]string{"verify", "--server=" + url, "--state-dir", dir}, args...), env)
	return out.String(), err
}

// Finding 6: a revoked token and an untrusted certificate stop `journal sync` at once
// with words that say so; today's main retried both until --timeout.
func TestSyncFailsFastOnARevokedTokenOrAnUntrustedCertificate(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	dir := t.TempDir()
	closeTest(t, func() *Journal { j := openTest(t, dir); appendN(t, j, "s", 3); return j }())
	tlsSrv := httptest.NewTLSServer(fs)
	t.Cleanup(tlsSrv.Close)
	for name, c := range map[string]struct {
		url, token, want string
	}{
		"revoked token":         {fs.http.URL, "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", "does not accept SHADOW_TOKEN"},
		"untrusted certificate": {tlsSrv.URL, "any-token", "certificate"},
	} {
		var out bytes.Buffer
		env := CommandEnv{Stdout: &out, Stderr: &out,
			Getenv: func(k string) string { return map[string]string{"SHADOW_TOKEN": c.token}[k] },
			NewRemote: func(o RemoteOptions) (Remote, error) {
				cl := newTestClient(t, o.ServerURL)
				cl.SetToken(o.Token)
				return cl, nil
			}}
		start := time.Now()
		err := RunCommand(context.Background(), []string{"sync", "--server", c.url, "--state-dir", dir, "--timeout", "1m"}, env)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: journal sync took %v", name, took)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\n%s", name, err, out.String())
		}
	}
}

// A range the server refuses (a 4xx other than a gap or conflict) is a finding that
// names the journal, the seq and the server's code and words; `journal sync` never
// says "synced" and exits non-zero; a running program's loop reports it and does not
// retry it hot.
func TestARefusedRangeIsAFindingNeverSynced(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	faults := make([]fault, 200)
	for i := range faults {
		faults[i] = refuse
	}
	fs.setScript(faults...)
	dir := t.TempDir()
	old := openTest(t, dir)
	appendN(t, old, "s", 5)
	closeTest(t, old)
	out, err := syncCLI(t, dir, fs.http.URL)
	if !errors.Is(err, ErrSyncIncomplete) || strings.Contains(out, "everything is acknowledged") {
		t.Fatalf("a refused range: %v\n%s", err, out)
	}
	for _, want := range []string{"journal " + old.ID() + " seq 3: refused: validation_failed: records[2]: the actor is not the identity",
		"5 records, 0 synced, 5 pending: refused", "1 journal, 5 records: 0 synced, 5 pending; 1 finding"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync output lacks %q:\n%s", want, out)
		}
	}
	if n := len(fs.log()); n != 1 {
		t.Errorf("journal sync sent %d PUTs for a refused range, want 1", n)
	}

	j := openTest(t, t.TempDir())
	defer closeTest(t, j)
	appendN(t, j, "s", 4)
	opts := fastSync
	opts.MaxBackoff = time.Second
	before := len(fs.log())
	if err := j.StartSync(adminRemote(t, fs.http.URL), opts); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, j, 10*time.Second, func(s Status) bool { return s.State == SyncFailing && errors.Is(s.LastError, ErrRefused) })
	if msg := st.LastError.Error(); !strings.Contains(msg, j.ID()+" seq 3") || !strings.Contains(msg, "validation_failed") {
		t.Fatalf("status error %q does not name the seq and the code", msg)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(fs.log()) - before; n > 3 {
		t.Fatalf("the loop sent %d PUTs in 1.5 s for a refused range: retried hot", n)
	}
}

// Finding 6: a journal reached through a symbolic link is never opened, and the file it
// points to (outside the state dir) is never chmodded; a zero-length journal is damaged,
// not "bad file descriptor".
func TestLinksAndEmptyFilesAreNamedNeverFollowed(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	elsewhere := filepath.Join(t.TempDir(), "not-yours.db")
	src := openTest(t, t.TempDir())
	appendN(t, src, "s", 2)
	closeTest(t, src)
	if err := copyFile(src.Path(), elsewhere, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(elsewhere, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	closeTest(t, openTest(t, dir)) // makes the journals dir
	link := filepath.Join(JournalsDir(dir), "01M98AAAAAAAAAAAAAAAAAAAAA.db")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	j := openTest(t, dir) // a run's start does not touch it
	closeTest(t, j)
	for _, args := range [][]string{{"list"}, {"verify"}, {"export"}} {
		out, err := runCLI(t, append(args, "--state-dir", dir)...)
		if err == nil || !strings.Contains(out+err.Error(), "a symbolic link to "+elsewhere) {
			t.Errorf("%s with a linked journal: %v\n%s", args[0], err, out)
		}
	}
	if out, err := syncCLI(t, dir, fs.http.URL); err == nil || !strings.Contains(out, "a symbolic link") {
		t.Errorf("sync with a linked journal: %v\n%s", err, out)
	}
	if fi, err := os.Stat(elsewhere); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("the file the link points to was changed: %v %v", err, fi.Mode())
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}

	empty := filepath.Join(JournalsDir(dir), "01M98BBBBBBBBBBBBBBBBBBBBB.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"verify"}} {
		out, err := runCLI(t, append(args, "--state-dir", dir)...)
		all := out
		if err != nil {
			all += err.Error()
		}
		if err == nil || !strings.Contains(all, "the file is empty (0 bytes)") || strings.Contains(all, "bad file descriptor") {
			t.Errorf("%s with an empty journal file: %v\n%s", args[0], err, out)
		}
	}
	out, err := syncCLI(t, dir, fs.http.URL)
	if err == nil || !strings.Contains(out, "the file is empty (0 bytes)") || !strings.Contains(out, "set aside") {
		t.Errorf("sync with an empty journal file: %v\n%s", err, out)
	}
}

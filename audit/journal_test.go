package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/privdir/privdirtest"
)

var (
	testAdmin = api.UserRef{ID: "u-admin", Name: "Ada Admin", Email: "ada@example.test"}
	testUser  = api.UserRef{ID: "u-bob", Name: "Bob User", Email: "bob@example.test"}
)

func sampleBody(session string, i int) api.RecordBody {
	return api.RecordBody{SessionID: session, Action: api.ActionView, Actor: testAdmin, User: &testUser,
		Details: fmt.Sprintf("dashboard d-%d: Fleet overview", i)}
}

func openTest(t *testing.T, dir string) *Journal {
	t.Helper()
	j, rec, err := Open(Options{StateDir: dir, Actor: testAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 0 {
		t.Fatalf("unexpected recoveries: %v", rec)
	}
	return j
}

func closeTest(t *testing.T, j *Journal) {
	t.Helper()
	if err := j.Close(context.Background()); err != nil && !errors.Is(err, ErrUnsynced) {
		t.Fatal(err)
	}
}

func appendN(t *testing.T, j *Journal, session string, n int) []Record {
	t.Helper()
	out := make([]Record, 0, n)
	for i := range n {
		rec, err := j.Append(context.Background(), sampleBody(session, i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

func mustVerifyAll(t *testing.T, dir string) []Report {
	t.Helper()
	reports, err := VerifyAll(dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !r.OK() {
			t.Fatalf("journal %s does not verify: first bad %d: %v", r.JournalID, r.FirstBad, r.Problems)
		}
	}
	return reports
}

func TestAppendChainsRecordsAndReadsThemBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	recs := appendN(t, j, "s-1", 5)
	appendN(t, j, "s-2", 2)
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		prev := api.ZeroHash
		if i > 0 {
			prev = recs[i-1].Hash
		}
		if r.PrevHash != prev || api.RecordHash(j.ID(), r.Seq, prev, r.Body) != r.Hash {
			t.Fatalf("record %d is not chained", r.Seq)
		}
	}
	entries, err := j.SessionRecords("s-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 || entries[0].Data.Actor != testAdmin || entries[4].Data.Details != "dashboard d-4: Fleet overview" {
		t.Fatalf("session records: %+v", entries)
	}
	for _, e := range entries {
		if e.Synced {
			t.Fatal("nothing was synced yet")
		}
		if e.Data.EventID == "" || e.Data.Time.IsZero() || e.Data.Time.Location() != time.UTC {
			t.Fatalf("event id and UTC time not filled in: %+v", e.Data)
		}
	}
	h, err := j.Head()
	if err != nil || h.Seq != 7 {
		t.Fatalf("head %v %v", h, err)
	}
	if st := j.Status(); st.Head != 7 || st.Pending != 7 || st.State != SyncLocal {
		t.Fatalf("status %+v", st)
	}
	closeTest(t, j)
	reports := mustVerifyAll(t, dir)
	if len(reports) != 1 || reports[0].Records != 7 {
		t.Fatalf("reports %+v", reports)
	}
}

// TestStatusIsNeverBehindADurableAppend: the UI reads Status right after an append it
// was told is durable, so the writer publishes the new head before it tells the
// callers. The other order made TestAppendChainsRecordsAndReadsThemBack fail now and
// then under load (status "6 not synced" after the 7th append returned); checked here
// on every append, so a swap back fails at once, not one run in five.
func TestStatusIsNeverBehindADurableAppend(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir())
	defer closeTest(t, j)
	for i := range 300 {
		rec, err := j.Append(context.Background(), sampleBody("s", i))
		if err != nil {
			t.Fatal(err)
		}
		if st := j.Status(); st.Head < rec.Seq || st.Pending < rec.Seq {
			t.Fatalf("append %d is durable but the status says head %d, %d pending", rec.Seq, st.Head, st.Pending)
		}
	}
}

// TestDefaultStateDirFollowsXDG: journals live under $XDG_STATE_HOME/shadow, and under
// ~/.local/state/shadow when it is unset or not absolute (as the XDG spec says to
// ignore a relative one); Open with no dir uses it.
func TestDefaultStateDirFollowsXDG(t *testing.T) {
	// Not parallel: it sets environment variables.
	base, home := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", base)
	if dir, err := DefaultStateDir(); err != nil || dir != filepath.Join(base, "shadow") {
		t.Fatalf("with XDG_STATE_HOME: %q, %v", dir, err)
	}
	j, _, err := Open(Options{Actor: testAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Dir(j.Path()); got != JournalsDir(filepath.Join(base, "shadow")) {
		t.Errorf("Open with no dir wrote to %s", got)
	}
	closeTest(t, j)
	for _, xdg := range []string{"", "relative/state"} {
		t.Setenv("XDG_STATE_HOME", xdg)
		if dir, err := DefaultStateDir(); err != nil || dir != filepath.Join(home, ".local", "state", "shadow") {
			t.Fatalf("with XDG_STATE_HOME=%q: %q, %v", xdg, dir, err)
		}
	}
}

func TestFilesAndDirsArePrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil { // too open: Open tightens it
		t.Fatal(err)
	}
	j := openTest(t, dir)
	appendN(t, j, "s", 1)
	closeTest(t, j)
	for path, want := range map[string]os.FileMode{dir: 0o700, JournalsDir(dir): 0o700, j.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

// TestASharedStateDirIsLeftAlone: --state-dir pointed at a directory that holds other
// people's files (/tmp, a home directory) must not have its permissions changed. One
// others may write to (they could swap a journal) is refused with a clear error; one
// they may only read is used, the journals in their own 0700 dir.
func TestASharedStateDirIsLeftAlone(t *testing.T) {
	t.Parallel()
	tmpLike := privdirtest.Shared(t, privdirtest.TmpLike)
	if _, _, err := Open(Options{StateDir: tmpLike, Actor: testAdmin}); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("a world-writable shared state dir: %v", err)
	}
	if got := privdirtest.Mode(t, tmpLike); got != privdirtest.TmpLike {
		t.Fatalf("the shared dir's mode became %v", got)
	}

	readable := privdirtest.Shared(t, 0o755)
	j := openTest(t, readable)
	appendN(t, j, "s", 1)
	closeTest(t, j)
	if got := privdirtest.Mode(t, readable); got != 0o755 {
		t.Fatalf("the shared dir's mode became %v", got)
	}
	if got := privdirtest.Mode(t, JournalsDir(readable)); got != 0o700 {
		t.Fatalf("journals dir mode %v, want 0700", got)
	}
}

func TestGroupCommitBatchesConcurrentAppends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	const n = 2000
	pending := make([]*Pending, n)
	for i := range n {
		pending[i] = j.Submit(sampleBody("s", i))
	}
	seen := map[uint64]bool{}
	for _, p := range pending {
		<-p.Done()
		rec, err := p.Wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if seen[rec.Seq] {
			t.Fatalf("seq %d handed out twice", rec.Seq)
		}
		seen[rec.Seq] = true
	}
	commits := j.file.w.commits.Load()
	if commits >= n/10 {
		t.Fatalf("%d appends took %d commits: not grouped", n, commits)
	}
	closeTest(t, j)
	if r := mustVerifyAll(t, dir); r[0].Records != n {
		t.Fatalf("verified %d records", r[0].Records)
	}
}

func TestConcurrentAppendersKeepTheChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := j.Append(context.Background(), sampleBody(fmt.Sprintf("s-%d", g), i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range 8 {
		entries, err := j.SessionRecords(fmt.Sprintf("s-%d", g))
		if err != nil || len(entries) != 50 {
			t.Fatalf("session %d: %d entries, %v", g, len(entries), err)
		}
	}
	closeTest(t, j)
	mustVerifyAll(t, dir)
}

func TestCloseFlushesAndThenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	var ps []*Pending
	for i := range 100 {
		ps = append(ps, j.Submit(sampleBody("s", i)))
	}
	err := j.Close(context.Background())
	if !errors.Is(err, ErrUnsynced) || !strings.Contains(err.Error(), "100") {
		t.Fatalf("close without sync should report 100 unsynced records, got %v", err)
	}
	for _, p := range ps {
		if _, err := p.Wait(context.Background()); err != nil {
			t.Fatalf("an append queued before Close failed: %v", err)
		}
	}
	if _, err := j.Append(context.Background(), sampleBody("s", 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestBadRecordsGetClearErrors(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir())
	defer closeTest(t, j)
	if _, err := j.Append(context.Background(), api.RecordBody{Actor: testAdmin}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("no action: %v", err)
	}
	if _, err := j.Append(context.Background(), api.RecordBody{Action: api.ActionView}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("no actor: %v", err)
	}
	// Long text is kept, cut with a marker, never refused.
	b := sampleBody("s", 0)
	b.Details = strings.Repeat("é\x01<", 2000)
	b.Reason = strings.Repeat("r", 5000)
	rec, err := j.Append(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Body) > MaxBodySize {
		t.Fatalf("body of %d bytes", len(rec.Body))
	}
	got, _ := rec.Decode()
	if !strings.Contains(got.Details, " bytes, sha256:") || !strings.HasPrefix(got.Reason, "rrr") {
		t.Fatalf("long text not cut visibly: %q / %q", got.Details[:40], got.Reason[:10])
	}
	if h, _ := j.Head(); h.Seq != 1 {
		t.Fatalf("refused records advanced the head to %d", h.Seq)
	}
}

func TestSecretsNeverReachTheDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	const adminToken = "s3cr3t-admin-token-value"
	const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1LWJvYiJ9.c2lnbmF0dXJlLWJ5dGVz"
	j.ForbidSecret(adminToken)
	b := sampleBody("s", 0)
	b.Details = "called with " + adminToken + " and " + jwt
	b.Reason = "Authorization: Bearer abcdefghijklmnop"
	if _, err := j.Append(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	closeTest(t, j)
	raw, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adminToken, jwt, "abcdefghijklmnop"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("secret %q written to the journal file", secret)
		}
	}
	if !bytes.Contains(raw, []byte(redacted)) {
		t.Error("redaction marker missing: the text was dropped instead of redacted")
	}
}

func TestStatusSubscriptionKeepsOnlyTheLatest(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir())
	ch, cancel := j.Subscribe()
	defer cancel()
	if st := <-ch; st.Head != 0 || st.JournalID != j.ID() {
		t.Fatalf("first status %+v", st)
	}
	appendN(t, j, "s", 3) // three commits, nobody reading: must not block
	deadline := time.After(5 * time.Second)
	for {
		select {
		case st := <-ch:
			if st.Head == 3 && st.Pending == 3 {
				closeTest(t, j)
				if _, ok := <-ch; ok {
					// the final value may still be there; the channel must close after it
					if _, ok := <-ch; ok {
						t.Fatal("channel not closed by Close")
					}
				}
				return
			}
		case <-deadline:
			t.Fatal("status never reached head 3")
		}
	}
}

func TestTwoJournalsInOneStateDirAreBothReadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := openTest(t, dir)
	b := openTest(t, dir) // a second shadow: its own file, no lock fight
	if a.ID() == b.ID() || a.Path() == b.Path() {
		t.Fatal("two runs share a journal")
	}
	appendN(t, a, "s-a", 3)
	appendN(t, b, "s-b", 4)
	// Both files are locked by their writers; the offline read path still sees them.
	reports := mustVerifyAll(t, dir)
	if len(reports) != 2 || !reports[0].Live || !reports[1].Live {
		t.Fatalf("reports %+v", reports)
	}
	arch, err := LoadArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range arch.Sessions() {
		got[s.SessionID] = s.Records
	}
	if got["s-a"] != 3 || got["s-b"] != 4 {
		t.Fatalf("sessions %v", got)
	}
	// Opening a live journal for writing is refused clearly, not waited on forever.
	if _, _, err := openJournal(a.Path(), 100*time.Millisecond, nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("second writer on a live journal: %v", err)
	}
	closeTest(t, a)
	closeTest(t, b)
}

func TestSnapshotOfABusyJournalIsConsistent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := j.Append(context.Background(), sampleBody("s", i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	appendN(t, j, "s", 1)
	var last uint64
	for range 30 {
		reports, err := VerifyAll(dir, VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		if !r.OK() || !r.Live {
			t.Fatalf("snapshot of a busy journal: live=%v %v", r.Live, r.Problems)
		}
		if r.Records < last {
			t.Fatalf("snapshot went back from %d to %d records", last, r.Records)
		}
		last = r.Records
	}
	close(stop)
	wg.Wait()
	closeTest(t, j)
	if last == 0 {
		t.Fatal("snapshots saw nothing")
	}
}

func TestDamagedJournalIsSetAsideAndNamed(t *testing.T) {
	t.Parallel()
	for name, damage := range map[string]func(t *testing.T, path string){
		"garbage meta pages": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 2*pageSize), 0); err != nil {
				t.Fatal(err)
			}
		},
		"last record lost": func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete(seqKey(4)) }); err != nil {
				t.Fatal(err)
			}
		},
		"truncated file": func(t *testing.T, path string) {
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			old := openTest(t, dir)
			recs := appendN(t, old, "s", 4)
			closeTest(t, old)
			damage(t, old.Path())

			j, recovered, err := Open(Options{StateDir: dir, Actor: testAdmin})
			if err != nil {
				t.Fatal(err)
			}
			defer closeTest(t, j)
			if len(recovered) != 1 || recovered[0].JournalID != old.ID() || !errors.Is(recovered[0].Cause, ErrDamaged) {
				t.Fatalf("recovered %+v", recovered)
			}
			r := recovered[0]
			if _, err := os.Stat(old.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("damaged journal still under its name")
			}
			if _, err := os.Stat(r.MovedTo); err != nil || !strings.Contains(r.MovedTo, corruptInfix) {
				t.Fatalf("damaged journal not kept aside: %v %s", err, r.MovedTo)
			}
			if name == "last record lost" && (r.LastHead == nil || r.LastHead.Seq != 4 || r.LastHead.Hash != recs[3].Hash.String()) {
				t.Fatalf("last known head %+v, want seq 4 %s", r.LastHead, recs[3].Hash)
			}
			first, err := j.SessionRecords("")
			if err != nil || len(first) != 1 || first[0].Seq != 1 || first[0].Data.Action != api.ActionJournalRecovered {
				t.Fatalf("the new journal does not start with journal.recovered: %+v %v", first, err)
			}
			if d := first[0].Data.Details; !strings.Contains(d, old.ID()) || !strings.Contains(d, filepath.Base(r.MovedTo)) {
				t.Fatalf("recovered record does not name the old journal: %q", d)
			}
			// The set-aside file is not a journal any more: a later Open is quiet.
			j2 := openTest(t, dir)
			closeTest(t, j2)
		})
	}
}

// TestSessionRecordsAfterReadsOnlyTheNew: records after a seq are the session's records
// past it, in order, the same as SessionRecords' tail; none past the head.
func TestSessionRecordsAfterReadsOnlyTheNew(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir())
	appendN(t, j, "s-1", 3)
	appendN(t, j, "s-2", 2)
	appendN(t, j, "s-1", 2)
	all, err := j.SessionRecords("s-1")
	if err != nil || len(all) != 5 {
		t.Fatalf("session records: %d, %v", len(all), err)
	}
	tail, acked, err := j.SessionRecordsAfter("s-1", all[2].Seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 2 || tail[0].Seq != all[3].Seq || tail[1].Seq != all[4].Seq || acked != 0 {
		t.Fatalf("after seq %d: %d records (acked %d), want seqs %d and %d", all[2].Seq, len(tail), acked, all[3].Seq, all[4].Seq)
	}
	if none, _, err := j.SessionRecordsAfter("s-1", all[4].Seq); err != nil || len(none) != 0 {
		t.Fatalf("after the head: %d records, %v", len(none), err)
	}
}

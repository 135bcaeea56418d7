package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

func TestSyncPushesEverythingAndKeepsTheReceipt(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	dir := t.TempDir()
	j := openTest(t, dir)
	appendN(t, j, "s-1", 1200) // three batches
	patient := fastSync
	patient.RequestTimeout = time.Minute // no fault here: a slow CI machine must not add a PUT
	if err := j.StartSync(remote, patient); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced })
	if st.Acked != 1200 || st.Pending != 0 || st.LastSync.IsZero() {
		t.Fatalf("status %+v", st)
	}
	entries, err := j.SessionRecords("s-1")
	if err != nil || len(entries) != 1200 || !entries[1199].Synced {
		t.Fatalf("entries not marked synced: %v", err)
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatalf("close after a full sync: %v", err)
	}
	checkServerHoldsExactly(t, remote, j.Path())
	key, err := remote.AuditKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reports, err := VerifyFile(j.Path(), VerifyOptions{ServerKey: &key})
	if err != nil || !reports[0].OK() || reports[0].Acked != 1200 || reports[0].KeyID != key.KeyID {
		t.Fatalf("verify with the server's key: %v %+v", err, reports)
	}
	if n := len(fs.log()); n != 3 {
		t.Fatalf("%d PUTs for 1200 records, want 3", n)
	}
}

func TestSyncSurvivesEveryFault(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	fs.setScript(commitThenDrop, fail500, slow, pass, fail503RetryAfter, commitThenDrop, restart,
		pass, fail429RetryAfter, slow, restart, commitThenDrop, fail500, pass)
	dir := t.TempDir()
	j := openTest(t, dir)
	var states sync.Map
	ch, cancel := j.Subscribe()
	go func() {
		for st := range ch {
			states.Store(st.State, true)
		}
	}()
	if err := j.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	// Appends keep coming while the faults play out.
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := range 400 {
				if _, err := j.Append(context.Background(), sampleBody(fmt.Sprintf("s-%d", g), i)); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	waitStatus(t, j, 30*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 1200 })
	cancel()
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkServerHoldsExactly(t, remote, j.Path())
	checkOneInFlight(t, remote)
	if _, ok := states.Load(SyncOffline); !ok {
		t.Error("status never said offline while the server failed")
	}
	// Retry-After (1 s) was honoured: the request after it waited at least that long.
	puts := fs.log()
	for i, p := range puts[:len(puts)-1] {
		if p.fault == fail503RetryAfter || p.fault == fail429RetryAfter {
			if gap := puts[i+1].at.Sub(p.at); gap < 950*time.Millisecond {
				t.Errorf("after %v the next request came %v later, before Retry-After", p.fault, gap)
			}
		}
	}
	mustVerifyAll(t, dir)
}

func TestSyncRewindsToTheServerHeadAfterAGap(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	j := openTest(t, t.TempDir())
	if err := j.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "s", 300)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == 300 })
	backup := t.TempDir()
	fs.restartWith(func(data string) { copyDir(t, data, backup) }) // the operator takes a backup
	appendN(t, j, "s", 300)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == 600 })
	// The server is restored from the backup: it has forgotten records 301 to 600.
	fs.restartWith(func(data string) {
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		copyDir(t, backup, data)
	})
	appendN(t, j, "s", 10)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 610 })
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkServerHoldsExactly(t, remote, j.Path())
	gaps := 0
	for _, p := range fs.log() {
		if p.status == http.StatusConflict {
			gaps++
		}
	}
	if gaps == 0 {
		t.Fatal("the server never answered journal_gap: the rewind was not tested")
	}
}

// TestAConflictIsDivergenceNotAnOutage: the server holds a different record under this
// journal's id (written by someone else before this run synced). journal_conflict
// carries the server's head like journal_gap does; the loop must read it, say the two
// journals diverged and where, keep every local record, and let Close go at once.
func TestAConflictIsDivergenceNotAnOutage(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	j := openTest(t, t.TempDir())
	appendN(t, j, "s", 4)
	forged := mustJSON("forged")
	body := []byte(`{"event_id":"01JFORGED","time":"2025-06-02T09:31:00Z","action":"view","actor":{"id":"x","name":` + forged + `}}`)
	rec := api.WireRecord{Seq: 1, PrevHash: api.ZeroHash.String(), Body: body,
		Hash: api.RecordHash(j.ID(), 1, api.ZeroHash, body).String()}
	if _, err := remote.PutJournalRecords(context.Background(), j.ID(), []api.WireRecord{rec}); err != nil {
		t.Fatal(err)
	}
	if err := j.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, j, 20*time.Second, func(s Status) bool {
		return s.State == SyncFailing && errors.Is(s.LastError, ErrDiverged)
	})
	if !strings.Contains(st.LastError.Error(), "record 1") || st.Acked != 0 || st.Pending != 4 {
		t.Fatalf("status %+v (%v)", st, st.LastError)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Close(ctx); !errors.Is(err, ErrUnsynced) || ctx.Err() != nil {
		t.Fatalf("close: %v (context: %v)", err, ctx.Err())
	}
	reports := mustVerifyAll(t, j.StateDir())
	if reports[0].Records != 4 || reports[0].Acked != 0 {
		t.Fatalf("local journal after the conflict: %+v", reports[0])
	}
}

// TestAnotherOrganisationsJournalIsLeftForIt: a customer's admin ran shadow on this
// machine and left a journal with records pending; the server binds it to their
// company. A support engineer's run must not push it against a 403 forever (and show
// "sync failing" for something they cannot mend): it is left on disk for its owner,
// the engineer is told once, and their own journal syncs.
func TestAnotherOrganisationsJournalIsLeftForIt(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	dir := t.TempDir()
	customer := openTest(t, dir)
	recs := appendN(t, customer, "s-customer", 4)
	admin := remoteAs(t, fs.http.URL, server.DemoCompanyAdminEmail)
	if _, err := admin.PutJournalRecords(context.Background(), customer.ID(), []api.WireRecord{recs[0].Wire()}); err != nil {
		t.Fatal(err)
	}
	closeTest(t, customer) // ended with records pending, bound to the customer's company

	staff := openTest(t, dir)
	appendN(t, staff, "s-staff", 3)
	if err := staff.StartSync(adminRemote(t, fs.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, staff, 20*time.Second, func(s Status) bool {
		return s.State == SyncSynced && s.Acked == 3 && len(s.Notices) > 0
	})
	if !strings.Contains(st.Notices[0], customer.ID()) {
		t.Fatalf("notice %q does not name the customer's journal", st.Notices[0])
	}
	// The status line's words: a few, plain, once, no error chain.
	if got := Brief(st.Findings); got != "1 journal of another sign-in kept for its owner" {
		t.Fatalf("status words %q", got)
	}
	if err := staff.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	reports := mustVerifyAll(t, dir)
	if len(reports) != 2 || reports[0].Records != 4 || reports[0].Acked != 0 {
		t.Fatalf("the customer's journal was not left as it was: %+v", reports)
	}
}

// TestClosingWhileOfflineDoesNotSpin: Close gives the sync loop until its context ends
// to push what is pending. While the server is down the loop waits out its backoff;
// once a rescan of ended runs was due (rescans stop while closing) the wait came out
// negative and the loop spun, reading the journal as fast as it could until the
// context ended. Counted here in bbolt read transactions over a quiet stretch.
func TestClosingWhileOfflineDoesNotSpin(t *testing.T) {
	t.Parallel()
	down := newTestClient(t, unusedAddr(t))
	down.SetToken("a-token-for-a-server-that-is-down")
	j := openTest(t, t.TempDir())
	opts := fastSync
	opts.MinBackoff, opts.MaxBackoff, opts.RescanEvery = 5*time.Second, 5*time.Second, 20*time.Millisecond
	if err := j.StartSync(down, opts); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "s", 1)
	waitStatus(t, j, 10*time.Second, func(s Status) bool { return s.State == SyncOffline })
	time.Sleep(3 * opts.RescanEvery) // a rescan is due by the time Close starts

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- j.Close(ctx) }()
	time.Sleep(300 * time.Millisecond)
	before := j.file.db.Stats().TxN
	time.Sleep(500 * time.Millisecond)
	reads := j.file.db.Stats().TxN - before
	if err := <-closed; !errors.Is(err, ErrUnsynced) {
		t.Fatalf("close with the server down: %v", err)
	}
	if reads > 50 {
		t.Fatalf("the sync loop read the journal %d times in half a second while waiting to close", reads)
	}
}

func TestAChangedServerKeyIsAnErrorNotAccepted(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	j := openTest(t, t.TempDir())
	if err := j.StartSync(adminRemote(t, fs.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "s", 5)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == 5 })
	before, err := j.file.state()
	if err != nil {
		t.Fatal(err)
	}
	// Another server (a fresh data dir: a new signing key) answers at the same address.
	fs.restartWith(func(data string) {
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
	})
	appendN(t, j, "s", 5)
	st := waitStatus(t, j, 20*time.Second, func(s Status) bool {
		return s.State == SyncFailing && errors.Is(s.LastError, ErrKeyChanged)
	})
	after, err := j.file.state()
	if err != nil {
		t.Fatal(err)
	}
	if after.Acked.Seq != 5 || !sameKey(*after.Key, *before.Key) || st.Pending != 5 {
		t.Fatalf("the new key was accepted: acked %d, key %q, status %s", after.Acked.Seq, after.Key.KeyID, st)
	}
	closeTest(t, j)
	mustVerifyAll(t, j.StateDir())
}

func TestCloseBoundsTheFinalSyncAndTheNextRunFinishesIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	down := newTestClient(t, unusedAddr(t))
	down.SetToken("a-token-for-a-server-that-is-down")
	first := openTest(t, dir)
	if err := first.StartSync(down, fastSync); err != nil {
		t.Fatal(err)
	}
	appendN(t, first, "s-first", 40)
	st := waitStatus(t, first, 10*time.Second, func(s Status) bool { return s.State == SyncOffline })
	if st.OfflineSince.IsZero() || st.LastError == nil || st.Pending != 40 {
		t.Fatalf("offline status %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := first.Close(ctx)
	if !errors.Is(err, ErrUnsynced) {
		t.Fatalf("close with the server down: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("close took %v with a 300ms bound", took)
	}

	// The next run, with the server up, pushes the ended run's journal too.
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	second := openTest(t, dir)
	appendN(t, second, "s-second", 3)
	if err := second.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, second, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Pending == 0 && s.Acked == 3 })
	checkServerHoldsExactly(t, remote, first.Path())
	// Once synced, the ended run's journal is let go, so others may read or take it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, _, err := openJournal(first.Path(), tryLock, nil)
		if err == nil {
			f.close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ended run's journal is still held: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := second.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkServerHoldsExactly(t, remote, second.Path())
}

func TestTwoShadowsJournalAndSyncAtOnce(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	dir := t.TempDir()
	a, b := openTest(t, dir), openTest(t, dir)
	ra, rb := adminRemote(t, fs.http.URL), adminRemote(t, fs.http.URL)
	for _, x := range []struct {
		j *Journal
		r Remote
	}{{a, ra}, {b, rb}} {
		if err := x.j.StartSync(x.r, fastSync); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, j := range []*Journal{a, b} {
		wg.Go(func() {
			for i := range 200 {
				if _, err := j.Append(context.Background(), sampleBody(j.ID(), i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, j := range []*Journal{a, b} {
		waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 200 })
		if err := j.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkServerHoldsExactly(t, ra, j.Path())
	}
}

func TestJournalSyncCommandDrainsEndedRuns(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	fs.setScript(fail500, commitThenDrop) // the command retries too
	dir := t.TempDir()
	var paths []string
	for range 2 {
		j := openTest(t, dir)
		appendN(t, j, "s", 30)
		closeTest(t, j)
		paths = append(paths, j.Path())
	}
	var out bytes.Buffer
	var gotServer, gotToken string
	var used *staffRemote
	env := CommandEnv{Stdout: &out, Stderr: &out,
		Getenv: func(k string) string {
			return map[string]string{"SHADOW_SERVER": fs.http.URL, "SHADOW_TOKEN": "from-env"}[k]
		},
		NewRemote: func(o RemoteOptions) (Remote, error) {
			gotServer, gotToken = o.ServerURL, o.Token
			used = adminRemote(t, o.ServerURL)
			return used, nil
		}}
	if err := RunCommand(context.Background(), []string{"sync", "--state-dir", dir}, env); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	checkOneInFlight(t, used) // across both journals, too
	if gotServer != fs.http.URL || gotToken != "from-env" {
		t.Fatalf("server %q token %q", gotServer, gotToken)
	}
	remote := adminRemote(t, fs.http.URL)
	for _, p := range paths {
		checkServerHoldsExactly(t, remote, p)
	}
}

// A `journal sync` whose time runs out before the server takes the records says how many
// are left and why, instead of reporting them synced.
func TestDrainThatRunsOutOfTimeSaysWhatIsLeft(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	faults := make([]fault, 1000)
	for i := range faults {
		faults[i] = fail500
	}
	fs.setScript(faults...)
	dir := t.TempDir()
	j := openTest(t, dir)
	appendN(t, j, "s", 30)
	closeTest(t, j)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	report, err := Drain(ctx, dir, adminRemote(t, fs.http.URL), SyncOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if _, _, pending := report.Totals(); err == nil || pending != 30 || !strings.Contains(err.Error(), "30 records not yet synced") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("drain out of time: %v, report %+v", err, report)
	}
}

// The sync loop's wait after failures is internal/backoff's full jitter (tested there),
// from MinBackoff growing to MaxBackoff, and never stops growing into a give-up.
func TestSyncBackoffUsesTheOptions(t *testing.T) {
	t.Parallel()
	s := &syncer{opts: SyncOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()}
	var longest time.Duration
	for range 1000 {
		if d := s.backoff(1); d > 100*time.Millisecond {
			t.Fatalf("first wait %v beyond MinBackoff", d)
		}
		d := s.backoff(1 << 20)
		if d > time.Second {
			t.Fatalf("wait %v beyond MaxBackoff", d)
		}
		longest = max(longest, d)
	}
	if longest < 500*time.Millisecond {
		t.Fatalf("waits after many failures never grew past %v", longest)
	}
}

// A record appended while the sync loop checks the server's key (between reading the
// journal's state and reading the records to send) is not a journal cut short: it goes
// with the next push, and no divergence is ever reported. Before, the push sent it and
// then read the server's head, now past the state it had read, as ErrDiverged.
func TestAnAppendDuringTheKeyCheckIsNoDivergence(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	j := openTest(t, t.TempDir())
	if _, err := j.Append(context.Background(), sampleBody("s-1", 0)); err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	fs.mu.Lock()
	fs.onKey = func() {
		_, err := j.Append(context.Background(), sampleBody("s-1", 1))
		appended <- err
	}
	fs.mu.Unlock()
	var diverged sync.Map
	ch, cancel := j.Subscribe()
	defer cancel()
	go func() {
		for st := range ch {
			if errors.Is(st.LastError, ErrDiverged) {
				diverged.Store(st.LastError.Error(), true)
			}
		}
	}()
	if err := j.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, j, 30*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 2 })
	if st.LastError != nil {
		t.Errorf("synced, but the status keeps an error: %v", st.LastError)
	}
	diverged.Range(func(k, _ any) bool {
		t.Errorf("an append during the key check read as a divergence: %v", k)
		return true
	})
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkServerHoldsExactly(t, remote, j.Path())
}

package audit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A state dir used with two servers (staging and production): the journals pinned to
// the other server's key are recognised first and said once each, never compared record
// by record ("missing on the server") and never sent to the wrong server, by `journal
// sync` and by `journal verify --server` alike.
func TestAJournalOfAnotherServerIsSaidOnceAndNeverSentThere(t *testing.T) {
	t.Parallel()
	staging, production := newFaultyServer(t), newFaultyServer(t)
	dir := t.TempDir()
	old := openTest(t, dir)
	appendN(t, old, "s-staging", 4)
	if err := old.StartSync(adminRemote(t, staging.http.URL), fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, old, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 4 })
	closeTest(t, old)
	prod := adminRemote(t, production.http.URL)
	assertUntouched := func(when string) {
		t.Helper()
		if recs := prod.serverRecords(t, old.ID()); len(recs) != 0 {
			t.Fatalf("%s: staging's journal was sent to production: %d records", when, len(recs))
		}
	}
	for _, run := range []struct {
		name string
		cli  func(t *testing.T, dir, url string, args ...string) (string, error)
	}{{"verify --server", verifyServerCLI}, {"sync", syncCLI}} {
		out, err := run.cli(t, dir, production.http.URL)
		if err == nil {
			t.Errorf("%s: exit 0 with a journal it could not compare:\n%s", run.name, out)
		}
		if strings.Contains(out, "missing on the server") || strings.Contains(out, "sent again") {
			t.Errorf("%s: another server's journal read as records lost here:\n%s", run.name, out)
		}
		if n := strings.Count(out, "it belongs to the server with key"); n != 1 {
			t.Errorf("%s: said %d times that the journal belongs to another server, want once:\n%s", run.name, n, out)
		}
		if errors.Is(err, ErrVerifyFailed) && !strings.Contains(out, "1 not compared") {
			t.Errorf("%s: the summary does not count it as not compared:\n%s", run.name, out)
		}
		assertUntouched(run.name)
	}
	// Against its own server it is compared, and all is well.
	if out, err := verifyServerCLI(t, dir, staging.http.URL); err != nil || !strings.Contains(out, "1 journal compared, 0 differences") {
		t.Fatalf("verify --server against its own server: %v\n%s", err, out)
	}
}

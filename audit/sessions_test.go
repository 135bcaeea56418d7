package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// A session journaled as the program journals it, against the real reference server:
// the reads are made with the session's impersonation token, and each is journaled
// (or, for a modified client, not) in the grammar of docs/API.md.
type journaledSession struct {
	dir, journalID, sessionID string
	hiddenPath                string // the read made but never journaled, if any
	claimedSeq                uint64 // the record of a read never made, if any
}

func journalASession(t *testing.T, url string, hide, claim bool) journaledSession {
	t.Helper()
	ctx := context.Background()
	admin := adminRemote(t, url)
	me, _ := admin.User()
	dir := t.TempDir()
	j, _, err := Open(Options{StateDir: dir, Actor: me.Ref()})
	if err != nil {
		t.Fatal(err)
	}
	v, sess, err := admin.StartSession(ctx, server.DemoFleetManagerID, "TICKET-4411 driver cannot see route")
	if err != nil {
		t.Fatal(err)
	}
	user := sess.User
	rec := func(action, details string) Record {
		t.Helper()
		r, err := j.Append(ctx, api.RecordBody{SessionID: sess.ID, Action: action, Actor: me.Ref(), User: &user,
			Reason: map[bool]string{true: sess.Reason}[action == api.ActionSessionStart], Details: details})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rec(api.ActionSessionStart, "")
	list, err := v.Dashboards(ctx)
	if err != nil || len(list.Dashboards) < 2 {
		t.Fatalf("dashboards: %v (%d)", err, len(list.Dashboards))
	}
	rec(api.ActionView, fmt.Sprintf("dashboards: the list (%d)", len(list.Dashboards)))
	first := list.Dashboards[0]
	if _, err := v.Dashboard(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	rec(api.ActionView, "dashboard "+first.ID+": "+first.Title)
	if _, err := v.Permissions(ctx); err != nil {
		t.Fatal(err)
	}
	rec(api.ActionView, "permissions: the matrix")
	js := journaledSession{dir: dir, journalID: j.ID(), sessionID: sess.ID}
	if hide { // a modified client: it reads another dashboard and journals nothing of it
		second := list.Dashboards[1]
		if _, err := v.Dashboard(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		js.hiddenPath = api.Prefix + "/dashboards/" + second.ID
	}
	if claim { // and journals a read it never made
		js.claimedSeq = rec(api.ActionView, "dashboard d-never-read: Never read").Seq
	}
	if err := admin.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	n := rec(api.ActionSessionEnd, "").Seq
	if err := j.StartSync(admin, fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == n })
	closeTest(t, j)
	return js
}

// showServerCLI runs `shadow journal show --server URL ID`, the URL before or after the id.
func showServerCLI(t *testing.T, dir, url, id string, urlFirst bool) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &out,
		Getenv:    func(k string) string { return map[string]string{"SHADOW_TOKEN": "signed-in-by-the-test"}[k] },
		NewRemote: func(RemoteOptions) (Remote, error) { return adminRemote(t, url), nil }}
	args := []string{"show", id, "--server", url, "--state-dir", dir}
	if urlFirst {
		args = []string{"show", "--server", url, id, "--state-dir", dir}
	}
	err := RunCommand(context.Background(), args, env)
	return out.String(), err
}

// A clean session reads consistent in verify --server and show --server, exit 0.
func TestACleanSessionIsConsistentWithTheServer(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	js := journalASession(t, fs.http.URL, false, false)
	out, err := verifyServerCLI(t, js.dir, fs.http.URL)
	if err != nil {
		t.Fatalf("verify --server: %v\n%s", err, out)
	}
	for _, want := range []string{"session " + js.sessionID + " (journal " + js.journalID + "): consistent with what the server served: 3 requests (3 served), 5 records journaled",
		"1 session set against what the server served: 1 consistent, 0 findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify --server lacks %q:\n%s", want, out)
		}
	}
	out, err = showServerCLI(t, js.dir, fs.http.URL, js.sessionID, true)
	if err != nil {
		t.Fatalf("show --server: %v\n%s", err, out)
	}
	if strings.Count(out, "journal "+js.journalID+" seq ") != 3 || strings.Contains(out, "not journaled") ||
		!strings.Contains(out, "The server's side of session "+js.sessionID) ||
		!strings.HasSuffix(out, "5 records: 5 synced; 1 session set against what the server served: 1 consistent, 0 findings\n") {
		t.Errorf("show --server of a clean session:\n%s", out)
	}
}

// A modified client that hides a read (made with the impersonation token, never
// journaled) and journals one it never made is found: each is its own finding, in
// verify --server and in show --server, and both exit non-zero.
func TestAHiddenReadAndAClaimedReadAreFound(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	js := journalASession(t, fs.http.URL, true, true)
	out, err := verifyServerCLI(t, js.dir, fs.http.URL)
	if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(err.Error(), "2 findings setting the sessions against what the server served") {
		t.Fatalf("verify --server: %v, want a failure naming 2 findings\n%s", err, out)
	}
	hidden := "session " + js.sessionID + " (journal " + js.journalID + "): read not journaled: the server served GET " + js.hiddenPath + " (status 200, "
	claimed := "journal " + js.journalID + " seq " + fmt.Sprint(js.claimedSeq) + ", session " + js.sessionID +
		`: never served: the record shows "dashboard d-never-read: Never read"`
	for _, want := range []string{hidden, claimed, "NOT consistent with what the server served: 4 requests (4 served), 6 records journaled; 2 findings",
		"0 differences; 1 session set against what the server served: 0 consistent, 2 findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify --server lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, ": read not journaled: ") != 1 || strings.Count(out, ": never served: ") != 1 {
		t.Errorf("verify --server: want exactly one finding of each:\n%s", out)
	}
	out, err = showServerCLI(t, js.dir, fs.http.URL, js.sessionID, false)
	if err == nil || !strings.Contains(out, hidden) || !strings.Contains(out, claimed) || !strings.Contains(out, "no: read not journaled") ||
		!strings.HasSuffix(out, "6 records: 6 synced; 1 session set against what the server served: 0 consistent, 2 findings\n") {
		t.Errorf("show --server: %v\n%s", err, out)
	}
}

// A journal that records starting a session the server never held cannot be set
// against anything: a finding, exit non-zero. Records of a session whose start no
// journal holds are said to be unreconciled, but fail nothing.
func TestASessionTheServerNeverHeldIsNotReconciled(t *testing.T) {
	t.Parallel()
	fs := newFaultyServer(t)
	admin := adminRemote(t, fs.http.URL)
	me, _ := admin.User()
	dir := t.TempDir()
	j, _, err := Open(Options{StateDir: dir, Actor: me.Ref()})
	if err != nil {
		t.Fatal(err)
	}
	user := api.UserRef{ID: server.DemoFleetManagerID}
	for _, b := range []api.RecordBody{
		{SessionID: "ses_forged", Action: api.ActionSessionStart, Actor: me.Ref(), User: &user, Reason: "r"},
		{SessionID: "ses_forged", Action: api.ActionView, Actor: me.Ref(), User: &user, Details: "dashboards: the list (7)"},
		{SessionID: "ses_startless", Action: api.ActionView, Actor: me.Ref(), User: &user, Details: "permissions: the matrix"},
	} {
		if _, err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.StartSync(admin, fastSync); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.State == SyncSynced && s.Acked == 3 })
	closeTest(t, j)
	out, err := verifyServerCLI(t, dir, fs.http.URL)
	if !errors.Is(err, ErrVerifyFailed) {
		t.Fatalf("verify --server: %v, want a failure\n%s", err, out)
	}
	for _, want := range []string{
		"session ses_forged (journal " + j.ID() + "): not reconciled: the journal records its start, but the server holds no such session",
		"session ses_startless (journal " + j.ID() + "): not set against the server",
		"note: the server holds no such session that you may read, and no journal here records its start",
		"2 sessions set against what the server served: 0 consistent, 1 finding"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify --server lacks %q:\n%s", want, out)
		}
	}
}

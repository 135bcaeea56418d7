package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/cli"
)

// runCLI runs `shadow journal ARGS…` and returns its standard output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := runCLIStderr(t, args...)
	return out, err
}

// runCLIStderr is runCLI with standard error too.
func runCLIStderr(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = RunCommand(context.Background(), args, CommandEnv{Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" }})
	return out.String(), errOut.String(), err
}

// unsyncedOK is err, unless it only says records are pending (list, show and export
// exit 1 for that): for tests of something else about a journal not yet synced.
func unsyncedOK(err error) error {
	if errors.Is(err, ErrUnsynced) {
		return nil
	}
	return err
}

// reviewFixture is a state dir with two sessions, one with hostile text in it.
func reviewFixture(t *testing.T) (dir string, j *Journal) {
	t.Helper()
	dir = t.TempDir()
	j = openTest(t, dir)
	start := api.RecordBody{SessionID: "sess-alpha", Action: api.ActionSessionStart, Actor: testAdmin,
		User: &testUser, Reason: "TICKET-42 customer cannot see fleet"}
	for _, b := range []api.RecordBody{start,
		{SessionID: "sess-alpha", Action: api.ActionView, Actor: testAdmin, User: &testUser, Details: "dashboard d-1: \x1b[31mFleet\x1b[0m \u202eoverview"},
		{SessionID: "sess-alpha", Action: api.ActionExplain, Actor: testAdmin, User: &testUser, Details: "=HYPERLINK(\"http://x\")"},
		{SessionID: "sess-alpha", Action: api.ActionSessionEnd, Actor: testAdmin, User: &testUser},
		{SessionID: "sess-beta", Action: api.ActionSessionRefused, Actor: testAdmin, User: &testUser, Details: "target_privileged"},
	} {
		if _, err := j.Append(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return dir, j
}

func TestCLIListAndShow(t *testing.T) {
	t.Parallel()
	dir, j := reviewFixture(t)
	defer closeTest(t, j)
	out, err := runCLI(t, "list", "--state-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "5 records pending, in a journal a running shadow has open") {
		t.Fatalf("list of pending records: %v, want exit 1 saying how many are pending and why", err)
	}
	for _, want := range []string{"SESSION", "IMPERSONATED USER", "sess-alpha", "sess-beta",
		"Ada Admin <ada@example.test>", "Bob User <bob@example.test>", "TICKET-42", "4 pending, live"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "show", "sess-al", "--state-dir", dir) // a unique prefix, flag after it
	if err == nil || !strings.HasPrefix(err.Error(), "journal show: 4 records pending") {
		t.Fatalf("show of pending records: %v, want exit 1 saying how many are pending", err)
	}
	for _, want := range []string{"TIMESTAMP (UTC)", "ACTION", "USER PERFORMING ACTION", "IMPERSONATED USER", "DETAILS",
		"session.start", "reason: TICKET-42", "view", "explain", "session.end", "4 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("show printed raw escape or bidi characters:\n%q", out)
	}
	if strings.Contains(out, "sess-beta") || strings.Contains(out, "target_privileged") {
		t.Error("show mixed in another session")
	}
	if _, err := runCLI(t, "show", "nope", "--state-dir", dir); !errors.Is(err, ErrNoSuchSession) || !strings.HasPrefix(err.Error(), "journal show: ") {
		t.Fatalf("unknown session: %v", err)
	}
	if _, err := runCLI(t, "show", "sess-", "--state-dir", dir); !errors.Is(err, ErrNoSuchSession) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if out, err := runCLI(t, "show", j.ID(), "--state-dir", dir); err == nil || !strings.Contains(out, "5 records") {
		t.Fatalf("show by journal id: %v\n%s", err, out)
	}
}

// With nothing to list, list says so and prints no table header over nothing: for an
// empty state dir, and for one whose only journal holds no record.
func TestCLIListOfNothingIsOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := "no journal records under " + JournalsDir(dir) + "\n"
	if out, err := runCLI(t, "list", "--state-dir", dir); err != nil || out != want {
		t.Fatalf("empty state dir: %v\n%q, want %q", err, out, want)
	}
	closeTest(t, openTest(t, dir))
	if out, err := runCLI(t, "list", "--state-dir", dir); err != nil || out != want {
		t.Fatalf("a journal of no records: %v\n%q, want %q", err, out, want)
	}
}

func TestCLIExportCSVAndSessionJSONL(t *testing.T) {
	t.Parallel()
	dir, j := reviewFixture(t)
	closeTest(t, j)
	out, err := runCLI(t, "export", "--format", "csv", "--session", "sess-alpha", "--state-dir", dir)
	if err == nil || !strings.HasPrefix(err.Error(), "journal export: 4 records pending, not yet acknowledged") {
		t.Fatalf("export of pending records: %v, want exit 1 saying the session's 4 are pending", err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || strings.Join(rows[0][:5], "|") != "Timestamp|Action|User performing action|Impersonated user|Details" {
		t.Fatalf("csv rows %v", rows)
	}
	if rows[3][4] != `'=HYPERLINK("http://x")` {
		t.Fatalf("a formula reached the CSV unescaped: %q", rows[3][4])
	}
	path := filepath.Join(t.TempDir(), "alpha.jsonl")
	if _, err := runCLI(t, "export", "--session", "sess-alpha", "--out", path, "--state-dir", dir); err == nil {
		t.Fatal("export of pending records exited 0")
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", err, fi)
	}
	// Each record of a session's export checks out on its own, but nothing ties them to
	// a receipt without the records in between: verify says so and does not pass it.
	out, err = runCLI(t, "verify", path)
	if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(out, "PARTLY") || !strings.Contains(out, "4 records") ||
		!strings.Contains(out, "partial export: each record's hash ok") || !strings.Contains(out, "needs the full journal's export") {
		t.Fatalf("a session export should verify record by record, and say it is not tied to a receipt: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "export", "--format", "xml", "--state-dir", dir); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestCLISyncNeedsServerAndTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := runCLI(t, "sync", "--state-dir", dir); !cli.IsUsage(err) || !strings.Contains(err.Error(), "SHADOW_SERVER") {
		t.Fatalf("no server: %v", err)
	}
	var out bytes.Buffer
	err := RunCommand(context.Background(), []string{"sync", "--server", "http://127.0.0.1:1", "--state-dir", dir},
		CommandEnv{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "SHADOW_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	if _, err := runCLI(t, "sync", "--token", "x", "--state-dir", dir); err == nil {
		t.Fatal("a token flag was accepted: tokens come from the environment only")
	}
}

func TestCLIUnknownCommandAndHelp(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, "help")
	if err != nil || !strings.Contains(out, "shadow journal") {
		t.Fatalf("help: %v %s", err, out)
	}
	// --help after a command is an answer: that command's flags, and no error.
	for cmd, flagName := range map[string]string{"list": "-state-dir", "show": "-state-dir", "export": "-format",
		"verify": "-key", "sync": "-server"} {
		out, err := runCLI(t, cmd, "--help")
		if err != nil || !strings.Contains(out, "usage: shadow journal "+cmd) || !strings.Contains(out, flagName) {
			t.Errorf("%s --help: %v\n%s", cmd, err, out)
		}
	}
	// A command line it does not understand is a usage error (main exits 2 for it),
	// pointing at the help of the command it was meant for…
	dir := t.TempDir()
	for _, args := range [][]string{{}, {"frobnicate"}, {"list", "--bogus"}, {"list", "extra"}, {"show"},
		{"show", "a", "b"}, {"export", "--format", "xml"}, {"verify", "a", "b"},
		{"verify", "--server=http://127.0.0.1:1", "a"}, {"sync", "extra"}, {"sync"}, {"verify", "--server"}} {
		_, err := runCLI(t, append(args, "--state-dir", dir)...)
		help := "(see shadow journal --help)"
		if len(args) > 0 && args[0] != "frobnicate" {
			help = "(see shadow journal " + args[0] + " --help)"
		}
		if !cli.IsUsage(err) || !strings.HasSuffix(err.Error(), help) {
			t.Errorf("%q: %v, want a usage error ending %s", args, err, help)
		}
	}
	// …and a failure that is not about the command line is not.
	for _, args := range [][]string{{"verify", filepath.Join(dir, "missing.db")}} {
		if _, err := runCLI(t, append(args, "--state-dir", dir)...); err == nil || cli.IsUsage(err) {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestCLIShowHeadsWithTheSessionAndListTellsRefusedStarts: show of a session heads its
// output with the session (who, whom, when, reason), its journal after; list shows a
// refused start (a session.refused record, which has no session) as a refused start with
// the server's code, not as a session row "(journal …)".
func TestCLIShowHeadsWithTheSessionAndListTellsRefusedStarts(t *testing.T) {
	t.Parallel()
	dir, j := reviewFixture(t)
	if _, err := j.Append(context.Background(), api.RecordBody{Action: api.ActionSessionRefused, Actor: testAdmin, User: &testUser,
		Reason: "TICKET-9", Details: "target_privileged: u-bob has privileges equal to yours"}); err != nil {
		t.Fatal(err)
	}
	defer closeTest(t, j)
	out, _ := runCLI(t, "show", "sess-alpha", "--state-dir", dir)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "session sess-alpha · Ada Admin <ada@example.test> shadowing Bob User <bob@example.test> · ") ||
		!strings.HasSuffix(lines[0], " UTC · reason: TICKET-42 customer cannot see fleet") ||
		!strings.HasPrefix(lines[1], "journal "+j.ID()+" · 4 records") {
		t.Fatalf("show is not headed by the session, then its journal:\n%s", out)
	}
	if out, _ := runCLI(t, "show", j.ID(), "--state-dir", dir); !strings.HasPrefix(out, "journal "+j.ID()+" · 6 records") {
		t.Fatalf("show of a whole journal is headed by it:\n%s", out)
	}
	out, _ = runCLI(t, "list", "--state-dir", dir)
	if strings.Contains(out, "(journal ") {
		t.Errorf("a refused start is listed as a session of the journal:\n%s", out)
	}
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "(refused start)") {
			row = l
		}
	}
	if !strings.Contains(row, "Bob User") || !strings.Contains(row, "refused: target_privileged  TICKET-9") {
		t.Errorf("the refused start's row %q lacks the user, code or reason:\n%s", row, out)
	}
	if !strings.Contains(out, "1 journal, 2 sessions, 1 refused start, 6 records") {
		t.Errorf("the counts do not tell the refused start apart:\n%s", out)
	}
}

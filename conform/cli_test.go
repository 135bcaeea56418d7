package conform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/server"
)

func demoEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"SHADOW_CONFORM_ADMIN_EMAIL": server.DemoSupportEmail, "SHADOW_CONFORM_ADMIN_PASSWORD": server.DemoSupportPassword,
		"SHADOW_CONFORM_USER_EMAIL": server.DemoFleetManagerEmail, "SHADOW_CONFORM_USER_PASSWORD": server.DemoSupportPassword,
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// TestCLIReportsAndExits: --json is the report, exit (the error) nil when it conforms;
// against a broken variant the table names the failed check and the error is
// ErrNotConformant; no token reaches either.
func TestCLIReportsAndExits(t *testing.T) {
	ref := startReference(t, false, nil)
	var out, errOut bytes.Buffer
	err := runCLI(context.Background(), []string{"--server", ref.url, "--json"}, demoEnv(nil), &out, &errOut, http.DefaultClient)
	if err != nil {
		t.Fatalf("runCLI: %v\n%s", err, out.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out.String())
	}
	if !rep.OK || len(rep.Checks) != len(checks) || rep.Passed+rep.Skipped != len(checks) {
		t.Errorf("report: ok %v, %d checks, %d passed, %d skipped", rep.OK, len(rep.Checks), rep.Passed, rep.Skipped)
	}
	if strings.Contains(out.String(), "eyJ") {
		t.Error("a token reached the report")
	}

	broken := startReference(t, false, variants[2].wrap) // duplicates stored again
	out.Reset()
	err = runCLI(context.Background(), []string{"--server", broken.url}, demoEnv(nil), &out, &errOut, http.DefaultClient)
	if !errors.Is(err, ErrNotConformant) || !strings.Contains(err.Error(), "journal.duplicate") {
		t.Fatalf("against a broken server: %v", err)
	}
	text := out.String()
	if !strings.Contains(text, "FAIL  journal.duplicate") || !strings.Contains(text, "DOES NOT CONFORM") || strings.Contains(text, "eyJ") {
		t.Errorf("table:\n%s", text)
	}
}

func TestCLIUsage(t *testing.T) {
	var out bytes.Buffer
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--nope"}, nil, "flag provided but not defined"},
		{[]string{"stray"}, nil, "unexpected argument"},
		{nil, nil, "no server"},
		{[]string{"--server", "http://127.0.0.1:1"}, map[string]string{"SHADOW_CONFORM_ADMIN_EMAIL": "", "SHADOW_CONFORM_ADMIN_PASSWORD": ""}, "no admin"},
		{[]string{"--server", "http://127.0.0.1:1", "--webhook-listen", "127.0.0.1:0"}, nil, "SHADOW_CONFORM_WEBHOOK_SECRET"},
		{[]string{"--server", "http://127.0.0.1:1"}, map[string]string{"SHADOW_CONFORM_ADMIN_PASSWORD": ""}, "SHADOW_CONFORM_ADMIN_EMAIL is set but SHADOW_CONFORM_ADMIN_PASSWORD is not"},
		{[]string{"--server", "http://127.0.0.1:1"}, map[string]string{"SHADOW_CONFORM_OTHER_ADMIN_PASSWORD": "x"}, "SHADOW_CONFORM_OTHER_ADMIN_PASSWORD is set but SHADOW_CONFORM_OTHER_ADMIN_EMAIL is not"},
		{[]string{"--server", "127.0.0.1:8080"}, nil, "is not a URL: give it with http:// or https://"},
		{[]string{"--server", "localhost:8080"}, nil, "is not a URL"},
	} {
		env := demoEnv(c.env)
		err := runCLI(context.Background(), c.args, env, &out, &out, http.DefaultClient)
		if !cli.IsUsage(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
	out.Reset()
	if err := runCLI(context.Background(), []string{"--list"}, demoEnv(nil), &out, &out, nil); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != len(checks) {
		t.Errorf("--list printed %d lines for %d checks", n, len(checks))
	}
	out.Reset()
	if err := runCLI(context.Background(), []string{"--help"}, demoEnv(nil), &out, &out, nil); err != nil || !strings.Contains(out.String(), "SHADOW_CONFORM_OTHER_ADMIN_TOKEN") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}

// TestAServerThatIsDownIsAnError: nothing to report on, and it says so: it could not
// be reached, not merely "does not conform".
func TestAServerThatIsDownIsAnError(t *testing.T) {
	var out bytes.Buffer
	err := runCLI(context.Background(), []string{"--server", "http://127.0.0.1:1"}, demoEnv(nil), &out, &out, http.DefaultClient)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the server at http://127.0.0.1:1") || cli.IsUsage(err) ||
		!strings.Contains(out.String(), "FAIL  server.health") {
		t.Errorf("%v\n%s", err, out.String())
	}
}

// TestConformanceDocCoversEveryCheck: docs/CONFORMANCE.md explains every check of the
// table, so a team reading a failure finds what it means.
func TestConformanceDocCoversEveryCheck(t *testing.T) {
	raw, err := os.ReadFile("../docs/CONFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !strings.Contains(string(raw), "| `"+c.id+"` |") {
			t.Errorf("CONFORMANCE.md has no row for %s", c.id)
		}
	}
}

// TestAnInterruptedRunSaysSo: a run stopped (Ctrl-C) reports what it ran and says it was
// interrupted, not that the server failed.
func TestAnInterruptedRunSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := runCLI(ctx, []string{"--server", "http://127.0.0.1:1"}, demoEnv(nil), &out, &out, http.DefaultClient)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("%v, want an interruption", err)
	}
	if !strings.Contains(out.String(), "skipped: the run was stopped") {
		t.Errorf("the report does not say the run was stopped:\n%s", out.String())
	}
}

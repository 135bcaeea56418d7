package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/server"
)

// TestHelpDocumentsEverything checks --help names every flag shadow parses, every
// environment variable it reads, the subcommands and the exit statuses.
func TestHelpDocumentsEverything(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out bytes.Buffer
		if err := run(args, &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		help := out.String()
		for _, want := range append(configuration, "--version", "--help", "shadow serve", "shadow journal", "Exit status", "docs/OPERATIONS.md") {
			if !strings.Contains(help, want) {
				t.Errorf("%v: the help does not mention %s", args, want)
			}
		}
	}
}

// configuration is every flag and environment variable `shadow` reads.
var configuration = []string{"--server", "--ca-file", "--insecure", "--cache-dir", "--no-cache", "--state-dir",
	"SHADOW_SERVER", "SHADOW_TOKEN", "NO_COLOR", "XDG_STATE_HOME", "XDG_CACHE_HOME"}

// TestDocsKeepUp checks the README and OPERATIONS.md name every setting, and that the
// README's test command is the one CI runs.
func TestDocsKeepUp(t *testing.T) {
	for _, doc := range []string{"README.md", "docs/OPERATIONS.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range configuration {
			if !strings.Contains(string(text), want) {
				t.Errorf("%s does not mention %s", doc, want)
			}
		}
	}
	readme, _ := os.ReadFile("README.md")
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"go test -race ./..."} {
		if !strings.Contains(string(readme), cmd) || !strings.Contains(string(ci), cmd) {
			t.Errorf("README and .ci/run do not both run %q", cmd)
		}
	}
	if !strings.Contains(string(readme), "go run .") {
		t.Error("the README does not say how to run the demo")
	}
}

func TestCommandLineErrorsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"--server"}, {"frobnicate"}} {
		var out bytes.Buffer
		err := run(args, &out, &out)
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "shadow --help") || strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v, want a usage error pointing at --help", args, err)
		}
	}
	// The subcommands' own: asking for their help is no error, a flag or command they do
	// not know is a usage error (exit status 2), as shadow's own are.
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"journal", "help"}, {"journal", "list", "--help"}} {
		var out bytes.Buffer
		if err := run(args, &out, &out); err != nil {
			t.Errorf("%v: %v, want none", args, err)
		}
	}
	for _, args := range [][]string{{"serve", "--bogus"}, {"serve", "--addr"}, {"serve", "extra"}, {"journal"},
		{"journal", "frobnicate"}, {"journal", "list", "--bogus"}, {"journal", "export", "--format"}} {
		var out bytes.Buffer
		if err := run(args, &out, &out); !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--version"}, &out, &out); err != nil || strings.TrimSpace(out.String()) != "shadow dev" {
		t.Fatalf("--version: %v %q", err, out.String())
	}
}

func TestJournalDemoFlag(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	for _, c := range []struct{ in, want []string }{
		{[]string{"list"}, []string{"list"}},
		{[]string{"list", "--demo"}, []string{"list", "--state-dir", "/state/shadow/demo"}},
		{[]string{"show", "--state-dir", "/x", "ses_1", "--demo"}, []string{"show", "--state-dir", "/x", "ses_1", "--state-dir", "/x/demo"}},
		{[]string{"verify", "--state-dir=/y", "--demo"}, []string{"verify", "--state-dir=/y", "--state-dir", "/y/demo"}},
	} {
		got, err := demoJournalArgs(c.in)
		if err != nil || strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%v: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	// And through the command: the demo's journals are read from the demo's directory.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "demo", "journals"), 0o700); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"journal", "list", "--demo", "--state-dir", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), filepath.Join(dir, "demo", "journals")) {
		t.Fatalf("journal list --demo did not read the demo's journals:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"journal", "help"}, &out, &out); err != nil || !strings.Contains(out.String(), "--demo") {
		t.Fatalf("journal help does not mention --demo: %v\n%s", err, out.String())
	}
}

// `shadow journal sync` reaches a server behind a private CA with --ca-file, or with
// --insecure (warned about, as the program warns), and refuses it with neither. The
// server is the real reference handler behind an httptest TLS server.
func TestJournalSyncThroughAPrivateCA(t *testing.T) {
	srv, err := server.New(server.Options{DataDir: t.TempDir(), PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	login, err := json.Marshal(api.LoginRequest{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Post(ts.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	var signedIn api.LoginResponse
	err = json.NewDecoder(resp.Body).Decode(&signedIn)
	resp.Body.Close()
	if err != nil || signedIn.Token == "" {
		t.Fatalf("sign in: %v (status %d)", err, resp.StatusCode)
	}
	t.Setenv("SHADOW_TOKEN", signedIn.Token)

	// One ended run's journal per attempt, so each sync that works has records to push.
	pending := func(t *testing.T) string {
		dir := t.TempDir()
		j, _, err := audit.Open(audit.Options{StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Append(context.Background(), api.RecordBody{SessionID: "s-1", Action: api.ActionView, Actor: api.UserRef{ID: "u-support", Name: "Support"}}); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(context.Background()); err != nil && !errors.Is(err, audit.ErrUnsynced) {
			t.Fatal(err)
		}
		return dir
	}
	sync := func(dir string, flags ...string) (stdout, stderr string, err error) {
		var o, e bytes.Buffer
		args := append([]string{"journal", "sync", "--server", ts.URL, "--timeout", "10s", "--state-dir", dir}, flags...)
		err = run(args, &o, &e)
		return o.String(), e.String(), err
	}

	dir := pending(t)
	if o, e, err := sync(dir, "--timeout", "1s"); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("an unknown CA: %v, want a failure that points at --ca-file\n%s%s", err, o, e)
	}
	out, _, err := sync(dir, "--ca-file", caFile)
	if err != nil || !strings.Contains(out, "synced") {
		t.Fatalf("--ca-file: %v\n%s", err, out)
	}
	out, errOut, err := sync(pending(t), "--insecure")
	if err != nil || !strings.Contains(out, "synced") {
		t.Fatalf("--insecure: %v\n%s", err, out)
	}
	if !strings.Contains(errOut, "shadow: WARNING: TLS certificate verification is OFF (--insecure)") {
		t.Fatalf("--insecure did not warn on standard error: %q", errOut)
	}
	var listed bytes.Buffer
	if err := run([]string{"journal", "list", "--state-dir", dir}, &listed, &listed); err != nil || !strings.Contains(listed.String(), "synced") {
		t.Fatalf("after the sync the journal is not synced: %v\n%s", err, listed.String())
	}
}

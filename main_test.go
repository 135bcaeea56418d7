package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/cache"
	"github.com/shadowview/shadow/internal/cli"
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
		if !cli.IsUsage(err) || !strings.Contains(err.Error(), "shadow --help") || strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v, want a usage error pointing at --help", args, err)
		}
	}
	// The subcommands' own: asking for their help is no error, a flag or command they do
	// not know is a usage error (exit status 2), as shadow's own are.
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"journal", "help"}, {"journal", "list", "--help"}, {"ssh", "--help"}, {"conform", "--help"}} {
		var out bytes.Buffer
		if err := run(args, &out, &out); err != nil {
			t.Errorf("%v: %v, want none", args, err)
		}
	}
	for _, args := range [][]string{{"serve", "--bogus"}, {"serve", "--addr"}, {"serve", "extra"}, {"journal"},
		{"journal", "frobnicate"}, {"journal", "list", "--bogus"}, {"journal", "export", "--format"},
		{"ssh", "--bogus"}, {"ssh", "extra"}, {"ssh", "--server", ""}, {"conform", "--bogus"}, {"conform"}} {
		var out bytes.Buffer
		if err := run(args, &out, &out); !cli.IsUsage(err) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--version"}, &out, &out); err != nil || strings.TrimSpace(out.String()) != "shadow dev" {
		t.Fatalf("--version: %v %q", err, out.String())
	}
}

func TestJournalDemoFlag(t *testing.T) {
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
	for _, cmd := range []string{"list", "show", "export", "verify", "sync"} {
		out.Reset()
		if err := run([]string{"journal", cmd, "--help"}, &out, &out); err != nil || !strings.Contains(out.String(), "-demo") {
			t.Errorf("journal %s --help does not list --demo: %v\n%s", cmd, err, out.String())
		}
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

// mainEnv makes this test binary run main() with the rest of its arguments: the exit
// statuses are main's, seen from outside as a shell sees them.
const mainEnv = "SHADOW_MAIN_TEST"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Args = append([]string{"shadow"}, os.Args[2:]...) // after "-test.run=^$"
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The exit statuses OPERATIONS.md documents: 0 done, 1 a failure, 2 a command line not
// understood — shadow's own, serve's and journal's.
func TestExitStatuses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, 0},
		{[]string{"--help"}, 0},
		{[]string{"serve", "--help"}, 0},
		{[]string{"journal", "help"}, 0},
		{[]string{"journal", "list", "--state-dir", dir}, 0},
		{[]string{"journal", "verify", filepath.Join(dir, "missing.db")}, 1},
		{[]string{"journal", "sync", "--state-dir", dir}, 2}, // no server given: alike everywhere
		{[]string{"journal", "verify", "--server", "--state-dir", dir}, 2},
		{[]string{"ssh"}, 2},
		{[]string{"conform"}, 2},
		{[]string{"version", "extra"}, 2},
		{[]string{"journal", "sync", "--demo", "--state-dir", dir}, 2},
		{[]string{"--bogus"}, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"serve", "--bogus"}, 2},
		{[]string{"serve", "extra"}, 2},
		{[]string{"journal"}, 2},
		{[]string{"journal", "frobnicate"}, 2},
		{[]string{"journal", "list", "--bogus"}, 2},
		{[]string{"conform", "--bogus"}, 2},
		{[]string{"conform", "--server", "http://127.0.0.1:1"}, 2}, // no admin identity
		{[]string{"journal", "show"}, 2},
		{[]string{"ssh", "--bogus"}, 2},
		{[]string{"ssh", "extra"}, 2},
		{[]string{"ssh", "--server", "http://127.0.0.1:1", "--max-per-key", "-1"}, 2},
		{[]string{"ssh", "--server", "http://127.0.0.1:1", "--max-connections", "0"}, 2},
		{[]string{"ssh", "--server", "http://127.0.0.1:1", "--idle-timeout", "-5s"}, 2},
		{[]string{"conform", "--server", "127.0.0.1:8080"}, 2},
		{[]string{"serve", "--addr", "0.0.0.0:9999"}, 2},
		{[]string{"serve", "--addr", "nocolon"}, 2},
		// A server address that is no http(s) URL, and a limit out of its range, are
		// command lines to mend (docs/OPERATIONS.md), not errors of a run.
		{[]string{"--server", "ftp://x"}, 2},
		{[]string{"--server", "http//x"}, 2},
		{[]string{"ssh", "--server", "ftp://x"}, 2},
		{[]string{"journal", "sync", "--server", "http//x", "--state-dir", dir}, 2},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--max-open-sessions", "0"}, 2},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--max-open-sessions", "-5"}, 2},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--journal-records-per-minute", "0"}, 2},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--generate-users", "-3"}, 2},
	} {
		cmd := exec.Command(exe, append([]string{"-test.run=^$"}, c.args...)...)
		cmd.Env = append(os.Environ(), mainEnv+"=1", "SHADOW_SERVER=", "SHADOW_TOKEN=")
		out, err := cmd.CombinedOutput()
		got := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			got = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("shadow %s: exit status %d, want %d\n%s", strings.Join(c.args, " "), got, c.want, out)
		}
	}
}

// A flag no command knows is refused alike by shadow and every subcommand: the same
// words on standard error, naming the command and pointing at its help, nothing on
// standard output, exit status 2.
func TestEveryCommandRefusesABadFlagAlike(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "serve", "journal list", "ssh", "conform"} {
		args := append(strings.Fields(name), "--bogus")
		cmd := exec.Command(exe, append([]string{"-test.run=^$"}, args...)...)
		cmd.Env = append(os.Environ(), mainEnv+"=1", "SHADOW_SERVER=", "SHADOW_TOKEN=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != cli.ExitUsage {
			t.Errorf("shadow %s: %v, want exit status %d", strings.Join(args, " "), err, cli.ExitUsage)
		}
		named, help := "", "shadow --help"
		if name != "" {
			named, help = name+": ", "shadow "+name+" --help"
		}
		want := "shadow: " + named + "flag provided but not defined: -bogus (see " + help + ")\n"
		if stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("shadow %s said\n%q on stderr and %q on stdout, want\n%q and nothing", strings.Join(args, " "),
				stderr.String(), stdout.String(), want)
		}
	}
}

// OPERATIONS.md quotes what shadow says when --state-dir or --cache-dir is a directory
// other users may write to, as the packages say it.
func TestOperationsQuotesTheSharedDirMessages(t *testing.T) {
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "someone-elses.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	_, _, err := audit.Open(audit.Options{StateDir: shared})
	if err == nil {
		t.Fatal("a shared state dir was used")
	}
	c := cache.Open(cache.Options{Dir: shared})
	defer c.Close()
	ops, err2 := os.ReadFile("docs/OPERATIONS.md")
	if err2 != nil {
		t.Fatal(err2)
	}
	doc := strings.Join(strings.Fields(string(ops)), " ")
	placeholders := strings.NewReplacer(shared, "<dir>", "-rwxrwxrwx", "<mode>")
	for _, said := range []string{err.Error(), c.Warning()} {
		if said == "" || !strings.Contains(doc, placeholders.Replace(said)) {
			t.Errorf("OPERATIONS.md does not quote %q", placeholders.Replace(said))
		}
	}
}

// Every package has a doc comment saying what it owns (the brief's standard), test
// helpers too.
func TestEveryPackageHasADocComment(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		files, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		sources, documented := 0, false
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			sources++
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			documented = documented || parsed.Doc != nil
		}
		if sources > 0 && !documented {
			t.Errorf("package %s has no doc comment", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A non-loopback `serve --addr` names the flag that allows it.
func TestServeNamesAllowRemote(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"serve", "--addr", "0.0.0.0:9999"}, &out, &out)
	if !cli.IsUsage(err) || !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), "(see shadow serve --help)") {
		t.Fatalf("serve --addr 0.0.0.0:9999: %v", err)
	}
}

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		for _, want := range []string{"--server", "--ca-file", "--insecure", "--cache-dir", "--no-cache", "--state-dir",
			"--version", "--help", "SHADOW_SERVER", "SHADOW_TOKEN", "NO_COLOR", "XDG_STATE_HOME", "XDG_CACHE_HOME",
			"shadow serve", "shadow journal", "Exit status", "docs/OPERATIONS.md"} {
			if !strings.Contains(help, want) {
				t.Errorf("%v: the help does not mention %s", args, want)
			}
		}
	}
}

func TestCommandLineErrorsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"--server"}, {"frobnicate"}} {
		var out bytes.Buffer
		err := run(args, &out, &out)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "shadow --help") {
			t.Errorf("%v: %v, want a usage error pointing at --help", args, err)
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

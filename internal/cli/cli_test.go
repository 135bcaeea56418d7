package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cmd := Command{Name: "ssh", Help: "usage: shadow ssh [flags]\n"}
	fs := cmd.Flags()
	addr := fs.String("addr", "127.0.0.1:2222", "where to listen")
	pos, help, err := cmd.Parse(fs, []string{"--addr", ":22"}, nil)
	if err != nil || help || len(pos) != 0 || *addr != ":22" {
		t.Fatalf("%v %v %v %q", pos, help, err, *addr)
	}

	_, _, err = cmd.Parse(cmd.Flags(), []string{"--bogus"}, nil)
	if !IsUsage(err) || ExitCode(err) != ExitUsage || err.Error() != "ssh: flag provided but not defined: -bogus (see shadow ssh --help)" {
		t.Fatalf("a bad flag: %v (exit %d)", err, ExitCode(err))
	}
	if !IsUsage(fmt.Errorf("wrapped: %w", err)) {
		t.Fatal("a wrapped usage error is not one")
	}

	var out strings.Builder
	fs = cmd.Flags()
	fs.String("addr", "127.0.0.1:2222", "where to listen")
	if _, help, err := cmd.Parse(fs, []string{"-h"}, &out); !help || err != nil ||
		!strings.HasPrefix(out.String(), "usage: shadow ssh [flags]\n\nFlags:\n  -addr string") {
		t.Fatalf("help: %v %v\n%s", help, err, out.String())
	}

	top := Command{Help: "usage: shadow\n", Interspersed: true}
	fs = top.Flags()
	v := fs.Bool("v", false, "")
	pos, _, err = top.Parse(fs, []string{"a", "-v", "b"}, nil)
	if err != nil || !*v || strings.Join(pos, ",") != "a,b" {
		t.Fatalf("interspersed: %q %v", pos, err)
	}
	if err := top.NoArgs(pos); err == nil || err.Error() != `unexpected argument "a" (see shadow --help)` {
		t.Fatalf("NoArgs: %v", err)
	}
	if ExitCode(nil) != ExitOK || ExitCode(errors.New("x")) != ExitError {
		t.Fatal("exit codes")
	}
}

func TestEnvOn(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"SHADOW_OSC52=1"}, true},
		{[]string{"SHADOW_OSC52=TRUE"}, true},
		{[]string{"SHADOW_OSC52=yes"}, true},
		{[]string{"SHADOW_OSC52=0"}, false},
		{[]string{"SHADOW_OSC52="}, false},
		{[]string{"SHADOW_OSC52=please"}, false},
		{[]string{"SHADOW_OSC52X=1"}, false},
		{[]string{"SHADOW_OSC52=1", "SHADOW_OSC52=0"}, false}, // the last one wins
	} {
		if got := EnvOn(c.env, "SHADOW_OSC52"); got != c.want {
			t.Errorf("%q: %v, want %v", c.env, got, c.want)
		}
	}
}

func TestServerURL(t *testing.T) {
	cmd := Command{Name: "ssh"}
	for _, ok := range []string{"http://x", "https://shadow.example.com/", "http://127.0.0.1:8080"} {
		if err := cmd.ServerURL("--server", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://x", "http//x", "shadow.example.com", "https://", ":"} {
		err := cmd.ServerURL("--server", bad)
		if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "http:// or https://") {
			t.Errorf("%q: %v (exit %d), want a usage error", bad, err, ExitCode(err))
		}
	}
}

func TestInRange(t *testing.T) {
	cmd := Command{Name: "serve"}
	const maxInt = int(^uint(0) >> 1)
	for _, c := range []struct {
		v, lo, hi int
		noCap     bool
		want      string // "" accepted
	}{
		{0, 0, 1_000_000, false, ""},
		{1_000_000, 0, 1_000_000, false, ""},
		{-3, 0, 1_000_000, false, "serve: --n must be between 0 and 1,000,000 (see shadow serve --help)"},
		{1_000_001, 0, 1_000_000, false, "serve: --n must be between 0 and 1,000,000 (see shadow serve --help)"},
		{-1, 1, maxInt, true, ""},
		{1, 1, maxInt, true, ""},
		{0, 1, maxInt, true, "serve: --n must be 1 or more, or -1 for no cap (see shadow serve --help)"},
		{-5, 1, maxInt, true, "serve: --n must be 1 or more, or -1 for no cap (see shadow serve --help)"},
	} {
		err := cmd.InRange("--n", c.v, c.lo, c.hi, c.noCap)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%d refused: %v", c.v, err)
		case c.want != "" && (err == nil || err.Error() != c.want || ExitCode(err) != ExitUsage):
			t.Errorf("%d: %v, want %q (exit 2)", c.v, err, c.want)
		}
	}
	if Grouped(-1234567) != "-1,234,567" || Grouped(999) != "999" {
		t.Errorf("Grouped: %s %s", Grouped(-1234567), Grouped(999))
	}
}

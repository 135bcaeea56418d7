package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shadowview/shadow/internal/cli"
)

// A server that is down is said to be unreachable: the token is not blamed for it.
func TestAnUnreachableServerIsNotBlamedOnTheToken(t *testing.T) {
	t.Parallel()
	down := unusedAddr(t)
	for _, args := range [][]string{{"sync", "--server", down}, {"verify", "--server=" + down}} {
		var out bytes.Buffer
		env := CommandEnv{Stdout: &out, Stderr: &out,
			Getenv: func(k string) string { return map[string]string{"SHADOW_TOKEN": "a-token"}[k] },
			NewRemote: func(o RemoteOptions) (Remote, error) {
				c := newTestClient(t, o.ServerURL)
				c.SetToken(o.Token)
				return c, nil
			}}
		err := RunCommand(context.Background(), append(args, "--state-dir", t.TempDir(), "--timeout", "10s"), env)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the server") || strings.Contains(err.Error(), "SHADOW_TOKEN") {
			t.Errorf("%q with the server down: %v", args, err)
		}
	}
}

// --demo is a flag of every journal command, in its help; sync --demo says where the
// demo's journals sync instead of asking for a server.
func TestDemoIsAFlagOfEveryJournalCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := func(out *bytes.Buffer) CommandEnv {
		return CommandEnv{Stdout: out, Stderr: out, Getenv: func(string) string { return "" },
			DemoStateDir: func(d string) string { return d + "/demo" }}
	}
	for _, cmd := range []string{"list", "show", "export", "verify", "sync"} {
		var out bytes.Buffer
		if err := RunCommand(context.Background(), []string{cmd, "--help"}, env(&out)); err != nil || !strings.Contains(out.String(), "-demo") {
			t.Errorf("journal %s --help lacks --demo: %v\n%s", cmd, err, out.String())
		}
	}
	var out bytes.Buffer
	err := RunCommand(context.Background(), []string{"sync", "--demo", "--state-dir", dir}, env(&out))
	if !cli.IsUsage(err) || !strings.Contains(err.Error(), "sync to the demo's own server while the demo runs") || strings.Contains(err.Error(), "SHADOW_SERVER") {
		t.Fatalf("sync --demo: %v", err)
	}
	out.Reset()
	if err := RunCommand(context.Background(), []string{"list", "--demo", "--state-dir", dir}, env(&out)); err != nil ||
		!strings.Contains(out.String(), JournalsDir(dir+"/demo")) {
		t.Fatalf("list --demo did not read the demo's journals: %v\n%s", err, out.String())
	}
}

package audit

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Some tests need a real second process (one to SIGKILL, one with a file size limit,
// one running as another user). They re-run this test binary with childEnv set to the
// child's name; TestMain runs that child instead of the tests.
const childEnv = "SHADOW_AUDIT_TEST_CHILD"

var children = map[string]func() error{
	"crash-appender": crashAppender,
	"disk-full":      diskFullAppender,
	"open-journal":   openJournalChild,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		child, ok := children[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown test child %q\n", name)
			os.Exit(2)
		}
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childCommand is this test binary started as the named child, with extra env.
func childCommand(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+name), env...)
	return cmd
}

package audit

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/shadowview/shadow/server"
)

// With SHADOW_TOKEN unset, `journal sync` and `verify --server` ask for an email and
// password on the terminal (a real pty), sign in, ask again after a wrong password, and
// write the password nowhere. Today's main only said to set SHADOW_TOKEN.
func TestSyncAndVerifySignInOnATerminal(t *testing.T) {
	t.Parallel()
	srv := newFaultyServer(t)
	dir := t.TempDir()
	j := openTest(t, dir)
	appendN(t, j, "s", 3)
	closeTest(t, j)
	const wrong = "not-the-password-0451"
	for _, args := range [][]string{{"sync"}, {"verify", "--server"}} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		// In canonical mode a read returns one line, so the lines can be typed ahead.
		typed := server.DemoSupportEmail + "\n" + wrong + "\n" + server.DemoSupportEmail + "\n" + server.DemoSupportPassword + "\n"
		if _, err := ptmx.WriteString(typed); err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(ptmx) }() // drain the echo
		var out, errOut bytes.Buffer
		env := CommandEnv{Stdout: &out, Stderr: &errOut, Stdin: tty,
			Getenv: func(k string) string { return map[string]string{"SHADOW_SERVER": srv.http.URL}[k] },
			NewRemote: func(o RemoteOptions) (Remote, error) {
				if o.Token != "" {
					t.Errorf("a token came from nowhere: %q", o.Token)
				}
				return newTestClient(t, o.ServerURL), nil
			}}
		err = RunCommand(context.Background(), append(args, "--state-dir", dir, "--timeout", "20s"), env)
		tty.Close()
		ptmx.Close()
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", args[0], err, errOut.String(), out.String())
		}
		for _, want := range []string{"Sign in to " + srv.http.URL, "Email: ", "Password: ",
			"Wrong email or password; try again.", "Signed in as"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%s: the sign-in lacks %q:\n%s", args[0], want, errOut.String())
			}
		}
		if strings.Contains(out.String()+errOut.String(), server.DemoSupportPassword) || strings.Contains(out.String()+errOut.String(), wrong) {
			t.Errorf("%s printed a password", args[0])
		}
	}
	checkServerHoldsExactly(t, adminRemote(t, srv.http.URL), j.Path())
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if bytes.Contains(data, []byte(server.DemoSupportPassword)) || bytes.Contains(data, []byte(wrong)) {
			t.Errorf("%s holds a password", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Plain `journal list` after only the demo was used says where the demo's journals are.
func TestListAfterOnlyTheDemoSaysWhereItsJournalsAre(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	j := openTest(t, demo)
	appendN(t, j, "s-demo", 2)
	closeTest(t, j)
	var out bytes.Buffer
	err := RunCommand(context.Background(), []string{"list", "--state-dir", dir}, CommandEnv{Stdout: &out, Stderr: &out,
		Getenv: func(string) string { return "" }, DemoStateDir: func(s string) string { return filepath.Join(s, "demo") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no journal records under " + JournalsDir(dir), "the demo's journals are under " + JournalsDir(demo),
		"shadow journal list --demo", "1 session"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list lacks %q:\n%s", want, out.String())
		}
	}
}

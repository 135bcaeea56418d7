package ui_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// TestEndToEnd builds shadow, runs `shadow serve` on a free loopback port, and runs
// shadow against it in a real pseudo-terminal, reading the screen through a terminal
// emulator as a person would see it: sign in on the login screen, search and pick a
// user, give a reason, see a dashboard and the permissions, explain a cell, end the
// session, quit. Then the server's audit log must hold the session's journal records
// and its requests, each with both identities.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	bin := shadowBinary(t)
	dir := t.TempDir()
	baseURL := serve(t, bin, filepath.Join(dir, "server"))
	term := startShadow(t, bin, dir, "--server", baseURL)

	term.waitFor(t, "the login screen", "Sign in to "+baseURL, "Password:")
	term.typeKeys(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
	term.waitFor(t, "the picker", "Pick a user to shadow", "signed in as Sam Rivera")
	if strings.Contains(term.text(), server.DemoSupportPassword) {
		t.Fatal("the password is on the screen")
	}
	term.shadow(t, "nora", "Nora Lindqvist", "E2E-1 dashboards look empty")
	term.waitFor(t, "the dashboards", "READ-ONLY", "Fleet overview", "Vehicles by team")
	if title := term.title(); !strings.Contains(title, "IMPERSONATING Nora Lindqvist") {
		t.Fatalf("the terminal title does not say who is impersonated: %q", title)
	}
	term.typeKeys("2")
	term.waitFor(t, "the permissions", "55 resources × 6 actions", "allow")
	term.typeKeys("\x1b[B\x1b[C\r") // down, right, enter
	term.waitFor(t, "the explanation", "Why? create on Drivers", "ALLOWED")
	if first := term.line(0); !strings.Contains(first, "IMPERSONATING") || !strings.Contains(first, "left") {
		t.Fatalf("the banner is not the first line: %q", first)
	}
	term.typeKeys("q")
	term.waitFor(t, "the question", "End the session?")
	term.typeKeys("y")
	term.waitFor(t, "the picker again", "Pick a user to shadow")
	if strings.Contains(term.text(), "IMPERSONATING") || term.title() != "shadow" {
		t.Fatalf("the session's banner or title outlived it (title %q):\n%s", term.title(), term.text())
	}
	term.typeKeys("\x03") // ctrl+c
	term.exit(t, 0)
	checkAuditLog(t, baseURL)

	// A token the server refuses: said on screen, and shadow exits 1.
	bad := startShadowEnv(t, bin, t.TempDir(), []string{"SHADOW_TOKEN=not-a-token"}, "--server", baseURL)
	bad.waitFor(t, "the refusal", "shadow cannot go on", "Could not sign in")
	bad.typeKeys("q")
	bad.exit(t, 1)
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// shadowBinary builds shadow once for all the tests that run it.
func shadowBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shadow-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "shadow")
		cmd := exec.Command("go", "build", "-o", built, ".")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

// startShadow runs the binary in a pseudo-terminal of 100×30 with home, state and
// cache under home, and returns its screen.
func startShadow(t testing.TB, bin, home string, args ...string) *vtScreen {
	t.Helper()
	return startShadowEnv(t, bin, home, nil, args...)
}

// startShadowEnv is startShadow with more environment variables.
func startShadowEnv(t testing.TB, bin, home string, env []string, args ...string) *vtScreen {
	t.Helper()
	const cols, rows = 100, 30
	cmd := exec.Command(bin, args...)
	tmp := filepath.Join(home, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "TMPDIR=" + tmp,
		"XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	s := newScreen(f, cols, rows)
	s.pid = cmd.Process.Pid
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	return s
}

// exit waits for the program to end with code.
func (s *vtScreen) exit(t testing.TB, code int) {
	t.Helper()
	select {
	case err := <-s.exited:
		got := 0
		if ee, ok := err.(*exec.ExitError); ok {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != code {
			t.Fatalf("shadow exited with %d, want %d:\n%s", got, code, s.text())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("shadow did not exit:\n%s", s.text())
	}
}

// serve runs `shadow serve` on a free loopback port (with more flags, if any) and
// returns its base URL.
func serve(t testing.TB, bin, data string, flags ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, flags...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(2 * time.Minute): // a generated org of 100,000 takes a while
		t.Fatal("shadow serve did not say where it listens")
	}
	return ""
}

// checkAuditLog reads the server's audit log as the support admin and checks the
// session left its journal records and request events, with both identities.
func checkAuditLog(t *testing.T, baseURL string) {
	t.Helper()
	ctx := context.Background()
	c, err := client.New(client.Options{BaseURL: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, server.DemoSupportEmail, server.DemoSupportPassword); err != nil {
		t.Fatal(err)
	}
	starts, err := c.AuditEvents(ctx, client.AuditFilter{Kind: api.EventSessionStart})
	if err != nil || len(starts.Events) != 1 {
		t.Fatalf("session starts: %v %+v", err, starts)
	}
	session := starts.Events[0].SessionID
	var events []api.AuditEvent
	for cursor := ""; ; {
		page, err := c.AuditEvents(ctx, client.AuditFilter{Session: session, Cursor: cursor, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.Events...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	journaled := map[string]int{}
	requests := 0
	for _, e := range events {
		if e.Actor.Name != "Sam Rivera" || e.User == nil || e.User.Name != "Nora Lindqvist" {
			t.Errorf("%s event without both identities: actor %+v, user %+v", e.Kind, e.Actor, e.User)
		}
		switch e.Kind {
		case api.EventJournalRecord:
			journaled[e.Action]++
			if e.SyncedBy == nil || e.SyncedBy.Name != "Sam Rivera" {
				t.Errorf("journal record %d synced by %+v", e.Seq, e.SyncedBy)
			}
		case api.EventRequest:
			requests++
		}
	}
	want := map[string]int{api.ActionSessionStart: 1, api.ActionView: 3, api.ActionExplain: 1, api.ActionSessionEnd: 1}
	if fmt.Sprint(journaled) != fmt.Sprint(want) {
		t.Errorf("journal records in the audit log %v, want %v", journaled, want)
	}
	if requests < 4 {
		t.Errorf("%d impersonated requests in the audit log, want at least the list, dashboard, matrix and explanation", requests)
	}
}

// vtScreen is the program's pseudo-terminal as a person sees it (uitest.Screen), and
// the process behind it.
type vtScreen struct {
	*uitest.Screen
	pid    int
	exited chan error
}

func newScreen(f *os.File, cols, rows int) *vtScreen {
	return &vtScreen{Screen: uitest.NewScreen(f, f, cols, rows, uitest.ScreenOptions{})}
}

func (s *vtScreen) text() string         { return s.Text() }
func (s *vtScreen) line(y int) string    { return s.Line(y) }
func (s *vtScreen) title() string        { return s.Title() }
func (s *vtScreen) typeKeys(keys string) { s.Type(keys) }
func (s *vtScreen) waitFor(t testing.TB, what string, words ...string) {
	t.Helper()
	s.WaitFor(t, what, words...)
}

// shadow searches for query (one match, named name), picks it, gives reason, and waits
// for the session's banner. The prompt is waited for before the reason is typed: keys
// typed ahead of a screen go to the screen before it.
func (s *vtScreen) shadow(t testing.TB, query, name, reason string) {
	t.Helper()
	s.typeKeys("/" + query)
	s.waitFor(t, "the search", `1 user matching "`+query+`"`)
	s.typeKeys("\r\r")
	s.waitFor(t, "the reason prompt", "Why are you shadowing "+name+"?")
	s.typeKeys(reason + "\r")
	s.waitFor(t, "the session", "IMPERSONATING "+name)
}

// TestDemo runs the demo as a new user would (`shadow` with nothing configured), twice,
// then two at once: its journals live apart from real use, sync to the demo server
// across runs (an earlier run's unsynced journal is pushed by the next run), verify
// under one server key, and a second demo at the same time runs on a throwaway server
// and says so. A SHADOW_TOKEN is ignored by the demo, which says so (OPERATIONS.md).
func TestDemo(t *testing.T) {
	t.Parallel()
	bin := shadowBinary(t)
	home := t.TempDir()
	demoState := filepath.Join(home, "state", "shadow", "demo")

	a := startShadow(t, bin, home)
	a.waitFor(t, "the demo", "DEMO", "Pick a user to shadow", "signed in as Sam Rivera")
	a.shadow(t, "nora", "Nora Lindqvist", "DEMO-A")
	a.typeKeys("\x03")
	a.exit(t, 0)

	// A journal an earlier run left unsynced (killed while offline, say).
	j, _, err := audit.Open(audit.Options{StateDir: demoState, Actor: api.UserRef{Name: "Sam Rivera"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(context.Background(), api.RecordBody{SessionID: "ses_planted", Action: api.ActionView,
		Actor: api.UserRef{Name: "Sam Rivera"}, Details: "left unsynced"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(context.Background()); !errors.Is(err, audit.ErrUnsynced) {
		t.Fatalf("the planted journal: %v", err)
	}

	b := startShadow(t, bin, home)
	b.waitFor(t, "the demo again", "DEMO", "Pick a user to shadow")
	deadline := time.Now().Add(10 * time.Second)
	// list exits 1 while anything is pending, 0 once all is synced.
	for out, code := shadowRun(t, bin, home, "journal", "list", "--demo"); code != 0 || !strings.Contains(out, "ses_planted"); out, code = shadowRun(t, bin, home, "journal", "list", "--demo") {
		if time.Now().After(deadline) || (code == 1) != strings.Contains(out, "pending") {
			t.Fatalf("the next demo run did not sync the earlier journal (exit %d):\n%s", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Meanwhile a second demo: it cannot have the demo's data, so it runs on its own.
	// (First one in another home, which has no conflict; with a token it ignores, and says so.)
	c := startShadowEnv(t, bin, t.TempDir(), []string{"SHADOW_TOKEN=not-for-the-demo"})
	c.waitFor(t, "an unrelated demo", "DEMO", "Pick a user to shadow", "signed in as Sam Rivera")
	c.typeKeys("\x03")
	c.exit(t, 0)
	c.waitFor(t, "the token's notice", "shadow: SHADOW_TOKEN is ignored: no server is given")
	d := startShadow(t, bin, home)
	d.waitFor(t, "the second demo's notice", "DEMO", "Throwaway demo", "Another shadow demo holds the demo's data")
	d.typeKeys("\r")
	d.waitFor(t, "the second demo", "Pick a user to shadow", "note: throwaway demo")
	d.typeKeys("q")
	d.exit(t, 0)
	b.typeKeys("q")
	b.exit(t, 0)

	list := shadowOut(t, bin, home, 0, "journal", "list", "--demo")
	for _, want := range []string{"Nora Lindqvist", "DEMO-A", "ses_planted"} {
		if !strings.Contains(list, want) {
			t.Errorf("journal list --demo lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "pending") {
		t.Errorf("demo records left unsynced:\n%s", list)
	}
	verify := shadowOut(t, bin, home, 0, "journal", "verify", "--demo")
	keys := regexp.MustCompile(`receipt to seq \d+, key (\S+)`).FindAllStringSubmatch(verify, -1)
	if len(keys) < 2 {
		t.Fatalf("fewer than two journals carry a receipt:\n%s", verify)
	}
	for _, k := range keys {
		if k[1] != keys[0][1] {
			t.Fatalf("the demo's journals are signed by different server keys:\n%s", verify)
		}
	}
	if out := shadowOut(t, bin, home, 2, "--bogus"); !strings.Contains(out, "shadow --help") {
		t.Errorf("a bad flag is not pointed at the help:\n%s", out)
	}
	if own := shadowOut(t, bin, home, 0, "journal", "list"); strings.Contains(own, "Nora") {
		t.Fatalf("demo sessions mixed into real use's journals:\n%s", own)
	}
	if left, _ := os.ReadDir(filepath.Join(home, "tmp")); len(left) > 0 {
		t.Errorf("the throwaway demo left %s behind", left[0].Name())
	}
}

// shadowOut runs a shadow command with home's state and returns its output; the exit
// code must be code.
func shadowOut(t *testing.T, bin, home string, code int, args ...string) string {
	t.Helper()
	out, got := shadowRun(t, bin, home, args...)
	if got != code {
		t.Fatalf("shadow %s exited with %d, want %d:\n%s", strings.Join(args, " "), got, code, out)
	}
	return out
}

// shadowRun runs a shadow command with home's state: its output and exit code.
func shadowRun(t *testing.T, bin, home string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	out, err := cmd.CombinedOutput()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), got
}

// TestStoppedBySignal sends SIGTERM to shadow in the middle of a session: it must end
// the session on the server, journal the end, sync, restore the terminal and exit 1.
func TestStoppedBySignal(t *testing.T) {
	t.Parallel()
	bin := shadowBinary(t)
	home := t.TempDir()
	s := startShadow(t, bin, home)
	s.waitFor(t, "the demo", "Pick a user to shadow")
	s.shadow(t, "tomas", "Tomás Ortega", "SIGNAL-1")
	if err := syscall.Kill(s.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.exit(t, 1)
	s.waitFor(t, "the reason on the terminal", "shadow: stopped", "session was ended")
	list := shadowOut(t, bin, home, 0, "journal", "list", "--demo")
	id := regexp.MustCompile(`ses_\S+`).FindString(list)
	if id == "" || strings.Contains(list, "pending") {
		t.Fatalf("the session is not journaled and synced:\n%s", list)
	}
	show := shadowOut(t, bin, home, 0, "journal", "show", "--demo", id)
	if !strings.Contains(show, "session.end") || !strings.Contains(show, "ended: shadow was stopped") {
		t.Fatalf("the end is not journaled:\n%s", show)
	}
}

// silentTerminalWait is how long Bubble Tea v1 waited at start for a terminal to answer
// its colour query; the first frame must come well before it.
const silentTerminalWait = 5 * time.Second

// TestStartsOnATerminalThatAnswersNothing runs shadow on a pseudo-terminal that
// answers no query (a serial console, a minimal SSH client, a multiplexer that drops
// them): the first frame — the login screen — must come at once, not after a wait
// for replies that never come, and the program must still take keys.
func TestStartsOnATerminalThatAnswersNothing(t *testing.T) {
	t.Parallel()
	bin := shadowBinary(t)
	home := t.TempDir()
	first, s := firstFrameOnSilentTerminal(t, bin, home)
	if first > silentTerminalWait/3 {
		t.Fatalf("the first frame took %v on a terminal that answers nothing", first)
	}
	s.typeKeys("\x03")
	s.exit(t, 0)
}

// firstFrameOnSilentTerminal starts shadow against a server that is not there (so the
// login screen is its first frame, with nothing to wait for but the terminal) on a
// terminal that answers nothing, and returns how long the first frame took.
func firstFrameOnSilentTerminal(t testing.TB, bin, home string) (time.Duration, *vtScreen) {
	t.Helper()
	const cols, rows = 100, 30
	cmd := exec.Command(bin, "--server", "http://127.0.0.1:9", "--no-cache")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color",
		"XDG_STATE_HOME=" + filepath.Join(home, "state")}
	start := time.Now()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	s := &vtScreen{Screen: uitest.NewScreen(f, f, cols, rows, uitest.ScreenOptions{Silent: true}), pid: cmd.Process.Pid, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	s.waitFor(t, "the login screen", "Sign in to http://127.0.0.1:9")
	return time.Since(start), s
}

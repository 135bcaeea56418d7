package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

// TestEndToEnd builds shadow, runs `shadow serve` on a free loopback port, and runs
// shadow against it in a real pseudo-terminal, reading the screen through a terminal
// emulator as a person would see it: sign in on the login screen, search and pick a
// user, give a reason, see a dashboard and the permissions, explain a cell, end the
// session, quit. Then the server's audit log must hold the session's journal records
// and its requests, each with both identities.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "shadow")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	baseURL := serve(t, bin, filepath.Join(dir, "server"))

	const cols, rows = 100, 30
	cmd := exec.Command(bin, "--server", baseURL)
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color",
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	term := newScreen(f, cols, rows)

	term.waitFor(t, "the login screen", "Sign in to "+baseURL, "Password:")
	term.typeKeys(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
	term.waitFor(t, "the picker", "Pick a user to shadow", "signed in as Sam Rivera")
	if strings.Contains(term.text(), server.DemoSupportPassword) {
		t.Fatal("the password is on the screen")
	}
	term.typeKeys("/nora")
	term.waitFor(t, "the search", `1 users matching "nora"`)
	term.typeKeys("\r\r")
	term.waitFor(t, "the reason prompt", "Why are you shadowing Nora Lindqvist?")
	term.typeKeys("E2E-1 dashboards look empty\r")
	term.waitFor(t, "the session", "IMPERSONATING Nora Lindqvist", "READ-ONLY", "Fleet overview", "Vehicles by team")
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
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("shadow exited with %v:\n%s", err, term.text())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("shadow did not exit:\n%s", term.text())
	}

	checkAuditLog(t, baseURL)
}

// serve runs `shadow serve` on a free loopback port and returns its base URL.
func serve(t *testing.T, bin, data string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
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
	case <-time.After(15 * time.Second):
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

// vtScreen is a terminal emulator fed by the pty: what a person would see.
type vtScreen struct {
	mu sync.Mutex
	vt vt10x.Terminal
	w  io.Writer
}

func newScreen(f *os.File, cols, rows int) *vtScreen {
	s := &vtScreen{vt: vt10x.New(vt10x.WithSize(cols, rows)), w: f}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.vt.Write(buf[:n])
				s.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *vtScreen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt.String()
}

func (s *vtScreen) line(y int) string {
	lines := strings.Split(s.text(), "\n")
	if y < len(lines) {
		return lines[y]
	}
	return ""
}

func (s *vtScreen) title() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt.Title()
}

func (s *vtScreen) typeKeys(keys string) { io.WriteString(s.w, keys) }

// waitFor waits until every word is on the screen.
func (s *vtScreen) waitFor(t *testing.T, what string, words ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := s.text()
		ok := true
		for _, w := range words {
			if !strings.Contains(text, w) {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s (%q); the screen:\n%s", what, words, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

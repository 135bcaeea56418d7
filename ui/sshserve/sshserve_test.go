package sshserve_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/sshserve"
)

// box is a support box in the test: the real reference server (its handler in
// httptest), and shadow ssh serving the program on a loopback port with a state dir and
// an authorized keys file of its own.
type box struct {
	api      *httptest.Server
	state    string
	keysFile string
	keys     map[string]gossh.Signer // name → the client's key, authorized
	srv      *sshserve.Server
	addr     string
	log      *lockedLog
	stop     context.CancelFunc
	served   chan error
}

type lockedLog struct {
	buf  bytes.Buffer
	done chan struct{}
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.done <- struct{}{}
	defer func() { <-l.done }()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.done <- struct{}{}
	defer func() { <-l.done }()
	return l.buf.String()
}

func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newBox starts a support box whose authorized keys are those named; tune adjusts its
// configuration.
func newBox(t testing.TB, names []string, tune func(*sshserve.Config)) *box {
	t.Helper()
	srv, err := server.New(server.Options{Seed: server.DemoSeed, PasswordCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b := &box{api: httptest.NewServer(srv.Handler()), state: t.TempDir(), keys: map[string]gossh.Signer{},
		log: &lockedLog{done: make(chan struct{}, 1)}}
	t.Cleanup(func() { b.api.Close(); srv.Close() })
	var authorized []byte
	for _, n := range names {
		b.keys[n] = newKey(t)
		authorized = append(authorized, gossh.MarshalAuthorizedKey(b.keys[n].PublicKey())...)
	}
	b.keysFile = filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(b.keysFile, authorized, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := sshserve.Config{StateDir: b.state, AuthorizedKeys: b.keysFile, Server: b.api.URL, Version: "test", Log: b.log,
		Tune: func(o *ui.Options) { o.Poll = time.Hour }}
	if tune != nil {
		tune(&cfg)
	}
	b.srv, err = sshserve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	b.stop, b.served = cancel, make(chan error, 1)
	go func() { b.served <- b.srv.Serve(ctx, l) }()
	t.Cleanup(b.shutdown)
	return b
}

func (b *box) shutdown() {
	b.stop()
	select {
	case <-b.served:
	case <-time.After(40 * time.Second):
	}
}

// dial connects with a key (checking the box's host key).
func (b *box) dial(key gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", b.addr, &gossh.ClientConfig{User: "support", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(b.srv.HostKey()), Timeout: 10 * time.Second})
}

// terminal is one SSH connection with a PTY, its screen as a person sees it.
type terminal struct {
	*uitest.Screen
	conn *gossh.Client
	sess *gossh.Session
}

// connect opens a shell on a PTY of cols × rows with env, and checks every frame: while
// a session is shown its banner is the top line, on every frame until it ends.
func (b *box) connect(t *testing.T, name string, cols, rows int, env map[string]string) *terminal {
	t.Helper()
	term := b.open(t, name, cols, rows, env, uitest.ScreenOptions{Check: bannerWhileImpersonating()})
	t.Cleanup(func() {
		term.close()
		if err := term.Problem(); err != nil {
			t.Error(err)
		}
	})
	return term
}

// open opens a shell on a PTY of cols × rows with env, its screen as opts say.
func (b *box) open(t testing.TB, name string, cols, rows int, env map[string]string, opts uitest.ScreenOptions) *terminal {
	t.Helper()
	conn, sess, in, out := b.shell(t, name, cols, rows, env)
	return &terminal{Screen: uitest.NewScreen(out, in, cols, rows, opts), conn: conn, sess: sess}
}

// shell opens a shell on a PTY of cols × rows with env: the connection, the session,
// and its input and output.
func (b *box) shell(t testing.TB, name string, cols, rows int, env map[string]string) (*gossh.Client, *gossh.Session, io.Writer, io.Reader) {
	t.Helper()
	conn, err := b.dial(b.keys[name])
	if err != nil {
		t.Fatal(err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.RequestPty("xterm-256color", rows, cols, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return conn, sess, in, out
}

func (tm *terminal) close() {
	tm.sess.Close()
	tm.conn.Close()
}

// bannerWhileImpersonating is the frame check: once a frame shows the banner, every
// frame has it on top, until one shows the picker again with no banner anywhere (the
// session ended).
func bannerWhileImpersonating() func(lines []string) error {
	active := false
	return func(lines []string) error {
		top := lines[0]
		screen := strings.Join(lines, "\n")
		for i, l := range lines {
			if i > 1 && strings.Contains(l, "IMPERSONATING") {
				return fmt.Errorf("IMPERSONATING on line %d, not in the banner", i+1)
			}
		}
		switch {
		case strings.Contains(top, "IMPERSONATING"):
			if !strings.Contains(lines[0]+lines[1], "READ-ONLY") {
				return errors.New("the banner lost READ-ONLY")
			}
			active = true
		case active && !strings.Contains(screen, "IMPERSONATING") &&
			(strings.Contains(screen, "Pick a user to shadow") || strings.Contains(screen, "The session is ended")):
			active = false // ended
		case active:
			return errors.New("a frame of the session without the banner on top")
		}
		return nil
	}
}

// signIn signs in on the login screen with the demo support account.
func (tm *terminal) signIn(t *testing.T) {
	t.Helper()
	tm.WaitFor(t, "the login screen", "Sign in to", "Password:")
	tm.Type(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
	tm.WaitFor(t, "the picker", "Pick a user to shadow", "signed in as Sam Rivera")
}

// shadow picks the one user query finds and starts a session with reason.
func (tm *terminal) shadow(t *testing.T, query, name, reason string) {
	t.Helper()
	tm.Type("/" + query)
	tm.WaitFor(t, "the search", `1 user matching "`+query+`"`)
	tm.Type("\r\r")
	tm.WaitFor(t, "the reason prompt", "Why are you shadowing "+name+"?")
	tm.Type(reason + "\r")
	tm.WaitFor(t, "the session", "IMPERSONATING "+name)
}

// ended waits for the connection to close and returns the exit status.
func (tm *terminal) ended(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.sess.Wait() }()
	select {
	case err := <-done:
		var exit *gossh.ExitError
		if errors.As(err, &exit) {
			return exit.ExitStatus()
		}
		if err != nil {
			t.Fatalf("the session: %v", err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatalf("the connection did not end:\n%s", tm.Text())
	}
	return -1
}

// records are the journal records written for a key's connections, across its journals.
func (b *box) records(t *testing.T, name string) []audit.Entry {
	t.Helper()
	a, err := audit.LoadArchive(sshserve.JournalDir(b.state, b.keys[name].PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, j := range a.Journals {
		out = append(out, j.Entries...)
	}
	return out
}

func actions(entries []audit.Entry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Data.Action)
	}
	return strings.Join(out, ",")
}

// TestSessionOverSSH connects with a real SSH client, drives a whole session (sign in,
// pick, reason, dashboards, permissions, explain, end, quit) on the served program,
// reads the screen through a terminal emulator with the banner checked on every frame,
// and then reads the journal kept for the key: the connection and its end with the
// key's fingerprint and the client's address, and the session's records, all synced to
// the server's audit log.
func TestSessionOverSSH(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, nil)
	tm := b.connect(t, "sam", 100, 30, nil)
	tm.signIn(t)
	tm.shadow(t, "nora", "Nora Lindqvist", "SSH-1 dashboards look empty")
	tm.WaitFor(t, "the dashboards", "READ-ONLY", "Fleet overview")
	if title := tm.Title(); !strings.Contains(title, "IMPERSONATING Nora Lindqvist") {
		t.Fatalf("the window title does not name the impersonated user: %q", title)
	}
	tm.Type("2")
	tm.WaitFor(t, "the permissions", "55 resources × 6 actions")
	tm.Type("\x1b[B\x1b[C\r")
	tm.WaitFor(t, "the explanation", "Why? create on Drivers", "ALLOWED")
	tm.Type("q")
	tm.WaitFor(t, "the question", "End the session?")
	tm.Type("y")
	tm.WaitFor(t, "the picker again", "Pick a user to shadow")
	tm.Type("\x03")
	if code := tm.ended(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if n := tm.Frames(); n < 8 {
		t.Fatalf("only %d frames were checked", n)
	}
	if bytes.Contains(tm.Raw(), []byte(server.DemoSupportPassword)) {
		t.Fatal("the password reached the terminal")
	}

	entries := b.records(t, "sam")
	fp := gossh.FingerprintSHA256(b.keys["sam"].PublicKey())
	local := tm.conn.LocalAddr().String()
	want := ui.ActionRemoteConnect + ",session.start,view,view,view,explain,session.end," + ui.ActionRemoteDisconnect
	if got := actions(entries); got != want {
		t.Fatalf("journal %s, want %s", got, want)
	}
	for _, e := range []audit.Entry{entries[0], entries[len(entries)-1]} {
		if !strings.Contains(e.Data.Details, fp) || !strings.Contains(e.Data.Details, local) || e.Data.Actor.Name != "Sam Rivera" {
			t.Errorf("%s does not name the key %s, the address %s and the admin: %+v", e.Data.Action, fp, local, e.Data)
		}
	}
	if d := entries[len(entries)-1].Data.Details; !strings.Contains(d, "the admin quit") {
		t.Errorf("the disconnection does not say why: %q", d)
	}
	for _, e := range entries {
		if !e.Synced {
			t.Errorf("record %d (%s) is not synced", e.Seq, e.Data.Action)
		}
	}
	c, err := client.New(client.Options{BaseURL: b.api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), server.DemoSupportEmail, server.DemoSupportPassword); err != nil {
		t.Fatal(err)
	}
	events, err := c.AuditEvents(context.Background(), client.AuditFilter{Kind: api.EventJournalRecord, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events.Events {
		found = found || (e.Action == ui.ActionRemoteConnect && strings.Contains(e.Details, fp))
	}
	if !found {
		t.Fatalf("the server's audit log lacks the connection's record: %+v", events.Events)
	}
	if !strings.Contains(b.log.String(), "connected "+local+" ("+fp+")") {
		t.Errorf("the server's log does not name the connection:\n%s", b.log)
	}
}

// TestTwoConnectionsDoNotBleed runs two connections at once, of two keys, one 120×40
// with colour and one 80×24 with NO_COLOR, then resizes the first: each keeps its own
// size, colours and journal.
func TestTwoConnectionsDoNotBleed(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"wide", "plain"}, nil)
	wide := b.connect(t, "wide", 120, 40, nil)
	plain := b.connect(t, "plain", 80, 24, map[string]string{"NO_COLOR": "yes"})
	wide.signIn(t)
	plain.signIn(t)
	wide.shadow(t, "nora", "Nora Lindqvist", "WIDE-1")
	plain.shadow(t, "tomas", "Tomás Ortega", "PLAIN-1")
	wide.WaitFor(t, "the wide dashboards", "Fleet overview")
	plain.WaitFor(t, "the plain dashboards", "READ-ONLY")

	if strings.Contains(wide.Text(), "Tomás") || strings.Contains(plain.Text(), "Nora") {
		t.Fatal("one connection shows the other's session")
	}
	if !bytes.Contains(wide.Raw(), []byte("48;5;124")) {
		t.Error("the colour connection's banner is not red")
	}
	if raw := plain.Raw(); bytes.Contains(raw, []byte("38;5;")) || bytes.Contains(raw, []byte("48;5;")) {
		t.Error("colour reached the NO_COLOR connection")
	}
	if !strings.Contains(plain.Line(0), "┃") {
		t.Errorf("the NO_COLOR banner lost its frame: %q", plain.Line(0))
	}
	for _, c := range []struct {
		tm   *terminal
		w, h int
	}{{wide, 120, 40}, {plain, 80, 24}} {
		lines := strings.Split(c.tm.Text(), "\n")
		if len(lines) > c.h || !strings.Contains(c.tm.Line(0), "IMPERSONATING") {
			t.Errorf("%dx%d: %d lines, banner %q", c.w, c.h, len(lines), c.tm.Line(0))
		}
	}

	// The wide terminal shrinks: its program redraws at the new size, the other's not.
	wide.Resize(70, 20)
	if err := wide.sess.WindowChange(20, 70); err != nil {
		t.Fatal(err)
	}
	// The status line of a 20-line frame is on line 20; before the redraw it was on 40.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(wide.Line(19), "journal") || !strings.Contains(wide.Line(0), "IMPERSONATING Nora") {
		if time.Now().After(deadline) {
			t.Fatalf("the resized terminal was not redrawn at 70×20:\n%s", wide.Text())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if lines := strings.Split(plain.Text(), "\n"); len(lines) > 24 || !strings.Contains(plain.Line(0), "IMPERSONATING Tomás") ||
		!strings.Contains(plain.Line(23), "journal") {
		t.Fatalf("the other connection changed with the resize:\n%s", plain.Text())
	}

	for _, tm := range []*terminal{wide, plain} {
		tm.Type("\x03")
		if code := tm.ended(t); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	}
	for name, reason := range map[string]string{"wide": "WIDE-1", "plain": "PLAIN-1"} {
		var reasons []string
		for _, e := range b.records(t, name) {
			if e.Data.Reason != "" {
				reasons = append(reasons, e.Data.Reason)
			}
		}
		if strings.Join(reasons, ",") != reason {
			t.Errorf("%s's journal holds the reasons %q, want only %q", name, reasons, reason)
		}
	}
}

// TestRefused checks what the box never allows: an unknown key, a connection without
// a PTY, a command (exec), a subsystem (SFTP), port forwarding either way, more
// connections of one key than allowed; and that an agent offered is never used.
func TestRefused(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, func(c *sshserve.Config) { c.MaxPerKey = 1 })
	if _, err := b.dial(newKey(t)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("an unknown key got in: %v", err)
	}

	conn, err := b.dial(b.keys["sam"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// No PTY: told why, exit status 1.
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	var exit *gossh.ExitError
	if err := sess.Wait(); !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr.String(), "needs a terminal") {
		t.Errorf("a shell without a PTY: %v, %q", err, stderr.String())
	}

	// exec, even with a PTY, and a subsystem: refused, and the client told why on the
	// channel's stderr (which OpenSSH prints; this client's Run drops it, so it is read
	// from the channel itself).
	refusedSaying := func(what, want string, request func(*gossh.Session) error) {
		t.Helper()
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		errPipe, err := sess.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		said := make(chan string, 1)
		go func() { b, _ := io.ReadAll(errPipe); said <- string(b) }()
		if err := request(sess); err == nil {
			t.Errorf("%s was granted", what)
		}
		sess.Close()
		if got := <-said; !strings.Contains(got, want) {
			t.Errorf("%s: the client was told %q, want %q", what, got, want)
		}
	}
	refusedSaying("a command", "shadow: commands are not served here: connect with ssh -t and no command", func(s *gossh.Session) error {
		if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		return s.Start("cat /etc/passwd")
	})
	refusedSaying("the sftp subsystem", "shadow: subsystems (SFTP) are not served here", func(s *gossh.Session) error {
		return s.RequestSubsystem("sftp")
	})

	// Port forwarding, local and remote.
	if c, err := conn.Dial("tcp", b.api.Listener.Addr().String()); err == nil {
		c.Close()
		t.Error("a local port forward was opened")
	} else if !strings.Contains(err.Error(), "port forwarding is not served here") {
		t.Errorf("a local port forward was refused without saying why: %v", err)
	}
	if l, err := conn.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Error("a remote port forward was opened")
	}

	// An agent offered: the server never opens it.
	opened := make(chan struct{}, 1)
	agentChans := conn.HandleChannelOpen("auth-agent@openssh.com")
	go func() {
		for ch := range agentChans {
			opened <- struct{}{}
			ch.Reject(gossh.Prohibited, "test")
		}
	}()
	tm := &terminal{conn: conn}
	tm.sess, err = conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	_ = agent.RequestAgentForwarding(tm.sess)
	if err := tm.sess.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	in, _ := tm.sess.StdinPipe()
	out, _ := tm.sess.StdoutPipe()
	if err := tm.sess.Shell(); err != nil {
		t.Fatal(err)
	}
	tm.Screen = uitest.NewScreen(out, in, 80, 24, uitest.ScreenOptions{})
	tm.WaitFor(t, "the login screen", "Sign in to")

	// A second connection of the same key, past its limit of one.
	other, err := b.dial(b.keys["sam"])
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sess, err = other.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	sess.Stderr = &stderr
	if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Wait(); !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr.String(), "this key has its 1 connections already") {
		t.Errorf("a connection past the key's limit: %v, %q", err, stderr.String())
	}

	tm.Type("\x03")
	if code := tm.ended(t); code != 0 {
		t.Errorf("exit status %d", code)
	}
	select {
	case <-opened:
		t.Error("the server opened the forwarded agent")
	default:
	}
	log := b.log.String()
	for _, want := range []string{"is not authorized", "no terminal", "refused exec request", "refused subsystem request", "this key has its 1 connections already",
		"refused direct-tcpip channel from", "refused tcpip-forward request from"} {
		if !strings.Contains(log, want) {
			t.Errorf("the server's log does not say %q:\n%s", want, log)
		}
	}
}

// TestTotalLimit fills the server's connections with one key and refuses the next of
// another key, saying why; once one closes, the other key gets in. The listen address
// defaults to loopback.
func TestTotalLimit(t *testing.T) {
	t.Parallel()
	if host, _, err := net.SplitHostPort(sshserve.DefaultAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		t.Fatalf("the default address %q is not loopback", sshserve.DefaultAddr)
	}
	b := newBox(t, []string{"first", "second"}, func(c *sshserve.Config) { c.MaxTotal = 1 })
	first := b.connect(t, "first", 80, 24, nil)
	first.WaitFor(t, "the login screen", "Sign in to")

	refused := func() (int, string) {
		conn, err := b.dial(b.keys["second"])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		sess.Stderr = &stderr
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		var exit *gossh.ExitError
		if err := sess.Wait(); !errors.As(err, &exit) {
			t.Fatalf("the second key's connection: %v", err)
		}
		return exit.ExitStatus(), stderr.String()
	}
	if code, said := refused(); code != 1 || !strings.Contains(said, "the server has its 1 connections already") {
		t.Errorf("a connection past the total: exit %d, %q", code, said)
	}
	first.Type("\x03")
	if code := first.ended(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	second := b.connect(t, "second", 80, 24, nil)
	second.WaitFor(t, "the login screen once the first left", "Sign in to")
}

// TestSilentTerminalOverSSH connects with a terminal that answers no query: the login
// screen comes at once all the same — well before the 5 s Bubble Tea v1 waited for an
// answer — and takes keys.
func TestSilentTerminalOverSSH(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, nil)
	start := time.Now()
	tm := b.open(t, "sam", 80, 24, nil, uitest.ScreenOptions{Silent: true})
	t.Cleanup(tm.close)
	tm.WaitFor(t, "the login screen", "Sign in to", "Password:")
	if took := time.Since(start); took > 5*time.Second/3 {
		t.Fatalf("the first frame took %v on a terminal that answers nothing", took)
	}
	tm.signIn(t)
	tm.Type("\x03")
	if code := tm.ended(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// TestNoWindowSize connects with a PTY of no size (0×0, as `ssh -tt` from a script):
// shadow draws for 80×24 rather than nothing.
func TestNoWindowSize(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, nil)
	conn, sess, in, out := b.shell(t, "sam", 0, 0, nil)
	defer conn.Close()
	defer sess.Close()
	screen := uitest.NewScreen(out, in, 80, 24, uitest.ScreenOptions{})
	screen.WaitFor(t, "the login screen", "Sign in to", "Password:")
	if lines := strings.Split(screen.Text(), "\n"); len(lines) != 24 || !strings.Contains(lines[23], "ctrl+c") {
		t.Fatalf("not drawn for 80×24:\n%s", screen.Text())
	}
	if log := b.log.String(); !strings.Contains(log, "), 80x24\n") || strings.Contains(log, "0x0") {
		t.Errorf("the log does not say the size used:\n%s", log)
	}
}

// TestIdleConnectionEndsItsSession leaves a session without keys past the idle
// timeout: the session ends on the server and in the journal, and the connection
// closes saying why.
func TestIdleConnectionEndsItsSession(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, func(c *sshserve.Config) { c.IdleTimeout = 2 * time.Second })
	tm := b.connect(t, "sam", 100, 30, nil)
	tm.signIn(t)
	tm.shadow(t, "nora", "Nora Lindqvist", "IDLE-1")
	if code := tm.ended(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	entries := b.records(t, "sam")
	end, gone := entries[len(entries)-2].Data, entries[len(entries)-1].Data
	if end.Action != api.ActionSessionEnd || !strings.Contains(end.Details, "no key for 2s") {
		t.Fatalf("the session's end: %+v", end)
	}
	if gone.Action != ui.ActionRemoteDisconnect || !strings.Contains(gone.Details, "no key for 2s") {
		t.Fatalf("the disconnection: %+v", gone)
	}
}

// TestHostKeyIsKept checks the host key is made once, 0600, under the state dir, and
// that the next start serves the same one; and that an authorized keys file others
// may write is refused.
func TestHostKeyIsKept(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, nil)
	info, err := os.Stat(sshserve.HostKeyFile(b.state))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", info.Mode(), err)
	}
	again, err := sshserve.New(sshserve.Config{StateDir: b.state, AuthorizedKeys: b.keysFile, Server: b.api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.HostKey().Marshal(), b.srv.HostKey().Marshal()) {
		t.Fatal("a second start made a new host key")
	}
	if err := os.Chmod(b.keysFile, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := sshserve.New(sshserve.Config{StateDir: b.state, AuthorizedKeys: b.keysFile, Server: b.api.URL}); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Fatalf("an authorized keys file anyone may write was taken: %v", err)
	}
	if _, err := sshserve.New(sshserve.Config{StateDir: b.state, AuthorizedKeys: b.keysFile}); err == nil {
		t.Fatal("a box without an API server started")
	}
}

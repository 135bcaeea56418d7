//go:build ignore

// This file is the baseline of ui/sshserve's SSH benchmarks: the same two benchmarks,
// served by shadow as it was before the move to Bubble Tea v2 (commit 69183f9), over
// SSH the way wish v1's bubbletea middleware served a program (gliderlabs/ssh, the
// program's input and output the SSH channel, the PTY's size sent as a
// tea.WindowSizeMsg). run.sh copies it into ui/ of that commit's tree; the build tag
// keeps it out of every build here.
//
// What differs from the v2 benchmarks, and why: the terminal emulator is vt10x (the
// one 69183f9 uses; x/vt needs a newer x/ansi than Bubble Tea v1 builds with), and the
// server is not shadow ssh (it did not exist) but the same steps by hand; the API
// server, the SSH client, the PTY, the keys typed and the condition waited for are the
// same.

package ui

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/gliderlabs/ssh"
	"github.com/hinshun/vt10x"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

const benchCols, benchRows = 80, 24

type v1Box struct {
	addr    string
	hostKey gossh.PublicKey
	key     gossh.Signer
}

func newSigner(b *testing.B) gossh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// newV1Box serves the v1 program over SSH, a program per connection, as wish v1 did.
func newV1Box(b *testing.B) *v1Box {
	e := newTestEnv(b, server.DemoSeed)
	host, user := newSigner(b), newSigner(b)
	srv := &ssh.Server{
		PublicKeyHandler: func(_ ssh.Context, k ssh.PublicKey) bool { return ssh.KeysEqual(k, user.PublicKey()) },
		Handler: func(sess ssh.Session) {
			pty, windows, ok := sess.Pty()
			if !ok {
				return
			}
			c, err := client.New(client.Options{BaseURL: e.ts.URL, Version: "bench"})
			if err != nil {
				b.Error(err)
				return
			}
			m := New(Options{Client: c, StateDir: b.TempDir(), Profile: termenv.ANSI256, Poll: time.Hour})
			p := tea.NewProgram(m, tea.WithInput(sess), tea.WithOutput(sess), tea.WithAltScreen(), tea.WithoutSignalHandler())
			go func() {
				p.Send(tea.WindowSizeMsg{Width: pty.Window.Width, Height: pty.Window.Height})
				for w := range windows {
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}()
			go func() { <-sess.Context().Done(); p.Kill() }()
			_, _ = p.Run()
			_ = m.Shutdown(io.Discard)
		},
	}
	srv.AddHostKey(host)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return &v1Box{addr: l.Addr().String(), hostKey: host.PublicKey(), key: user}
}

// v1Screen is the client's terminal: vt10x, checked again as soon as output arrives.
type v1Screen struct {
	mu      sync.Mutex
	vt      vt10x.Terminal
	in      io.Writer
	bytes   int
	changed chan struct{}
	conn    *gossh.Client
	sess    *gossh.Session
}

func (bx *v1Box) connect(b *testing.B) *v1Screen {
	conn, err := gossh.Dial("tcp", bx.addr, &gossh.ClientConfig{User: "support", Auth: []gossh.AuthMethod{gossh.PublicKeys(bx.key)},
		HostKeyCallback: gossh.FixedHostKey(bx.hostKey), Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", benchRows, benchCols, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		b.Fatal(err)
	}
	s := &v1Screen{vt: vt10x.New(vt10x.WithSize(benchCols, benchRows), vt10x.WithWriter(in)), in: in,
		changed: make(chan struct{}), conn: conn, sess: sess}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.bytes += n
				_, _ = s.vt.Write(buf[:n])
				close(s.changed)
				s.changed = make(chan struct{})
				s.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *v1Screen) close() { s.sess.Close(); s.conn.Close() }

func (s *v1Screen) Type(keys string) { _, _ = io.WriteString(s.in, keys) }

func (s *v1Screen) Bytes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.bytes }

func (s *v1Screen) Text() string { s.mu.Lock(); defer s.mu.Unlock(); return s.vt.String() }

func (s *v1Screen) Until(b *testing.B, what string, cond func(lines []string) bool) {
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		lines, changed := strings.Split(s.vt.String(), "\n"), s.changed
		s.mu.Unlock()
		if cond(lines) {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			b.Fatalf("waited 10s for %s; the screen:\n%s", what, strings.Join(lines, "\n"))
		}
	}
}

func (s *v1Screen) WaitFor(b *testing.B, what string, words ...string) {
	s.Until(b, what, func(lines []string) bool {
		text := strings.Join(lines, "\n")
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	})
}

func BenchmarkSSHStartup(b *testing.B) {
	box := newV1Box(b)
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tm := box.connect(b)
		tm.WaitFor(b, "the login screen", "Sign in to", "Password:")
		ds = append(ds, time.Since(start))
		tm.close()
	}
	percentiles(b, ds)
}

func BenchmarkSSHKeystroke(b *testing.B) {
	box := newV1Box(b)
	tm := box.connect(b)
	tm.WaitFor(b, "the login screen", "Sign in to", "Password:")
	tm.Type(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
	tm.WaitFor(b, "the picker", "Pick a user to shadow", "44 users")
	top := cursorIn(strings.Split(tm.Text(), "\n"))
	if top < 0 {
		b.Fatalf("no cursor in the picker:\n%s", tm.Text())
	}
	var ds []time.Duration
	before := tm.Bytes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key, want := "\x1b[B", top+1
		if i%2 == 1 {
			key, want = "\x1b[A", top
		}
		start := time.Now()
		tm.Type(key)
		tm.Until(b, "the cursor to move", func(lines []string) bool { return cursorIn(lines) == want })
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(tm.Bytes()-before)/float64(b.N), "bytes/key")
	percentiles(b, ds)
	tm.close()
}

func cursorIn(lines []string) int {
	return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "❯") })
}

// percentiles is 69183f9's own (ui/bench_test.go), as ui/sshserve's is.

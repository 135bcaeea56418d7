// Package sshserve is `shadow ssh`: it serves the terminal program over SSH (wish v2)
// on a support box, so staff reach shadow with their own SSH key instead of a shell
// account, a copy of the binary and a state dir each.
//
// Each connection gets its own Bubble Tea program and renderer, its own sign-in to the
// API (password or token typed in the session, kept only in that connection's memory),
// and its own journal under <state>/ssh/<key fingerprint>/, synced like any other. The
// journal records the connection's start and end with the key's fingerprint and the
// client's address (ui.Remote).
//
// What it allows, and nothing more: public-key authentication against an authorized
// keys file (read again at every connection), an interactive shell on a PTY. It refuses
// a connection without a PTY, exec and subsystem requests (so no SFTP), port
// forwarding of either kind; an agent forwarding request is taken by the SSH library
// but the agent is never opened. Connections are limited per key and in total, and end
// after an idle time without keys. The host key is made on first run, 0600, under
// <state>/ssh.
//
// Imports: never server/...: it reaches the API as any client does.
package sshserve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/internal/privdir"
	"github.com/shadowview/shadow/ui"
	"github.com/shadowview/shadow/ui/common"
)

// Defaults.
const (
	DefaultAddr        = "127.0.0.1:2222"
	DefaultMaxPerKey   = 2
	DefaultMaxTotal    = 16
	DefaultIdleTimeout = 15 * time.Minute
	// drainTimeout is how long stopping waits for the connections' programs to end
	// their sessions and journal it.
	drainTimeout = 30 * time.Second
)

// Config is what `shadow ssh` is asked to do.
type Config struct {
	// Addr is where to listen (DefaultAddr, loopback, when "").
	Addr string
	// StateDir is shadow's state dir: the host key and the connections' journals live
	// under StateDir/ssh.
	StateDir string
	// AuthorizedKeys is the file of public keys that may connect (OpenSSH's format).
	AuthorizedKeys string
	// Server is the API's base URL; CAFile and Insecure set up TLS (client.Options).
	Server   string
	CAFile   string
	Insecure bool
	Version  string
	// MaxPerKey and MaxTotal bound the connections at once (their defaults when 0).
	MaxPerKey, MaxTotal int
	// IdleTimeout ends a connection after that long without a keystroke (its default when 0).
	IdleTimeout time.Duration
	// Log receives a line per connection, refusal and disconnection.
	Log io.Writer
	// Tune, when set, adjusts each connection's ui.Options (tests shorten timers).
	Tune func(*ui.Options)
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxPerKey <= 0 {
		c.MaxPerKey = DefaultMaxPerKey
	}
	if c.MaxTotal <= 0 {
		c.MaxTotal = DefaultMaxTotal
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Dir is where the SSH server keeps its files under a state dir.
func Dir(stateDir string) string { return filepath.Join(stateDir, "ssh") }

// HostKeyFile is the server's host key under a state dir.
func HostKeyFile(stateDir string) string { return filepath.Join(Dir(stateDir), "host_ed25519") }

// JournalDir is the state dir of the connections made with a key (its journals are in
// audit.JournalsDir of it): `shadow journal … --state-dir` reads them.
func JournalDir(stateDir string, key gossh.PublicKey) string {
	return filepath.Join(Dir(stateDir), keyDirName(key))
}

// keyDirName names a key's directory after its SHA-256 fingerprint, in the URL-safe
// base64 alphabet (the standard one has '/').
func keyDirName(key gossh.PublicKey) string {
	fp := strings.TrimPrefix(gossh.FingerprintSHA256(key), "SHA256:")
	raw, err := base64.RawStdEncoding.DecodeString(fp)
	if err != nil {
		return "sha256-" + strings.NewReplacer("/", "_", "+", "-").Replace(fp)
	}
	return "sha256-" + base64.RawURLEncoding.EncodeToString(raw)
}

// Server is a started SSH server.
type Server struct {
	cfg  Config
	ssh  *ssh.Server
	ctx  context.Context // ends every connection's program when the server stops
	stop context.CancelFunc

	mu     sync.Mutex
	perKey map[string]int
	total  int
	conns  sync.WaitGroup
}

// New checks the configuration, makes (or loads) the host key, and builds the server.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Server == "" {
		return nil, errors.New("no API server: give --server URL (or SHADOW_SERVER)")
	}
	if cfg.AuthorizedKeys == "" {
		return nil, errors.New("no authorized keys: give --authorized-keys FILE")
	}
	if _, err := readAuthorizedKeys(cfg.AuthorizedKeys); err != nil {
		return nil, err
	}
	if _, err := client.New(client.Options{BaseURL: cfg.Server, CAFile: cfg.CAFile, InsecureSkipVerify: cfg.Insecure}); err != nil {
		return nil, err
	}
	hostKey, err := loadOrMakeHostKey(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, perKey: map[string]int{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.ssh, err = wish.NewServer(
		wish.WithAddress(cfg.Addr),
		wish.WithHostKeyPEM(hostKey),
		wish.WithVersion("shadow"),
		wish.WithPublicKeyAuth(s.authorized),
		func(srv *ssh.Server) error {
			// Only a shell: no exec of commands, no subsystem (SFTP).
			srv.SessionRequestCallback = func(sess ssh.Session, requestType string) bool {
				if requestType != "shell" {
					s.logf("refused %s request from %s (%s)", requestType, sess.RemoteAddr(), fingerprint(sess.PublicKey()))
					// Said on the channel's stderr before the refusal: the client shows
					// it (OpenSSH prints it above "exec request failed").
					what := "commands are"
					if requestType == "subsystem" {
						what = "subsystems (SFTP) are"
					}
					fmt.Fprintf(sess.Stderr(), "shadow: %s not served here: connect with ssh -t and no command\r\n", what)
					return false
				}
				return true
			}
			// No port forwarding either way: no channel or request handler but the
			// session's and the refusals, and the forwarding callbacks refuse. Each
			// refusal is logged, and its reason (which clients print) says why.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": ssh.DefaultSessionHandler}
			for _, kind := range []string{"direct-tcpip", "direct-streamlocal@openssh.com"} {
				srv.ChannelHandlers[kind] = s.refuseChannel
			}
			srv.RequestHandlers = map[string]ssh.RequestHandler{}
			for _, kind := range []string{"tcpip-forward", "streamlocal-forward@openssh.com"} {
				srv.RequestHandlers[kind] = s.refuseRequest
			}
			srv.LocalPortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
			srv.ReversePortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
			// A backstop for a client that vanished without closing: the program's own
			// idle timeout (keys) ends a live one first.
			srv.IdleTimeout = cfg.IdleTimeout + time.Minute
			return nil
		},
		wish.WithMiddleware(s.session),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	return s, nil
}

// forwardingRefused is what a client is told when it asks to forward anything.
const forwardingRefused = "shadow: port forwarding is not served here"

// refuseChannel refuses a forwarding channel (ssh -L, -W), logging it.
func (s *Server) refuseChannel(_ *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	s.logf("refused %s channel from %s (%s)", ch.ChannelType(), conn.RemoteAddr(), contextKey(ctx))
	_ = ch.Reject(gossh.Prohibited, forwardingRefused)
}

// refuseRequest refuses a remote forwarding request (ssh -R), logging it.
func (s *Server) refuseRequest(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	s.logf("refused %s request from %s (%s)", req.Type, ctx.RemoteAddr(), contextKey(ctx))
	return false, []byte(forwardingRefused)
}

func (s *Server) logf(format string, a ...any) {
	fmt.Fprintf(s.cfg.Log, "shadow ssh: "+format+"\n", a...)
}

// authorized accepts a key listed in the authorized keys file now: the file is read at
// every connection, so a key taken out of it is refused from then on.
func (s *Server) authorized(ctx ssh.Context, key ssh.PublicKey) bool {
	keys, err := readAuthorizedKeys(s.cfg.AuthorizedKeys)
	if err != nil {
		s.logf("refused %s (%s): %v", ctx.RemoteAddr(), fingerprint(key), err)
		return false
	}
	for _, k := range keys {
		if ssh.KeysEqual(k, key) {
			return true
		}
	}
	s.logf("refused %s: key %s is not authorized", ctx.RemoteAddr(), fingerprint(key))
	return false
}

// readAuthorizedKeys reads OpenSSH's authorized_keys format. A file others may write
// is refused, as sshd's StrictModes does: whoever can write it can let anyone in.
func readAuthorizedKeys(path string) ([]gossh.PublicKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("authorized keys %s (mode %s) is writable by others: make it 0600 or 0644", path, info.Mode())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	var keys []gossh.PublicKey
	for line := 1; len(data) > 0; line++ {
		var key gossh.PublicKey
		key, _, _, data, err = gossh.ParseAuthorizedKey(data)
		if err != nil {
			if len(keys) == 0 && len(strings.TrimSpace(string(data))) == 0 {
				break // no (more) keys, only blank lines or comments
			}
			return nil, fmt.Errorf("authorized keys %s: %w", path, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("authorized keys %s lists no key", path)
	}
	return keys, nil
}

// contextKey is the fingerprint of the key a connection signed in with.
func contextKey(ctx ssh.Context) string {
	key, _ := ctx.Value(ssh.ContextKeyPublicKey).(ssh.PublicKey)
	return fingerprint(key)
}

func fingerprint(key gossh.PublicKey) string {
	if key == nil {
		return "no key"
	}
	return gossh.FingerprintSHA256(key)
}

// loadOrMakeHostKey reads the host key, or makes an ed25519 one (0600) on first run.
func loadOrMakeHostKey(stateDir string) ([]byte, error) {
	if stateDir == "" {
		return nil, errors.New("no state dir for the host key")
	}
	path := HostKeyFile(stateDir)
	if err := privdir.Ensure(stateDir, func(fs.DirEntry) bool { return false }); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	if err := privdir.Ensure(Dir(stateDir), func(fs.DirEntry) bool { return false }); err != nil {
		return nil, fmt.Errorf("ssh state dir: %w", err)
	}
	if data, err := os.ReadFile(path); err == nil {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("host key %s (mode %s) is readable by others: make it 0600", path, info.Mode())
		}
		return data, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "shadow ssh host key")
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	data := pem.EncodeToMemory(block)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	return data, nil
}

// HostKey is the server's public host key, for clients' known_hosts.
func (s *Server) HostKey() gossh.PublicKey { return s.ssh.HostSigners[0].PublicKey() }

// Serve serves connections on l until ctx ends; then it stops taking new ones, lets
// each connection's program end its session and journal it (drainTimeout at most),
// and closes the rest.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.ssh.Serve(l) }()
	select {
	case err := <-served:
		s.stop()
		return fmt.Errorf("ssh server: %w", err)
	case <-ctx.Done():
	}
	s.logf("stopping: ending every connection's session")
	l.Close()
	s.stop()
	drained := make(chan struct{})
	go func() { s.conns.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		s.logf("connections still open after %s are closed", drainTimeout)
	}
	s.ssh.Close()
	return nil
}

// Run listens on the configured address and serves until ctx ends, saying where it
// listens on out.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ssh server: %w", err)
	}
	fmt.Fprintf(out, "shadow ssh: listening on %s (host key %s), serving %s\n", l.Addr(), fingerprint(s.HostKey()), cfg.Server)
	return s.Serve(ctx, l)
}

// take counts a connection of key against the limits; the returned function gives it
// back (once, however often it is called). It is nil, with why, when a limit is
// reached.
func (s *Server) take(key string) (release func(), why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ctx.Err() != nil:
		return nil, "the server is stopping"
	case s.total >= s.cfg.MaxTotal:
		return nil, fmt.Sprintf("the server has its %d connections already", s.cfg.MaxTotal)
	case s.perKey[key] >= s.cfg.MaxPerKey:
		return nil, fmt.Sprintf("this key has its %d connections already", s.cfg.MaxPerKey)
	}
	s.total++
	s.perKey[key]++
	s.conns.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.total--
			if s.perKey[key]--; s.perKey[key] == 0 {
				delete(s.perKey, key)
			}
			s.conns.Done()
		})
	}, ""
}

// session runs one connection's program.
func (s *Server) session(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		key, addr := fingerprint(sess.PublicKey()), sess.RemoteAddr().String()
		pty, windows, ok := sess.Pty()
		if !ok {
			s.logf("refused %s (%s): no terminal", addr, key)
			wish.Fatalln(sess, "shadow needs a terminal: connect with ssh -t, without a command.")
			return
		}
		release, why := s.take(key)
		if release == nil {
			s.logf("refused %s (%s): %s", addr, key, why)
			wish.Fatalln(sess, "shadow: "+why+"; try again later.")
			return
		}
		defer release()
		width, height := windowSize(pty.Window)
		s.logf("connected %s (%s), %dx%d", addr, key, width, height)
		code := s.run(sess, pty, windows, key, addr)
		s.logf("disconnected %s (%s)", addr, key)
		// The connection no longer counts once its program has ended, before the client
		// hears so: a client that reconnects at once is not refused for itself.
		release()
		_ = sess.Exit(code)
		next(sess)
	}
}

// run is one connection's program, from sign-in to the journal's last sync.
func (s *Server) run(sess ssh.Session, pty ssh.Pty, windows <-chan ssh.Window, key, addr string) int {
	// The program's context ends with the connection or the server.
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	c, err := client.New(client.Options{BaseURL: s.cfg.Server, Version: s.cfg.Version, CAFile: s.cfg.CAFile,
		InsecureSkipVerify: s.cfg.Insecure})
	if err != nil {
		wish.Errorln(sess, "shadow:", err)
		return 1
	}
	environ := append(sess.Environ(), "TERM="+pty.Term)
	profile := common.RemoteProfile(environ)
	var m *ui.Model
	remote := &ui.Remote{Key: key, Addr: addr, Gone: func() string {
		switch {
		case m.Idled():
			return fmt.Sprintf("no key for %s", s.cfg.IdleTimeout)
		case s.ctx.Err() != nil:
			return "the server stopped"
		case sess.Context().Err() != nil:
			return "the client closed the connection"
		}
		return "the admin quit"
	}}
	opts := ui.Options{
		Client: c, StateDir: JournalDir(s.cfg.StateDir, sess.PublicKey()), Profile: profile,
		Context: ctx, Remote: remote, IdleTimeout: s.cfg.IdleTimeout, TypedTokens: true,
		ASCII: common.NoLineDrawing(environ),
		// The clipboard is the SSH client's: its own environment opts in
		// (ssh -o SetEnv=SHADOW_OSC52=1), as a local shadow's does.
		OSC52: cli.EnvOn(environ, "SHADOW_OSC52"),
	}
	if w := c.Warning(); w != "" {
		opts.Notices = append(opts.Notices, w)
	}
	if s.cfg.Tune != nil {
		s.cfg.Tune(&opts)
	}
	m = ui.New(opts)
	progOpts := append(bubbletea.MakeOptions(sess),
		tea.WithContext(ctx), tea.WithoutSignalHandler(), tea.WithColorProfile(profile),
		tea.WithWindowSize(windowSize(pty.Window)))
	p := tea.NewProgram(m, progOpts...)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case w, ok := <-windows:
				if !ok {
					return
				}
				width, height := windowSize(w)
				p.Send(tea.WindowSizeMsg{Width: width, Height: height})
			}
		}
	}()
	_, runErr := p.Run()
	cancel() // calls still on their way stop; Shutdown's come after, on their own
	m.ProgramEnded(runErr)
	// What Shutdown says (records left to sync, a session it could not end) goes to the
	// server's log: the terminal may be gone.
	var said strings.Builder
	closeErr := m.Shutdown(&said)
	for _, l := range strings.Split(strings.TrimSpace(said.String()), "\n") {
		if l != "" {
			s.logf("%s (%s): %s", addr, key, strings.TrimPrefix(l, "shadow: "))
		}
	}
	switch {
	case closeErr != nil:
		s.logf("%s (%s): %v", addr, key, closeErr)
		return 1
	case runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled):
		s.logf("%s (%s): terminal: %v", addr, key, runErr)
		return 1
	}
	return 0
}

// windowSize is the size to draw for a client's window: a client that gives none
// (0×0, as `ssh -tt` from a script without a terminal does) gets 80×24, the size
// everything is designed for, rather than a blank screen.
func windowSize(w ssh.Window) (width, height int) {
	if w.Width <= 0 || w.Height <= 0 {
		return 80, 24
	}
	return w.Width, w.Height
}

package client

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/server"
)

// The peer of every test here is the reference server's real handler (package server),
// one instance for the package, behind a thin wrapper per test that counts what
// reaches it and, for the fault tests, injects failures in front of it.

var reference struct {
	srv     *server.Server
	handler http.Handler
}

func TestMain(m *testing.M) {
	srv, err := server.New(server.Options{Seed: server.DemoSeed, PasswordCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "reference server:", err)
		os.Exit(1)
	}
	reference.srv, reference.handler = srv, srv.Handler()
	code := m.Run()
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close reference server:", err)
		code = 1
	}
	os.Exit(code)
}

// fault, when it returns true, has answered the request itself (it may have called
// pass to let the real handler answer first).
type fault func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool

// testServer is the real handler on a loopback listener, with counters.
type testServer struct {
	*httptest.Server
	arrived atomic.Int64 // requests that reached the wrapper
	reached atomic.Int64 // requests that reached the real handler
	fault   atomic.Pointer[fault]

	mu   sync.Mutex
	seen []seenRequest // what reached the real handler, in order
}

type seenRequest struct {
	Method, Path, UserAgent, IfNoneMatch string
	Status                               int
}

func newTestServer(t testing.TB) *testServer {
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

// newTLSTestServer is newTestServer over TLS, with a certificate no system trusts.
func newTLSTestServer(t testing.TB) *testServer {
	ts := &testServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(ts.serve))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.arrived.Add(1)
	if f := ts.fault.Load(); f != nil && (*f)(w, r, ts.pass) {
		return
	}
	ts.pass(w, r)
}

// pass hands the request to the real handler and records it.
func (ts *testServer) pass(w http.ResponseWriter, r *http.Request) {
	ts.reached.Add(1)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	reference.handler.ServeHTTP(rec, r)
	ts.mu.Lock()
	ts.seen = append(ts.seen, seenRequest{r.Method, r.URL.Path, r.UserAgent(), r.Header.Get("If-None-Match"), rec.status})
	ts.mu.Unlock()
}

func (ts *testServer) setFault(f fault) { ts.fault.Store(&f) }

func (ts *testServer) requests() []seenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seenRequest(nil), ts.seen...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush and Hijack pass through so fault wrappers can cut a reply short.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// testOptions are fast-failing options for tests: short timeouts and backoff so retry
// tests take milliseconds, not seconds.
func testOptions(baseURL string) Options {
	return Options{
		BaseURL:        baseURL,
		Version:        "1.2.3-test",
		ConnectTimeout: 2 * time.Second,
		RequestTimeout: 5 * time.Second,
		MaxAttempts:    3,
		BackoffBase:    5 * time.Millisecond,
		BackoffMax:     20 * time.Millisecond,
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// signIn returns a client signed in as email on ts.
func signIn(t testing.TB, ts *testServer, opts Options, email string) *Client {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctxT(t), email, server.DemoSupportPassword); err != nil {
		t.Fatalf("login as %s: %v", email, err)
	}
	return c
}

// staff is the demo support admin, signed in on ts with the test options.
func staff(t testing.TB, ts *testServer) *Client {
	t.Helper()
	return signIn(t, ts, testOptions(ts.URL), server.DemoSupportEmail)
}

// startNora starts a session on the demo's Fleet Manager and ends it at cleanup.
func startNora(t testing.TB, c *Client) (*View, string) {
	t.Helper()
	v, sess, err := c.StartSession(ctxT(t), server.DemoFleetManagerID, "ticket T-1: dashboards look empty")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	t.Cleanup(func() { _ = c.EndSession(context.Background(), sess.ID) })
	return v, sess.ID
}

// syncWriter makes a writer safe for the client's concurrent debug lines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

package audit

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

// The sync tests run against the real reference server (server.New(...).Handler()),
// behind faultyServer: a real HTTP handler in front of it that injects the faults a
// network and a struggling server produce.

// fault is what faultyServer does with one journal PUT.
type fault int

const (
	pass           fault = iota
	commitThenDrop       // the server commits, the client never hears back
	fail500
	fail503RetryAfter
	fail429RetryAfter
	slow    // the reply comes after the client's request timeout
	restart // the server restarts on the same data dir while the request is in flight
	refuse  // 422 validation_failed naming records[2]: a range the server will not take
)

func (f fault) String() string {
	return [...]string{"pass", "commit-then-drop", "500", "503+Retry-After", "429+Retry-After", "slow", "restart", "422"}[f]
}

type faultyServer struct {
	t       testing.TB
	dataDir string
	http    *httptest.Server

	mu       sync.Mutex
	srv      *server.Server
	script   []fault // faults for the next PUTs, in order; pass when empty
	puts     []putLog
	slowWait time.Duration
	onKey    func() // run (once) before the server answers GET /audit/key
}

type putLog struct {
	at     time.Time
	fault  fault
	status int // the real server's reply status, for faults that pass it on
}

func newFaultyServer(t testing.TB) *faultyServer {
	t.Helper()
	f := &faultyServer{t: t, dataDir: t.TempDir(), slowWait: 2 * time.Second}
	f.start()
	f.http = httptest.NewServer(f)
	t.Cleanup(func() {
		f.http.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.srv != nil {
			f.srv.Close()
		}
	})
	return f
}

func (f *faultyServer) start() {
	srv, err := server.New(server.Options{DataDir: f.dataDir, PasswordCost: bcrypt.MinCost})
	if err != nil {
		f.t.Fatal(err)
	}
	f.srv = srv
}

// restartNow closes the server and starts it again on the same data dir.
func (f *faultyServer) restartNow() { f.restartWith(nil) }

// restartWith closes the server, lets change alter its data dir, and starts it again.
func (f *faultyServer) restartWith(change func(dataDir string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.srv.Close(); err != nil {
		f.t.Error(err)
	}
	if change != nil {
		change(f.dataDir)
	}
	f.start()
}

func (f *faultyServer) setScript(faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append([]fault(nil), faults...)
}

func (f *faultyServer) log() []putLog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]putLog(nil), f.puts...)
}

func (f *faultyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	handler := f.srv.Handler()
	flt, entry := pass, -1
	if hook := f.onKey; hook != nil && strings.HasSuffix(r.URL.Path, "/audit/key") {
		f.onKey = nil
		f.mu.Unlock()
		hook()
		f.mu.Lock()
	}
	if r.Method == http.MethodPut {
		if len(f.script) > 0 {
			flt, f.script = f.script[0], f.script[1:]
		}
		entry = len(f.puts)
		f.puts = append(f.puts, putLog{at: time.Now(), fault: flt})
	}
	f.mu.Unlock()
	if entry >= 0 {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			f.mu.Lock()
			f.puts[entry].status = sw.status
			f.mu.Unlock()
		}()
		w = sw
	}
	switch flt {
	case pass:
		handler.ServeHTTP(w, r)
	case commitThenDrop:
		handler.ServeHTTP(httptest.NewRecorder(), r)
		dropConnection(w)
	case fail500:
		writeError(w, http.StatusInternalServerError, api.CodeInternal, 0)
	case fail503RetryAfter:
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, 1)
	case fail429RetryAfter:
		writeError(w, http.StatusTooManyRequests, api.CodeRateLimited, 1)
	case slow:
		time.Sleep(f.slowWait)
		handler.ServeHTTP(w, r)
	case restart:
		handler.ServeHTTP(httptest.NewRecorder(), r) // may or may not commit before the restart
		f.restartNow()
		dropConnection(w)
	case refuse:
		body := api.NewError(api.CodeValidation, "records[2]: the actor is not the identity that uploads it")
		body.Error.Field = "records[2].body"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(body)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeError(w http.ResponseWriter, status int, code api.Code, retryAfter int) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := api.NewError(code, "injected by the test")
	body.Error.RetryAfterSeconds = retryAfter
	json.NewEncoder(w).Encode(body)
}

// staffRemote is the client package's staff client, signed in as the demo support
// admin, with the client's own retries off so every fault reaches the sync loop. It
// signs in again when the server no longer knows its token (after a restart on a fresh
// data dir).
type staffRemote struct {
	*client.Client
	email string // who signs in; the demo support admin unless remoteAs says otherwise
	mu    sync.Mutex

	// inFlight counts PUTs under way through this remote; mostInFlight is the most
	// there ever were at once (the sync loop promises one).
	inFlight, mostInFlight atomic.Int32
}

func newTestClient(t testing.TB, base string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: base, MaxAttempts: 1, MaxRetryAfter: time.Millisecond,
		RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func adminRemote(t testing.TB, base string) *staffRemote {
	t.Helper()
	return remoteAs(t, base, server.DemoSupportEmail)
}

// remoteAs is a staffRemote signed in as another identity that may impersonate (a
// customer's company admin, say).
func remoteAs(t testing.TB, base, email string) *staffRemote {
	t.Helper()
	r := &staffRemote{Client: newTestClient(t, base), email: email}
	if err := r.login(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *staffRemote) login(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.Login(ctx, r.email, server.DemoSupportPassword)
	return err
}

func (r *staffRemote) PutJournalRecords(ctx context.Context, journalID string, records []api.WireRecord) (api.PutRecordsResponse, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for most := r.mostInFlight.Load(); n > most && !r.mostInFlight.CompareAndSwap(most, n); most = r.mostInFlight.Load() {
	}
	out, err := r.Client.PutJournalRecords(ctx, journalID, records)
	if errors.Is(err, client.ErrUnauthenticated) && r.login(ctx) == nil {
		return r.Client.PutJournalRecords(ctx, journalID, records)
	}
	return out, err
}

// checkOneInFlight fails the test if the sync loop ever had two PUTs under way at once
// through r.
func checkOneInFlight(t *testing.T, r *staffRemote) {
	t.Helper()
	if most := r.mostInFlight.Load(); most != 1 {
		t.Fatalf("%d journal PUTs were in flight at once; the sync loop sends one at a time", most)
	}
}

// serverRecords lists the journal records the server's audit log holds for a journal.
func (r *staffRemote) serverRecords(t *testing.T, journalID string) []api.AuditEvent {
	t.Helper()
	var out []api.AuditEvent
	cursor := ""
	for {
		page, err := r.AuditEvents(context.Background(),
			client.AuditFilter{Kind: api.EventJournalRecord, Cursor: cursor, Limit: api.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.JournalID == journalID {
				out = append(out, e)
			}
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// checkServerHoldsExactly checks the server holds each of the journal's records once,
// each the same record as the client's.
func checkServerHoldsExactly(t *testing.T, r *staffRemote, path string) {
	t.Helper()
	jd, err := loadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	events := r.serverRecords(t, jd.ID)
	bySeq := map[uint64]api.AuditEvent{}
	for _, e := range events {
		if _, dup := bySeq[e.Seq]; dup {
			t.Fatalf("journal %s: the server holds seq %d twice", jd.ID, e.Seq)
		}
		bySeq[e.Seq] = e
	}
	if len(events) != len(jd.Entries) {
		t.Fatalf("journal %s: server holds %d records, client %d", jd.ID, len(events), len(jd.Entries))
	}
	for _, c := range jd.Entries {
		s, ok := bySeq[c.Seq]
		if !ok || s.Action != c.Data.Action || s.Details != c.Data.Details || s.SessionID != c.Data.SessionID ||
			!s.Time.Equal(c.Data.Time) {
			t.Fatalf("journal %s seq %d: server holds %+v, client %+v", jd.ID, c.Seq, s, c.Data)
		}
		if !c.Synced {
			t.Fatalf("journal %s seq %d: held by the server but not acknowledged locally", jd.ID, c.Seq)
		}
	}
	if jd.Acked.Seq != jd.Head.Seq {
		t.Fatalf("journal %s: acknowledged %d of %d", jd.ID, jd.Acked.Seq, jd.Head.Seq)
	}
}

// fastSync are sync options for tests: short backoff, short request timeout.
var fastSync = SyncOptions{MinBackoff: 5 * time.Millisecond, MaxBackoff: 80 * time.Millisecond,
	RequestTimeout: 1500 * time.Millisecond, RescanEvery: time.Hour}

// waitStatus waits until cond holds for the journal's status.
func waitStatus(t *testing.T, j *Journal, within time.Duration, cond func(Status) bool) Status {
	t.Helper()
	ch, cancel := j.Subscribe()
	defer cancel()
	deadline := time.After(within)
	var last Status
	for {
		select {
		case st, ok := <-ch:
			if !ok {
				t.Fatalf("status closed; last %+v", last)
			}
			last = st
			if cond(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("status never got there; last: %+v (%s)", last, last)
		}
	}
}

// unusedPort is a loopback address nothing listens on: a server that is down.
func unusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		if e.IsDir() {
			copyDir(t, src, dst)
			continue
		}
		if err := copyFile(src, dst, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

package ui

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/cache"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// fakeClock is the one clock of a test: the server's, the journal's and the UI's, so
// the data, the records' times and the countdown are the same on every run, and a test
// can move time to expire a session.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// faults sits in front of the real server handler and breaks what a test asks it to.
type faults struct {
	failPermissions atomic.Bool // GET /permissions and /permissions/explain answer 503
	// stallPermissions makes GET /permissions wait until its caller gives up; stalled
	// receives each such request as it arrives, and gaveUp when its context ends.
	stallPermissions atomic.Bool
	stalled, gaveUp  chan struct{}
	// hang makes every request wait until its caller gives up: a server that takes the
	// connection and never answers (a stopped process, a full queue).
	hang atomic.Bool
	// failPage, when above 0, makes that page of a paged GET /permissions (counted in
	// pagesSeen, the requests with a limit: 1 is a view's first page) answer 503.
	failPage, pagesSeen atomic.Int64

	mu            sync.Mutex
	seen, revoked map[string]bool // Authorization headers that came; those now refused
}

// signOutEveryone refuses every token the server has seen so far, as a server that
// restarted with a new signing key does; tokens issued afterwards work.
func (f *faults) signOutEveryone() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = f.seen
	f.seen = nil
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for f.hang.Load() { // until the caller gives up, or the server comes back
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		if f.stallPermissions.Load() && strings.HasPrefix(r.URL.Path, api.Prefix+"/permissions") {
			f.stalled <- struct{}{}
			<-r.Context().Done()
			f.gaveUp <- struct{}{}
			return
		}
		failPage := r.URL.Path == api.Prefix+"/permissions" && r.URL.Query().Has("limit") &&
			f.pagesSeen.Add(1) == f.failPage.Load()
		if failPage || f.failPermissions.Load() && strings.HasPrefix(r.URL.Path, api.Prefix+"/permissions") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"unavailable","message":"the permission service is down for maintenance"}}`))
			return
		}
		auth := r.Header.Get("Authorization")
		if route, ok := api.RouteByName(api.RouteLogin); ok && r.URL.Path == route.Path {
			auth = "" // signing in takes no token
		}
		f.mu.Lock()
		refused := auth != "" && f.revoked[auth]
		if auth != "" && !refused {
			if f.seen == nil {
				f.seen = map[string]bool{}
			}
			f.seen[auth] = true
		}
		f.mu.Unlock()
		if refused {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthenticated","message":"the token is not valid"}}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// testEnv is the real reference server (its handler in httptest, behind faults), a
// client with a real cache file, and a real journal in a temporary directory.
type testEnv struct {
	clock   *fakeClock
	srvOpts server.Options
	handler atomic.Pointer[http.Handler] // the server's, swapped by restart
	srv     *server.Server
	ts      *httptest.Server
	faults  *faults
	cache   *cache.Cache
	client  *client.Client
	journal *audit.Journal
}

var demoSupport = Credentials{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}

func newTestEnv(t testing.TB, seed server.Seed) *testEnv {
	t.Helper()
	return newTestEnvIn(t, seed, "")
}

// newTestEnvIn is newTestEnv with the server's state in dataDir ("" for a throwaway
// store), so restart can start it again on the same state, as `shadow serve --data`.
func newTestEnvIn(t testing.TB, seed server.Seed, dataDir string) *testEnv {
	t.Helper()
	e := &testEnv{clock: &fakeClock{t: uitest.Now}, faults: &faults{stalled: make(chan struct{}, 1), gaveUp: make(chan struct{}, 1)}}
	e.srvOpts = server.Options{Seed: seed, DataDir: dataDir, Now: e.clock.Now, PasswordCost: bcrypt.MinCost, Version: "test"}
	var err error
	e.srv, err = server.New(e.srvOpts)
	if err != nil {
		t.Fatal(err)
	}
	h := e.srv.Handler()
	e.handler.Store(&h)
	e.ts = httptest.NewServer(e.faults.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.handler.Load()).ServeHTTP(w, r)
	})))
	e.cache = cache.Open(cache.Options{Dir: t.TempDir()})
	e.client = e.newClient(t)
	e.journal, _, err = audit.Open(audit.Options{StateDir: t.TempDir(), Now: e.clock.Now,
		Actor: api.UserRef{Name: "Sam Rivera", Email: server.DemoSupportEmail}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		e.journal.Close(ctx)
		e.cache.Close()
		e.ts.Close()
		e.srv.Close()
	})
	return e
}

// restart stops the server and starts a new one on the same state and address, as an
// operator restarting `shadow serve` does.
func (e *testEnv) restart(t testing.TB) {
	t.Helper()
	if e.srvOpts.DataDir == "" {
		t.Fatal("restart needs a server with a data dir (newTestEnvIn)")
	}
	e.ts.CloseClientConnections()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(e.srvOpts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	h := srv.Handler()
	e.handler.Store(&h)
}

// stop closes the server's listener and its connections: calls find nothing there,
// as with a stopped `shadow serve`. start listens again on the same address.
func (e *testEnv) stop(t testing.TB) {
	t.Helper()
	e.ts.Listener.Close()
	e.ts.CloseClientConnections()
}

func (e *testEnv) start(t testing.TB) {
	t.Helper()
	l, err := net.Listen("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	e.ts.Listener = l
	go e.ts.Config.Serve(l)
}

// newClient is a client of the test server sharing the cache; one attempt per call, so a
// fault shows at once.
func (e *testEnv) newClient(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: e.ts.URL, Version: "test", Cache: e.cache, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// staff is a separate client signed in as email (all demo accounts share a password).
func (e *testEnv) staff(t testing.TB, email string) *client.Client {
	t.Helper()
	c := e.newClient(t)
	if _, err := c.Login(context.Background(), email, server.DemoSupportPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// options are the root's options for this environment: the demo support account, fast
// ticks, and no colour unless asked.
func (e *testEnv) options(profile colorprofile.Profile) Options {
	return Options{
		Client: e.client, Credentials: &demoSupport, Journal: e.journal, Profile: profile,
		Now: e.clock.Now, Tick: time.Nanosecond, Poll: time.Nanosecond, SearchDebounce: time.Millisecond,
		Sync: audit.SyncOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}
}

// settled reports whether nothing is on its way and the journal has synced everything,
// as the model knows it: then a frame is the same on every run.
func settled(m *Model) bool {
	if m.Busy() {
		return false
	}
	if m.journal == nil {
		return true // not signed in yet
	}
	live := m.journal.Status()
	seen := m.SyncStatus()
	return live.State == audit.SyncSynced && seen.State == audit.SyncSynced && seen.Head == live.Head
}

// --- Driving the model directly, for Update tests -------------------------------

// isTimer reports the messages of timers a direct driver does not feed back: the
// session's tick and poll and the spinners (a test sends those itself when it means to).
func isTimer(msg tea.Msg) bool {
	switch msg.(type) {
	case tick, pollDue, secondPollDue, spinner.TickMsg:
		return true
	}
	return false
}

// isStatusWatch reports whether cmd is waitStatus's command, which blocks until the
// journal's status next changes: a driver runs it in the background instead of waiting
// for it. (By name: an inlined waitStatus makes a closure of its own at each call site.)
func isStatusWatch(cmd tea.Cmd) bool {
	f := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer())
	return f != nil && strings.HasSuffix(f.Name(), "waitStatus.func1")
}

// run executes a command the way the program would — batches concurrently, sequences
// in order — and returns the messages it produced within wait (a timer still pending
// then is dropped; the tests give timers they care about a tiny duration). The journal
// status watch runs in the background and delivers to late.
func run(cmd tea.Cmd, wait time.Duration, late chan<- tea.Msg) []tea.Msg {
	if cmd == nil {
		return nil
	}
	if isStatusWatch(cmd) {
		go func() {
			if msg := cmd(); msg != nil {
				late <- msg
			}
		}()
		return nil
	}
	done := make(chan []tea.Msg, 1)
	go func() { done <- expand(cmd, wait, late) }()
	select {
	case msgs := <-done:
		return msgs
	case <-time.After(wait):
		return nil
	}
}

// expand runs one command and opens what it returns.
func expand(c tea.Cmd, wait time.Duration, late chan<- tea.Msg) []tea.Msg {
	msg := c()
	if batch, ok := msg.(tea.BatchMsg); ok {
		results := make([][]tea.Msg, len(batch))
		var wg sync.WaitGroup
		for i, sub := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = run(sub, wait, late)
			}()
		}
		wg.Wait()
		var out []tea.Msg
		for _, r := range results {
			out = append(out, r...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		var out []tea.Msg
		for i := 0; i < v.Len(); i++ { // a sequence, in order
			if c, _ := v.Index(i).Interface().(tea.Cmd); c != nil {
				out = append(out, run(c, wait, late)...)
			}
		}
		return out
	}
	return []tea.Msg{msg}
}

// driver feeds a model its own commands' messages until a condition holds, holding back
// timers and whatever the test chooses to intercept.
type driver struct {
	t    testing.TB
	m    *Model
	held []tea.Msg
	// hold, when set, keeps matching messages back (in held) instead of feeding them.
	hold func(tea.Msg) bool
	// quit is set once a tea.QuitMsg came out.
	quit bool
	// late receives the journal status watch's messages.
	late chan tea.Msg
}

func newDriver(t testing.TB, m *Model, w, h int) *driver {
	d := &driver{t: t, m: m, late: make(chan tea.Msg, 64)}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	d.feed(m.Init())
	return d
}

// feed runs cmd and feeds back what it produces, breadth first, until nothing is left.
func (d *driver) feed(cmd tea.Cmd) {
	d.t.Helper()
	queue := run(cmd, 20*time.Second, d.late)
	for steps := 0; ; steps++ {
		if len(queue) == 0 {
			select { // status changes that came meanwhile
			case msg := <-d.late:
				queue = append(queue, msg)
			default:
				return
			}
		}
		if steps > 10_000 {
			d.t.Fatal("the model never settles")
		}
		msg := queue[0]
		queue = queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			d.quit = true
			continue
		}
		switch {
		case isTimer(msg):
			continue
		case d.hold != nil && d.hold(msg):
			d.held = append(d.held, msg)
			continue
		}
		_, next := d.m.Update(msg)
		queue = append(queue, run(next, 20*time.Second, d.late)...)
	}
}

// send delivers a message (a key, a timer) and feeds the consequences.
func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.feed(cmd)
}

// press sends keys one by one.
func (d *driver) press(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		d.send(uitest.Key(k))
	}
}

// typeText types s.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(uitest.Key(string(r)))
	}
}

// view is the frame now, colour stripped.
func (d *driver) view() string { return uitest.Plain(d.m.Frame()) }

// startSession searches for email, picks the user and starts a session with reason.
func (d *driver) startSession(email, reason string) {
	d.t.Helper()
	d.press("/", "esc", "/") // a search left from before is cleared
	d.typeText(email)
	d.press("enter", "enter")
	if d.m.Screen() != ScreenReason {
		d.t.Fatalf("picking %s: screen %q:\n%s", email, d.m.Screen(), d.view())
	}
	d.typeText(reason)
	d.press("enter")
	if d.m.Screen() != ScreenSession {
		d.t.Fatalf("starting a session with %s: screen %q:\n%s", email, d.m.Screen(), d.view())
	}
}

func contains(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// The faulty server: a wrapper in front of the real handler that injects one failure
// (or the first n), asserting the typed error or the retry, with the attempt count.

// failFirst answers the first n matching requests with f and lets the rest through.
func failFirst(n int64, match func(*http.Request) bool, f http.HandlerFunc) fault {
	var count atomic.Int64
	return func(w http.ResponseWriter, r *http.Request, _ http.HandlerFunc) bool {
		if !match(r) || count.Add(1) > n {
			return false
		}
		f(w, r)
		return true
	}
}

func path(p string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == p }
}

func status(code int, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":{"code":"` + string(codeFor(code)) + `","message":"injected fault"}}`))
	}
}

func codeFor(status int) api.Code {
	switch status {
	case http.StatusTooManyRequests:
		return api.CodeRateLimited
	case http.StatusServiceUnavailable:
		return api.CodeUnavailable
	}
	return api.CodeInternal
}

// faultSetup is a staff client on its own server, with a fault to set. It signs in
// with the test options, then takes opts, so a tight timeout cannot fail the sign-in.
func faultSetup(t *testing.T, opts func(*Options)) (*testServer, *Client) {
	ts := newTestServer(t)
	token := staff(t, ts).token
	o := testOptions(ts.URL)
	if opts != nil {
		opts(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return ts, c
}

const usersPath = api.Prefix + "/users"

func TestPersistent500IsRetriedThenServerError(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(100, path(usersPath), status(500)))
	before := ts.arrived.Load()
	_, err := c.Users(ctxT(t), UsersQuery{Query: "a"})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrServer) || e.Status != 500 || e.Attempts != 3 {
		t.Fatalf("got %v", err)
	}
	if got := ts.arrived.Load() - before; got != 3 {
		t.Fatalf("%d requests sent, want 3", got)
	}
	if !strings.Contains(err.Error(), "injected fault") || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("message %q", err.Error())
	}
}

func TestTransient500IsRetriedToSuccess(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(2, path(usersPath), status(502)))
	before := ts.arrived.Load()
	page, err := c.Users(ctxT(t), UsersQuery{Query: "acme"})
	if err != nil || len(page.Users) == 0 {
		t.Fatalf("got %v", err)
	}
	if got := ts.arrived.Load() - before; got != 3 {
		t.Fatalf("%d requests, want 2 failures and a success", got)
	}
}

func Test503RetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(1, path(usersPath), status(503, "Retry-After", "1")))
	before := ts.arrived.Load()
	start := time.Now()
	page, err := c.Users(ctxT(t), UsersQuery{Query: "acme"})
	if err != nil || len(page.Users) == 0 {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %v, before the server's Retry-After of 1s", waited)
	}
	if got := ts.arrived.Load() - before; got != 2 {
		t.Fatalf("%d requests, want 2", got)
	}
}

func Test429WithLongRetryAfterIsReturnedNotSlept(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(100, path(usersPath), status(429, "Retry-After", "120")))
	start := time.Now()
	_, err := c.Users(ctxT(t), UsersQuery{Query: "a"})
	if time.Since(start) > 5*time.Second {
		t.Fatal("the client slept through a 2-minute Retry-After")
	}
	var e *Error
	var ra interface{ RetryAfter() time.Duration }
	var body api.ErrorBody
	if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.Attempts != 1 {
		t.Fatalf("got %v", err)
	}
	if !errors.As(err, &ra) || ra.RetryAfter() != 120*time.Second {
		t.Fatal("Retry-After not reachable through errors.As")
	}
	if !errors.As(err, &body) || body.Code != api.CodeRateLimited {
		t.Fatal("the envelope is not reachable through errors.As")
	}
	if !strings.Contains(err.Error(), "try again in 2m0s") {
		t.Errorf("message %q", err.Error())
	}
}

func Test429WithoutRetryAfterBacksOff(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(100, path(usersPath), status(429)))
	before := ts.arrived.Load()
	_, err := c.Users(ctxT(t), UsersQuery{Query: "a"})
	var e *Error
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.Attempts != 3 || ts.arrived.Load()-before != 3 {
		t.Fatalf("got %v after %d requests", err, ts.arrived.Load()-before)
	}
	if errors.As(err, &ra) {
		t.Fatal("no Retry-After was sent, yet one is offered")
	}
}

func TestUnsafeMethodsAreNeverRetried(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	sessions := api.Prefix + "/impersonation/sessions"
	ts.setFault(failFirst(100, path(sessions), status(503, "Retry-After", "1")))
	before := ts.arrived.Load()
	_, _, err := c.StartSession(ctxT(t), server.DemoFleetManagerID, "r")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrServer) || e.Attempts != 1 || ts.arrived.Load()-before != 1 {
		t.Fatalf("a POST was retried or misreported: %v, %d requests", err, ts.arrived.Load()-before)
	}
}

func TestJournalPutIsRetriedAndStoredOnce(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	journal := "j-retry-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	recs, _ := journalRange(t, journal, 1, 2, api.ZeroHash)
	// The first attempt reaches the server and is stored, but the reply is lost: the
	// retry must be accepted as an exact duplicate, not a conflict.
	var lost atomic.Bool
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		if r.Method != http.MethodPut || lost.Swap(true) {
			return false
		}
		pass(httptest.NewRecorder(), r)
		status(503)(w, r)
		return true
	})
	res, err := c.PutJournalRecords(ctxT(t), journal, recs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Head.Seq != 2 || res.Duplicates != 2 || res.Accepted != 0 {
		t.Fatalf("retried PUT: %+v", res)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, func(o *Options) { o.RequestTimeout = 150 * time.Millisecond })
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		if r.URL.Path != usersPath {
			return false
		}
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		return true
	})
	before := ts.arrived.Load()
	start := time.Now()
	_, err := c.Users(ctxT(t), UsersQuery{Query: "a"})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnreachable) || e.Attempts != 3 {
		t.Fatalf("got %v", err)
	}
	if got := ts.arrived.Load() - before; got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("three 150ms attempts took %v", took)
	}
	if !strings.Contains(err.Error(), "did not answer within 150ms") {
		t.Errorf("message %q", err.Error())
	}
}

// dropMidBody lets the real handler answer, sends the headers and half the body with
// the full Content-Length, then closes the connection.
func dropMidBody(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) {
	rec := httptest.NewRecorder()
	pass(rec, r)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func TestConnectionDroppedMidBody(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	var drops atomic.Int64
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		if r.URL.Path != usersPath {
			return false
		}
		drops.Add(1)
		dropMidBody(w, r, pass)
		return true
	})
	_, err := c.Users(ctxT(t), UsersQuery{Query: "acme"})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnreachable) || e.Attempts != 3 || drops.Load() != 3 {
		t.Fatalf("got %v after %d drops", err, drops.Load())
	}
	if !strings.Contains(err.Error(), "dropped while the reply was being read") {
		t.Errorf("message %q", err.Error())
	}

	// One drop, then the real reply: the retry recovers.
	drops.Store(0)
	ts.setFault(func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		if r.URL.Path != usersPath || drops.Add(1) > 1 {
			return false
		}
		dropMidBody(w, r, pass)
		return true
	})
	if page, err := c.Users(ctxT(t), UsersQuery{Query: "acme"}); err != nil || len(page.Users) == 0 {
		t.Fatalf("after one drop: %v", err)
	}
}

// replaceBody lets the real handler answer, then sends body instead, with its length.
func replaceBody(contentType string, body []byte) fault {
	return func(w http.ResponseWriter, r *http.Request, pass http.HandlerFunc) bool {
		if r.URL.Path != usersPath {
			return false
		}
		pass(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return true
	}
}

func TestBadRepliesAreClearErrorsNotRetried(t *testing.T) {
	t.Parallel()
	huge := append([]byte(`{"users":[`), bytes.Repeat([]byte(`{"id":"u","name":"padding"},`), (9<<20)/28)...)
	huge = append(huge, []byte(`{"id":"last"}]}`)...)
	for _, tc := range []struct {
		name        string
		contentType string
		body        []byte
		kind        error
		says        string
	}{
		{"truncated JSON", "application/json", []byte(`{"users":[{"id":"u-1","name":"Ada`), ErrMalformedResponse, "cut short"},
		{"malformed JSON", "application/json", []byte(`{"users": [nope]}`), ErrMalformedResponse, "invalid JSON at byte"},
		{"wrong shape", "application/json", []byte(`{"users": "everyone"}`), ErrMalformedResponse, `field "users"`},
		{"not an object", "application/json", []byte(`null`), ErrMalformedResponse, "not a JSON object"},
		{"HTML", "text/html; charset=utf-8", []byte(`<html>login portal</html>`), ErrMalformedResponse, "content type is text/html"},
		{"no content type", "", []byte(`{"users":[]}`), ErrMalformedResponse, "no content type"},
		{"oversized", "application/json", huge, ErrResponseTooLarge, "larger than the 8 MiB limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts, c := faultSetup(t, nil)
			ts.setFault(replaceBody(tc.contentType, tc.body))
			before := ts.arrived.Load()
			_, err := c.Users(ctxT(t), UsersQuery{Query: "a"})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) || e.Attempts != 1 || ts.arrived.Load()-before != 1 {
				t.Fatalf("got %v after %d requests", err, ts.arrived.Load()-before)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("message %q does not say %q", err.Error(), tc.says)
			}
		})
	}
}

func TestSmallerBodyCapAppliesToRealReplies(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, func(o *Options) { o.MaxResponseBytes = 2 << 10 })
	_, err := c.Users(ctxT(t), UsersQuery{Limit: 100})
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "2 KiB") {
		t.Fatalf("got %v", err)
	}
	if n := ts.reached.Load(); n < 2 {
		t.Fatalf("the real handler answered %d requests; want the login and the search", n)
	}
}

func TestCancellationStopsRetriesAtOnce(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	// Waiting out a Retry-After…
	ts.setFault(failFirst(100, path(usersPath), status(503, "Retry-After", "10")))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	before := ts.arrived.Load()
	_, err := c.Users(ctx, UsersQuery{Query: "a"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("cancel took %v to stop the wait", took)
	}
	if got := ts.arrived.Load() - before; got != 1 {
		t.Fatalf("%d requests after cancel", got)
	}

	// …and in the middle of a slow request.
	ts.setFault(func(w http.ResponseWriter, r *http.Request, _ http.HandlerFunc) bool {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return true
	})
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.Users(ctx, UsersQuery{Query: "a"})
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("in-flight cancel: %v after %v", err, time.Since(start))
	}
}

func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	url := ts.URL
	ts.Close() // nothing listens there now
	c, _ := New(testOptions(url))
	_, err := c.Health(ctxT(t))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnreachable) || e.Attempts != 3 || e.Status != 0 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "cannot reach the server at 127.0.0.1") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("message %q", err.Error())
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(func(w http.ResponseWriter, r *http.Request, _ http.HandlerFunc) bool {
		http.Redirect(w, r, "https://elsewhere.example/api/v1/users", http.StatusTemporaryRedirect)
		return true
	})
	_, err := c.Users(ctxT(t), UsersQuery{})
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "elsewhere.example") {
		t.Fatalf("got %v", err)
	}
}

// Whatever bytes come back, the client answers with an error or a value, never a panic.
func FuzzReplyBody(f *testing.F) {
	for _, seed := range []string{``, `{}`, `{"users":[{}]}`, `{"users":null}`, `[`, "\x00\xff", `{"users":[{"id":1}]}`,
		`{"error":{"code":"internal"}}`, `{"users":[{"redacted":[1]}]}`, strings.Repeat(`[`, 2000)} {
		f.Add([]byte(seed), 200)
		f.Add([]byte(seed), 503)
	}
	ts := newTestServer(f)
	var mu sync.Mutex
	var body []byte
	var code int
	ts.setFault(func(w http.ResponseWriter, r *http.Request, _ http.HandlerFunc) bool {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
		return true
	})
	opts := testOptions(ts.URL)
	opts.MaxAttempts = 1
	c, _ := New(opts)
	c.SetToken("t")
	f.Fuzz(func(t *testing.T, b []byte, status int) {
		if status < 200 || status > 599 {
			status = 200 + (abs(status) % 400)
		}
		mu.Lock()
		body, code = b, status
		mu.Unlock()
		page, err := c.Users(context.Background(), UsersQuery{})
		if err == nil && status >= 300 {
			t.Fatalf("status %d answered with a value %+v", status, page)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// A wait the caller's deadline would cut short is not started: the caller gets the
// server's answer and its Retry-After instead of "deadline exceeded".
func TestWaitBeyondTheCallersDeadlineIsNotStarted(t *testing.T) {
	t.Parallel()
	ts, c := faultSetup(t, nil)
	ts.setFault(failFirst(100, path(usersPath), status(503, "Retry-After", "2")))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Users(ctx, UsersQuery{Query: "a"})
	var e *Error
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &e) || !errors.Is(err, ErrServer) || e.Attempts != 1 || !errors.As(err, &ra) || ra.RetryAfter() != 2*time.Second {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 400*time.Millisecond {
		t.Fatalf("returned after %v: it waited", time.Since(start))
	}
}

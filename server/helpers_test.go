package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
)

// testEpoch is the fixed "now" tests start at, so demo data and golden files are stable.
var testEpoch = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testEpoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testClient talks to the servers under test (plain HTTP on loopback).
var testClient = &http.Client{Timeout: 30 * time.Second}

// env is a real server behind a real loopback HTTP listener.
type env struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	clock *clock
}

// newEnv starts a server with the demo seed, a fixed clock and cheap password
// hashing; opts may adjust the options first.
func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	c := newClock()
	o := Options{Now: c.Now, PasswordCost: bcrypt.MinCost, DataDir: t.TempDir()}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, srv: s, http: ts, clock: c}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. body may be nil, a []byte/string (sent raw) or a value (sent as
// JSON); JSON bodies get Content-Type application/json.
func (e *env) do(method, path, token string, body any, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// decode unmarshals the reply into v, failing the test on a wrong status.
func (r reply) decode(t *testing.T, wantStatus int, v any) {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d: %s", r.status, wantStatus, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %T: %v: %s", v, err, r.body)
		}
	}
}

// apiErr decodes an error reply, checking it is the envelope with the code's status.
func (r reply) apiErr(t *testing.T) api.ErrorBody {
	t.Helper()
	var env api.ErrorResponse
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("status %d: not an error envelope: %v: %q", r.status, err, r.body)
	}
	if env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("error envelope without code or message: %s", r.body)
	}
	if env.Error.Code.Status() != r.status {
		t.Fatalf("code %s sent with status %d, contract says %d", env.Error.Code, r.status, env.Error.Code.Status())
	}
	return env.Error
}

// wantErr checks the reply is the given error code.
func (r reply) wantErr(t *testing.T, code api.Code) api.ErrorBody {
	t.Helper()
	b := r.apiErr(t)
	if b.Code != code {
		t.Fatalf("code %s (%s), want %s", b.Code, b.Message, code)
	}
	return b
}

func (e *env) login(email string) string {
	e.t.Helper()
	var out api.LoginResponse
	e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: email, Password: DemoSupportPassword}).decode(e.t, 200, &out)
	return out.Token
}

// userID finds a user's id through the directory, as a client would.
func (e *env) userID(staffToken, email string) string {
	e.t.Helper()
	var page api.UsersPage
	e.do("GET", "/api/v1/users?q="+email, staffToken, nil).decode(e.t, 200, &page)
	for _, u := range page.Users {
		if strings.EqualFold(u.Email, email) {
			return u.ID
		}
	}
	e.t.Fatalf("no user %s in the directory", email)
	return ""
}

// impersonate starts a session as staffToken's identity for the user with that email.
func (e *env) impersonate(staffToken, email string) api.StartSessionResponse {
	e.t.Helper()
	var out api.StartSessionResponse
	e.do("POST", "/api/v1/impersonation/sessions", staffToken,
		api.StartSessionRequest{UserID: e.userID(staffToken, email), Reason: "TICKET-1234: dashboard looks empty"}).decode(e.t, 201, &out)
	return out
}

// events lists audit events matching the query (all pages).
func (e *env) events(token, query string) []api.AuditEvent {
	e.t.Helper()
	var all []api.AuditEvent
	cursor := ""
	for {
		q := query + "&limit=200"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var page api.AuditEventsPage
		e.do("GET", "/api/v1/audit/events?"+q, token, nil).decode(e.t, 200, &page)
		all = append(all, page.Events...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
)

// fuzzTarget is one decoder under fuzz: a route that reads a body, and who calls it.
type fuzzTarget struct {
	method, path string
	as           string // email of the caller, "" for none
}

var fuzzTargets = []fuzzTarget{
	{"POST", "/api/v1/auth/login", ""},
	{"PATCH", "/api/v1/me", DemoTechnicianEmail},
	{"PUT", "/api/v1/me/settings", DemoTechnicianEmail},
	{"POST", "/api/v1/me/password", DemoTechnicianEmail},
	{"POST", "/api/v1/impersonation/sessions", DemoSupportEmail},
	{"POST", "/api/v1/dashboards", DemoTechnicianEmail},
	{"PATCH", "/api/v1/dashboards/d-acme-tomas-jobs", DemoTechnicianEmail},
	{"POST", "/api/v1/dashboards/d-acme-tomas-jobs/shares", DemoTechnicianEmail},
	{"PUT", "/api/v1/audit/journals/fuzz/records", DemoSupportEmail},
}

// fuzzServer is a real server and a token per caller, shared by a fuzz run.
type fuzzServer struct {
	h      http.Handler
	tokens map[string]string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	s, err := New(Options{PasswordCost: bcrypt.MinCost, DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	fs := &fuzzServer{h: s.Handler(), tokens: map[string]string{}}
	for _, email := range []string{DemoSupportEmail, DemoTechnicianEmail} {
		u := s.org.UserByEmail(email)
		tok, _, err := s.ownToken(u.ID, u.PasswordVersion)
		if err != nil {
			f.Fatal(err)
		}
		fs.tokens[email] = tok
	}
	return fs
}

// check sends one request and holds the server to the contract: no 5xx, and every
// error is the envelope with its code's status.
func (fs *fuzzServer) check(t *testing.T, method, target, token string, body []byte) {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatalf("bad target %q: %v", target, err)
	}
	req.URL = u
	req.RequestURI = target
	req.Host = "127.0.0.1" // httptest's example.com is not a host the server answers to
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s → %d: %s", method, target, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		var env api.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code.Status() != rec.Code || env.Error.Message == "" {
			t.Fatalf("%s %s → %d with a bad envelope (%v): %s", method, target, rec.Code, err, rec.Body.Bytes())
		}
	}
}

// FuzzRequestBodies feeds arbitrary bytes to every route that decodes a body. Seeds
// live in testdata/fuzz/FuzzRequestBodies and run in every normal test pass.
func FuzzRequestBodies(f *testing.F) {
	f.Add(uint8(0), []byte(`{"email":"a@b","password":"x"}`))
	f.Add(uint8(5), []byte(`{"title":"T","description":"d"}`))
	f.Add(uint8(8), []byte(`{"records":[{"seq":1,"prev_hash":"00","hash":"00","body":"e30="}]}`))
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		target := fuzzTargets[int(route)%len(fuzzTargets)]
		fs.check(t, target.method, target.path, fs.tokens[target.as], body)
	})
}

// FuzzQueries feeds arbitrary query strings to the routes that parse them.
func FuzzQueries(f *testing.F) {
	f.Add(uint8(0), "q=nora&limit=5&cursor=")
	f.Add(uint8(1), "since=2025-01-01T00:00:00Z&until=x&kind=request&limit=-1")
	f.Add(uint8(2), "resource=vehicle:acme-n1&action=edit")
	fs := newFuzzServer(f)
	paths := []string{"/api/v1/users", "/api/v1/audit/events", "/api/v1/permissions/explain"}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		target := paths[int(route)%len(paths)] + "?" + url.PathEscape(query)
		if _, err := url.ParseRequestURI(target); err != nil {
			return
		}
		fs.check(t, "GET", target, fs.tokens[DemoSupportEmail], nil)
	})
}

package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/store"
)

// The server benchmarks behind docs/BENCHMARKS.md (## Server). They call the real
// handler (routing, authentication, auditing, JSON, ETag) in process, so the figures
// are the server's own cost without the network.
//
//	go test ./server/ -run XXX -bench . -benchtime 2s

type benchEnv struct {
	s       *Server
	h       http.Handler
	support string
	nora    string
}

func newBenchEnv(b *testing.B, seed Seed) *benchEnv {
	b.Helper()
	s, err := New(Options{Seed: seed, PasswordCost: bcrypt.MinCost, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	e := &benchEnv{s: s, h: s.Handler()}
	e.support = e.login(b, DemoSupportEmail)
	e.nora = e.login(b, DemoFleetManagerEmail)
	return e
}

func (e *benchEnv) serve(b *testing.B, method, path, token string, body any, want int) *httptest.ResponseRecorder {
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec
}

func (e *benchEnv) login(b *testing.B, email string) string {
	var out api.LoginResponse
	rec := e.serve(b, "POST", "/api/v1/auth/login", "", api.LoginRequest{Email: email, Password: DemoSupportPassword}, 200)
	json.Unmarshal(rec.Body.Bytes(), &out)
	return out.Token
}

var scaleSeed = Seed{Demo: true, GenerateUsers: 100_000, GenerateResources: 5_000}

// BenchmarkUsersPage: one GET /users?q= page of 50 over 100,000 users (goal ≤ 5 ms).
// "no match" and "ee" scan the whole directory; the others stop after a page.
func BenchmarkUsersPage(b *testing.B) {
	e := newBenchEnv(b, scaleSeed)
	for _, q := range []struct{ name, query string }{
		{"first page", ""},
		{"common name", "zoe"},
		{"two words", "ava+gen007"},
		{"company", "generated+co+013"},
		{"rare (1 match)", "nora"},
		{"no match", "zzzz"},
		{"frequent letters, few matches", "ee"},
		{"one letter", "q"},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				e.serve(b, "GET", "/api/v1/users?limit=50&q="+q.query, e.support, nil, 200)
			}
		})
	}
}

// BenchmarkPermissionMatrix: GET /permissions for Nora over Acme's 55 resources plus
// 5,000 generated ones (goal ≤ 20 ms), and the demo size for comparison.
func BenchmarkPermissionMatrix(b *testing.B) {
	for _, c := range []struct {
		name string
		seed Seed
	}{{"5055 resources", Seed{Demo: true, GenerateResources: 5_000}}, {"55 resources", DemoSeed}} {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEnv(b, c.seed)
			for b.Loop() {
				e.serve(b, "GET", "/api/v1/permissions", e.nora, nil, 200)
			}
		})
	}
}

// BenchmarkLogin: POST /auth/login at bcrypt's minimum cost, beside the bare bcrypt
// comparison at that cost; their difference is login without hashing (goal ≤ 2 ms).
func BenchmarkLogin(b *testing.B) {
	e := newBenchEnv(b, DemoSeed)
	b.Run("login", func(b *testing.B) {
		for b.Loop() {
			e.serve(b, "POST", "/api/v1/auth/login", "", api.LoginRequest{Email: DemoFleetManagerEmail, Password: DemoSupportPassword}, 200)
		}
	})
	b.Run("bcrypt compare alone", func(b *testing.B) {
		for b.Loop() {
			if err := bcrypt.CompareHashAndPassword(e.s.demoHash, []byte(DemoSupportPassword)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSessionStart: POST /impersonation/sessions, policy checks, a durable
// session record and its audit event, the signed token (goal ≤ 2 ms).
func BenchmarkSessionStart(b *testing.B) {
	for _, c := range []struct {
		name string
		seed Seed
	}{{"demo", DemoSeed}, {"100k users", scaleSeed}} {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEnv(b, c.seed)
			req := api.StartSessionRequest{UserID: DemoFleetManagerID, Reason: "TICKET-1"}
			for b.Loop() {
				e.serve(b, "POST", "/api/v1/impersonation/sessions", e.support, req, 201)
			}
		})
	}
	// The baseline: one durable bbolt commit of one audit event, the floor under any
	// start that records itself before answering.
	b.Run("durable event append alone", func(b *testing.B) {
		e := newBenchEnv(b, DemoSeed)
		for b.Loop() {
			if err := e.s.store.AppendEvents(store.Event{AuditEvent: api.AuditEvent{Time: e.s.now(), Kind: api.EventSessionStart}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkImpersonatedRead: a dashboard read with an impersonation token, including
// the durable audit event written before the reply.
func BenchmarkImpersonatedRead(b *testing.B) {
	e := newBenchEnv(b, DemoSeed)
	var start api.StartSessionResponse
	rec := e.serve(b, "POST", "/api/v1/impersonation/sessions", e.support, api.StartSessionRequest{UserID: DemoFleetManagerID, Reason: "r"}, 201)
	json.Unmarshal(rec.Body.Bytes(), &start)
	b.Run("impersonated", func(b *testing.B) {
		for b.Loop() {
			e.serve(b, "GET", "/api/v1/dashboards/d-acme-fleet", start.Token, nil, 200)
		}
	})
	b.Run("own token", func(b *testing.B) {
		for b.Loop() {
			e.serve(b, "GET", "/api/v1/dashboards/d-acme-fleet", e.nora, nil, 200)
		}
	})
}

// BenchmarkDemoStart: New with the demo seed and default password cost, the first
// request, and Close (goal < 50 ms).
func BenchmarkDemoStart(b *testing.B) {
	for b.Loop() {
		s, err := New(Options{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/api/v1/audit/key", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		s.Close()
	}
}

// BenchmarkScaleStart: New with 100,000 users and 5,000 resources.
func BenchmarkScaleStart(b *testing.B) {
	for b.Loop() {
		s, err := New(Options{Seed: scaleSeed, DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

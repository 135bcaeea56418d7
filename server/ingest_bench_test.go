package server_test

// Benchmarks of the audit trail's writers behind docs/BENCHMARKS.md (## Audit ingest).
// They use only the server's exported API, so the same file measures a server built
// before the ingest checks (docs/BENCHMARKS.md says how), side by side.
//
//	go test ./server/ -run '^$' -bench 'JournalIngest|RefusedLogins' -benchtime 3x -count 3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// benchCall sends one JSON request to url and decodes a reply with status want.
func benchCall(b *testing.B, c *http.Client, method, url, token string, body, out any, want int) {
	b.Helper()
	var rd bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		rd.Reset(raw)
	}
	req, err := http.NewRequest(method, url, &rd)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, buf.String())
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalIngest: 20,000 records of one real session, synced as the sync loop
// does (batches of 500, one request in flight) to the real handler over loopback HTTP
// with its durable store. Every record passes the ingest checks (the uploader's own
// session, its user, a time inside its life), so it is stored verified.
func BenchmarkJournalIngest(b *testing.B) {
	const n, batch = 20_000, api.MaxJournalBatch
	s, err := server.New(server.Options{Seed: server.DemoSeed, PasswordCost: bcrypt.MinCost, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	c := ts.Client()
	base := ts.URL + api.Prefix
	var login api.LoginResponse
	benchCall(b, c, "POST", base+"/auth/login", "", api.LoginRequest{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}, &login, 200)
	var start api.StartSessionResponse
	benchCall(b, c, "POST", base+"/impersonation/sessions", login.Token, api.StartSessionRequest{UserID: server.DemoFleetManagerID, Reason: "TICKET-1"}, &start, 201)
	sess := start.Session
	round := 0
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		round++
		jid := fmt.Sprintf("bench-%d.journal", round)
		recs := make([]api.WireRecord, n)
		prev := api.ZeroHash
		for i := range recs {
			body, err := json.Marshal(api.RecordBody{
				EventID: fmt.Sprintf("01J%023d", i+1), SessionID: sess.ID, Time: sess.StartedAt.Add(time.Duration(i) * time.Millisecond),
				Action: api.ActionView, Actor: sess.Impersonator, User: &sess.User,
				Details: "dashboard d-acme-fleet: Fleet overview",
			})
			if err != nil {
				b.Fatal(err)
			}
			seq := uint64(i + 1)
			h := api.RecordHash(jid, seq, prev, body)
			recs[i] = api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: body}
			prev = h
		}
		b.StartTimer()
		t0 := time.Now()
		for i := 0; i < n; i += batch {
			var out api.PutRecordsResponse
			benchCall(b, c, "PUT", base+"/audit/journals/"+jid+"/records", login.Token, api.PutRecordsRequest{Records: recs[i:min(i+batch, n)]}, &out, 200)
		}
		total += time.Since(t0)
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
}

// BenchmarkRefusedLogins: 10,000 sign-ins with a wrong password for one e-mail from one
// address (nearly all of them throttled), then the server closed: how much the audit
// log grew, as its events' JSON and as the store file.
func BenchmarkRefusedLogins(b *testing.B) {
	const n = 10_000
	var events, eventBytes, fileBytes float64
	for b.Loop() {
		dir := b.TempDir()
		opts := server.Options{Seed: server.DemoSeed, PasswordCost: bcrypt.MinCost, DataDir: dir}
		s, err := server.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		db := filepath.Join(dir, "server.db")
		before, err := os.Stat(db)
		if err != nil {
			b.Fatal(err)
		}
		h := s.Handler()
		body, _ := json.Marshal(api.LoginRequest{Email: server.DemoSupportEmail, Password: "wrong"})
		for range n {
			req := httptest.NewRequest("POST", "http://127.0.0.1"+api.Prefix+"/auth/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusTooManyRequests {
				b.Fatalf("login: %d %s", rec.Code, rec.Body)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		after, err := os.Stat(db)
		if err != nil {
			b.Fatal(err)
		}
		fileBytes += float64(after.Size() - before.Size())

		b.StopTimer()
		s, err = server.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		c := ts.Client()
		var login api.LoginResponse
		benchCall(b, c, "POST", ts.URL+api.Prefix+"/auth/login", "", api.LoginRequest{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}, &login, 200)
		for cursor := ""; ; {
			var page struct {
				Events     []json.RawMessage `json:"events"`
				NextCursor string            `json:"next_cursor"`
			}
			benchCall(b, c, "GET", ts.URL+api.Prefix+"/audit/events?kind="+api.EventLoginFailed+"&limit=200&cursor="+cursor, login.Token, nil, &page, 200)
			for _, ev := range page.Events {
				events++
				eventBytes += float64(len(ev))
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		ts.Close()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(events/float64(b.N), "events/10k")
	b.ReportMetric(eventBytes/float64(b.N), "event-bytes/10k")
	b.ReportMetric(fileBytes/float64(b.N), "file-bytes/10k")
}

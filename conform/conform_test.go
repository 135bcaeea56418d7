package conform

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/server/notify"
)

const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// reference is the real reference server in process, its handler wrapped by wrap (a
// broken variant, or nil), behind a real loopback listener.
type reference struct {
	srv     *server.Server
	url     string
	webhook net.Listener // where the server sends Acme's notifications, when asked for
}

func startReference(t *testing.T, withWebhook bool, wrap func(*server.Server, http.Handler) http.Handler) *reference {
	t.Helper()
	ref := &reference{}
	opts := server.Options{DataDir: t.TempDir(), PasswordCost: bcrypt.MinCost}
	if withWebhook {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ref.webhook = ln
		key, _ := api.ParseWebhookSecret(webhookSecret)
		opts.Webhooks = notify.Config{"c-acme": {URL: "http://" + ln.Addr().String() + "/hooks", Secret: key}}
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ref.srv = srv
	var h http.Handler = srv.Handler()
	if wrap != nil {
		h = wrap(srv, h)
	}
	ts := httptest.NewServer(h)
	ref.url = ts.URL
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("server Close: %v", err)
		}
	})
	return ref
}

func demo(email string) Credentials {
	return Credentials{Email: email, Password: server.DemoSupportPassword}
}

// fullConfig gives the kit every identity the demo has for it.
func fullConfig(ref *reference) Config {
	cfg := Config{
		Server:       ref.url,
		Admin:        demo(server.DemoSupportEmail),
		User:         demo(server.DemoFleetManagerEmail),
		UserAdmin:    demo(server.DemoCompanyAdminEmail),
		OtherAdmin:   demo("otto@orbit.demo"),
		OptedOutUser: server.DemoOptedOutID,
	}
	if ref.webhook != nil {
		cfg.WebhookSecret = webhookSecret
		cfg.webhookListener = ref.webhook
	}
	return cfg
}

func runKit(t *testing.T, cfg Config) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func summary(rep Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Status != Pass {
			b.WriteString("\n  " + string(c.Status) + " " + c.ID + ": " + c.Detail)
		}
	}
	return b.String()
}

// TestTheReferenceServerConforms: with every identity and the webhook receiver given,
// every check of the kit passes against the reference server, and the run leaves no
// session active and no user data changed.
func TestTheReferenceServerConforms(t *testing.T) {
	rec := &recorder{}
	ref := startReference(t, true, func(_ *server.Server, h http.Handler) http.Handler { return rec.wrap(h) })
	before := ownViews(t, ref)
	rep := runKit(t, fullConfig(ref))
	if !rep.OK || rep.Passed != len(checks) {
		t.Fatalf("%d of %d checks passed:%s", rep.Passed, len(checks), summary(rep))
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "ended ") }) {
		t.Errorf("the report does not say which sessions it ended: %v", rep.Notes)
	}
	assertNoSessionLeftActive(t, ref)
	if after := ownViews(t, ref); after != before {
		t.Errorf("the run changed what users see:\nbefore %s\nafter  %s", before, after)
	}
	rec.checkCodes(t)
	rec.checkSchemas(t)
}

// TestAMinimalRunPassesWithOnlyAnAdmin: with the admin alone, every required check
// passes and the optional ones that need more say what they need.
func TestAMinimalRunPassesWithOnlyAnAdmin(t *testing.T) {
	ref := startReference(t, false, nil)
	rep := runKit(t, Config{Server: ref.url, Admin: demo(server.DemoSupportEmail)})
	if !rep.OK {
		t.Fatalf("not OK:%s", summary(rep))
	}
	for _, c := range rep.Checks {
		if c.Status == Skip && !strings.Contains(c.Detail, "SHADOW_CONFORM_") && !strings.Contains(c.Detail, "--webhook-listen") && !strings.Contains(c.Detail, "needs ") {
			t.Errorf("%s skipped without saying what it needs: %s", c.ID, c.Detail)
		}
	}
	assertNoSessionLeftActive(t, ref)
}

// ownViews is what Nora sees of herself and her dashboards, with her own token.
func ownViews(t *testing.T, ref *reference) string {
	t.Helper()
	p := newProber(ref.url, http.DefaultClient)
	r := &run{p: p, ctx: context.Background()}
	nora, err := r.signIn(demo(server.DemoFleetManagerEmail))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, path := range []string{"/api/v1/me", "/api/v1/dashboards", "/api/v1/dashboards/d-acme-nora-north"} {
		resp := r.get(path, nora.token)
		body := resp.body
		if path == "/api/v1/me" { // the fresh token's expiry aside
			var me api.Me
			json.Unmarshal(body, &me)
			body, _ = json.Marshal([]any{me.User, me.Settings})
		}
		b.WriteString(path + " " + resp.what() + " " + string(body) + "\n")
	}
	return b.String()
}

// assertNoSessionLeftActive reads every session the support admin started from the audit
// log and checks none is active.
func assertNoSessionLeftActive(t *testing.T, ref *reference) {
	t.Helper()
	r := &run{p: newProber(ref.url, http.DefaultClient), ctx: context.Background()}
	admin, err := r.signIn(demo(server.DemoSupportEmail))
	if err != nil {
		t.Fatal(err)
	}
	r.admin = admin
	starts, err := r.events(map[string][]string{"kind": {api.EventSessionStart}})
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) < 2 {
		t.Fatalf("only %d sessions started", len(starts))
	}
	for _, ev := range starts {
		var s api.Session
		if err := r.get("/api/v1/impersonation/sessions/"+ev.SessionID, admin.token).decode(200, &s); err != nil {
			t.Fatal(err)
		}
		if s.State == api.SessionActive {
			t.Errorf("session %s (%s) is still active after the run", s.ID, s.Reason)
		}
	}
}

// impersonating reports whether a request carries a token whose claims say it
// impersonates (test code reads them unverified, as a proxy in front could).
func impersonating(r *http.Request) bool {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return false
	}
	_, ok := claims["act"]
	return ok
}

// capture runs h and returns what it answered.
func capture(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// rewriteJSON passes the request on and lets edit change a 200 JSON reply.
func rewriteJSON(h http.Handler, match func(*http.Request) bool, edit func(map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r) {
			h.ServeHTTP(w, r)
			return
		}
		rec := capture(h, r)
		var v map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			replay(w, rec, rec.Body.Bytes())
			return
		}
		edit(v)
		raw, _ := json.Marshal(v)
		replay(w, rec, raw)
	})
}

func isJournalPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/audit/journals/")
}

// variants are the broken servers: the real handler with one guarantee broken by a
// handler in front of it. Each must make the kit fail that check and no other.
var variants = []struct {
	name  string
	check string
	wrap  func(*server.Server, http.Handler) http.Handler
}{
	{"a write route without the read-only middleware", "readonly.unsafe_methods", func(_ *server.Server, h http.Handler) http.Handler {
		var once sync.Once
		var own string
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPatch || !strings.HasPrefix(r.URL.Path, "/api/v1/dashboards/") || !impersonating(r) {
				h.ServeHTTP(w, r)
				return
			}
			// The request still reaches the server's audit (and its refusal), as a route
			// that forgot the middleware would still be audited; then the route runs as
			// the user, as it would have without the middleware.
			body := new(bytes.Buffer)
			body.ReadFrom(r.Body)
			capture(h, cloneWith(r, body.Bytes(), r.Header.Get("Authorization")))
			once.Do(func() {
				req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(
					`{"email":"`+server.DemoFleetManagerEmail+`","password":"`+server.DemoSupportPassword+`"}`))
				req.Host = r.Host // a loopback name the server answers to
				login := capture(h, req)
				var out api.LoginResponse
				json.Unmarshal(login.Body.Bytes(), &out)
				own = out.Token
			})
			rec := capture(h, cloneWith(r, body.Bytes(), "Bearer "+own))
			replay(w, rec, rec.Body.Bytes())
		})
	}},
	{"a DELETE that does not revoke", "revoke.delete", func(_ *server.Server, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodDelete || !strings.HasPrefix(r.URL.Path, "/api/v1/impersonation/sessions/") || impersonating(r) {
				h.ServeHTTP(w, r)
				return
			}
			// Who may end it is checked as the server would (may they read it?), and then
			// nothing is ended.
			peek := capture(h, cloneWith(r, nil, r.Header.Get("Authorization"), http.MethodGet))
			if peek.Code != http.StatusOK {
				replay(w, peek, peek.Body.Bytes())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}},
	{"a duplicate that is stored again", "journal.duplicate", func(_ *server.Server, h http.Handler) http.Handler {
		return rewriteJSON(h, isJournalPut, func(v map[string]any) {
			if d, _ := v["duplicates"].(float64); d > 0 {
				v["accepted"], v["duplicates"] = v["accepted"].(float64)+d, 0
			}
		})
	}},
	{"a receipt over the wrong head", "journal.receipt", func(srv *server.Server, h http.Handler) http.Handler {
		key := loadKey(srv)
		return rewriteJSON(h, isJournalPut, func(v map[string]any) {
			raw, _ := json.Marshal(v["receipt"])
			var rc api.Receipt
			json.Unmarshal(raw, &rc)
			if rc.Seq == 0 {
				return
			}
			rc.Seq-- // the head before: signed with the real key, so only its words are wrong
			rc.Sign(key)
			v["receipt"] = rc
		})
	}},
	{"an audit log that leaves out refused requests", "audit.both_identities", func(_ *server.Server, h http.Handler) http.Handler {
		return rewriteJSON(h, func(r *http.Request) bool { return r.URL.Path == "/api/v1/audit/events" }, func(v map[string]any) {
			events, _ := v["events"].([]any)
			kept := []any{}
			for _, e := range events {
				if ev, _ := e.(map[string]any); ev["kind"] != api.EventRequest || ev["status"] != float64(403) {
					kept = append(kept, e)
				}
			}
			v["events"] = kept
		})
	}},
	{"a phone that is not withheld", "redaction.markers", func(_ *server.Server, h http.Handler) http.Handler {
		return rewriteJSON(h, func(r *http.Request) bool { return r.URL.Path == "/api/v1/me" && impersonating(r) }, func(v map[string]any) {
			user := v["user"].(map[string]any)
			user["phone"] = "+49 30 5550 0042"
			delete(user, "redacted")
		})
	}},
	{"a withheld chart that still sends its data", "redaction.markers", func(_ *server.Server, h http.Handler) http.Handler {
		return rewriteJSON(h, func(r *http.Request) bool {
			return strings.HasPrefix(r.URL.Path, "/api/v1/dashboards/") && impersonating(r)
		}, func(v map[string]any) {
			widgets, _ := v["widgets"].([]any)
			for _, w := range widgets {
				if w, _ := w.(map[string]any); w["redacted"] == true {
					if series, ok := w["series"].(map[string]any); ok {
						series["lines"] = []any{map[string]any{"name": "cost", "points": []any{map[string]any{"t": "2025-06-01T00:00:00Z", "v": 1234.5}}}}
					}
					if bar, ok := w["bar"].(map[string]any); ok {
						bar["bars"] = []any{map[string]any{"label": "cost", "value": 1234.5}}
					}
				}
			}
		})
	}},
	{"an ETag that If-None-Match never matches", "cache.etag", func(_ *server.Server, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("If-None-Match")
			h.ServeHTTP(w, r)
		})
	}},
}

func cloneWith(r *http.Request, body []byte, auth string, method ...string) *http.Request {
	m := r.Method
	if len(method) > 0 {
		m = method[0]
	}
	c := httptest.NewRequest(m, r.URL.String(), bytes.NewReader(body))
	c.Host = r.Host // the server answers loopback names only; NewRequest's is example.com
	c.Header = r.Header.Clone()
	c.Header.Set("Authorization", auth)
	c.RemoteAddr = r.RemoteAddr
	return c
}

// loadKey reads the receipt signing key from the server's data directory, as someone
// with the server's files could.
func loadKey(srv *server.Server) ed25519.PrivateKey {
	raw, err := os.ReadFile(filepath.Join(srv.DataDir(), "audit-signing-key.pem"))
	if err != nil {
		panic(err)
	}
	return parsePKCS8Ed25519(raw)
}

// TestEachBrokenVariantFailsExactlyItsCheck: against each variant the run does not
// conform, the check the variant breaks fails, and no other check fails (checks that
// need the broken one are skipped, saying so).
func TestEachBrokenVariantFailsExactlyItsCheck(t *testing.T) {
	for _, v := range variants {
		t.Run(v.check, func(t *testing.T) {
			t.Parallel()
			ref := startReference(t, false, v.wrap)
			rep := runKit(t, fullConfig(ref))
			if rep.OK {
				t.Fatalf("%s: the kit says the server conforms", v.name)
			}
			if got := rep.FailedIDs(); len(got) != 1 || got[0] != v.check {
				t.Fatalf("%s: failed %v, want exactly [%s]:%s", v.name, got, v.check, summary(rep))
			}
			for _, c := range rep.Checks {
				if c.Status == Skip && c.ID != "webhook.delivery" && !strings.Contains(c.Detail, v.check) {
					t.Errorf("%s: %s skipped for another reason: %s", v.name, c.ID, c.Detail)
				}
			}
			if v.check == "revoke.delete" {
				// The server cannot end sessions: the kit must say so, not claim it did.
				if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "COULD NOT END "+"ses_") }) {
					t.Errorf("the report does not say the session could not be ended: %v", rep.Notes)
				}
				return
			}
			assertNoSessionLeftActive(t, ref)
		})
	}
}

// TestTheKitWaitsOutRetryAfter: a server that throttles (a 429 with Retry-After on the
// first journal PUT and the first session start, as issue 8's caps will) is obeyed, not
// failed, and the report says it waited.
func TestTheKitWaitsOutRetryAfter(t *testing.T) {
	var mu sync.Mutex
	throttled := map[string]bool{}
	ref := startReference(t, false, func(_ *server.Server, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := ""
			switch {
			case impersonating(r):
			case isJournalPut(r):
				key = "journal"
			case r.Method == http.MethodPost && r.URL.Path == "/api/v1/impersonation/sessions":
				key = "start"
			}
			mu.Lock()
			first := key != "" && !throttled[key]
			throttled[key] = true
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "1")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"error":{"code":"rate_limited","message":"slow down","retry_after_seconds":1}}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	rep := runKit(t, Config{Server: ref.url, Admin: demo(server.DemoSupportEmail)})
	if !rep.OK {
		t.Fatalf("a throttling server fails the run:%s", summary(rep))
	}
	if !slices.Contains(rep.Notes, "waited out Retry-After 2 times") {
		t.Errorf("notes %v", rep.Notes)
	}
}

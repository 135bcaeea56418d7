package client

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shadowview/shadow/api"
)

// Tests of the client's own rules that need no server. Everything that talks HTTP is
// tested against the real reference server in the other test files.

func TestEveryContractCodeHasAKind(t *testing.T) {
	t.Parallel()
	for _, code := range api.Codes() {
		if _, ok := codeKind[code]; !ok {
			t.Errorf("code %s has no kind: add it to codeKind", code)
		}
	}
	for code, kind := range codeKind {
		if got := kindOf(code.Status(), code); got != kind {
			t.Errorf("kindOf(%d, %s) = %v, want %v", code.Status(), code, got, kind)
		}
	}
	// A code from a newer contract falls back to its status.
	for status, want := range map[int]error{401: ErrUnauthenticated, 403: ErrNotAllowed, 404: ErrNotFound,
		409: ErrConflict, 429: ErrRateLimited, 418: ErrValidation, 500: ErrServer, 599: ErrServer} {
		if got := kindOf(status, "from_the_future"); got != want {
			t.Errorf("kindOf(%d, unknown) = %v, want %v", status, got, want)
		}
	}
}

func TestErrorProtocol(t *testing.T) {
	t.Parallel()
	body := api.ErrorBody{Code: api.CodeJournalGap, Message: "server holds 3", Head: &api.JournalHead{Seq: 3}}
	err := fmt.Errorf("sync: %w", newError(&Error{Op: "sync the journal", Kind: ErrConflict, Status: 409, Attempts: 1, Body: &body}))

	var got api.ErrorBody
	if !errors.As(err, &got) || got.Head == nil || got.Head.Seq != 3 {
		t.Fatalf("errors.As(api.ErrorBody) lost the envelope: %#v", got)
	}
	if !errors.Is(err, ErrConflict) || errors.Is(err, ErrServer) {
		t.Fatal("kind does not match")
	}
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		t.Fatal("an error without Retry-After must not offer one (a caller would wait 0)")
	}

	limited := newError(&Error{Op: "search the directory", Kind: ErrRateLimited, Status: 429, Attempts: 1, RetryAfterDelay: 7 * time.Second})
	if !errors.As(limited, &ra) || ra.RetryAfter() != 7*time.Second {
		t.Fatal("Retry-After not reachable with errors.As")
	}
	if msg := limited.Error(); msg != "search the directory: the server is busy and asked to slow down; try again in 7s" {
		t.Errorf("message %q", msg)
	}

	timeout := newError(&Error{Op: "list the dashboards", Kind: ErrTimeout, Attempts: 3, detail: "the server at h did not answer within 1s"})
	if !errors.Is(timeout, ErrTimeout) || !errors.Is(timeout, ErrUnreachable) {
		t.Fatal("a timeout must be both ErrTimeout and ErrUnreachable")
	}
	if !strings.HasSuffix(timeout.Error(), "(after 3 attempts)") {
		t.Errorf("message %q does not count the attempts", timeout.Error())
	}
}

// The wait between attempts is internal/backoff's full jitter (tested there), bounded
// by these options: the first wait by BackoffBase, every wait by BackoffMax.
func TestBackoffUsesTheOptions(t *testing.T) {
	t.Parallel()
	w := &wire{opts: Options{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}}
	var longest time.Duration
	for range 1000 {
		if d := w.backoff(1); d > 100*time.Millisecond {
			t.Fatalf("first wait %v beyond BackoffBase", d)
		}
		d := w.backoff(60)
		if d > time.Second {
			t.Fatalf("wait %v beyond BackoffMax", d)
		}
		longest = max(longest, d)
	}
	if longest < 500*time.Millisecond {
		t.Fatalf("waits after many failures never grew past %v", longest)
	}
}

func TestFillPath(t *testing.T) {
	t.Parallel()
	got, err := fillPath("/api/v1/audit/journals/{journal_id}/records", map[string]string{"journal_id": "j/1 {x}"})
	if err != nil || got != "/api/v1/audit/journals/j%2F1%20%7Bx%7D/records" {
		t.Fatalf("fillPath = %q, %v", got, err)
	}
	if _, err := fillPath("/api/v1/dashboards/{id}", nil); err == nil || err.Error() != "no id given" {
		t.Fatalf("a missing parameter must be refused: %v", err)
	}
}

func TestDecodeJSONSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		``:                            "empty",
		`null`:                        "not a JSON object",
		`[1,2]`:                       "not a JSON object",
		`{"dashboards":[{"id":"d1"`:   "cut short",
		`{"dashboards":nope}`:         "invalid JSON at byte",
		`{"dashboards":"not a list"}`: `field "dashboards"`,
		`{"dashboards":[]} trailing`:  "invalid JSON",
	} {
		var out api.DashboardList
		err := decodeJSON([]byte(body), &out)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decode %q: %v, want it to mention %q", body, err, want)
		}
	}
}

func TestRetryAfterDelay(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	if d := retryAfterDelay(h, nil); d != 0 {
		t.Fatalf("no header: %v", d)
	}
	h.Set("Retry-After", "3")
	if d := retryAfterDelay(h, nil); d != 3*time.Second {
		t.Fatalf("seconds: %v", d)
	}
	h.Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
	if d := retryAfterDelay(h, nil); d < 85*time.Second || d > 90*time.Second {
		t.Fatalf("HTTP date: %v", d)
	}
	h.Set("Retry-After", "99999999999999")
	if d := retryAfterDelay(h, nil); d != 24*time.Hour {
		t.Fatalf("absurd value not capped: %v", d)
	}
	h.Set("Retry-After", "soon")
	if d := retryAfterDelay(h, &api.ErrorBody{RetryAfterSeconds: 4}); d != 4*time.Second {
		t.Fatalf("envelope fallback: %v", d)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noCerts := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(noCerts, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{},
		{BaseURL: "ftp://example.com"},
		{BaseURL: "https://"},
		{BaseURL: "https://example.com?x=1"},
		{BaseURL: "https://user:pw@example.com"},
		{BaseURL: "https://example.com", CAFile: filepath.Join(dir, "missing.pem")},
		{BaseURL: "https://example.com", CAFile: noCerts},
	} {
		if c, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted: %v", o, c)
		}
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{BaseURL: "https://shadow.example.com"}, ""},
		{Options{BaseURL: "http://127.0.0.1:8080"}, ""},
		{Options{BaseURL: "http://localhost:8080/"}, ""},
		{Options{BaseURL: "https://shadow.example.com", InsecureSkipVerify: true}, "TLS certificate verification is OFF"},
		{Options{BaseURL: "http://shadow.example.com"}, "plain http"},
	} {
		c, err := New(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Warning()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: warning %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestGuardRecognisesImpersonationTokens(t *testing.T) {
	t.Parallel()
	sign := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	g := newReadOnlyGuard()
	own := sign(jwt.MapClaims{"sub": "u1", "scope": api.ScopeFull, "sid": "login-7"})
	acting := sign(jwt.MapClaims{"sub": "u2", "act": map[string]any{"sub": "admin"}})
	readOnly := sign(jwt.MapClaims{"sub": "u2", "scope": api.ScopeReadOnly})
	opaque := "opaque-impersonation-token"

	header := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for _, m := range api.UnsafeMethods {
		if err := g.check(m, header(own)); err != nil {
			t.Errorf("%s with an own token refused: %v", m, err)
		}
		for _, tok := range []string{acting, readOnly} {
			if err := g.check(m, header(tok)); !errors.Is(err, errGuardRefused) {
				t.Errorf("%s with an impersonation JWT passed", m)
			}
		}
		if err := g.check(m, header(opaque)); err != nil {
			t.Errorf("an unregistered opaque token is not known to impersonate: %v", err)
		}
	}
	g.register(opaque)
	if err := g.check(http.MethodPost, http.Header{"Authorization": {"bearer   " + opaque}}); !errors.Is(err, errGuardRefused) {
		t.Error("a registered token passed (scheme case and spacing must not matter)")
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
		if err := g.check(m, header(opaque)); err != nil {
			t.Errorf("safe method %s refused: %v", m, err)
		}
	}
}

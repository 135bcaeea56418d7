package api

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRouteTableIsWellFormed(t *testing.T) {
	names := map[string]bool{}
	patterns := map[string]bool{}
	mux := http.NewServeMux()
	for _, r := range Routes {
		if names[r.Name] {
			t.Errorf("duplicate route name %q", r.Name)
		}
		names[r.Name] = true
		if patterns[r.Pattern()] {
			t.Errorf("duplicate pattern %q", r.Pattern())
		}
		patterns[r.Pattern()] = true
		if r.Path != "/healthz" && !strings.HasPrefix(r.Path, Prefix+"/") {
			t.Errorf("route %s outside %s: %s", r.Name, Prefix, r.Path)
		}
		if !r.Safe() && r.Auth == AuthAny {
			t.Errorf("unsafe route %s accepts any token; writes must be AuthOwn or AuthStaff", r.Name)
		}
		mux.HandleFunc(r.Pattern(), func(http.ResponseWriter, *http.Request) {}) // panics on a bad pattern
		if got, ok := RouteByName(r.Name); !ok || got != r {
			t.Errorf("RouteByName(%q) = %v, %v", r.Name, got, ok)
		}
	}
	if _, ok := RouteByName("nope"); ok {
		t.Error("RouteByName found a route that does not exist")
	}
}

func TestSafeMethods(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "OPTIONS"} {
		if !SafeMethod(m) {
			t.Errorf("%s should be safe", m)
		}
	}
	for _, m := range UnsafeMethods {
		if SafeMethod(m) {
			t.Errorf("%s should be unsafe", m)
		}
	}
	if SafeMethod("get") {
		t.Error("method names are case-sensitive; lower-case get is not GET")
	}
}

func TestEveryCodeHasAStatus(t *testing.T) {
	for _, c := range Codes() {
		if s := c.Status(); s < 400 || s > 599 {
			t.Errorf("%s: status %d", c, s)
		}
	}
	if Code("made_up").Status() != 500 {
		t.Error("unknown code should map to 500")
	}
	if CodeJournalGap.Status() != 409 || CodeReadOnlyImpersonation.Status() != 403 || CodeReasonRequired.Status() != 422 {
		t.Error("status table drifted from the contract")
	}
}

func TestRecordHashCoversEveryInput(t *testing.T) {
	body := []byte(`{"action":"view"}`)
	base := RecordHash("j1", 1, ZeroHash, body)
	if base != RecordHash("j1", 1, ZeroHash, body) {
		t.Fatal("hash is not deterministic")
	}
	var prev Hash
	prev[0] = 1
	for name, h := range map[string]Hash{
		"journal": RecordHash("j2", 1, ZeroHash, body),
		"seq":     RecordHash("j1", 2, ZeroHash, body),
		"prev":    RecordHash("j1", 1, prev, body),
		"body":    RecordHash("j1", 1, ZeroHash, []byte(`{"action":"viev"}`)),
		// length-prefixing the id keeps "j1"+"x" distinct from "j1x"+"".
		"boundary": RecordHash("j1x", 1, ZeroHash, body),
	} {
		if h == base {
			t.Errorf("changing %s did not change the hash", name)
		}
	}
	parsed, err := ParseHash(base.String())
	if err != nil || parsed != base {
		t.Fatalf("ParseHash round trip: %v", err)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("g", 64), strings.Repeat("a", 63)} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
}

func TestWireRecordVerify(t *testing.T) {
	body := []byte(`{"action":"view"}`)
	h := RecordHash("j", 1, ZeroHash, body)
	r := WireRecord{Seq: 1, PrevHash: ZeroHash.String(), Hash: h.String(), Body: body}
	if err := r.Verify("j"); err != nil {
		t.Fatal(err)
	}
	r.Body = []byte(`{"action":"vie"}`)
	if err := r.Verify("j"); err == nil {
		t.Fatal("tampered body verified")
	}
}

func TestReceiptSignVerify(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := Receipt{JournalID: "j", Seq: 7, Hash: ZeroHash.String(), IssuedAt: time.Unix(1700000000, 5), KeyID: "k"}
	r.Sign(priv)
	if err := r.Verify(pub); err != nil {
		t.Fatal(err)
	}
	forged := r
	forged.Seq = 8
	if err := forged.Verify(pub); err == nil {
		t.Fatal("receipt with an edited seq verified")
	}
	if err := r.Verify(pub[:10]); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestErrorBodyIsAnError(t *testing.T) {
	var err error = ErrorBody{Code: CodeJournalGap, Message: "server holds 3", Head: &JournalHead{Seq: 3}}
	wrapped := fmt.Errorf("sync: %w", err)
	var body ErrorBody
	if !errors.As(wrapped, &body) || body.Head == nil || body.Head.Seq != 3 {
		t.Fatalf("errors.As lost the body: %#v", body)
	}
	if got := wrapped.Error(); got != "sync: journal_gap: server holds 3" {
		t.Errorf("message %q", got)
	}
}

// TestEveryRouteHasASpec: a route added to the table without its spec (body, reply,
// status, codes) fails here, so the OpenAPI document and the conformance kit's code
// checks cannot miss it.
func TestEveryRouteHasASpec(t *testing.T) {
	for _, r := range Routes {
		spec, ok := Specs[r.Name]
		if !ok {
			t.Errorf("route %s (%s) has no entry in Specs", r.Name, r.Pattern())
			continue
		}
		if spec.Summary == "" || spec.Status < 200 || spec.Status > 299 {
			t.Errorf("route %s: spec needs a summary and a 2xx status: %+v", r.Name, spec)
		}
		if (spec.Status == http.StatusNoContent) != (spec.Response == nil && r.Name != RouteOpenAPI) {
			t.Errorf("route %s: a 204 has no reply body and every other status has one", r.Name)
		}
		for _, c := range RouteCodes(r) {
			if c.Status() == http.StatusInternalServerError && c != CodeInternal {
				t.Errorf("route %s: code %q has no status of its own", r.Name, c)
			}
		}
	}
	for name := range Specs {
		if _, ok := RouteByName(name); !ok {
			t.Errorf("Specs has %q, which is no route", name)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	key, err := ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"impersonation.session.started"}`)
	at := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set(WebhookIDHeader, "msg_1")
	h.Set(WebhookTimestampHeader, "1700000000")
	h.Set(WebhookSignatureHeader, "v1,bogus "+SignWebhook(key, "msg_1", at, body))
	if err := VerifyWebhook(key, h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("a good signature among others: %v", err)
	}
	if err := VerifyWebhook(key, h, append(body, ' '), at, 5*time.Minute); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("a changed body: %v, want ErrWebhookSignature", err)
	}
	if err := VerifyWebhook(key, h, body, at.Add(10*time.Minute), 5*time.Minute); err == nil || errors.Is(err, ErrWebhookSignature) {
		t.Errorf("a replay ten minutes on: %v, want a timestamp error", err)
	}
	other, _ := ParseWebhookSecret("whsec_" + strings.Repeat("QUJD", 8))
	if err := VerifyWebhook(other, h, body, at, 5*time.Minute); !errors.Is(err, ErrWebhookSignature) {
		t.Errorf("another key: %v", err)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!", "whsec_QUJD"} {
		if _, err := ParseWebhookSecret(bad); err == nil {
			t.Errorf("ParseWebhookSecret(%q) accepted", bad)
		}
	}
}

// TestWebhookSignatureMatchesStandardWebhooks: the example of the Standard Webhooks
// specification, so any receiver library for it accepts our deliveries.
func TestWebhookSignatureMatchesStandardWebhooks(t *testing.T) {
	key, err := ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := SignWebhook(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want the specification's %s", got, want)
	}
}

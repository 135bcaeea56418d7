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

package client

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/go-resty/resty/v2"
	"github.com/golang-jwt/jwt/v5"

	"github.com/shadowview/shadow/api"
)

// errGuardRefused is what the read-only guard returns; call() turns it into an *Error
// of kind ErrReadOnly with Local set.
var errGuardRefused = errors.New("refused by the client: unsafe method with an impersonation token")

// readOnlyGuard refuses any unsafe method (api.SafeMethod) carrying an impersonation
// token. It is the second line behind the View type, which has no write methods: it
// sits in resty's pre-request hook and again in the transport, so a request built any
// other way still cannot leave the process. The server refuses such requests too; this
// guard means they are never sent.
type readOnlyGuard struct {
	mu sync.RWMutex
	// tokens holds SHA-256 digests of the impersonation tokens this process was given,
	// so the guard recognises them whatever their format without keeping a second copy.
	tokens map[[sha256.Size]byte]struct{}
}

func newReadOnlyGuard() *readOnlyGuard {
	return &readOnlyGuard{tokens: map[[sha256.Size]byte]struct{}{}}
}

// register marks token as an impersonation token for the life of the process.
func (g *readOnlyGuard) register(token string) {
	g.mu.Lock()
	g.tokens[sha256.Sum256([]byte(token))] = struct{}{}
	g.mu.Unlock()
}

// impersonating reports whether token is one this process was given for a session, or
// one whose claims say it impersonates (an impersonation token passed in as a plain
// token, e.g. through SHADOW_TOKEN).
func (g *readOnlyGuard) impersonating(token string) bool {
	g.mu.RLock()
	_, known := g.tokens[sha256.Sum256([]byte(token))]
	g.mu.RUnlock()
	return known || claimsImpersonation(token)
}

// check is the single rule: an unsafe method may not carry an impersonation token.
func (g *readOnlyGuard) check(method string, header http.Header) error {
	if api.SafeMethod(method) {
		return nil
	}
	// Every spelling of the name, not just the canonical one: a header map filled by
	// hand ("authorization") goes out as it is, and the server reads it all the same.
	for name, values := range header {
		if !strings.EqualFold(name, "Authorization") {
			continue
		}
		for _, v := range values {
			scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
			if ok && strings.EqualFold(scheme, "Bearer") && g.impersonating(strings.TrimSpace(token)) {
				return errGuardRefused
			}
		}
	}
	return nil
}

// restHook is the guard as resty's pre-request hook: it sees the request exactly as it
// will be sent, Authorization included.
func (g *readOnlyGuard) restHook(_ *resty.Client, r *http.Request) error {
	return g.check(r.Method, r.Header)
}

// claimsImpersonation reads a JWT's claims without verifying them (the client cannot,
// and only needs to know what the token says it is): an actor claim (RFC 8693) or the
// read-only scope marks an impersonation token.
func claimsImpersonation(token string) bool {
	if strings.Count(token, ".") != 2 {
		return false
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return false
	}
	if _, ok := claims["act"]; ok {
		return true
	}
	scope, _ := claims["scope"].(string)
	return scope == api.ScopeReadOnly
}

// guardedTransport applies the guard at the last step before the network.
type guardedTransport struct {
	next  http.RoundTripper
	guard *readOnlyGuard
}

func (t guardedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.guard.check(r.Method, r.Header); err != nil {
		if r.Body != nil {
			_ = r.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	return t.next.RoundTrip(r)
}

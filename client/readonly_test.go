package client

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
)

// anyParam fills every {name} of a route path.
var anyParam = regexp.MustCompile(`\{[a-z_]+\}`)

// The guarantee: with an impersonation token, no unsafe request leaves the process —
// by any route the client knows, with any unsafe method, through every layer below the
// View: the call layer, the resty request (the lowest layer the client's code uses),
// and a request built by hand on the underlying http.Client. The real handler counts
// what reaches it, and must see none of them.
func TestNoUnsafeRequestWithAnImpersonationTokenLeavesTheProcess(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	v, _ := startNora(t, c)
	token := v.token
	ctx := ctxT(t)

	// Control: the counter counts. A safe request with the token reaches the handler,
	// and so does an unsafe one with the staff token.
	before := ts.reached.Load()
	if _, err := v.Me(ctx); err != nil {
		t.Fatal(err)
	}
	staffDelete, err := c.w.send(ctx, http.MethodDelete, c.w.base+api.Prefix+"/impersonation/sessions/s-no-such-session", nil, c.token, "")
	if err != nil || staffDelete.StatusCode() != http.StatusNotFound {
		t.Fatalf("control: staff DELETE: %v", err)
	}
	if got := ts.reached.Load() - before; got != 2 {
		t.Fatalf("control: %d requests reached the handler, want 2", got)
	}

	// A client that was never told this token is an impersonation token still knows
	// it by its claims.
	unaware, err := New(testOptions(ts.URL))
	if err != nil {
		t.Fatal(err)
	}

	before = ts.arrived.Load()
	attempts, tried := 0, 0 // combinations; requests tried in all (three ways each, plus the call layer)
	for _, route := range api.Routes {
		url := c.w.base + anyParam.ReplaceAllString(route.Path, "x")
		methods := api.UnsafeMethods
		if !route.Safe() {
			methods = append([]string{route.Method}, methods...)
		}
		for _, method := range methods {
			attempts++
			tried += 3
			// resty, as every client method sends.
			if _, err := c.w.send(ctx, method, url, []byte(`{}`), token, ""); !errors.Is(err, errGuardRefused) {
				t.Errorf("%s %s via resty: %v", method, url, err)
			}
			if _, err := unaware.w.send(ctx, method, url, []byte(`{}`), token, ""); !errors.Is(err, errGuardRefused) {
				t.Errorf("%s %s via a client unaware of the session: %v", method, url, err)
			}
			// By hand, beneath resty.
			req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := c.w.rest.GetClient().Do(req); !errors.Is(err, errGuardRefused) {
				if resp != nil {
					_ = resp.Body.Close()
				}
				t.Errorf("%s %s by hand: %v", method, url, err)
			}
		}
		if !route.Safe() {
			// The call layer, exactly as a method would use it, with every parameter.
			tried++
			err := c.w.call(ctx, request{op: "try " + route.Name, route: route.Name,
				params: map[string]string{"id": "x", "journal_id": "x"}, body: struct{}{}, token: token})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrReadOnly) || !e.Local || e.Attempts != 0 {
				t.Errorf("%s via call: %v", route.Name, err)
			}
		}
	}
	if got := ts.arrived.Load() - before; got != 0 {
		t.Fatalf("%d unsafe requests with the impersonation token reached the server (of %d tried)", got, tried)
	}
	if attempts < len(api.Routes)*len(api.UnsafeMethods) {
		t.Fatalf("only %d combinations tried", attempts)
	}
}

// A header map filled by hand need not be canonical: Go sends "authorization" as it is
// and the server reads it as Authorization. The guard must see the token under any
// spelling of the name, or a hand-built write could slip past it.
func TestGuardSeesTheTokenUnderAnySpellingOfTheHeader(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	v, id := startNora(t, c)
	ctx := ctxT(t)
	before := ts.arrived.Load()
	for _, name := range []string{"authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.w.base+api.Prefix+"/impersonation/sessions/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header[name] = []string{"Bearer " + v.token}
		resp, err := c.w.rest.GetClient().Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		if !errors.Is(err, errGuardRefused) {
			t.Errorf("DELETE with the token under %q: %v", name, err)
		}
	}
	if got := ts.arrived.Load() - before; got != 0 {
		t.Fatalf("%d unsafe requests with the impersonation token reached the server", got)
	}
}

package conform

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/api/openapi"
)

// exchange is one request the reference server answered during a kit run.
type exchange struct {
	method, target string // target: path and query
	reqHeader      http.Header
	reqBody        []byte
	status         int
	header         http.Header
	body           []byte
}

// recorder sits right in front of the reference server's handler and keeps every
// exchange, so a test can hold what the server really sent to the contract.
type recorder struct {
	mu   sync.Mutex
	seen []exchange
}

func (rc *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := capture(h, r)
		rc.mu.Lock()
		rc.seen = append(rc.seen, exchange{method: r.Method, target: r.URL.RequestURI(), reqHeader: r.Header.Clone(), reqBody: body,
			status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()})
		rc.mu.Unlock()
		replay(w, rec, rec.Body.Bytes())
	})
}

// routeMux resolves a request to its route, as the server's own table does.
func routeMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range api.Routes {
		mux.Handle(rt.Pattern(), http.NotFoundHandler())
	}
	return mux
}

func routeFor(mux *http.ServeMux, method, target string) (api.Route, bool) {
	_, pattern := mux.Handler(httptest.NewRequest(method, target, nil))
	for _, rt := range api.Routes {
		if rt.Pattern() == pattern {
			return rt, true
		}
	}
	return api.Route{}, false
}

// unroutedCodes are what a request that matches no route may be answered: the token
// checked before routing, the read-only guarantee, and 404 or 405.
var unroutedCodes = []api.Code{api.CodeNotFound, api.CodeMethodNotAllowed, api.CodeReadOnlyImpersonation,
	api.CodeUnauthenticated, api.CodeTokenExpired, api.CodeSessionExpired, api.CodeInternal, api.CodeUnavailable}

// checkCodes holds every error the server sent during the run to the contract: a code
// the route's spec (api.RouteCodes) does not list fails, so a handler that starts
// answering a new code cannot do it unannounced.
func (rc *recorder) checkCodes(t *testing.T) {
	t.Helper()
	mux := routeMux()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	seen := map[string]bool{}
	for _, x := range rc.seen {
		if x.status < 400 {
			continue
		}
		var env api.ErrorResponse
		if err := json.Unmarshal(x.body, &env); err != nil || env.Error.Code == "" {
			t.Errorf("%s %s answered %d without the error envelope: %q", x.method, x.target, x.status, x.body)
			continue
		}
		code := env.Error.Code
		if code.Status() != x.status {
			t.Errorf("%s %s answered %s with %d; the contract says %d", x.method, x.target, code, x.status, code.Status())
		}
		allowed, where := unroutedCodes, "a path that is no route"
		if rt, ok := routeFor(mux, x.method, x.target); ok {
			allowed, where = api.RouteCodes(rt), "route "+rt.Name
		}
		if !slices.Contains(allowed, code) {
			t.Errorf("%s %s answered %s, which api.Specs does not list for %s", x.method, x.target, code, where)
		}
		seen[where+" "+string(code)] = true
	}
	if len(seen) < 20 {
		t.Errorf("the run drew only %d distinct (route, code) answers; the check is too weak to mean much", len(seen))
	}
}

// checkSchemas validates every routed reply of the run (2xx and errors) against the
// OpenAPI document with libopenapi-validator: the status is one the operation lists,
// and the body matches its schema.
func (rc *recorder) checkSchemas(t *testing.T) {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	mux := routeMux()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	problems := map[string]int{}
	checked := 0
	for _, x := range rc.seen {
		rt, ok := routeFor(mux, x.method, x.target)
		if !ok || x.method == http.MethodHead || x.method == http.MethodOptions || x.status == http.StatusNotModified {
			continue
		}
		req := httptest.NewRequest(x.method, x.target, bytes.NewReader(x.reqBody))
		req.Header = x.reqHeader.Clone()
		resp := &http.Response{StatusCode: x.status, Header: x.header.Clone(), Body: io.NopCloser(bytes.NewReader(x.body)), Request: req}
		checked++
		if ok, verrs := v.ValidateHttpResponse(req, resp); !ok {
			for _, e := range verrs {
				why := e.Reason
				for _, s := range e.SchemaValidationErrors {
					why += " [" + s.Reason + " at " + s.FieldPath + "]"
				}
				problems[fmt.Sprintf("%s %d: %s: %s", rt.Name, x.status, e.Message, why)]++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d replies validated", checked)
	}
	var lines []string
	for p, n := range problems {
		lines = append(lines, fmt.Sprintf("%s (×%d)", p, n))
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		t.Errorf("replies that do not match the OpenAPI document:\n%s", strings.Join(lines, "\n"))
	}
}

func parsePKCS8Ed25519(raw []byte) ed25519.PrivateKey {
	block, _ := pem.Decode(raw)
	if block == nil {
		panic("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(ed25519.PrivateKey)
}

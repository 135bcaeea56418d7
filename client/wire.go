package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/cache"
	"github.com/shadowview/shadow/internal/backoff"
	"github.com/shadowview/shadow/internal/certerr"
)

// wire is the one way requests leave the process: route table in, typed reply or
// *Error out, with the retry policy, the body cap, the cache and the read-only guard
// applied in one place. It holds no token; each request carries its own.
type wire struct {
	opts  Options
	base  string // scheme://host[/prefix], no trailing slash
	host  string // for messages
	rest  *resty.Client
	guard *readOnlyGuard
}

func newWire(opts Options) (*wire, []string, error) {
	opts = opts.withDefaults()
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	tlsCfg, err := tlsConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	guard := newReadOnlyGuard()
	rest := resty.NewWithClient(newHTTPClient(opts, tlsCfg, guard))
	rest.SetHeader("User-Agent", "shadow/"+opts.Version)
	rest.SetHeader("Accept", "application/json")
	rest.SetResponseBodyLimit(int(min(opts.MaxResponseBytes, int64(maxInt))))
	rest.SetRetryCount(0) // call() owns retries: full jitter, Retry-After, per-route policy
	rest.SetLogger(quietLogger{})
	rest.SetDisableWarn(true)
	rest.SetPreRequestHook(guard.restHook)
	return &wire{opts: opts, base: base.String(), host: base.Host, rest: rest, guard: guard},
		warnings(opts, base), nil
}

const maxInt = int(^uint(0) >> 1)

// request is one call: which route, with what, as whom, decoded into what.
type request struct {
	op     string // for messages: "open dashboard d-fleet"
	route  string // an api.Route name
	params map[string]string
	query  url.Values
	body   any    // JSON-encoded when non-nil
	token  string // bearer token; "" sends none
	scope  *cache.Scope
	memo   *memo // decoded values of scope's entries; nil keeps none
	out    any   // pointer to decode a 2xx reply into; nil ignores the body
	// bulk marks a reply the caller keeps and may be large (a page of the matrix): the
	// View gives it no memo, so it is decoded for the caller alone.
	bulk bool
}

// cacheableRoutes are the reads worth keeping: the directory and the impersonated
// views. Session state and /me are always asked live, so an ended session is noticed.
var cacheableRoutes = map[string]bool{
	api.RouteUsers:       true,
	api.RouteDashboards:  true,
	api.RouteDashboard:   true,
	api.RoutePermissions: true,
	api.RouteExplain:     true,
	api.RouteAuditKey:    true,
}

// retryable reports whether a route may be sent more than once: safe methods, and the
// journal PUT, which the contract makes idempotent (exact duplicates are accepted).
func retryable(r api.Route) bool {
	return r.Safe() || r.Name == api.RoutePutJournal
}

// call runs a request to completion: cache, attempts, backoff, decoding. On failure
// rq.out is left zero: a stale cached reply loaded to revalidate, or half a decoded
// one, never travels beside an error.
func (w *wire) call(ctx context.Context, rq request) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if rq.out != nil {
		defer func() {
			if err != nil {
				reflect.ValueOf(rq.out).Elem().SetZero()
			}
		}()
	}
	route, ok := api.RouteByName(rq.route)
	if !ok {
		return newError(&Error{Op: rq.op, Kind: ErrValidation, Local: true, detail: "the client does not know route " + rq.route})
	}
	path, err := fillPath(route.Path, rq.params)
	if err != nil {
		return newError(&Error{Op: rq.op, Kind: ErrValidation, Local: true, Err: err, detail: err.Error()})
	}
	key := path
	if len(rq.query) > 0 {
		key += "?" + rq.query.Encode()
	}
	if err := ctx.Err(); err != nil {
		return canceled(rq.op, err)
	}

	scope := rq.scope
	if !cacheableRoutes[route.Name] || route.Method != http.MethodGet {
		scope = nil
	}
	etag, answered := w.fromCache(rq, route, key, scope)
	if answered {
		return nil
	}

	var body []byte
	if rq.body != nil {
		if body, err = json.Marshal(rq.body); err != nil {
			return newError(&Error{Op: rq.op, Kind: ErrValidation, Local: true, Err: err, detail: "could not encode the request: " + err.Error()})
		}
	}

	maxAttempts := 1
	if retryable(route) {
		maxAttempts = w.opts.MaxAttempts
	}
	for attempt := 1; ; attempt++ {
		started := time.Now()
		resp, sendErr := w.send(ctx, route.Method, w.base+key, body, rq.token, etag)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return canceled(rq.op, ctxErr)
		}
		e, done := w.outcome(rq, route, key, resp, sendErr, etag, scope)
		w.logAttempt(route.Method, key, rq.token != "", resp, sendErr, attempt, maxAttempts, time.Since(started))
		if done {
			return nil
		}
		if !e.Local {
			e.Attempts = attempt
		}
		if !e.retry || attempt >= maxAttempts {
			return newError(&e.Error)
		}
		wait := w.backoff(attempt)
		if e.RetryAfterDelay > 0 {
			if e.RetryAfterDelay > w.opts.MaxRetryAfter {
				return newError(&e.Error) // too long to block a person; the caller decides
			}
			wait = e.RetryAfterDelay
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// The caller's deadline would cut the wait short: hand back the server's
			// answer (and its Retry-After) now rather than a bare "deadline exceeded".
			return newError(&e.Error)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return canceled(rq.op, ctx.Err())
		case <-timer.C:
		}
	}
}

// fromCache puts a cached reply into rq.out before anything is sent. A fresh one is
// the answer (answered); a stale one is the answer if the server says 304, so its ETag
// is returned to offer. One that does not decode is ignored — the cache is never
// trusted over the server.
func (w *wire) fromCache(rq request, route api.Route, key string, scope *cache.Scope) (etag string, answered bool) {
	entry, ok := scope.Get(key)
	if !ok || rq.out == nil {
		return "", false
	}
	if !rq.memo.load(key, entry, rq.out) {
		if decodeJSON(entry.Body, rq.out) != nil {
			return "", false
		}
		rq.memo.remember(key, entry, rq.out)
	}
	if entry.Fresh {
		w.logf("%s %s -> served from cache (fresh)", route.Method, key)
		return "", true
	}
	return entry.ETag, false
}

// attemptError is a failed attempt and whether another may be tried.
type attemptError struct {
	Error
	retry bool
}

// outcome judges one attempt. done means rq.out holds the answer.
// revalidating is the ETag the request offered, "" when it offered none.
func (w *wire) outcome(rq request, route api.Route, key string, resp *resty.Response, sendErr error, revalidating string, scope *cache.Scope) (attemptError, bool) {
	fail := func(kind error, retry bool, detail string, cause error) (attemptError, bool) {
		e := attemptError{Error: Error{Op: rq.op, Kind: kind, Err: cause, detail: detail}, retry: retry}
		if resp != nil && resp.RawResponse != nil {
			e.Status = resp.StatusCode()
		}
		return e, false
	}
	if sendErr != nil {
		switch {
		case errors.Is(sendErr, errGuardRefused):
			e := attemptError{Error: Error{Op: rq.op, Kind: ErrReadOnly, Local: true, Err: sendErr}}
			return e, false
		case errors.Is(sendErr, resty.ErrResponseBodyTooLarge):
			return fail(ErrResponseTooLarge, false, fmt.Sprintf(
				"the server's reply is larger than the %s limit and was not read", byteSize(w.opts.MaxResponseBytes)), sendErr)
		case certerr.Is(sendErr):
			return fail(ErrUnreachable, false, fmt.Sprintf(
				"the certificate of %s is not trusted (%s); for a private CA pass its certificate with --ca-file", w.host, rootCause(sendErr)), sendErr)
		case isTimeout(sendErr) && inConnectPhase(sendErr):
			return fail(ErrTimeout, true, fmt.Sprintf(
				"could not connect to the server at %s within %s (dialling and the TLS handshake)", w.host, w.opts.ConnectTimeout), sendErr)
		case isTimeout(sendErr):
			return fail(ErrTimeout, true, fmt.Sprintf(
				"the server at %s did not answer within %s", w.host, w.opts.RequestTimeout), sendErr)
		case resp != nil && resp.RawResponse != nil:
			return fail(ErrUnreachable, true, fmt.Sprintf(
				"the connection to %s dropped while the reply was being read (%s)", w.host, rootCause(sendErr)), sendErr)
		default:
			return fail(ErrUnreachable, true, fmt.Sprintf(
				"cannot reach the server at %s (%s); check the address and the network", w.host, rootCause(sendErr)), sendErr)
		}
	}

	status := resp.StatusCode()
	header := resp.Header()
	switch {
	case status == http.StatusNotModified && revalidating != "":
		// rq.out already holds the cached reply; it is fresh again, and so is its memo.
		if at, ok := scope.Refresh(key); ok {
			rq.memo.retime(key, revalidating, at)
		}
		return attemptError{}, true
	case status >= 200 && status < 300:
		if rq.out == nil {
			return attemptError{}, true
		}
		raw := resp.Body()
		if err := checkJSONType(header); err != nil {
			return fail(ErrMalformedResponse, false, "the server's reply is not JSON: "+err.Error(), err)
		}
		reflect.ValueOf(rq.out).Elem().SetZero() // it may hold a stale cached reply
		if err := decodeJSON(raw, rq.out); err != nil {
			return fail(ErrMalformedResponse, false, "the server's reply is not the JSON expected: "+err.Error(), err)
		}
		if scope != nil && status == http.StatusOK && !noStore(header) {
			tag := header.Get("ETag")
			if at, ok := scope.Put(key, tag, raw); ok {
				rq.memo.remember(key, cache.Entry{ETag: tag, StoredAt: at}, rq.out)
			}
		}
		return attemptError{}, true
	case status == http.StatusNotModified:
		return fail(ErrServer, false, "the server answered 304 Not Modified to a request that offered no cached copy", nil)
	case status >= 300 && status < 400:
		where := header.Get("Location")
		return fail(ErrServer, false, fmt.Sprintf(
			"the server answered %d, redirecting to %q; shadow does not follow redirects with credentials — use the final address as the server", status, where), nil)
	}

	e := attemptError{Error: Error{Op: rq.op, Status: status}}
	if checkJSONType(header) == nil {
		var env api.ErrorResponse
		if json.Unmarshal(resp.Body(), &env) == nil && env.Error.Code != "" {
			e.Body = &env.Error
		}
	}
	e.Kind = kindOf(status, e.Code())
	e.RetryAfterDelay = retryAfterDelay(header, e.Body)
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.retry = true
	}
	return e, false
}

// send makes one attempt through resty.
func (w *wire) send(ctx context.Context, method, url string, body []byte, token, etag string) (*resty.Response, error) {
	r := w.rest.R().SetContext(ctx)
	if token != "" {
		r.SetAuthToken(token)
	}
	if body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if etag != "" {
		r.SetHeader("If-None-Match", etag)
	}
	return r.Execute(method, url)
}

// backoff is full jitter: uniform in [0, min(max, base·2^(attempt-1))].
func (w *wire) backoff(attempt int) time.Duration {
	return backoff.FullJitter(attempt, w.opts.BackoffBase, w.opts.BackoffMax)
}

func canceled(op string, err error) error {
	return fmt.Errorf("%s: stopped: %w", op, err)
}

// fillPath puts escaped parameters into a route's {name} segments.
func fillPath(pattern string, params map[string]string) (string, error) {
	var b strings.Builder
	rest := pattern
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("route %s has an unclosed parameter", pattern)
		}
		name := rest[open+1 : open+end]
		value := params[name]
		if strings.TrimSpace(value) == "" {
			return "", fmt.Errorf("no %s given", strings.ReplaceAll(name, "_", " "))
		}
		b.WriteString(rest[:open])
		b.WriteString(url.PathEscape(value))
		rest = rest[open+end+1:]
	}
}

// decodeJSON decodes a reply that must be one JSON object.
func decodeJSON(raw []byte, out any) error {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return errors.New("the reply is empty")
	}
	if trimmed[0] != '{' {
		return errors.New("the reply is not a JSON object")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
			return errors.New("the reply ends mid-way (cut short?)")
		case errors.As(err, &syntax):
			return fmt.Errorf("invalid JSON at byte %d: %v", syntax.Offset, err)
		case errors.As(err, &typ):
			return fmt.Errorf("field %q holds a %s where the contract wants a %s", typ.Field, typ.Value, typ.Type)
		}
		return err
	}
	return nil
}

func checkJSONType(h http.Header) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		return errors.New("it has no content type")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("its content type %q does not parse", ct)
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("its content type is %s", mt)
	}
	return nil
}

func noStore(h http.Header) bool {
	return strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store")
}

// retryAfterDelay reads Retry-After (seconds or an HTTP date), falling back to the
// envelope's retry_after_seconds. Absurd values are capped at a day.
func retryAfterDelay(h http.Header, body *api.ErrorBody) time.Duration {
	const most = 24 * time.Hour
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			if secs > int64(most/time.Second) {
				return most
			}
			d = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil {
			d = time.Until(at)
		}
	}
	if d <= 0 && body != nil && body.RetryAfterSeconds > 0 {
		d = time.Duration(min(int64(body.RetryAfterSeconds), int64(most/time.Second))) * time.Second
	}
	return min(max(d, 0), most)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// inConnectPhase reports a failure while dialling or in the TLS handshake, the part
// ConnectTimeout bounds. net/http's handshake timeout has no exported type; its text is
// part of its contract in practice ("net/http: TLS handshake timeout").
func inConnectPhase(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return strings.Contains(err.Error(), "TLS handshake timeout")
}

// rootCause is the innermost error's text, without Go's "Get \"url\":" wrapping.
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return err.Error()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// logf writes one debug line. Nothing passed to it may hold a token.
func (w *wire) logf(format string, args ...any) {
	if w.opts.Debug == nil {
		return
	}
	fmt.Fprintf(w.opts.Debug, "shadow client: "+format+"\n", args...)
}

func (w *wire) logAttempt(method, key string, authorized bool, resp *resty.Response, err error, attempt, maxAttempts int, took time.Duration) {
	if w.opts.Debug == nil {
		return
	}
	auth := ""
	if authorized {
		auth = " [Authorization: Bearer [redacted]]"
	}
	result := ""
	switch {
	case err != nil:
		result = "failed: " + rootCause(err)
	case resp != nil:
		result = strconv.Itoa(resp.StatusCode())
	}
	w.logf("%s %s%s -> %s in %s (attempt %d of %d)", method, key, auth, result, took.Round(time.Microsecond), attempt, maxAttempts)
}

// quietLogger keeps resty silent: failures reach the caller as errors, and resty's own
// lines could carry request details.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

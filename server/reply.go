package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/store"
)

// requestInfo travels in a request's context so the outer middleware (logging,
// auditing) learns what the inner layers decided.
type requestInfo struct {
	route   string   // api route name, "" for an unknown path
	subject string   // what the request reads (reconcile.RequestSubject), once routed
	code    api.Code // the error code sent, if any
	etag    string   // a versioned route's tag (revalidate); "" to hash the body
	// page is a paged matrix read's view and page (permissions), for its audit event.
	page *store.MatrixPage
	// noStore marks a reply no cache should keep (a page of the matrix: never 304).
	noStore bool
	id      *identity
	start   time.Time
}

type ctxKey struct{}

func infoOf(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

func withInfo(r *http.Request, ri *requestInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
}

// apiError is a refusal on its way to becoming an api.ErrorResponse.
type apiError struct {
	body  api.ErrorBody
	retry time.Duration // Retry-After, for 429 and 503
}

func errorf(code api.Code, format string, args ...any) *apiError {
	return &apiError{body: api.ErrorBody{Code: code, Message: fmt.Sprintf(format, args...)}}
}

func (e *apiError) field(f string) *apiError { e.body.Field = f; return e }

func (e *apiError) Error() string { return e.body.Error() }

// writeError sends the error envelope with the code's status.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	infoOf(r).code = e.body.Code
	if e.retry > 0 {
		secs := int((e.retry + time.Second - 1) / time.Second)
		e.body.RetryAfterSeconds = secs
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	raw, err := json.Marshal(api.ErrorResponse{Error: e.body})
	if err != nil { // unreachable: the envelope is plain strings and numbers
		raw = []byte(`{"error":{"code":"internal","message":"could not encode the error"}}`)
	}
	raw = escapeUnsafe(raw)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(e.body.Code.Status())
	w.Write(raw)
}

// writeJSON sends v with status. A 200 reply to GET or HEAD carries an ETag scoped to
// the identity asking (an impersonated view and the user's own view never share one):
// a versioned route's (etags.go), else a hash of the body; it honours If-None-Match
// with 304. Replies to unsafe methods, which may carry
// tokens, are never stored by caches.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, errorf(api.CodeInternal, "could not encode the reply"))
		return
	}
	writeEncoded(w, r, status, append(escapeUnsafe(raw), '\n'))
}

// writeEncoded is writeJSON for a reply already encoded as writeJSON would encode it
// (escapeUnsafe(json.Marshal(v)) and a newline): the headers, ETag and 304 the same.
func writeEncoded(w http.ResponseWriter, r *http.Request, status int, raw []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if ri := infoOf(r); status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !ri.noStore {
		tag := ri.etag
		if tag == "" {
			tag = bodyTag(ri.id, raw)
		}
		if etagMatches(r.Header.Get("If-None-Match"), tag) {
			notModified(w, tag)
			return
		}
		h.Set("ETag", tag)
		h.Set("Cache-Control", "private, no-cache")
		h.Add("Vary", "Authorization")
	} else {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(status)
	w.Write(raw)
}

// unsafeRune reports a character no reply carries raw: a control (C0, DEL, C1: the
// encoding/json escapes C0 only), a format character (bidi controls and isolates,
// zero-width spaces and joiners, the BOM, tags), a line or paragraph separator. Text
// from outside (paths, e-mails tried at sign-in, journal records) is stored as
// received; a SIEM, a terminal or a log viewer reading the reply must not be steered
// by it.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// escapeUnsafe rewrites every unsafeRune in encoded JSON as a \uXXXX escape (a pair
// for one beyond the BMP), so the value decodes to exactly what was encoded. Such
// characters can only stand inside JSON strings, where the escape means the same.
// Plain ASCII output, the usual case, is returned as is.
func escapeUnsafe(raw []byte) []byte {
	i := 0
	for i < len(raw) && raw[i] < utf8.RuneSelf && raw[i] >= 0x20 && raw[i] != 0x7f {
		i++
	}
	if i == len(raw) {
		return raw
	}
	out := make([]byte, 0, len(raw)+32)
	out = append(out, raw[:i]...)
	for i < len(raw) {
		r, size := utf8.DecodeRune(raw[i:])
		if !unsafeRune(r) || (r == utf8.RuneError && size == 1) {
			out = append(out, raw[i:i+size]...)
			i += size
			continue
		}
		out = appendRuneEscape(out, r)
		i += size
	}
	return out
}

// appendRuneEscape appends r as a JSON \uXXXX escape, a UTF-16 pair beyond the BMP,
// in lower-case hex as encoding/json writes its own: the one form of every escape
// this server adds (escapeUnsafe, appendString).
func appendRuneEscape(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	unit := func(dst []byte, u rune) []byte {
		return append(dst, '\\', 'u', hex[u>>12&0xf], hex[u>>8&0xf], hex[u>>4&0xf], hex[u&0xf])
	}
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return unit(unit(dst, hi), lo)
	}
	return unit(dst, r)
}

func etagMatches(header, tag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == tag {
			return true
		}
	}
	return false
}

// decodeBody reads a JSON request body into v: Content-Type must be application/json,
// the body at most api.MaxRequestBody bytes, one JSON value with no unknown fields
// and nothing after it.
func decodeBody(r *http.Request, v any) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(api.CodeUnsupportedMediaType, "send the body as application/json (got %q)", truncate(r.Header.Get("Content-Type"), 60))
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
		return errorf(api.CodeBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error) *apiError {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return errorf(api.CodePayloadTooLarge, "the body is larger than %d bytes", api.MaxRequestBody)
	case errors.Is(err, io.EOF):
		return errorf(api.CodeBadRequest, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(api.CodeBadRequest, "the body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return errorf(api.CodeBadRequest, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		return errorf(api.CodeBadRequest, "field %q: want a JSON %s", typ.Field, typ.Type.Kind()).field(typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errorf(api.CodeBadRequest, "unknown field %q", truncate(name, 60)).field(truncate(name, 60))
	}
	return errorf(api.CodeBadRequest, "malformed JSON: %s", truncate(err.Error(), 200))
}

// pageLimit parses ?limit=: absent means api.DefaultPageLimit, more than
// api.MaxPageLimit is capped, anything not a positive integer is refused.
func pageLimit(r *http.Request) (int, *apiError) {
	return limitParam(r, api.DefaultPageLimit, api.MaxPageLimit)
}

// limitParam reads ?limit= for a route whose pages default to def rows and hold at most
// most: a positive integer, larger ones (even absurdly large) capped, anything else 400.
func limitParam(r *http.Request, def, most int) (int, *apiError) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		if ne := (*strconv.NumError)(nil); errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(raw, "-") {
			return most, nil // absurdly large: capped like any other large value
		}
		return 0, errorf(api.CodeBadRequest, "limit must be a positive integer (got %q)", truncate(raw, 30)).field("limit")
	}
	if n < 1 {
		return 0, errorf(api.CodeBadRequest, "limit must be a positive integer (got %d)", n).field("limit")
	}
	return min(n, most), nil
}

func truncate(s string, n int) string { return store.Truncate(s, n) }

// unsaved logs a failed write and tells the client it may retry: nothing was changed,
// since writes persist before they apply.
func (s *Server) unsaved(what string, err error) *apiError {
	s.log.Error(what, "err", err)
	e := errorf(api.CodeUnavailable, "%s failed: nothing was changed; retry shortly", what)
	e.retry = time.Second
	return e
}

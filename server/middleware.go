package server

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/policy"
	"github.com/shadowview/shadow/server/reconcile"
	"github.com/shadowview/shadow/server/store"
)

// identity is who a request speaks for. With an impersonation token, user is the
// impersonated user (the token's sub) and actor the admin (act.sub).
type identity struct {
	user    *org.User
	actor   *org.User
	session store.Session // the impersonation session, when actor is set
	scope   string
	expires time.Time
}

func (id *identity) impersonating() bool { return id != nil && id.actor != nil }

// cacheScope separates ETags (and so caches) per identity: anonymous, a user's own
// view (per password version), or one impersonation session.
func (id *identity) cacheScope() string {
	switch {
	case id == nil:
		return "anonymous"
	case id.impersonating():
		return "session:" + id.session.ID
	}
	return fmt.Sprintf("own:%s:%d", id.user.ID, id.user.PasswordVersion)
}

// handlerFunc is a route handler: it writes its reply, or returns the refusal.
type handlerFunc func(w http.ResponseWriter, r *http.Request, id *identity) *apiError

// buildHandler assembles the pipeline, outermost first:
//
//	recover · headers · body cap · log → Host allow-list → authenticate
//	→ audit impersonated requests → recover → READ-ONLY → route (per-route access)
//	→ handler
//
// The read-only check runs before routing, on every path, so no route, present or
// added later, can be reached by an impersonation token with an unsafe method.
func (s *Server) buildHandler() http.Handler {
	handlers := s.routeHandlers()
	mux := http.NewServeMux()
	known := http.NewServeMux() // every route path, any method: tells 405 from 404
	methods := map[string][]string{}
	s.routes = map[string]api.Route{}
	for _, rt := range api.Routes {
		h, ok := handlers[rt.Name]
		if !ok {
			panic("server: no handler for route " + rt.Name) // TestEveryRouteHasAHandler guards this
		}
		mux.Handle(rt.Pattern(), s.gate(rt, h))
		s.routes[rt.Pattern()] = rt
		if methods[rt.Path] == nil {
			known.Handle(rt.Path, http.NotFoundHandler())
		}
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, pattern := known.Handler(r)
		allowed, ok := methods[pattern]
		if !ok {
			writeError(w, r, errorf(api.CodeNotFound, "no route %s %s", r.Method, truncate(r.URL.Path, 200)))
			return
		}
		w.Header().Set("Allow", allowHeader(allowed))
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, r, errorf(api.CodeMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, truncate(r.URL.Path, 200), allowHeader(allowed)))
	})
	var h http.Handler = canonicalPaths(mux)
	h = s.readOnly(h)
	h = s.recoverer(h)
	h = s.auditImpersonated(h)
	h = s.authenticate(h)
	h = s.checkHost(h)
	return s.outermost(h, mux)
}

func allowHeader(methods []string) string {
	set := map[string]bool{http.MethodOptions: true}
	for _, m := range methods {
		set[m] = true
		if m == http.MethodGet {
			set[http.MethodHead] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// readOnly is THE guarantee: an impersonation token may use GET, HEAD and OPTIONS and
// nothing else, on any path, known or not. It is the only place this is enforced, so
// it is enforced for everything.
func (s *Server) readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if infoOf(r).id.impersonating() && !api.SafeMethod(r.Method) {
			writeError(w, r, errorf(api.CodeReadOnlyImpersonation,
				"this is a read-only impersonation session: %s is refused; only GET, HEAD and OPTIONS are allowed", truncate(r.Method, 20)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalPaths answers a path with "//", "." or ".." segments 404 in the error
// envelope, where ServeMux would redirect to the cleaned path: an API client should
// call the path it means, and a redirect of a POST is a trap.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != "" && clean != p {
			writeError(w, r, errorf(api.CodeNotFound, "no route %s %s (the path is not canonical; did you mean %s?)",
				truncate(r.Method, 20), truncate(p, 200), truncate(clean, 200)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// gate applies a route's access rule, then runs its handler.
func (s *Server) gate(rt api.Route, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := infoOf(r)
		q := r.URL.Query()
		ri.subject = reconcile.RequestSubject(rt.Name, r.PathValue("id"), q.Get("resource"), q.Get("action"))
		id := ri.id
		if err := s.access(rt, id); err != nil {
			writeError(w, r, err)
			return
		}
		if s.revalidate(w, r, rt, id) {
			return
		}
		if err := h(w, r, id); err != nil {
			writeError(w, r, err)
		}
	})
}

func (s *Server) access(rt api.Route, id *identity) *apiError {
	if rt.Auth == api.AuthNone {
		return nil
	}
	if id == nil {
		return errorf(api.CodeUnauthenticated, "sign in first: send Authorization: Bearer <token>")
	}
	switch rt.Auth {
	case api.AuthOwn:
		if id.impersonating() {
			return errorf(api.CodeForbidden, "this needs your own token, not an impersonation token")
		}
	case api.AuthStaff:
		if id.impersonating() {
			if rt.Name == api.RouteUsers || rt.Name == api.RouteStartSession {
				return errorf(api.CodeNestedImpersonation, "this request already impersonates %s; sessions cannot be nested", id.user.Name)
			}
			return errorf(api.CodeForbidden, "this needs your own token, not an impersonation token")
		}
		if rt.Name == api.RouteStartSession {
			return nil // the handler checks the policy itself, to audit each refusal
		}
		if d := s.policyFor(id.user).Actor(); !d.Allowed() {
			if rt.Name == api.RouteUsers {
				return errorf(d.Code, "%s", d.Reason)
			}
			return errorf(api.CodeForbidden, "only identities that may impersonate can use this: %s", d.Reason)
		}
	}
	return nil
}

func (s *Server) policyFor(actor *org.User) *policy.Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return policy.For(s.org, actor, nil)
}

// authenticate resolves the bearer token into an identity. No token is fine here
// (routes decide); a bad one is refused at once.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.identify(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		infoOf(r).id = id
		next.ServeHTTP(w, r)
	})
}

func (s *Server) identify(r *http.Request) (*identity, *apiError) {
	if len(r.Header.Values("Authorization")) > 1 {
		// Which one counts would be up to each hop (a proxy may take the last, this
		// server the first): a request with an own token and an impersonation token
		// must not be a write by one and look like a read by the other.
		return nil, errorf(api.CodeUnauthenticated, "send exactly one Authorization header")
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, nil
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, errorf(api.CodeUnauthenticated, "the Authorization header must be \"Bearer <token>\"")
	}
	c, err := s.parseToken(strings.TrimSpace(raw))
	if c == nil {
		return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
	}
	impersonation := c.Sid != "" || c.Act != nil || c.Scope == api.ScopeReadOnly
	if impersonation {
		if c.Sid == "" || c.Act == nil || c.Act.Sub == "" || c.Scope != api.ScopeReadOnly {
			return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
		}
		if err != nil {
			s.expireDue(c.Sid)
		}
		return s.impersonationIdentity(r, c)
	}
	if err != nil {
		return nil, errorf(api.CodeTokenExpired, "the token has expired; sign in again")
	}
	if c.Scope != api.ScopeFull {
		return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
	}
	s.mu.RLock()
	u := s.org.User(c.Subject)
	s.mu.RUnlock()
	if u == nil {
		return nil, errorf(api.CodeUnauthenticated, "the token names no known identity")
	}
	if c.Pwv != u.PasswordVersion {
		return nil, errorf(api.CodeTokenExpired, "the password was changed since this token was issued; sign in again")
	}
	return &identity{user: u, scope: api.ScopeFull, expires: c.ExpiresAt.Time}, nil
}

// impersonationIdentity checks the session behind a signed impersonation token. A
// request with a dead session's token is refused 401 session_expired, and audited:
// someone tried to keep using it.
func (s *Server) impersonationIdentity(r *http.Request, c *claims) (*identity, *apiError) {
	sess, known := s.sessionByID(c.Sid)
	if !known || sess.User.ID != c.Subject || sess.Impersonator.ID != c.Act.Sub {
		return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
	}
	s.mu.RLock()
	target, actor := s.org.User(c.Subject), s.org.User(c.Act.Sub)
	s.mu.RUnlock()
	if target == nil || actor == nil {
		return nil, errorf(api.CodeUnauthenticated, "the token names no known identity")
	}
	if sess.State != api.SessionActive {
		e := errorf(api.CodeSessionExpired, "impersonation session %s is %s; start a new one", sess.ID, sess.State)
		s.auditRequest(r, &identity{user: target, actor: actor, session: sess}, e.body.Code.Status(), e.body.Code)
		return nil, e
	}
	return &identity{user: target, actor: actor, session: sess, scope: api.ScopeReadOnly, expires: sess.ExpiresAt}, nil
}

// auditImpersonated records every request made with an impersonation token, with both
// identities, the route and the status. The reply is held back until the event is
// durably written; if it cannot be, the reply is withheld and 503 sent instead: an
// impersonated read that is not in the audit log must not happen.
func (s *Server) auditImpersonated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := infoOf(r).id
		if !id.impersonating() {
			next.ServeHTTP(w, r)
			return
		}
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(buf, r)
		if err := s.auditRequest(r, id, buf.status, infoOf(r).code); err != nil {
			s.log.Error("audit write failed; withholding the reply", "err", err)
			e := errorf(api.CodeUnavailable, "the audit log could not record this request, so it was not served; retry shortly")
			e.retry = time.Second
			writeError(w, r, e)
			return
		}
		buf.flushTo(w)
	})
}

func (s *Server) auditRequest(r *http.Request, id *identity, status int, code api.Code) error {
	details := infoOf(r).route
	if details == "" {
		details = "unknown route"
	}
	if q := r.URL.RawQuery; q != "" {
		details += " ?" + truncate(q, 300)
	}
	user := id.user.Ref()
	subject := infoOf(r).subject
	if subject == "" {
		subject = reconcile.RequestSubject(infoOf(r).route, "", "", "")
	}
	return s.store.AppendEvents(store.Event{
		AuditEvent: api.AuditEvent{
			Time: s.now(), Kind: api.EventRequest, Actor: id.actor.Ref(), User: &user,
			SessionID: id.session.ID, Method: r.Method, Path: r.URL.Path,
			Status: status, Code: code, Details: details,
		},
		Companies: companies(id.user, id.actor),
		Subject:   subject,
		Page:      infoOf(r).page,
	})
}

// companies lists the companies of the users an event concerns (staff have none).
func companies(users ...*org.User) []string {
	var out []string
	for _, u := range users {
		if u == nil || u.CompanyID == "" {
			continue
		}
		dup := false
		for _, c := range out {
			dup = dup || c == u.CompanyID
		}
		if !dup {
			out = append(out, u.CompanyID)
		}
	}
	return out
}

// bufferedWriter holds a reply until it may be sent.
type bufferedWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// statusWriter remembers the status for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// recoverer turns a panic into a 500 envelope (and a log line with the stack), so
// one bad request never takes the server down and is still audited.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "route", infoOf(r).route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(w, r, errorf(api.CodeInternal, "internal error"))
		}()
		next.ServeHTTP(w, r)
	})
}

// outermost sets up each request: its info, security headers, the body cap, panic
// recovery, and one log line (never with headers, bodies or tokens).
func (s *Server) outermost(next http.Handler, mux *http.ServeMux) http.Handler {
	inner := s.recoverer(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &requestInfo{start: time.Now()}
		if _, pattern := mux.Handler(r); pattern != "" {
			ri.route = s.routes[pattern].Name
		}
		r = withInfo(r, ri)
		reqID := randomHex(8)
		h := w.Header()
		h.Set("X-Request-Id", reqID)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, api.MaxRequestBody)
		}
		sw := &statusWriter{ResponseWriter: w}
		inner.ServeHTTP(sw, r)
		attrs := []any{"id", reqID, "method", truncate(r.Method, 20), "path", truncate(r.URL.Path, 200),
			"route", ri.route, "status", sw.status, "ms", float64(time.Since(ri.start).Microseconds()) / 1000}
		if ri.code != "" {
			attrs = append(attrs, "code", ri.code)
		}
		if ri.id != nil {
			attrs = append(attrs, "user", ri.id.user.ID)
			if ri.id.impersonating() {
				attrs = append(attrs, "actor", ri.id.actor.ID, "session", ri.id.session.ID)
			}
		}
		s.log.Info("request", attrs...)
	})
}

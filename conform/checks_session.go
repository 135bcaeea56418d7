package conform

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

func (r *run) health() outcome {
	var h api.HealthResponse
	resp := r.get("/healthz", "")
	if err := resp.decode(http.StatusOK, &h); err != nil {
		if resp.status == http.StatusNotFound && strings.HasSuffix(r.p.base, api.Prefix) {
			return fail("%v: --server is the base URL, without %s", err, api.Prefix)
		}
		return fail("%v", err)
	}
	if h.Status != "ok" {
		return fail("status %q, want \"ok\"", h.Status)
	}
	return pass("version %q", h.Version)
}

func (r *run) openAPI() outcome {
	resp := r.get(apiPath("/openapi.json"), "")
	if resp.status == http.StatusNotFound {
		return skip("the server does not serve GET %s; routes come from the kit's copy of the contract", apiPath("/openapi.json"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := resp.decode(http.StatusOK, &doc); err != nil {
		return fail("%v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		return fail("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var problems []string
	for _, rt := range api.Routes {
		if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
			problems = append(problems, "no operation "+rt.Pattern())
		}
	}
	r.extraPaths = map[string][]string{}
	for path, item := range doc.Paths {
		for method := range item {
			m := strings.ToUpper(method)
			if _, known := routeOf(m, path); !known && isMethod(m) {
				r.extraPaths[path] = append(r.extraPaths[path], m)
			}
		}
	}
	if len(problems) > 0 {
		return failed(problems, "")
	}
	return pass("OpenAPI %s, %d paths; %d beyond the kit's contract, probed too", doc.OpenAPI, len(doc.Paths), len(r.extraPaths))
}

func isMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE":
		return true
	}
	return false
}

func routeOf(method, path string) (api.Route, bool) {
	for _, rt := range api.Routes {
		if rt.Method == method && rt.Path == path {
			return rt, true
		}
	}
	return api.Route{}, false
}

// signIn resolves credentials into an identity: the token as given, or a sign-in.
func (r *run) signIn(c Credentials) (*identity, error) {
	token := c.Token
	if token == "" {
		var out api.LoginResponse
		if err := r.send("POST", apiPath("/auth/login"), "", api.LoginRequest{Email: c.Email, Password: c.Password}).decode(http.StatusOK, &out); err != nil {
			return nil, fmt.Errorf("sign-in as %s: %w", c.Email, err)
		}
		token = out.Token
	}
	id := &identity{token: token}
	if err := r.get(apiPath("/me"), token).decode(http.StatusOK, &id.me); err != nil {
		return nil, err
	}
	if id.me.Impersonating || id.me.Scope != api.ScopeFull {
		return nil, fmt.Errorf("the token of %s is an impersonation token (scope %q); the kit needs own tokens", id.me.User.Email, id.me.Scope)
	}
	return id, nil
}

func (r *run) adminIdentity() outcome {
	id, err := r.signIn(r.cfg.Admin)
	if err != nil {
		return fail("%v", err)
	}
	if !id.me.CanImpersonate {
		return fail("GET /me says %s may not impersonate (can_impersonate false)", id.me.User.Email)
	}
	r.admin = id
	return pass("%s (%s, %s)", id.me.User.Email, id.me.User.Kind, id.me.User.Role)
}

func (r *run) otherIdentities() outcome {
	var problems, seen []string
	for _, o := range []struct {
		name string
		c    Credentials
		dst  **identity
		want func(api.Me) string
	}{
		{"user", r.cfg.User, &r.user, func(m api.Me) string { return "" }},
		{"user's company admin", r.cfg.UserAdmin, &r.userAdmin, func(m api.Me) string {
			if !m.CanImpersonate || m.User.Kind != api.KindUser {
				return "is not a customer's admin"
			}
			return ""
		}},
		{"other company's admin", r.cfg.OtherAdmin, &r.other, func(m api.Me) string {
			if m.User.Kind != api.KindUser || m.User.CompanyID == "" {
				return "is not a customer's identity"
			}
			return ""
		}},
	} {
		if !o.c.given() {
			continue
		}
		id, err := r.signIn(o.c)
		if err != nil {
			problems = append(problems, o.name+": "+err.Error())
			continue
		}
		if why := o.want(id.me); why != "" {
			problems = append(problems, fmt.Sprintf("%s %s %s", o.name, id.me.User.Email, why))
			continue
		}
		*o.dst = id
		seen = append(seen, o.name+" "+id.me.User.Email)
	}
	if r.user != nil && r.userAdmin != nil && r.user.me.User.CompanyID != r.userAdmin.me.User.CompanyID {
		problems = append(problems, "the user's company admin is not of the user's company")
	}
	if r.user != nil && r.other != nil && r.user.me.User.CompanyID == r.other.me.User.CompanyID {
		problems = append(problems, "the other company's admin is of the user's company")
	}
	if len(problems) > 0 {
		return failed(problems, "")
	}
	if len(seen) == 0 {
		return skip("none given (SHADOW_CONFORM_USER_*, SHADOW_CONFORM_USER_ADMIN_*, SHADOW_CONFORM_OTHER_ADMIN_*)")
	}
	return pass("%s", strings.Join(seen, "; "))
}

func (r *run) envelope() outcome {
	var problems []string
	expect := func(resp reply, code api.Code) {
		if err := resp.refusal(code); err != nil {
			problems = append(problems, err.Error())
		}
	}
	expect(r.get(apiPath("/conform-no-such-route-"+r.id), r.admin.token), api.CodeNotFound)
	notAllowed := r.send("PUT", apiPath("/me"), r.admin.token, map[string]string{})
	expect(notAllowed, api.CodeMethodNotAllowed)
	if allow := notAllowed.header.Get("Allow"); !strings.Contains(allow, "GET") {
		problems = append(problems, fmt.Sprintf("405 on PUT /me carries Allow %q, which does not name GET", allow))
	}
	opts := r.p.do(r.ctx, call{method: "OPTIONS", path: apiPath("/me"), token: r.admin.token})
	if opts.status != http.StatusNoContent || !strings.Contains(opts.header.Get("Allow"), "PATCH") {
		problems = append(problems, fmt.Sprintf("OPTIONS /me answered %s with Allow %q, want 204 naming PATCH", opts.what(), opts.header.Get("Allow")))
	}
	expect(r.get(apiPath("/users"), ""), api.CodeUnauthenticated)
	expect(r.get(apiPath("/me"), "not-a-token"), api.CodeUnauthenticated)
	expect(r.send("POST", apiPath("/impersonation/sessions"), r.admin.token, []byte(`{"user_id":`)), api.CodeBadRequest)
	expect(r.send("POST", apiPath("/impersonation/sessions"), r.admin.token, []byte(`{"user_id":"x","reason":"y","surprise":1}`)), api.CodeBadRequest)
	expect(r.p.do(r.ctx, call{method: "POST", path: apiPath("/impersonation/sessions"), token: r.admin.token,
		body: []byte(`user_id=x`), contentType: "application/x-www-form-urlencoded"}), api.CodeUnsupportedMediaType)
	return failed(problems, "404, 405 with Allow, OPTIONS 204 with Allow, 401 without and with a bad token, 400 for malformed JSON and an unknown field, 415")
}

func (r *run) securityHeaders() outcome {
	resp := r.get(apiPath("/me"), r.admin.token)
	var problems []string
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'"} {
		if got := resp.header.Get(name); !strings.Contains(got, want) {
			problems = append(problems, fmt.Sprintf("%s is %q, want %q", name, got, want))
		}
	}
	if resp.header.Get("X-Request-Id") == "" {
		problems = append(problems, "no X-Request-Id")
	}
	return failed(problems, "nosniff, default-src 'none', no-referrer, a request id")
}

// chooseTarget picks whom to impersonate: the given user, the given id, or the first
// impersonable user of the directory.
func (r *run) chooseTarget() (api.UserRef, error) {
	switch {
	case r.user != nil:
		return r.user.ref(), nil
	case r.cfg.Target != "":
		return api.UserRef{ID: r.cfg.Target}, nil
	}
	var found *api.User
	err := r.directory(func(u api.User) bool {
		if u.Impersonable {
			found = &u
		}
		return found == nil
	})
	switch {
	case err != nil:
		return api.UserRef{}, err
	case found != nil:
		return found.Ref(), nil
	}
	return api.UserRef{}, fmt.Errorf("the directory lists no user %s may impersonate; name one (--user, or SHADOW_CONFORM_USER_*)", r.admin.me.User.Email)
}

// directory walks the admin's directory, a few pages of 200 at most, until each
// returns false.
func (r *run) directory(each func(api.User) bool) error {
	cursor := ""
	for range 5 {
		path := apiPath("/users?limit=200")
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page api.UsersPage
		if err := r.get(path, r.admin.token).decode(http.StatusOK, &page); err != nil {
			return err
		}
		for _, u := range page.Users {
			if !each(u) {
				return nil
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return nil
		}
	}
	return nil
}

func (r *run) reason() string { return "shadow conform " + r.id + ": conformance run" }

// start starts a session on the target; every 201 is remembered, to be ended.
func (r *run) start(token string, req api.StartSessionRequest) (reply, *session, error) {
	resp := r.send("POST", apiPath("/impersonation/sessions"), token, req)
	if resp.status != http.StatusCreated {
		return resp, nil, nil
	}
	s := &session{received: time.Now()}
	if err := resp.decode(http.StatusCreated, &s.StartSessionResponse); err != nil {
		return resp, nil, err
	}
	r.mu.Lock()
	r.started = append(r.started, s.Session.ID)
	r.mu.Unlock()
	r.p.impersonation(s.Token, s.Session.ID)
	return resp, s, nil
}

func (r *run) startSession() outcome {
	target, err := r.chooseTarget()
	if err != nil {
		return fail("%v", err)
	}
	r.target = target
	resp, s, err := r.start(r.admin.token, api.StartSessionRequest{UserID: target.ID, Reason: r.reason()})
	switch {
	case err != nil:
		return fail("%v", err)
	case s == nil:
		return fail("%s, want 201", resp)
	}
	r.main = s
	r.startExpirySession(target)
	ses := s.Session
	var problems []string
	if want := apiPath("/impersonation/sessions/" + ses.ID); resp.header.Get("Location") != want {
		problems = append(problems, fmt.Sprintf("Location %q, want %q", resp.header.Get("Location"), want))
	}
	if s.Token == "" || ses.ID == "" {
		problems = append(problems, "no token or no session id")
	}
	if ses.User.ID != target.ID || ses.Impersonator.ID != r.admin.me.User.ID {
		problems = append(problems, fmt.Sprintf("session of %q by %q, want %q by %q", ses.User.ID, ses.Impersonator.ID, target.ID, r.admin.me.User.ID))
	}
	if ses.State != api.SessionActive || ses.Reason != r.reason() {
		problems = append(problems, fmt.Sprintf("state %q and reason %q, want active and the reason given", ses.State, ses.Reason))
	}
	if length := ses.ExpiresAt.Sub(ses.StartedAt); length <= 0 || length > api.MaxSessionTTL+time.Second {
		problems = append(problems, fmt.Sprintf("the session lasts %s, want more than 0 and at most %s", length, api.MaxSessionTTL))
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(resp.body, &raw)
	for _, k := range []string{"refresh_token", "refresh"} {
		if _, ok := raw[k]; ok {
			problems = append(problems, "the reply carries a "+k+": impersonation has no refresh")
		}
	}
	r.target = ses.User
	return failed(problems, fmt.Sprintf("session %s on %s, %s long", ses.ID, ses.User.ID, ses.ExpiresAt.Sub(ses.StartedAt).Round(time.Second)))
}

// expiryTTL is the session length the expiry check asks for.
const expiryTTL = 2

// startExpirySession starts the short session revoke.expiry checks at the end of the
// run, so its wait overlaps the other checks.
func (r *run) startExpirySession(target api.UserRef) {
	resp, s, err := r.start(r.admin.token, api.StartSessionRequest{UserID: target.ID, Reason: r.reason() + " (expiry)", TTLSeconds: expiryTTL})
	switch {
	case err != nil:
		r.expErr = fail("the second session: %v", err)
		return
	case s == nil:
		r.expErr = fail("a second session with ttl_seconds %d: %s, want 201", expiryTTL, resp)
		return
	}
	r.expiry = s
	if err := r.get(apiPath("/me"), s.Token).decode(http.StatusOK, nil); err != nil {
		r.expErr = fail("the short session's token did not work at once: %v", err)
	}
}

func (r *run) tokenClaims() outcome {
	parts := strings.Split(r.main.Token, ".")
	if len(parts) != 3 {
		return skip("the token is not a JWT (the contract allows opaque tokens; their claims cannot be read)")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Sub   string                `json:"sub"`
		Act   *struct{ Sub string } `json:"act"`
		Sid   string                `json:"sid"`
		Scope string                `json:"scope"`
		Exp   float64               `json:"exp"`
	}
	for i, dst := range []any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			return fail("part %d of the JWT is not base64url JSON", i+1)
		}
	}
	ses := r.main.Session
	var problems []string
	if strings.EqualFold(header.Alg, "none") || header.Alg == "" {
		problems = append(problems, fmt.Sprintf("alg %q: the token must be signed", header.Alg))
	}
	if claims.Sub != ses.User.ID {
		problems = append(problems, fmt.Sprintf("sub %q, want the impersonated user %q", claims.Sub, ses.User.ID))
	}
	if claims.Act == nil || claims.Act.Sub != r.admin.me.User.ID {
		problems = append(problems, fmt.Sprintf("act %+v, want {\"sub\": %q}", claims.Act, r.admin.me.User.ID))
	}
	if claims.Sid != ses.ID {
		problems = append(problems, fmt.Sprintf("sid %q, want %q", claims.Sid, ses.ID))
	}
	if claims.Scope != api.ScopeReadOnly {
		problems = append(problems, fmt.Sprintf("scope %q, want %q", claims.Scope, api.ScopeReadOnly))
	}
	exp := time.Unix(int64(claims.Exp), 0)
	if d := exp.Sub(ses.ExpiresAt); d > time.Second || d < -time.Second {
		problems = append(problems, fmt.Sprintf("exp %s, want the session's expires_at %s", exp.UTC().Format(time.RFC3339), ses.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if exp.Sub(ses.StartedAt) > api.MaxSessionTTL+time.Second {
		problems = append(problems, fmt.Sprintf("exp is %s after the start, more than %s", exp.Sub(ses.StartedAt).Round(time.Second), api.MaxSessionTTL))
	}
	return failed(problems, fmt.Sprintf("alg %s; sub, act.sub, sid, scope and exp as the contract says", header.Alg))
}

func (r *run) meImpersonated() outcome {
	var me api.Me
	if err := r.get(apiPath("/me"), r.main.Token).decode(http.StatusOK, &me); err != nil {
		return fail("%v", err)
	}
	var problems []string
	if !me.Impersonating || me.Scope != api.ScopeReadOnly || me.CanImpersonate {
		problems = append(problems, fmt.Sprintf("impersonating %v, scope %q, can_impersonate %v; want true, read_only, false", me.Impersonating, me.Scope, me.CanImpersonate))
	}
	if me.User.ID != r.target.ID {
		problems = append(problems, fmt.Sprintf("user %q, want %q", me.User.ID, r.target.ID))
	}
	if me.Actor == nil || me.Actor.ID != r.admin.me.User.ID {
		problems = append(problems, fmt.Sprintf("actor %+v, want %q", me.Actor, r.admin.me.User.ID))
	}
	if me.SessionID != r.main.Session.ID || !me.ExpiresAt.Equal(r.main.Session.ExpiresAt) {
		problems = append(problems, fmt.Sprintf("session %q expiring %s, want %q expiring %s", me.SessionID, me.ExpiresAt, r.main.Session.ID, r.main.Session.ExpiresAt))
	}
	return failed(problems, "user, actor, session, read_only")
}

func (r *run) sessionReadable() outcome {
	path := apiPath("/impersonation/sessions/" + r.main.Session.ID)
	var problems []string
	for who, token := range map[string]string{"the session's token": r.main.Token, "the admin": r.admin.token} {
		var s api.Session
		if err := r.get(path, token).decode(http.StatusOK, &s); err != nil {
			problems = append(problems, who+": "+err.Error())
		} else if s.ID != r.main.Session.ID || s.State != api.SessionActive {
			problems = append(problems, fmt.Sprintf("%s reads session %q in state %q", who, s.ID, s.State))
		}
	}
	return failed(problems, "with its own token and the admin's: active")
}

// probePaths are the paths the read-only check walks: every route's (its parameters
// filled with a name nothing has), the server's own extra ones, and paths that match no
// route, including one outside the prefix.
func (r *run) probePaths() []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, rt := range api.Routes {
		add(fillParams(rt.Path))
	}
	for p := range r.extraPaths {
		add(fillParams(p))
	}
	add(apiPath("/conform-no-such-route"))
	add(apiPath("/dashboards/conform-none/conform-deeper"))
	add("/conform-outside-the-prefix")
	slices.Sort(out)
	return out
}

func fillParams(path string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			b.WriteString(path)
			return b.String()
		}
		end := strings.IndexByte(path[open:], '}')
		if end < 0 {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:open] + "conform-none")
		path = path[open+end+1:]
	}
}

func (r *run) unsafeMethods() outcome {
	var problems []string
	n := 0
	for _, path := range r.probePaths() {
		for _, m := range api.UnsafeMethods {
			n++
			// A body that would be a valid request to nothing: on a server that lets the
			// write through anyway, it changes nothing.
			resp := r.p.do(r.ctx, call{method: m, path: path, token: r.main.Token, body: []byte(`{}`)})
			if err := resp.refusal(api.CodeReadOnlyImpersonation); err != nil {
				problems = append(problems, resp.String())
			}
		}
	}
	return failed(problems, fmt.Sprintf("%d requests: %d methods × %d paths", n, len(api.UnsafeMethods), n/len(api.UnsafeMethods)))
}

func (r *run) safeMethods() outcome {
	var problems []string
	head := r.p.do(r.ctx, call{method: "HEAD", path: apiPath("/me"), token: r.main.Token})
	if head.status != http.StatusOK || len(head.body) != 0 {
		problems = append(problems, fmt.Sprintf("HEAD /me answered %s with %d bytes, want 200 and no body", head.what(), len(head.body)))
	}
	opts := r.p.do(r.ctx, call{method: "OPTIONS", path: apiPath("/dashboards"), token: r.main.Token})
	if opts.status != http.StatusNoContent || opts.header.Get("Allow") == "" {
		problems = append(problems, fmt.Sprintf("OPTIONS /dashboards answered %s with Allow %q, want 204 and Allow", opts.what(), opts.header.Get("Allow")))
	}
	return failed(problems, "HEAD 200 without a body, OPTIONS 204 with Allow")
}

func (r *run) nested() outcome {
	if err := r.get(apiPath("/users"), r.main.Token).refusal(api.CodeNestedImpersonation); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

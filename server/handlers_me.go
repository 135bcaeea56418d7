package server

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // settings validate IANA zone names on any machine
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/policy"
	"github.com/shadowview/shadow/server/ratelimit"
	"github.com/shadowview/shadow/server/store"
	"github.com/shadowview/shadow/server/views"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request, _ *identity) *apiError {
	writeJSON(w, r, http.StatusOK, api.HealthResponse{Status: "ok", Version: s.version})
	return nil
}

// clientIP is the connection's address. Forwarding headers are not trusted: the
// reference server is meant to be reached directly.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// addressKey is the key sign-ins are throttled by per client address: the address
// for IPv4, its /64 for IPv6 (one client holds a whole /64, and would otherwise have
// 2^64 addresses to spread its guesses over).
func addressKey(r *http.Request) string {
	ip := net.ParseIP(clientIP(r))
	if ip == nil || ip.To4() != nil {
		return clientIP(r)
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// reserveAttempt counts a password check against both limits before it is made, so
// concurrent guesses cannot all pass the limit before any has failed. On a refusal it
// returns how long to wait and which key is throttled, having reserved nothing.
func (s *Server) reserveAttempt(email, address string) (byEmail, byAddress ratelimit.Reservation, wait time.Duration, key string) {
	byEmail, wait = s.emailLimit.Reserve(email)
	if wait > 0 {
		return byEmail, byAddress, wait, "email:" + email
	}
	byAddress, wait = s.ipLimit.Reserve(address)
	if wait > 0 {
		byEmail.Cancel()
		return ratelimit.Reservation{}, ratelimit.Reservation{}, wait, "address:" + address
	}
	return byEmail, byAddress, 0, ""
}

// login is POST /auth/login. Failures are throttled per email and per client address
// (429 with Retry-After once over the limit) and audited; an attempt is reserved
// against both limits before its password is checked. Throttled attempts are audited
// bounded: the first per key and window, and a count when the window closes. An
// unknown email costs the same bcrypt comparison as a known one, so timing does not
// reveal which exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *identity) *apiError {
	var req api.LoginRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email == "" {
		return errorf(api.CodeValidation, "email is required").field("email")
	}
	if req.Password == "" {
		return errorf(api.CodeValidation, "password is required").field("password")
	}
	s.flushSummaries(false)
	byEmail, byAddress, wait, key := s.reserveAttempt(truncate(email, 254), addressKey(r))
	if wait > 0 {
		if s.throttled.Note(key) {
			s.auditLogin(r, api.EventLoginFailed, email, nil, api.CodeRateLimited)
		}
		e := errorf(api.CodeRateLimited, "too many failed sign-ins; wait before trying again")
		e.retry = wait
		return e
	}
	if len(email) > 254 || len(req.Password) > 1024 {
		s.auditLogin(r, api.EventLoginFailed, email, nil, api.CodeInvalidCredentials)
		return errorf(api.CodeInvalidCredentials, "the email or password is wrong")
	}
	s.mu.RLock()
	u := s.org.UserByEmail(email)
	s.mu.RUnlock()
	hash := s.demoHash
	if u != nil {
		hash = u.PasswordHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || u == nil {
		s.auditLogin(r, api.EventLoginFailed, email, u, api.CodeInvalidCredentials)
		return errorf(api.CodeInvalidCredentials, "the email or password is wrong")
	}
	s.emailLimit.Reset(email)
	byEmail.Cancel()
	byAddress.Cancel()
	token, exp, err := s.ownToken(u.ID, u.PasswordVersion)
	if err != nil {
		return errorf(api.CodeInternal, "could not issue a token")
	}
	if err := s.auditLogin(r, api.EventLogin, email, u, ""); err != nil {
		return errorf(api.CodeUnavailable, "the sign-in could not be audited; retry shortly")
	}
	s.mu.RLock()
	user := views.User(s.org, u, false)
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, api.LoginResponse{Token: token, ExpiresAt: exp, User: user})
	return nil
}

func (s *Server) auditLogin(r *http.Request, kind, email string, u *org.User, code api.Code) error {
	actor := api.UserRef{Email: email}
	if u != nil {
		actor = u.Ref()
	}
	err := s.store.AppendEvents(store.Event{AuditEvent: api.AuditEvent{
		Time: s.now(), Kind: kind, Actor: actor, Code: code, Method: r.Method, Path: r.URL.Path,
		Details: "from " + clientIP(r),
	}, Companies: companies(u)})
	if err != nil {
		s.log.Error("audit sign-in", "err", err)
	}
	return err
}

// flushSummaries audits what the suppressors counted in windows that have closed (all
// of it when the server closes): one event per key, with the count.
func (s *Server) flushSummaries(all bool) {
	var events []store.Event
	for _, sum := range s.throttled.Due(all) {
		what, key, _ := strings.Cut(sum.Key, ":")
		actor := api.UserRef{Email: key}
		if what != "email" {
			actor = api.UserRef{}
		}
		events = append(events, store.Event{AuditEvent: api.AuditEvent{
			Time: sum.Last, Kind: api.EventLoginFailed, Actor: actor, Code: api.CodeRateLimited, Count: sum.Suppressed,
			Details: fmt.Sprintf("%d more throttled sign-in attempts for %s %s from %s to %s, not recorded one by one",
				sum.Suppressed, what, key, sum.First.UTC().Format(time.RFC3339), sum.Last.UTC().Format(time.RFC3339)),
		}})
	}
	for _, sum := range s.refusedPuts.Due(all) {
		events = append(events, s.refusedSummary(sum))
	}
	if len(events) == 0 {
		return
	}
	if err := s.store.AppendEvents(events...); err != nil {
		s.log.Error("audit suppressed events", "err", err)
	}
}

// me is GET /me: the identity behind the token. For an impersonation token: the
// impersonated user (redacted), the actor, the session and its expiry.
func (s *Server) me(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.mu.RLock()
	out := api.Me{
		User:          views.User(s.org, id.user, id.impersonating()),
		Scope:         id.scope,
		ExpiresAt:     id.expires,
		Impersonating: id.impersonating(),
	}
	settings := id.user.Settings
	out.Settings = &settings
	if id.impersonating() {
		actor := id.actor.Ref()
		out.Actor, out.SessionID = &actor, id.session.ID
	} else {
		out.CanImpersonate = policy.For(s.org, id.user, nil).Actor().Allowed()
	}
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// currentUser re-reads the caller under the read lock: a writer must start from the
// latest copy, not the one the token resolved to. The caller holds writeMu.
func (s *Server) currentUser(id *identity) *org.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.org.User(id.user.ID)
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.ProfileUpdate
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	next := *s.currentUser(id)
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if err := checkText("name", name, 1, 100); err != nil {
			return err
		}
		next.Name = name
	}
	if req.Phone != nil {
		phone := strings.TrimSpace(*req.Phone)
		if len(phone) > 32 || strings.TrimLeft(phone, "0123456789 +()-./") != "" {
			return errorf(api.CodeValidation, "phone may hold up to 32 digits, spaces and + ( ) - . /").field("phone")
		}
		next.Phone = phone
	}
	if err := s.saveUser(&next); err != nil {
		return s.unsaved("save profile", err)
	}
	s.mu.RLock()
	out := views.User(s.org, &next, false)
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

var localeRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$`)

func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.Settings
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Timezone == "" || req.Timezone == "Local" || len(req.Timezone) > 64 {
		return errorf(api.CodeValidation, "timezone must be an IANA zone name such as Europe/Berlin").field("timezone")
	}
	if _, err := time.LoadLocation(req.Timezone); err != nil {
		return errorf(api.CodeValidation, "timezone %q is not an IANA zone name", truncate(req.Timezone, 64)).field("timezone")
	}
	if !localeRE.MatchString(req.Locale) {
		return errorf(api.CodeValidation, "locale must be a language tag such as en-GB").field("locale")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	next := *s.currentUser(id)
	next.Settings = req
	if err := s.saveUser(&next); err != nil {
		return s.unsaved("save settings", err)
	}
	writeJSON(w, r, http.StatusOK, next.Settings)
	return nil
}

// changePassword is POST /me/password. It signs out every other token of the user
// (they carry the old password version) and revokes the impersonation sessions the
// user started; the reply carries a fresh token.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	var req api.PasswordChange
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	email := strings.ToLower(id.user.Email)
	byEmail, byAddress, wait, _ := s.reserveAttempt(email, addressKey(r))
	if wait > 0 {
		e := errorf(api.CodeRateLimited, "too many wrong passwords; wait before trying again")
		e.retry = wait
		return e
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur := s.currentUser(id)
	if len(req.Current) > 1024 || bcrypt.CompareHashAndPassword(cur.PasswordHash, []byte(req.Current)) != nil {
		return errorf(api.CodeForbidden, "the current password is wrong").field("current")
	}
	byEmail.Cancel()
	byAddress.Cancel()
	switch {
	case len(req.New) < 8:
		return errorf(api.CodeValidation, "the new password needs at least 8 characters").field("new")
	case len(req.New) > 72:
		return errorf(api.CodeValidation, "the new password may have at most 72 bytes").field("new")
	case req.New == req.Current:
		return errorf(api.CodeValidation, "the new password must differ from the current one").field("new")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.New), s.hashCost)
	if err != nil {
		return errorf(api.CodeInternal, "could not hash the password")
	}
	next := *cur
	next.PasswordHash, next.PasswordVersion = hash, cur.PasswordVersion+1
	ev := store.Event{AuditEvent: api.AuditEvent{Time: s.now(), Kind: api.EventPasswordChange, Actor: cur.Ref(),
		Details: "every earlier token of this identity is signed out"}, Companies: companies(cur)}
	if err := s.saveUser(&next, ev); err != nil {
		return s.unsaved("save password", err)
	}
	s.emailLimit.Reset(email)
	s.revokeSessionsBy(next.ID, "the impersonator changed their password")
	token, exp, err := s.ownToken(next.ID, next.PasswordVersion)
	if err != nil {
		return errorf(api.CodeInternal, "could not issue a token")
	}
	s.mu.RLock()
	user := views.User(s.org, &next, false)
	s.mu.RUnlock()
	writeJSON(w, r, http.StatusOK, api.LoginResponse{Token: token, ExpiresAt: exp, User: user})
	return nil
}

// revokeSessionsBy revokes every active session the user started.
func (s *Server) revokeSessionsBy(actorID, why string) {
	s.sessMu.Lock()
	var ids []string
	for id, sess := range s.sessions {
		if sess.State == api.SessionActive && sess.Impersonator.ID == actorID {
			ids = append(ids, id)
		}
	}
	s.sessMu.Unlock()
	for _, id := range ids {
		if err := s.endSession(id, api.SessionRevoked, nil, why); err != nil {
			s.log.Error("revoke session", "session", id, "err", err)
		}
	}
}

// checkText validates a short display text: org.TextProblem's rule, and
// minRunes..maxRunes characters.
func checkText(field, v string, minRunes, maxRunes int) *apiError {
	if problem := org.TextProblem(v); problem != "" {
		return errorf(api.CodeValidation, "%s %s", field, problem).field(field)
	}
	switch n := utf8.RuneCountInString(v); {
	case n < minRunes:
		return errorf(api.CodeValidation, "%s is required", field).field(field)
	case n > maxRunes:
		return errorf(api.CodeValidation, "%s may have at most %d characters", field, maxRunes).field(field)
	}
	return nil
}

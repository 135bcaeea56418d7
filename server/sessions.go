package server

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/policy"
	"github.com/shadowview/shadow/server/store"
)

// Session lifecycle. A session is active until it is ended (DELETE), expires (its
// expires_at passes) or is revoked by the server; each transition happens once, under
// sessMu, and is then persisted with its audit event. Memory changes first, so a
// failed write can only make the server refuse a token sooner, never later.

// loadSessions reads stored sessions at start. Sessions a previous run left active
// are revoked: their tokens were signed with a key that died with that run.
func (s *Server) loadSessions() error {
	stored, err := s.store.Sessions()
	if err != nil {
		return err
	}
	now := s.now()
	for i := range stored {
		sess := stored[i]
		s.sessions[sess.ID] = &sess
		if sess.State != api.SessionActive {
			continue
		}
		if !now.Before(sess.ExpiresAt) {
			s.expireDue(sess.ID)
			continue
		}
		if err := s.endSession(sess.ID, api.SessionRevoked, nil, "the server restarted; tokens do not survive a restart"); err != nil {
			return err
		}
	}
	return nil
}

// sessionByID returns a copy of the session after recording its expiry if it is due.
func (s *Server) sessionByID(id string) (store.Session, bool) {
	s.expireDue(id)
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		return store.Session{}, false
	}
	return *sess, true
}

// transition moves an active session to state (once) and returns the copy to persist.
func (s *Server) transition(id, state string, at time.Time, due bool) (store.Session, bool) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	sess := s.sessions[id]
	if sess == nil || sess.State != api.SessionActive {
		return store.Session{}, false
	}
	if due && s.now().Before(sess.ExpiresAt) {
		return store.Session{}, false
	}
	sess.State = state
	t := at.UTC()
	sess.EndedAt = &t
	return *sess, true
}

// expireDue records a session's expiry if its time has come: state expired, and a
// session.expire event dated when it expired (not when it was noticed).
func (s *Server) expireDue(id string) {
	s.sessMu.Lock()
	sess := s.sessions[id]
	var at time.Time
	if sess != nil {
		at = sess.ExpiresAt
	}
	s.sessMu.Unlock()
	if sess == nil {
		return
	}
	done, ok := s.transition(id, api.SessionExpired, at, true)
	if !ok {
		return
	}
	s.notifySession(api.WebhookSessionEnded, done)
	ev := sessionEvent(api.EventSessionExpire, done, done.Impersonator, at, "the session reached its expiry")
	if err := s.store.PutSession(done, ev); err != nil {
		s.log.Error("record session expiry", "session", id, "err", err)
	}
}

// sweepSessions records every expiry that is due, and the counts of suppressed events
// whose window has closed.
func (s *Server) sweepSessions() {
	s.flushSummaries(false)
	s.sessMu.Lock()
	now := s.now()
	var due []string
	for id, sess := range s.sessions {
		if sess.State == api.SessionActive && !now.Before(sess.ExpiresAt) {
			due = append(due, id)
		}
	}
	s.sessMu.Unlock()
	for _, id := range due {
		s.expireDue(id)
	}
}

// endSession ends an active session as ended (by a person: by) or revoked (by the
// server: by nil), persisting it with its event. Ending one that is no longer active
// is a no-op.
func (s *Server) endSession(id, state string, by *org.User, details string) error {
	done, ok := s.transition(id, state, s.now(), false)
	if !ok {
		return nil
	}
	s.notifySession(api.WebhookSessionEnded, done)
	kind, actor := api.EventSessionRevoke, done.Impersonator
	if by != nil {
		kind, actor = api.EventSessionEnd, by.Ref()
	}
	ev := sessionEvent(kind, done, actor, *done.EndedAt, details)
	if err := s.store.PutSession(done, ev); err != nil {
		return fmt.Errorf("record end of session %s: %w", id, err)
	}
	return nil
}

func sessionEvent(kind string, sess store.Session, actor api.UserRef, at time.Time, details string) store.Event {
	user := sess.User
	cs := []string{}
	if sess.CompanyID != "" {
		cs = append(cs, sess.CompanyID)
	}
	return store.Event{AuditEvent: api.AuditEvent{
		Time: at, Kind: kind, Actor: actor, User: &user, SessionID: sess.ID, Reason: sess.Reason, Details: details,
	}, Companies: cs}
}

// ---- handlers

// startSession is POST /impersonation/sessions. Every refusal after the body is read
// is audited as session.refused with its code.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	actor := id.user
	var req api.StartSessionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	s.mu.RLock()
	pol := policy.For(s.org, actor, nil)
	target := s.org.User(req.UserID)
	s.mu.RUnlock()
	targetID := truncate(req.UserID, 100)
	if d := pol.Actor(); !d.Allowed() {
		return s.refuseStart(actor, targetID, req.Reason, d)
	}
	if strings.TrimSpace(req.UserID) == "" {
		return s.refuseStart(actor, "", req.Reason, policy.Decision{Code: api.CodeValidation, Field: "user_id", Reason: "user_id is required"})
	}
	if target == nil {
		return s.refuseStart(actor, targetID, req.Reason, policy.Unknown())
	}
	ref := target.Ref()
	if d := pol.Target(target); !d.Allowed() {
		return s.refuseStart(actor, targetID, req.Reason, d)
	}
	if d := policy.Reason(req.Reason); !d.Allowed() {
		return s.refuseStart(actor, targetID, req.Reason, d)
	}
	release, wait := s.reserveOpenSession(actor.ID)
	if wait > 0 {
		e := s.refuseStart(actor, targetID, req.Reason, policy.Decision{Code: api.CodeRateLimited,
			Reason: fmt.Sprintf("You have %d impersonation sessions open, the most one identity may have at once; end one first.", s.maxOpen)})
		e.retry = wait
		return e
	}
	defer release()
	if req.TTLSeconds < 0 {
		return s.refuseStart(actor, targetID, req.Reason, policy.Decision{Code: api.CodeValidation, Field: "ttl_seconds", Reason: "ttl_seconds must not be negative"})
	}
	ttl := s.sessionTTL
	// Compared in seconds: a huge ttl_seconds times time.Second would overflow and wrap
	// round to a negative length.
	if req.TTLSeconds > 0 && req.TTLSeconds < int(ttl/time.Second) {
		ttl = time.Duration(req.TTLSeconds) * time.Second
	}
	now := s.now().UTC()
	sess := store.Session{
		Session: api.Session{
			ID:   "ses_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()),
			User: ref, Impersonator: actor.Ref(), Reason: strings.TrimSpace(req.Reason),
			StartedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Second), State: api.SessionActive,
		},
		CompanyID: target.CompanyID,
	}
	token, err := s.impersonationToken(sess.ID, target.ID, actor.ID, sess.ExpiresAt)
	if err != nil {
		return errorf(api.CodeInternal, "could not issue the session token")
	}
	ev := sessionEvent(api.EventSessionStart, sess, actor.Ref(), now, "")
	ev.Companies = companies(target, actor)
	if err := s.store.PutSession(sess, ev); err != nil {
		s.log.Error("store session", "err", err)
		return errorf(api.CodeUnavailable, "the session could not be recorded, so it was not started")
	}
	s.sessMu.Lock()
	stored := sess
	s.sessions[sess.ID] = &stored
	s.sessMu.Unlock()
	s.notifySession(api.WebhookSessionStarted, sess)
	w.Header().Set("Location", api.Prefix+"/impersonation/sessions/"+sess.ID)
	writeJSON(w, r, http.StatusCreated, api.StartSessionResponse{Session: sess.Session, Token: token})
	return nil
}

// reserveOpenSession holds a place for one more of the actor's open sessions while it
// is started (release lets go of it: the session is then in s.sessions, or was not
// started), or says how long until one of theirs expires when they hold as many as one
// identity may. Starts at once cannot pass the cap together.
func (s *Server) reserveOpenSession(actorID string) (release func(), wait time.Duration) {
	if s.maxOpen < 0 {
		return func() {}, 0
	}
	s.sweepSessions() // an expiry that is due frees its place
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	open, soonest := s.opening[actorID], time.Time{}
	for _, sess := range s.sessions {
		if sess.State == api.SessionActive && sess.Impersonator.ID == actorID {
			open++
			if soonest.IsZero() || sess.ExpiresAt.Before(soonest) {
				soonest = sess.ExpiresAt
			}
		}
	}
	if open >= s.maxOpen {
		if soonest.IsZero() { // every place is held by a start under way
			return nil, time.Second
		}
		return nil, max(soonest.Sub(s.now()), time.Second)
	}
	s.opening[actorID]++
	return func() {
		s.sessMu.Lock()
		defer s.sessMu.Unlock()
		if s.opening[actorID]--; s.opening[actorID] <= 0 {
			delete(s.opening, actorID)
		}
	}, 0
}

// refuseStart audits a refused start and returns the refusal. The event is filed under
// the actor's organisation alone, naming the target by the id asked for only: a start
// anyone may attempt on any id must not write their words into another tenant's log,
// nor read out the directory. Like refused journal writes, only the first per identity,
// code and minute is an event of its own (noteRefusal); the rest are counted.
func (s *Server) refuseStart(actor *org.User, targetID, reason string, d policy.Decision) *apiError {
	e := errorf(d.Code, "%s", d.Reason)
	if d.Field != "" {
		e = e.field(d.Field)
	}
	if !s.noteRefusal(api.EventSessionRefused, actor.ID, d.Code) {
		return e
	}
	var target *api.UserRef
	if targetID != "" {
		target = &api.UserRef{ID: targetID}
	}
	ev := store.Event{AuditEvent: api.AuditEvent{
		Time: s.now(), Kind: api.EventSessionRefused, Actor: actor.Ref(), User: target,
		Code: d.Code, Reason: truncate(reason, api.MaxReasonLength), Details: d.Reason,
	}, Companies: companies(actor)}
	if err := s.store.AppendEvents(ev); err != nil {
		s.log.Error("audit refused session", "err", err)
		return errorf(api.CodeUnavailable, "the refusal could not be audited; retry shortly")
	}
	return e
}

// mayManage reports whether the identity may read (and, for an own token, end) a
// session: the token of that very session; its impersonator; staff who may support
// its company; or an admin of its company (a customer can always see and stop
// shadowing of its users).
func (s *Server) mayManage(id *identity, sess store.Session) bool {
	if id.impersonating() {
		return id.session.ID == sess.ID
	}
	u := id.user
	switch {
	case u.ID == sess.Impersonator.ID:
		return true
	case u.Staff():
		return s.policyFor(u).MaySupport(sess.CompanyID)
	case u.Admin():
		return u.CompanyID == sess.CompanyID
	}
	return false
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	sess, ok := s.sessionByID(r.PathValue("id"))
	if !ok || !s.mayManage(id, sess) {
		return errorf(api.CodeNotFound, "no session %q", truncate(r.PathValue("id"), 100))
	}
	writeJSON(w, r, http.StatusOK, sess.Session)
	return nil
}

// endSessionHandler is DELETE /impersonation/sessions/{id}: 204, and the token is dead
// from this moment. Ending a session that already ended is also 204.
func (s *Server) endSessionHandler(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	sess, ok := s.sessionByID(r.PathValue("id"))
	if !ok || !s.mayManage(id, sess) {
		return errorf(api.CodeNotFound, "no session %q", truncate(r.PathValue("id"), 100))
	}
	details := ""
	if id.user.ID != sess.Impersonator.ID {
		details = fmt.Sprintf("ended by %s, not the impersonator", id.user.Name)
	}
	if err := s.endSession(sess.ID, api.SessionEnded, id.user, details); err != nil {
		s.log.Error("end session", "err", err)
		return errorf(api.CodeUnavailable, "the end of the session could not be written to the audit log; its token is refused from now on regardless")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

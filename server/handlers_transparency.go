package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/api/openapi"
	"github.com/shadowview/shadow/server/notify"
	"github.com/shadowview/shadow/server/store"
	"github.com/shadowview/shadow/server/transparency"
)

// vendorOrganisation is who support staff work for, as a shadowed user is told of it.
const vendorOrganisation = "the service's support staff"

// myImpersonations is GET /me/impersonations: the sessions in which the caller was
// shadowed, or, for a company admin, every session on a user of the company; what each
// viewed comes from the server's own request log.
func (s *Server) myImpersonations(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	limit, lerr := pageLimit(r)
	if lerr != nil {
		return lerr
	}
	s.sweepSessions() // due expiries are recorded first, so states and lengths are current
	caller := transparency.Caller{ID: id.user.ID, CompanyID: id.user.CompanyID, Admin: id.user.Admin()}
	s.sessMu.Lock()
	all := make([]transparency.Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, transparency.Session{Session: sess.Session, CompanyID: sess.CompanyID})
	}
	s.sessMu.Unlock()
	q := r.URL.Query()
	page, next, err := transparency.Page(caller, all, q.Get("user"), q.Get("cursor"), limit)
	switch {
	case errors.Is(err, transparency.ErrNotYours):
		return errorf(api.CodeForbidden, "%s", err).field("user")
	case errors.Is(err, transparency.ErrBadCursor):
		return errorf(api.CodeBadRequest, "%s", err).field("cursor")
	}
	out := api.ImpersonationsPage{Scope: caller.Scope(), Impersonations: make([]api.Impersonation, 0, len(page)), NextCursor: next}
	requests, truncated, rerr := s.sessionRequests(page)
	if rerr != nil {
		s.log.Error("read the sessions' requests", "err", rerr)
		return errorf(api.CodeUnavailable, "the audit log could not be read; retry")
	}
	now := s.now()
	for _, sess := range page {
		imp := transparency.Summarise(sess, s.impersonator(sess.Impersonator.ID), requests[sess.ID], now, s.describeRead)
		imp.Truncated = truncated[sess.ID]
		out.Impersonations = append(out.Impersonations, imp)
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// maxImpersonationEvents bounds the events one GET /me/impersonations reads, over all
// the sessions of its page; each session reads at most maxSessionAuditEvents of them.
// A session whose events were cut is listed truncated.
const maxImpersonationEvents = 50_000

// sessionRequests reads the request events of the page's sessions, each session's by
// the store's per-session index (requests made after a session ended, with its dead
// token, count too), so the cost follows the page's sessions, not the size of the log
// since the oldest of them. truncated names the sessions whose events did not all fit
// the bounds.
func (s *Server) sessionRequests(page []transparency.Session) (out map[string][]api.AuditEvent, truncated map[string]bool, err error) {
	out, truncated = map[string][]api.AuditEvent{}, map[string]bool{}
	budget := s.impersonationEvents
	for _, sess := range page {
		if budget <= 0 {
			truncated[sess.ID] = true
			continue
		}
		evs, complete, err := s.store.SessionEvents(sess.ID, min(budget, maxSessionAuditEvents))
		if err != nil {
			return nil, nil, fmt.Errorf("events of session %s: %w", sess.ID, err)
		}
		budget -= len(evs)
		truncated[sess.ID] = !complete
		for _, ev := range evs {
			if ev.Kind == api.EventRequest {
				out[sess.ID] = append(out[sess.ID], ev.AuditEvent)
			}
		}
	}
	return out, truncated, nil
}

func (s *Server) impersonator(userID string) transparency.Impersonator {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.org.User(userID)
	switch {
	case u == nil:
		return transparency.Impersonator{Kind: api.KindUser, Organisation: "an account that no longer exists"}
	case u.Staff():
		return transparency.Impersonator{Kind: api.KindStaff, Organisation: vendorOrganisation}
	}
	return transparency.Impersonator{Kind: api.KindUser, Organisation: s.org.CompanyName(u.CompanyID)}
}

// describeRead says in words what a session read.
func (s *Server) describeRead(route, path string) string {
	switch route {
	case api.RouteMe:
		return "who they are (their profile and settings)"
	case api.RouteDashboards:
		return "the list of their dashboards"
	case api.RouteDashboard:
		s.mu.RLock()
		defer s.mu.RUnlock()
		if d := s.org.Dashboard(transparency.PathParam(path)); d != nil {
			return "dashboard " + d.Title
		}
		return "a dashboard that no longer exists"
	case api.RoutePermissions:
		return "their permission matrix"
	case api.RouteExplain:
		return "why one of their permissions is what it is"
	case api.RouteGetSession:
		return "the session's own state"
	case "":
		return "a path that is no route"
	}
	return "route " + route
}

// openAPI is GET /api/v1/openapi.json: the contract as an OpenAPI 3.1 document.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *identity) *apiError {
	writeJSON(w, r, http.StatusOK, jsonBytes(openapi.Document()))
	return nil
}

// jsonBytes is JSON that is already encoded, passed through writeJSON as it is (so it
// gets the same ETag and caching headers as every reply).
type jsonBytes []byte

func (j jsonBytes) MarshalJSON() ([]byte, error) { return j, nil }

// notifySession tells the session's company, by webhook, that it started or ended (the
// company's endpoint from Options.Webhooks; nothing when it has none).
func (s *Server) notifySession(event string, sess store.Session) {
	s.notifier.Session(event, sess.CompanyID, sess.Session)
}

// newNotifier builds the notifier of Options.Webhooks, refusing a company the
// organisation does not have (a typo would silently notify no one).
func (s *Server) newNotifier(cfg notify.Config) error {
	for company := range cfg {
		if s.org.Company(company) == nil {
			return errors.New("webhooks: no company " + strconv.Quote(company) + " in the organisation")
		}
	}
	s.notifier = notify.New(notify.Options{Endpoints: cfg, Logger: s.log, Now: s.now})
	return nil
}

// closeNotifier lets queued notifications go out, for a few seconds at most.
func (s *Server) closeNotifier() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return s.notifier.Close(ctx)
}

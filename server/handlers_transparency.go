package server

import (
	"context"
	"errors"
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
	requests, rerr := s.sessionRequests(page)
	if rerr != nil {
		s.log.Error("read the sessions' requests", "err", rerr)
		return errorf(api.CodeUnavailable, "the audit log could not be read; retry")
	}
	now := s.now()
	for _, sess := range page {
		out.Impersonations = append(out.Impersonations, transparency.Summarise(sess, s.impersonator(sess.Impersonator.ID), requests[sess.ID], now, s.describeRead))
	}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// sessionRequests reads the request events of the page's sessions from the audit log in
// one pass from the oldest start on (requests made after a session ended, with its dead
// token, count too), grouped by session.
func (s *Server) sessionRequests(page []transparency.Session) (map[string][]api.AuditEvent, error) {
	out := map[string][]api.AuditEvent{}
	if len(page) == 0 {
		return out, nil
	}
	oldest := page[0].StartedAt
	for _, sess := range page {
		out[sess.ID] = nil
		if sess.StartedAt.Before(oldest) {
			oldest = sess.StartedAt
		}
	}
	f := store.EventFilter{Kind: api.EventRequest, Since: oldest.Add(-time.Second), Limit: api.MaxPageLimit}
	for {
		evs, next, err := s.store.Events(f)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if list, ok := out[ev.SessionID]; ok {
				out[ev.SessionID] = append(list, ev)
			}
		}
		if next == "" {
			return out, nil
		}
		f.Cursor = next
	}
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

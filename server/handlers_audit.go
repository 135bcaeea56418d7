package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/store"
)

// auditEvents is GET /audit/events: the server audit log in time order (a journal's
// records in seq order), merged with synced journal records, as the caller's
// organisation may read it (store.Reader.May). Due expiries and the counts of
// suppressed events whose window closed are recorded first, so the log is current.
func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.sweepSessions()
	q := r.URL.Query()
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	f := store.EventFilter{SessionID: q.Get("session"), UserID: q.Get("user"), ActorID: q.Get("actor"),
		Kind: q.Get("kind"), Cursor: q.Get("cursor"), Limit: limit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, perr := time.Parse(time.RFC3339Nano, v)
			if perr != nil {
				return errorf(api.CodeBadRequest, "%s must be an RFC 3339 time such as 2025-06-01T12:00:00Z", p.name).field(p.name)
			}
			*p.dst = t
		}
	}
	f.Reader = readerOf(id.user)
	events, next, serr := s.store.Events(f)
	switch {
	case errors.Is(serr, store.ErrBadCursor):
		return errorf(api.CodeBadRequest, "cursor is not one this server issued").field("cursor")
	case serr != nil:
		s.log.Error("list audit events", "err", serr)
		return errorf(api.CodeUnavailable, "the audit log could not be read; retry")
	}
	writeJSON(w, r, http.StatusOK, api.AuditEventsPage{Events: events, NextCursor: next})
	return nil
}

// readerOf is who u reads the audit log as.
func readerOf(u *org.User) *store.Reader {
	if u.Staff() {
		return &store.Reader{ID: u.ID, Staff: true, Scope: u.SupportScope}
	}
	return &store.Reader{ID: u.ID, Company: u.CompanyID}
}

func (s *Server) auditKey(w http.ResponseWriter, r *http.Request, _ *identity) *apiError {
	writeJSON(w, r, http.StatusOK, api.AuditKey{KeyID: s.key.ID, Algorithm: "ed25519", PublicKey: s.key.Public})
	return nil
}

// routeHandlers maps every route of api.Routes to its handler.
func (s *Server) routeHandlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		api.RouteHealth:          s.health,
		api.RouteLogin:           s.login,
		api.RouteMe:              s.me,
		api.RouteUpdateProfile:   s.updateProfile,
		api.RouteUpdateSettings:  s.updateSettings,
		api.RouteChangePassword:  s.changePassword,
		api.RouteUsers:           s.users,
		api.RouteStartSession:    s.startSession,
		api.RouteGetSession:      s.getSession,
		api.RouteEndSession:      s.endSessionHandler,
		api.RouteDashboards:      s.dashboards,
		api.RouteDashboard:       s.dashboard,
		api.RouteCreateDashboard: s.createDashboard,
		api.RouteUpdateDashboard: s.updateDashboard,
		api.RouteDeleteDashboard: s.deleteDashboardHandler,
		api.RouteShareDashboard:  s.shareDashboard,
		api.RoutePermissions:     s.permissions,
		api.RouteExplain:         s.explain,
		api.RoutePutJournal:      s.putJournal,
		api.RouteAuditEvents:     s.auditEvents,
		api.RouteAuditKey:        s.auditKey,
		api.RouteAuditSession:    s.sessionAudit,
		api.RouteJournalRecords:  s.journalRecords,
		// transparency (handlers_transparency.go)
		api.RouteMyImpersonations: s.myImpersonations,
		api.RouteOpenAPI:          s.openAPI,
	}
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/store"
)

var journalIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// putJournal is PUT /audit/journals/{journal_id}/records: one contiguous, ascending
// range of at most api.MaxJournalBatch records, each verified against its own hash.
// The range is stored (or recognised as already held) and committed before the reply,
// which carries a receipt signed for the server's head. A gap or a conflicting record
// is 409 with the head, so the client can rewind. An empty range just reports the
// head, with a receipt.
func (s *Server) putJournal(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	jid := r.PathValue("journal_id")
	if !journalIDRE.MatchString(jid) {
		return errorf(api.CodeBadRequest, "journal_id must be 1 to 128 of A-Z a-z 0-9 . _ : -").field("journal_id")
	}
	var req api.PutRecordsRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Records) > api.MaxJournalBatch {
		return errorf(api.CodePayloadTooLarge, "at most %d records per request (got %d); send the range in parts", api.MaxJournalBatch, len(req.Records)).field("records")
	}
	bodies := make([]api.RecordBody, len(req.Records))
	for i, rec := range req.Records {
		field := fmt.Sprintf("records[%d]", i)
		if rec.Seq == 0 {
			return errorf(api.CodeValidation, "%s: seq starts at 1", field).field(field + ".seq")
		}
		if i > 0 {
			prev := req.Records[i-1]
			if rec.Seq != prev.Seq+1 {
				return errorf(api.CodeValidation, "%s: seq %d does not follow %d; a request carries one contiguous range", field, rec.Seq, prev.Seq).field(field + ".seq")
			}
			if rec.PrevHash != prev.Hash {
				return errorf(api.CodeValidation, "%s: prev_hash is not the hash of record %d", field, prev.Seq).field(field + ".prev_hash")
			}
		}
		if err := rec.Verify(jid); err != nil {
			return errorf(api.CodeValidation, "%s: %v", field, err).field(field + ".hash")
		}
		if err := json.Unmarshal(rec.Body, &bodies[i]); err != nil {
			return errorf(api.CodeValidation, "%s: body is not a journal record: %v", field, err).field(field + ".body")
		}
		if bodies[i].Action == "" {
			return errorf(api.CodeValidation, "%s: body has no action", field).field(field + ".body")
		}
	}
	first := uint64(0)
	if len(req.Records) > 0 {
		first = req.Records[0].Seq
	}
	syncedBy := id.user.Ref()
	out, err := s.store.AppendJournal(jid, journalRealm(id.user), req.Records, func(rec api.WireRecord) store.Event {
		return s.journalEvent(jid, rec.Seq, bodies[rec.Seq-first], syncedBy, id.user)
	})
	if err != nil {
		s.log.Error("append journal", "journal", jid, "err", err)
		return errorf(api.CodeUnavailable, "the records could not be stored; retry")
	}
	if out.Code != "" {
		e := errorf(out.Code, "%s", out.Message)
		if out.Code == api.CodeJournalGap || out.Code == api.CodeJournalConflict {
			head := out.Head
			e.body.Head = &head
		}
		return e
	}
	receipt := api.Receipt{JournalID: jid, Seq: out.Head.Seq, Hash: out.Head.Hash, IssuedAt: s.now().UTC(), KeyID: s.key.ID}
	receipt.Sign(s.key.Private)
	writeJSON(w, r, http.StatusOK, api.PutRecordsResponse{JournalID: jid, Head: out.Head,
		Accepted: out.Accepted, Duplicates: out.Duplicates, Receipt: receipt})
	return nil
}

// journalRealm is the organisation an uploader writes journals for: vendor staff share
// one realm (a support box's next run syncs its predecessor's journal), each customer
// company is its own.
func journalRealm(u *org.User) string {
	if u.Staff() {
		return "staff"
	}
	return "company:" + u.CompanyID
}

// journalEvent is the audit event for one synced record: who acted and whom it
// concerned come from the record's body (the client wrote it); who uploaded it is
// the authenticated caller.
func (s *Server) journalEvent(jid string, seq uint64, b api.RecordBody, syncedBy api.UserRef, writer *org.User) store.Event {
	s.mu.RLock()
	involved := []*org.User{writer, s.org.User(b.Actor.ID)}
	if b.User != nil {
		involved = append(involved, s.org.User(b.User.ID))
	}
	s.mu.RUnlock()
	return store.Event{AuditEvent: api.AuditEvent{
		Time: b.Time, Kind: api.EventJournalRecord, Actor: b.Actor, User: b.User, SessionID: b.SessionID,
		Reason: b.Reason, Details: b.Details, JournalID: jid, Seq: seq, Action: b.Action, SyncedBy: &syncedBy,
	}, Companies: companies(involved...)}
}

// auditEvents is GET /audit/events: the server audit log in time order, merged with
// synced journal records. Staff read everything; a customer's admin reads the events
// concerning their company. Due expiries are recorded first, so the log is current.
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
	if !id.user.Staff() {
		f.Company = id.user.CompanyID
	}
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
		// transparency (handlers_transparency.go)
		api.RouteMyImpersonations: s.myImpersonations,
		api.RouteOpenAPI:          s.openAPI,
	}
}

package server

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/reconcile"
	"github.com/shadowview/shadow/server/store"
)

// maxSessionAuditEvents bounds the events one GET /audit/sessions/{id} sets against
// each other; a session with more is answered with what fits, complete: false.
const maxSessionAuditEvents = 20_000

// sessionAudit is GET /audit/sessions/{id}: the session, every request its token made
// (the server's word) and every journal record naming it that its impersonator
// uploaded (the client's) that the caller's organisation may read, matched by package
// reconcile. Readable by whoever may read the session (mayManage); anyone else gets 404.
func (s *Server) sessionAudit(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	s.sweepSessions()
	sess, ok := s.sessionByID(r.PathValue("id"))
	if !ok || !s.mayManage(id, sess) {
		return errorf(api.CodeNotFound, "no session %q", truncate(r.PathValue("id"), 100))
	}
	events, complete, err := s.store.SessionEvents(sess.ID, maxSessionAuditEvents)
	if err != nil {
		s.log.Error("read session events", "session", sess.ID, "err", err)
		return errorf(api.CodeUnavailable, "the audit log could not be read; retry")
	}
	out := api.SessionAudit{Session: sess.Session, Requests: []api.AuditEvent{}, Records: []api.ReconciledRecord{},
		Unjournaled: []api.AuditEvent{}, Refused: []api.AuditEvent{}}
	var reqs []reconcile.Request
	var recs []reconcile.Record
	var recEvents []api.AuditEvent
	reader := readerOf(id.user)
	withheld := 0
	for _, ev := range events {
		switch {
		case ev.Kind == api.EventRequest:
			out.Requests = append(out.Requests, ev.AuditEvent)
			reqs = append(reqs, reconcile.Request{Time: ev.Time, Subject: requestSubject(ev), Served: ev.Status > 0 && ev.Status < 400,
				Page: pageOfEvent(ev)})
		case ev.Kind != api.EventJournalRecord || ev.SyncedBy == nil || ev.SyncedBy.ID != sess.Impersonator.ID:
		case reader.May(&ev):
			recEvents = append(recEvents, ev.AuditEvent)
		default:
			withheld++
		}
	}
	sort.SliceStable(recEvents, func(i, j int) bool {
		a, b := recEvents[i], recEvents[j]
		if a.JournalID != b.JournalID {
			return a.JournalID < b.JournalID
		}
		return a.Seq < b.Seq
	})
	for _, ev := range recEvents {
		recs = append(recs, reconcile.Record{Time: ev.Time, Action: ev.Action, Details: ev.Details})
	}
	m := reconcile.Match(reqs, recs, s.skew)
	// The requests a record accounts for besides its own: a paged view's later pages.
	pagesOf := map[int][]string{}
	for q, rec := range m.Record {
		if rec >= 0 && m.Request[rec] != q {
			pagesOf[rec] = append(pagesOf[rec], out.Requests[q].ID)
		}
	}
	sum := &out.Summary
	for i, ev := range recEvents {
		rr := api.ReconciledRecord{AuditEvent: ev, Match: m.Match[i], Finding: m.Finding[i]}
		if rr.Finding != "" {
			sum.Findings++
		}
		if q := m.Request[i]; q >= 0 {
			rr.RequestID = out.Requests[q].ID
			rr.PageRequestIDs = pagesOf[i]
		}
		out.Records = append(out.Records, rr)
		switch rr.Match {
		case api.MatchServed:
			sum.Matched++
		case api.MatchCached:
			sum.Cached++
		case api.MatchUnserved:
			sum.Unserved++
		case api.MatchUnrecognised:
			sum.Unrecognised++
		}
		if ev.Verification == api.RecordUnverified {
			sum.Unverified++
		}
	}
	for i, q := range reqs {
		if q.Served {
			sum.Served++
		}
		if m.Record[i] >= 0 {
			continue
		}
		if q.Served {
			out.Unjournaled = append(out.Unjournaled, out.Requests[i])
		} else {
			out.Refused = append(out.Refused, out.Requests[i])
		}
	}
	sum.Requests, sum.Records, sum.Unjournaled = len(out.Requests), len(out.Records), len(out.Unjournaled)
	sum.Complete, sum.Withheld = complete, withheld
	sum.Consistent = complete && withheld == 0 && sum.Unjournaled == 0 && sum.Unserved == 0 && sum.Findings == 0
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// requestSubject is what a stored request event read. Events stored before subjects
// were kept are named from their route (the first word of details), path and query.
func requestSubject(ev store.Event) string {
	if ev.Subject != "" {
		return ev.Subject
	}
	route, query, _ := strings.Cut(ev.Details, " ?")
	q, _ := url.ParseQuery(query)
	id := ""
	if route == api.RouteDashboard {
		id = ev.Path[strings.LastIndexByte(ev.Path, '/')+1:]
	}
	if route == "unknown route" {
		route = ""
	}
	return reconcile.RequestSubject(route, id, q.Get("resource"), q.Get("action"))
}

// pageOfEvent is the page of a paged matrix view a stored request event served, as the
// server bound it to its view (store.MatrixPage); nil for any other request, and for
// events stored before pages were kept, which count as plain requests.
func pageOfEvent(ev store.Event) *reconcile.Page {
	if ev.Page == nil || ev.Subject != reconcile.RequestSubject(api.RoutePermissions, "", "", "") {
		return nil
	}
	p := ev.Page
	return &reconcile.Page{View: p.View, Index: p.Index, From: p.From, Rows: p.Rows, Total: p.Total, Last: p.Last}
}

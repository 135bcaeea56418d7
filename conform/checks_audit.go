package conform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
)

// end ends a session with the admin's token (a session already over answers 204 too),
// and reads it back: a 204 for a session still active is not an end.
func (r *run) end(id string) error {
	path := apiPath("/impersonation/sessions/" + id)
	resp := r.send("DELETE", path, r.admin.token, nil)
	if resp.status != http.StatusNoContent {
		return errors.New(resp.String() + ", want 204")
	}
	var s api.Session
	if err := r.get(path, r.admin.token).decode(http.StatusOK, &s); err != nil {
		return fmt.Errorf("after DELETE: %w", err)
	}
	if s.State == api.SessionActive {
		return errors.New("DELETE answered 204 but the session is still active")
	}
	return nil
}

// endAll ends every session the kit started, with a context of its own (the run's may be
// cancelled), and says what it did.
func (r *run) endAll() []string {
	r.mu.Lock()
	ids := slices.Clone(r.started)
	r.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 30*time.Second)
	defer cancel()
	saved := r.ctx
	r.ctx = ctx
	defer func() { r.ctx = saved }()
	var ended, failedIDs []string
	for _, id := range ids {
		if err := r.end(id); err != nil {
			failedIDs = append(failedIDs, id+": "+err.Error())
			continue
		}
		ended = append(ended, id)
	}
	return describeSessions(ended, failedIDs)
}

func (r *run) revokeDelete() outcome {
	id := r.main.Session.ID
	if err := r.end(id); err != nil {
		return fail("%v", err)
	}
	var problems []string
	if err := r.get(apiPath("/me"), r.main.Token).refusal(api.CodeSessionExpired); err != nil {
		problems = append(problems, "the token right after DELETE: "+err.Error())
	}
	var s api.Session
	if err := r.get(apiPath("/impersonation/sessions/"+id), r.admin.token).decode(http.StatusOK, &s); err != nil {
		problems = append(problems, err.Error())
	} else if s.State != api.SessionEnded || s.EndedAt == nil {
		problems = append(problems, fmt.Sprintf("state %q, ended_at %v; want ended, set", s.State, s.EndedAt))
	}
	if err := r.end(id); err != nil {
		problems = append(problems, "ending it again: "+err.Error())
	}
	return failed(problems, "204; the token is refused at once; state ended; a second DELETE is 204")
}

// maxExpiryWait is how long revoke.expiry waits at most without --wait-expiry.
const maxExpiryWait = time.Minute

func (r *run) revokeExpiry() outcome {
	if r.expiry == nil {
		if r.expErr.status != "" {
			return r.expErr
		}
		return skip("no short session was started")
	}
	if r.expErr.status != "" {
		return r.expErr
	}
	s := r.expiry
	length := s.Session.ExpiresAt.Sub(s.Session.StartedAt)
	limit := maxExpiryWait
	if r.cfg.WaitExpiry {
		limit = api.MaxSessionTTL + time.Minute
	}
	if length > limit {
		return skip("the server gave a %s session for ttl_seconds %d; waiting that long needs --wait-expiry", length.Round(time.Second), expiryTTL)
	}
	// Counted on this machine's clock from when the 201 arrived, which is after the
	// server's started_at: the server's clock may differ from ours, but a length is a
	// length. The margin is for the request that follows to be read after it.
	if wait := time.Until(s.received.Add(length + 250*time.Millisecond)); wait > 0 {
		select {
		case <-r.ctx.Done():
			return skip("the run was stopped")
		case <-time.After(wait):
		}
	}
	var problems []string
	if err := r.get(apiPath("/me"), s.Token).refusal(api.CodeSessionExpired); err != nil {
		problems = append(problems, "the token after expiry: "+err.Error())
	}
	var got api.Session
	if err := r.get(apiPath("/impersonation/sessions/"+s.Session.ID), r.admin.token).decode(http.StatusOK, &got); err != nil {
		problems = append(problems, err.Error())
	} else if got.State != api.SessionExpired {
		problems = append(problems, fmt.Sprintf("state %q after expiry, want expired", got.State))
	}
	return failed(problems, fmt.Sprintf("a %s session (ttl_seconds %d): refused after it, state expired", length.Round(time.Millisecond), expiryTTL))
}

// events reads the audit log for filter (all pages) with the admin's token.
func (r *run) events(filter url.Values) ([]api.AuditEvent, error) {
	var all []api.AuditEvent
	filter.Set("limit", "200")
	for range 100 {
		var page api.AuditEventsPage
		if err := r.get(apiPath("/audit/events?"+filter.Encode()), r.admin.token).decode(http.StatusOK, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if page.NextCursor == "" {
			return all, nil
		}
		filter.Set("cursor", page.NextCursor)
	}
	return all, errors.New("the audit log's cursors did not end after 100 pages")
}

func (r *run) auditBothIdentities() outcome {
	sid := r.main.Session.ID
	events, err := r.events(url.Values{"session": {sid}})
	if err != nil {
		return fail("%v", err)
	}
	type key struct{ method, path string }
	logged := map[key]int{}
	started := false
	var problems []string
	for _, ev := range events {
		if ev.SessionID != sid {
			problems = append(problems, fmt.Sprintf("?session=%s returned event %s of session %q", sid, ev.ID, ev.SessionID))
			continue
		}
		switch ev.Kind {
		case api.EventSessionStart:
			started = true
		case api.EventRequest:
			if ev.Actor.ID != r.admin.me.User.ID || ev.User == nil || ev.User.ID != r.target.ID {
				problems = append(problems, fmt.Sprintf("request event %s names actor %q and user %v, want %q and %q", ev.ID, ev.Actor.ID, ev.User, r.admin.me.User.ID, r.target.ID))
			}
			logged[key{ev.Method, ev.Path}]++
		}
	}
	if !started {
		problems = append(problems, "no session.start event")
	}
	sentReqs := r.p.sentWith(sid)
	missing := 0
	for _, s := range sentReqs {
		k := key{s.method, s.path}
		if logged[k] > 0 {
			logged[k]--
			continue
		}
		missing++
		if missing <= 5 {
			problems = append(problems, fmt.Sprintf("%s %s (answered %d) is not in the audit log", s.method, s.path, s.status))
		}
	}
	if missing > 5 {
		problems = append(problems, fmt.Sprintf("%d requests missing in all", missing))
	}
	return failed(problems, fmt.Sprintf("all %d requests made with the session's token, each with the admin and the user", len(sentReqs)))
}

func (r *run) auditJournalRecords() outcome {
	events, err := r.events(url.Values{"session": {r.main.Session.ID}, "kind": {api.EventJournalRecord}})
	if err != nil {
		return fail("%v", err)
	}
	perSeq := map[uint64]int{}
	var problems []string
	for _, ev := range events {
		if ev.JournalID != r.journal.id {
			continue
		}
		perSeq[ev.Seq]++
		if ev.SyncedBy == nil || ev.SyncedBy.ID != r.admin.me.User.ID {
			problems = append(problems, fmt.Sprintf("record %d synced_by %v, want %q", ev.Seq, ev.SyncedBy, r.admin.me.User.ID))
		}
	}
	for _, rec := range r.journal.held {
		if n := perSeq[rec.Seq]; n != 1 {
			problems = append(problems, fmt.Sprintf("record %d is %d journal.record events, want 1", rec.Seq, n))
		}
		delete(perSeq, rec.Seq)
	}
	for seq, n := range perSeq {
		problems = append(problems, fmt.Sprintf("%d events for record %d, which the server refused", n, seq))
	}
	return failed(problems, fmt.Sprintf("%d records, one event each, synced by the admin", len(r.journal.held)))
}

// findImpersonation reads GET /me/impersonations (query added) with token until the
// session appears, a few pages at most.
func (r *run) findImpersonation(token, query, sid string) (*api.Impersonation, string, reply, error) {
	cursor := ""
	for range 5 {
		path := apiPath("/me/impersonations?limit=200" + query)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		resp := r.get(path, token)
		var page api.ImpersonationsPage
		if err := resp.decode(http.StatusOK, &page); err != nil {
			return nil, "", resp, err
		}
		for i := range page.Impersonations {
			if page.Impersonations[i].Session.ID == sid {
				return &page.Impersonations[i], page.Scope, resp, nil
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return nil, page.Scope, resp, nil
		}
	}
	return nil, "", reply{}, nil
}

// notOffered reports a route the server does not have: 404 not_found.
func notOffered(resp reply) bool {
	b, ok := resp.envelope()
	return resp.status == http.StatusNotFound && ok && b.Code == api.CodeNotFound
}

func (r *run) transparencyUser() outcome {
	if r.user == nil || r.user.me.User.ID != r.target.ID {
		return skip("needs the impersonated user's own token (SHADOW_CONFORM_USER_*)")
	}
	sid := r.main.Session.ID
	found, scope, resp, err := r.findImpersonation(r.user.token, "", sid)
	if notOffered(resp) {
		return skip("the server does not offer GET %s", apiPath("/me/impersonations"))
	}
	if err != nil {
		return fail("%v", err)
	}
	var problems []string
	switch {
	case found == nil:
		return fail("the user is not told of session %s", sid)
	case scope != api.TransparencySelf && scope != api.TransparencyCompany:
		problems = append(problems, fmt.Sprintf("scope %q", scope))
	}
	if found.Session.Impersonator.ID != r.admin.me.User.ID || found.Session.Reason != r.main.Session.Reason {
		problems = append(problems, fmt.Sprintf("told impersonator %q and reason %q", found.Session.Impersonator.ID, found.Session.Reason))
	}
	if found.ImpersonatorOrganisation == "" || (found.ImpersonatorKind != api.KindStaff && found.ImpersonatorKind != api.KindUser) {
		problems = append(problems, fmt.Sprintf("impersonator kind %q, organisation %q", found.ImpersonatorKind, found.ImpersonatorOrganisation))
	}
	if found.DurationSeconds < 0 {
		problems = append(problems, fmt.Sprintf("duration %d", found.DurationSeconds))
	}
	for _, path := range []string{apiPath("/me"), apiPath("/dashboards")} {
		if !slices.ContainsFunc(found.Viewed, func(v api.ViewedItem) bool { return v.Path == path && v.Count > 0 }) {
			problems = append(problems, "viewed does not list "+path+", which the session read")
		}
	}
	if err := r.get(apiPath("/me/impersonations"), r.main.Token).refusal(api.CodeForbidden); err != nil {
		problems = append(problems, "with the session's own token: "+err.Error())
	}
	return failed(problems, fmt.Sprintf("told: %s of %s, the reason, %d things viewed; refused to the session's token", found.Session.Impersonator.Name, found.ImpersonatorOrganisation, len(found.Viewed)))
}

func (r *run) transparencyCompany() outcome {
	if r.userAdmin == nil {
		return skip("needs an admin of the user's company (SHADOW_CONFORM_USER_ADMIN_*)")
	}
	sid := r.main.Session.ID
	found, scope, resp, err := r.findImpersonation(r.userAdmin.token, "&user="+url.QueryEscape(r.target.ID), sid)
	if notOffered(resp) {
		return skip("the server does not offer GET %s", apiPath("/me/impersonations"))
	}
	if err != nil {
		return fail("%v", err)
	}
	var problems []string
	if found == nil || scope != api.TransparencyCompany {
		problems = append(problems, fmt.Sprintf("the company admin is told scope %q and not of session %s", scope, sid))
	}
	if r.other != nil {
		if seen, _, _, err := r.findImpersonation(r.other.token, "", sid); err == nil && seen != nil {
			problems = append(problems, "another company's admin is told of the session")
		}
	}
	return failed(problems, "the company admin is told; another company's admin is not")
}

// hookReceiver takes the server's session notifications for the run.
type hookReceiver struct {
	key    []byte
	mu     sync.Mutex
	events []api.WebhookEvent
	bad    []string
}

// listenWebhooks starts the receiver on cfg.WebhookListen.
func (r *run) listenWebhooks() (func(), error) {
	key, err := api.ParseWebhookSecret(r.cfg.WebhookSecret)
	if err != nil {
		return nil, err
	}
	ln := r.cfg.webhookListener
	if ln == nil {
		if ln, err = net.Listen("tcp", r.cfg.WebhookListen); err != nil {
			return nil, err
		}
	}
	h := &hookReceiver{key: key}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := api.VerifyWebhook(h.key, req.Header, body, time.Now(), 5*time.Minute); err != nil {
			h.bad = append(h.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev api.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad = append(h.bad, "a signed body that is not a webhook event: "+err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.events = append(h.events, ev)
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	r.hooks = h
	return func() { srv.Close() }, nil
}

// webhookWait is how long the webhook check waits for a notification to arrive.
const webhookWait = 10 * time.Second

func (r *run) webhookDelivery() outcome {
	if r.hooks == nil {
		return skip("needs --webhook-listen (and SHADOW_CONFORM_WEBHOOK_SECRET), with the server sending the target's company's notifications there")
	}
	sid := r.main.Session.ID
	deadline := time.Now().Add(webhookWait)
	for {
		r.hooks.mu.Lock()
		var started, ended bool
		for _, ev := range r.hooks.events {
			if ev.Data.Session.ID != sid {
				continue
			}
			started = started || ev.Type == api.WebhookSessionStarted
			ended = ended || (ev.Type == api.WebhookSessionEnded && ev.Data.Session.State == api.SessionEnded)
		}
		bad := slices.Clone(r.hooks.bad)
		r.hooks.mu.Unlock()
		switch {
		case len(bad) > 0:
			return failed(append([]string{"deliveries that did not verify"}, bad...), "")
		case started && ended:
			return pass("started and ended, both signed")
		case time.Now().After(deadline):
			return fail("within %s of the end: started %v, ended %v (for session %s)", webhookWait, started, ended, sid)
		}
		select {
		case <-r.ctx.Done():
			return skip("the run was stopped")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/store"
)

// The regression tests of the security review of main (after issue 8), one per
// finding, each through the real handler over loopback HTTP. Each failed against
// main at 10f137c.

// Finding 1 (high): Acme's admin uploaded a record naming an Orbit user's id, with no
// session or an unknown one, and read back Orbit's user's name and e-mail, filled in
// from the directory; the actor-mismatch refusal read out the name of whichever
// identity the record claimed. A record's user is the client's word, flagged as such,
// until the server's own session proves it, and no refusal names anyone.
func TestIngestIsNoDirectoryLookup(t *testing.T) {
	e := newEnv(t)
	ada := e.login(DemoCompanyAdminEmail)
	const jid = "ada-lookup.journal"
	recs := records(t, jid, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: testEpoch, Actor: api.UserRef{ID: DemoCompanyAdminID},
			User: &api.UserRef{ID: DemoOutOfScopeID}},
		api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: "ses_unknown_here", Actor: api.UserRef{ID: DemoCompanyAdminID},
			User: &api.UserRef{ID: DemoOutOfScopeID, Name: "as the client wrote it"}})
	e.do("PUT", journalPath(jid), ada, api.PutRecordsRequest{Records: recs}).decode(t, 200, nil)
	got := e.events(ada, "kind=journal.record")
	if len(got) != 2 {
		t.Fatalf("Ada reads %d of her 2 records", len(got))
	}
	for i, ev := range got {
		if ev.User == nil || ev.User.ID != DemoOutOfScopeID || ev.User.Email != "" || strings.Contains(ev.User.Name, "Olga") {
			t.Errorf("record %d: user %+v, want only what the client sent", ev.Seq, ev.User)
		}
		if !strings.Contains(ev.VerificationNote, "as the record claims it") || ev.Verification == api.RecordVerified {
			t.Errorf("record %d is not flagged as the client's word: %s %q", ev.Seq, ev.Verification, ev.VerificationNote)
		}
		if want := []string{api.RecordNoSession, api.RecordUnverified}[i]; ev.Verification != want {
			t.Errorf("record %d: verification %s, want %s", ev.Seq, ev.Verification, want)
		}
	}
	if got[1].User.Name != "as the client wrote it" {
		t.Errorf("the client's own words for the user were not kept: %+v", got[1].User)
	}

	const jid2 = "ada-oracle.journal"
	b := e.do("PUT", journalPath(jid2), ada, api.PutRecordsRequest{Records: records(t, jid2, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: testEpoch, Actor: api.UserRef{ID: "u-staff-jordan"}})}).wantErr(t, api.CodeJournalActorMismatch)
	if strings.Contains(b.Message, "Jordan") || strings.Contains(b.Message, "Lee") {
		t.Errorf("the refusal reads out the directory: %q", b.Message)
	}
	for _, ev := range e.events(ada, "kind="+api.EventJournalRefused) {
		if strings.Contains(ev.Details, "Jordan") {
			t.Errorf("the audited refusal names the claimed actor: %q", ev.Details)
		}
	}
}

// Finding 2 (medium-high): the Bluebird-only agent read the unverified and no_session
// records of every staff member, whatever company they concerned: a genuine record
// from a laptop whose clock was off showed him what Sam read of Acme. Within the staff,
// a record the server could not verify is read by those whose scope covers the
// company of its session; one naming no company known to the server, by vendor-wide
// staff and its uploader only.
func TestNarrowScopeReadsOnlyItsCompaniesUnverifiedRecords(t *testing.T) {
	e := newEnv(t)
	sam := e.login(DemoSupportEmail)
	alex := e.login(DemoAgentEmail) // vendor-wide
	jordan := e.login(DemoNarrowAgentEmail)
	acme := e.impersonate(sam, DemoFleetManagerEmail)
	blue := e.impersonate(sam, "ben@bluebird.demo")
	fast := testEpoch.Add(-10 * time.Minute) // a laptop clock 10 minutes off: unverified
	const jid = "sam-laptop.journal"
	e.do("PUT", journalPath(jid), sam, api.PutRecordsRequest{Records: records(t, jid, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: fast, SessionID: acme.Session.ID, Actor: api.UserRef{ID: "u-staff-sam"},
			Details: "dashboard d-acme-nora-north: North region revenue 1.2M"},
		api.RecordBody{Action: api.ActionView, Time: fast, SessionID: blue.Session.ID, Actor: api.UserRef{ID: "u-staff-sam"},
			Details: "dashboard d-bluebird-fleet: Fleet overview"},
		api.RecordBody{Action: api.ActionError, Time: testEpoch, Actor: api.UserRef{ID: "u-staff-sam"}, Details: "a journal notice"},
		api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: "ses_from_before_a_restore", Actor: api.UserRef{ID: "u-staff-sam"},
			Details: "dashboard d-acme-fleet: Fleet overview"})}).decode(t, 200, nil)
	const jj = "jordan.journal"
	e.do("PUT", journalPath(jj), jordan, api.PutRecordsRequest{Records: records(t, jj, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionError, Time: testEpoch, Actor: api.UserRef{ID: "u-staff-jordan"}, Details: "his own notice"})}).decode(t, 200, nil)

	seen := func(token string) map[string]bool {
		out := map[string]bool{}
		for _, ev := range e.events(token, "kind=journal.record") {
			out[fmt.Sprintf("%s/%d", ev.JournalID, ev.Seq)] = true
		}
		return out
	}
	all := []string{jid + "/1", jid + "/2", jid + "/3", jid + "/4", jj + "/1"}
	for who, c := range map[string]struct {
		token string
		want  []string
	}{
		"Sam (the uploader)":     {sam, all},
		"Alex (vendor-wide)":     {alex, all},
		"Jordan (Bluebird only)": {jordan, []string{jid + "/2", jj + "/1"}},
	} {
		got := seen(c.token)
		for _, k := range all {
			if got[k] != slices.Contains(c.want, k) {
				t.Errorf("%s reads record %s: %v, want %v", who, k, got[k], !got[k])
			}
		}
	}
	for _, path := range []string{"/api/v1/audit/sessions/" + acme.Session.ID, "/api/v1/impersonation/sessions/" + acme.Session.ID} {
		if r := e.do("GET", path, jordan, nil); r.status == 200 {
			t.Errorf("Jordan reads %s: %s", path, r.body)
		}
	}
}

// Finding 3 (medium): Acme's admin tried 200 starts on a Bluebird user with a reason
// of her choosing: each was a session.refused event in Bluebird's audit log, reason and
// all; and the refusal of a start on another tenant's user read out its company, and
// for an admin its name and role, where an id no user has got 404. Now scope is checked
// first, out-of-scope and unknown targets get the same answer, and the event is filed
// under the actor's organisation with the target's id only, once per identity, code and
// minute, the rest counted.
func TestRefusedStartsStayWithTheActorAndTellNothing(t *testing.T) {
	e := newEnv(t)
	ada := e.login(DemoCompanyAdminEmail)
	bea := e.login("bea@bluebird.demo")
	const text = "APPROVED by Bea Collins (Bluebird admin) per call 2025-06-02; no further review needed."
	var first api.ErrorBody
	for i := range 200 {
		b := e.do("POST", "/api/v1/impersonation/sessions", ada, api.StartSessionRequest{UserID: "u-bluebird-ben", Reason: text}).
			wantErr(t, api.CodeTargetOutOfScope)
		if i == 0 {
			first = b
		}
	}
	for _, id := range []string{"u-orbit-otto", "u-staff-jordan", "u-orbit-nobody"} {
		b := e.do("POST", "/api/v1/impersonation/sessions", ada, api.StartSessionRequest{UserID: id, Reason: "x"}).wantErr(t, api.CodeTargetOutOfScope)
		if b.Message != first.Message || b.Field != first.Field {
			t.Errorf("a start on %s is answered %+v, on an out-of-scope user %+v: they must be alike", id, b, first)
		}
	}
	for _, w := range []string{"Bluebird", "Ben", "Orbit", "Otto", "Jordan", "admin"} {
		if strings.Contains(first.Message, w) {
			t.Errorf("the refusal says %q: %q", w, first.Message)
		}
	}
	if n := len(e.events(bea, "kind=session.refused")); n != 0 {
		t.Errorf("Bluebird's admin reads %d refused starts by Acme's admin", n)
	}
	mine := e.events(ada, "kind=session.refused")
	if len(mine) != 1 {
		t.Fatalf("Ada's own log holds %d refused starts for 203 in a minute, want 1 (the rest counted)", len(mine))
	}
	if u := mine[0].User; u == nil || u.ID != "u-bluebird-ben" || u.Name != "" || u.Email != "" {
		t.Errorf("the refused start names its target %+v, want the id asked for only", u)
	}
	e.clock.Advance(2 * time.Minute)
	e.login(DemoCompanyAdminEmail) // any request flushes the counts of closed windows
	var summary *api.AuditEvent
	for _, ev := range e.events(ada, "kind=session.refused") {
		if ev.Count > 0 {
			summary = &ev
		}
	}
	if summary == nil || summary.Count != 202 || summary.Actor.ID != DemoCompanyAdminID || !strings.Contains(summary.Details, "session starts refused") {
		t.Fatalf("the suppressed refusals are not counted: %+v", summary)
	}
	if n := len(e.events(bea, "kind=session.refused")); n != 0 {
		t.Errorf("Bluebird's admin reads %d refused-start events", n)
	}
}

// Finding 4 (medium): GET /me/impersonations read every request event of the whole log
// since the oldest session of its page, however many were other tenants': one old
// session made each call walk the log. Each session's events are now read by the
// per-session index, within a bound over the page; a session with more than the bound
// is listed truncated rather than read on and on.
func TestImpersonationsReadEachSessionsOwnEventsBounded(t *testing.T) {
	const bound = 500
	e := newEnv(t, func(o *Options) { o.impersonationEvents = bound })
	sam := e.login(DemoSupportEmail)
	ada := e.login(DemoCompanyAdminEmail)
	busy := e.impersonate(sam, DemoFleetManagerEmail) // the older: its page reads it last
	e.clock.Advance(time.Minute)
	quiet := e.impersonate(sam, DemoTechnicianEmail)
	e.do("GET", "/api/v1/dashboards", quiet.Token, nil).decode(t, 200, nil)
	e.do("DELETE", "/api/v1/impersonation/sessions/"+quiet.Session.ID, sam, nil).decode(t, 204, nil)
	req := func(sid string, user *api.UserRef, company string) store.Event {
		return store.Event{AuditEvent: api.AuditEvent{Time: e.clock.Now(), Kind: api.EventRequest, Actor: busy.Session.Impersonator,
			User: user, SessionID: sid, Method: "GET", Path: "/api/v1/dashboards", Status: 200}, Companies: []string{company}}
	}
	var flood []store.Event
	ben := &api.UserRef{ID: "u-bluebird-ben"}
	for range 5 * bound { // other tenants' traffic
		flood = append(flood, req("ses_other_tenant", ben, "c-bluebird"))
	}
	for range bound { // more than what is left of the bound for it
		flood = append(flood, req(busy.Session.ID, &busy.Session.User, "c-acme"))
	}
	if err := e.srv.store.AppendEvents(flood...); err != nil {
		t.Fatal(err)
	}

	var raw struct {
		Impersonations []struct {
			Session   api.Session      `json:"session"`
			Viewed    []api.ViewedItem `json:"viewed"`
			Truncated *bool            `json:"truncated"`
		} `json:"impersonations"`
	}
	e.do("GET", "/api/v1/me/impersonations?limit=50", ada, nil).decode(t, 200, &raw)
	if len(raw.Impersonations) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(raw.Impersonations))
	}
	for _, imp := range raw.Impersonations {
		switch imp.Session.ID {
		case busy.Session.ID:
			if imp.Truncated == nil || !*imp.Truncated || len(imp.Viewed) != 1 || imp.Viewed[0].Count >= bound {
				t.Errorf("the session with more requests than the bound: truncated %v, viewed %+v", imp.Truncated, imp.Viewed)
			}
		case quiet.Session.ID:
			if imp.Truncated != nil || len(imp.Viewed) != 1 || imp.Viewed[0].Count != 1 {
				t.Errorf("the quiet session amid other tenants' traffic: truncated %v, viewed %+v", imp.Truncated, imp.Viewed)
			}
		}
	}
}

// Finding 5 (low): a record dated 20 minutes after its session ended was verified, since
// the session's life was taken to run to its expiry; and a session.start record could
// give any reason and still be verified. A session's life ends when it ended, and a
// start record must give the reason the server holds.
func TestRecordsOutsideWhatTheSessionWasAreUnverified(t *testing.T) {
	e := newEnv(t)
	sam := e.login(DemoSupportEmail)
	s := e.impersonate(sam, DemoFleetManagerEmail) // reason "TICKET-1234: dashboard looks empty"
	e.clock.Advance(time.Minute)
	e.do("DELETE", "/api/v1/impersonation/sessions/"+s.Session.ID, sam, nil).decode(t, 204, nil)
	e.clock.Advance(20 * time.Minute)
	user := s.Session.User
	body := func(action string, at time.Duration, reason string) api.RecordBody {
		return api.RecordBody{Action: action, SessionID: s.Session.ID, Time: testEpoch.Add(at), Actor: api.UserRef{ID: "u-staff-sam"},
			User: &user, Reason: reason, Details: "dashboard d-acme-nora-north: North"}
	}
	const jid = "sam-after.journal"
	e.do("PUT", journalPath(jid), sam, api.PutRecordsRequest{Records: records(t, jid, 1, api.ZeroHash,
		body(api.ActionSessionStart, 0, " "+s.Session.Reason+"\n"), // as the client typed it: verified
		body(api.ActionView, 30*time.Second, ""),                   // during the session: verified
		body(api.ActionView, 25*time.Minute, ""),                   // after it ended, before it would have expired
		body(api.ActionSessionStart, time.Second, "TICKET-9999: approved by the customer"))}).decode(t, 200, nil)
	want := map[uint64]string{1: api.RecordVerified, 2: api.RecordVerified, 3: api.RecordUnverified, 4: api.RecordUnverified}
	got := e.events(e.login(DemoCompanyAdminEmail), "session="+s.Session.ID+"&kind=journal.record")
	got = append(got, e.events(sam, "session="+s.Session.ID+"&kind=journal.record")...)
	seen := map[uint64]bool{}
	for _, ev := range got {
		if seen[ev.Seq] {
			continue
		}
		seen[ev.Seq] = true
		if ev.Verification != want[ev.Seq] {
			t.Errorf("record %d: %s (%q), want %s", ev.Seq, ev.Verification, ev.VerificationNote, want[ev.Seq])
		}
	}
	if len(seen) != 4 {
		t.Fatalf("%d of the 4 records listed", len(seen))
	}
}

// Finding 6 (low): a journal's first record, unverified and dated 2999, made the
// verified record after it sort at 2999 too: Acme's admin, asking for the hour around
// the session, did not see it. Only a verified record's time carries over to the
// records after it in the log's order.
func TestAFarFutureRecordHidesNoVerifiedOne(t *testing.T) {
	e := newEnv(t)
	sam := e.login(DemoSupportEmail)
	ada := e.login(DemoCompanyAdminEmail)
	s := e.impersonate(sam, DemoFleetManagerEmail)
	user := s.Session.User
	const jid = "sam-far.journal"
	e.do("PUT", journalPath(jid), sam, api.PutRecordsRequest{Records: records(t, jid, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionError, Time: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), Actor: api.UserRef{ID: "u-staff-sam"}, Details: "notice"},
		api.RecordBody{Action: api.ActionView, SessionID: s.Session.ID, Time: testEpoch.Add(time.Minute), Actor: api.UserRef{ID: "u-staff-sam"},
			User: &user, Details: "dashboard d-acme-nora-north: North"})}).decode(t, 200, nil)
	window := "since=" + testEpoch.Add(-time.Hour).Format(time.RFC3339) + "&until=" + testEpoch.Add(time.Hour).Format(time.RFC3339)
	found := false
	for _, ev := range e.events(ada, window+"&kind=journal.record") {
		found = found || (ev.JournalID == jid && ev.Seq == 2 && ev.Verification == api.RecordVerified)
	}
	if !found {
		t.Fatal("Acme's admin's window around the session misses its verified record")
	}
}

// Finding 7 (low): the per-journal record cap was keyed by journal id alone: an
// identity past it went on at full speed with fresh journal ids (100 records in a
// minute against a cap of 5). An identity's records are now capped across all its
// journals too, and so are the journals it starts an hour.
func TestJournalCapsHoldAcrossNewJournalIDs(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.JournalRecordsPerMinute, o.JournalRecordBurst = 1, 5
		o.UploaderRecordsPerMinute, o.UploaderRecordBurst = 1, 8
		o.NewJournalsPerHour = 3
	})
	omar := e.login(DemoOpsLeadEmail)
	note := func(n int) []api.RecordBody {
		out := make([]api.RecordBody, n)
		for i := range out {
			out[i] = api.RecordBody{Action: api.ActionError, Time: testEpoch, Actor: api.UserRef{ID: "u-acme-omar"}, Details: "notice"}
		}
		return out
	}
	put := func(jid string, n int) reply {
		return e.do("PUT", journalPath(jid), omar, api.PutRecordsRequest{Records: records(t, jid, 1, api.ZeroHash, note(n)...)})
	}
	accepted := 0
	for j := range 20 {
		jid := fmt.Sprintf("cap-%02d", j)
		switch r := put(jid, 2); r.status {
		case 200:
			accepted += 2
		case 429:
			r.wantErr(t, api.CodeRateLimited)
			if r.header.Get("Retry-After") == "" {
				t.Fatalf("%s: 429 without Retry-After", jid)
			}
		default:
			t.Fatalf("%s: %d %s", jid, r.status, r.body)
		}
	}
	if accepted != 6 {
		t.Fatalf("20 fresh journals took %d records within the minute: want 6 (3 new journals an hour)", accepted)
	}
	// Within its journals, the identity's own bucket (8) binds before the journals' (5 each).
	e.clock.Advance(time.Hour) // the buckets are full again
	sum := 0
	for j := range 3 {
		jid := fmt.Sprintf("more-%d", j)
		if r := put(jid, 5); r.status == 200 {
			sum += 5
		}
	}
	if sum != 5 {
		t.Fatalf("3 journals of 5 records each: %d stored within the minute, want 5 (the identity's burst is 8)", sum)
	}
	// A refused range costs nothing: the journal that was not started is not counted.
	e.clock.Advance(time.Hour)
	put("later", 3).decode(t, 200, nil)
}

package server

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

// What the shadow client writes (ui/ and audit/) syncs: session-less refusals and
// errors, a session's start, views, explains, errors and end, a journal notice with
// the program as actor; each verified as far as the server can, none refused.
func TestEveryRecordTheClientWritesSyncs(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	sam, nora := start.Session.Impersonator, start.Session.User
	olga := api.UserRef{ID: DemoOutOfScopeID, Name: "Olga Petrova"}
	sid, t1 := start.Session.ID, start.Session.StartedAt
	bodies := []api.RecordBody{
		{Action: api.ActionJournalRecovered, Time: t1, Actor: api.UserRef{ID: "shadow", Name: "shadow"}, Details: "journal x set aside"},
		{Action: api.ActionSessionRefused, Time: t1, Actor: sam, User: &olga, Reason: "TICKET-1", Details: "target_out_of_scope: Orbit Freight is outside …"},
		{Action: api.ActionError, Time: t1, Actor: sam, User: &olga, Details: "start a session: server unreachable"},
		{Action: api.ActionSessionStart, Time: t1.Add(time.Second), SessionID: sid, Actor: sam, User: &nora, Reason: start.Session.Reason},
		{Action: api.ActionView, Time: t1.Add(2 * time.Second), SessionID: sid, Actor: sam, User: &nora, Details: "dashboards: the list (7)"},
		{Action: api.ActionExplain, Time: t1.Add(3 * time.Second), SessionID: sid, Actor: sam, User: &nora, Details: "explain edit on vehicle:acme-n1 (Truck N1): allow"},
		{Action: api.ActionError, Time: t1.Add(4 * time.Second), SessionID: sid, Actor: sam, User: &nora, Details: "dashboard d-x: not found"},
		{Action: api.ActionSessionExpire, Time: start.Session.ExpiresAt.Add(30 * time.Second), SessionID: sid, Actor: sam, User: &nora, Details: "the session expired"},
		{Action: api.ActionSessionEnd, Time: t1.Add(5 * time.Second), SessionID: sid, Actor: api.UserRef{Name: "Sam Rivera"}, User: &nora, Details: "ended"},
	}
	var out api.PutRecordsResponse
	e.do("PUT", journalPath("client.journal"), support, api.PutRecordsRequest{Records: records(t, "client.journal", 1, api.ZeroHash, bodies...)}).decode(t, 200, &out)
	if out.Accepted != len(bodies) {
		t.Fatalf("accepted %d of %d", out.Accepted, len(bodies))
	}
	want := []string{api.RecordUnverified, api.RecordNoSession, api.RecordNoSession, api.RecordVerified, api.RecordVerified,
		api.RecordVerified, api.RecordVerified, api.RecordVerified, api.RecordUnverified}
	evs := e.events(support, "kind=journal.record")
	if len(evs) != len(bodies) {
		t.Fatalf("%d listed", len(evs))
	}
	for _, ev := range evs {
		if ev.Verification != want[ev.Seq-1] || ev.Actor.ID != sam.ID {
			t.Errorf("record %d (%s): %s %q, actor %s; want %s", ev.Seq, ev.Action, ev.Verification, ev.VerificationNote, ev.Actor.ID, want[ev.Seq-1])
		}
	}
	if c := evs[0].ClaimedActor; c == nil || c.ID != "shadow" {
		t.Errorf("the notice's claimed actor: %+v", c)
	}
	// Nora's company sees the session's verified records, not Sam's own notes.
	acme := e.events(e.login(DemoCompanyAdminEmail), "kind=journal.record")
	if len(acme) != 5 {
		t.Fatalf("Acme's admin sees %d records, want the 5 verified ones", len(acme))
	}
}

// The ingest checks survive a restart with --data: the sessions a journal names are
// still known, so a later run's sync of an earlier journal is verified. Without
// --data, a restarted server knows none, and the records are kept unverified.
func TestSessionsAreKnownAfterARestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(o *Options) { o.DataDir = dir })
	start := e.impersonate(e.login(DemoSupportEmail), DemoFleetManagerEmail)
	body := api.RecordBody{Action: api.ActionView, Time: start.Session.StartedAt, SessionID: start.Session.ID,
		Actor: start.Session.Impersonator, User: &start.Session.User, Details: "dashboards: the list (7)"}
	recs := records(t, "later.journal", 1, api.ZeroHash, body)
	for _, c := range []struct {
		name string
		dir  string
		want string
	}{{"with --data", dir, api.RecordVerified}, {"without", t.TempDir(), api.RecordUnverified}} {
		e.http.Close()
		e.srv.Close()
		e = newEnv(t, func(o *Options) { o.DataDir = c.dir })
		support := e.login(DemoSupportEmail)
		e.do("PUT", journalPath("later.journal"), support, api.PutRecordsRequest{Records: recs}).decode(t, 200, nil)
		evs := e.events(support, "kind=journal.record")
		if len(evs) != 1 || evs[0].Verification != c.want {
			t.Errorf("%s: %+v, want %s", c.name, evs, c.want)
		}
	}
}

// A journal's records are listed in seq order, even when concurrent appends stamped
// them out of time order, interleaved by time with the server's own events.
func TestJournalRecordsAreListedInSeqOrder(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	var bodies []api.RecordBody
	for _, s := range []int{5, 3, 4, 1, 2, 9, 6} {
		bodies = append(bodies, api.RecordBody{Action: api.ActionView, Time: start.Session.StartedAt.Add(time.Duration(s) * time.Second),
			SessionID: start.Session.ID, Actor: start.Session.Impersonator, User: &start.Session.User, Details: fmt.Sprintf("dashboard d-%d: x", s)})
	}
	recs := records(t, "order.journal", 1, api.ZeroHash, bodies...)
	e.do("PUT", journalPath("order.journal"), support, api.PutRecordsRequest{Records: recs[:4]}).decode(t, 200, nil)
	e.do("PUT", journalPath("order.journal"), support, api.PutRecordsRequest{Records: recs[4:]}).decode(t, 200, nil)
	var seqs []uint64
	for _, ev := range e.events(support, "session="+start.Session.ID) {
		if ev.Kind == api.EventJournalRecord {
			seqs = append(seqs, ev.Seq)
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7]" {
		t.Fatalf("listed in seq order %v", seqs)
	}
}

// The reconciliation view: what the server served the session's token beside what
// the journal says was shown. A read the client hid, and a read it claims but never
// made, are named.
func TestSessionAuditSetsJournalAgainstRequests(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	sid, imp := start.Session.ID, start.Token
	e.do("GET", "/api/v1/dashboards", imp, nil).decode(t, 200, nil)
	e.do("GET", "/api/v1/dashboards/d-acme-fleet", imp, nil).decode(t, 200, nil)
	e.do("GET", "/api/v1/permissions/explain?resource=vehicle:acme-n1&action=edit", imp, nil).decode(t, 200, nil)
	e.do("GET", "/api/v1/dashboards/d-acme-billing", imp, nil).decode(t, 200, nil) // never journaled
	e.do("PATCH", "/api/v1/dashboards/d-acme-fleet", imp, map[string]string{"title": "x"}).wantErr(t, api.CodeReadOnlyImpersonation)
	at := func(d time.Duration) time.Time { return start.Session.StartedAt.Add(d) }
	rec := func(d time.Duration, action, details string) api.RecordBody {
		return api.RecordBody{Action: action, Time: at(d), SessionID: sid, Actor: start.Session.Impersonator, User: &start.Session.User, Details: details}
	}
	bodies := []api.RecordBody{
		rec(0, api.ActionSessionStart, "read-only until …"),
		rec(time.Second, api.ActionView, "dashboards: the list (7)"),
		rec(time.Second, api.ActionView, "dashboard d-acme-fleet: Fleet overview"),
		rec(2*time.Second, api.ActionView, "dashboard d-acme-fleet: Fleet overview"), // from the client's cache
		rec(2*time.Second, api.ActionExplain, "explain edit on vehicle:acme-n1 (Truck N1): allow"),
		rec(3*time.Second, api.ActionView, "dashboard d-acme-safety: Safety"), // never served
	}
	e.do("PUT", journalPath("audit.journal"), support, api.PutRecordsRequest{Records: records(t, "audit.journal", 1, api.ZeroHash, bodies...)}).decode(t, 200, nil)

	var sa api.SessionAudit
	e.do("GET", "/api/v1/audit/sessions/"+sid, support, nil).decode(t, 200, &sa)
	var matches []string
	for _, r := range sa.Records {
		matches = append(matches, r.Match)
		if r.Match == api.MatchServed && !slices.ContainsFunc(sa.Requests, func(q api.AuditEvent) bool { return q.ID == r.RequestID }) {
			t.Errorf("record %d names request %q, not one of the session's", r.Seq, r.RequestID)
		}
	}
	if got := strings.Join(matches, " "); got != "lifecycle served served cached served unserved" {
		t.Errorf("matches %s", got)
	}
	if len(sa.Unjournaled) != 1 || sa.Unjournaled[0].Path != "/api/v1/dashboards/d-acme-billing" {
		t.Errorf("unjournaled %+v", sa.Unjournaled)
	}
	if len(sa.Refused) != 1 || sa.Refused[0].Method != "PATCH" {
		t.Errorf("refused %+v", sa.Refused)
	}
	s := sa.Summary
	if s.Requests != 5 || s.Served != 4 || s.Records != 6 || s.Matched != 3 || s.Cached != 1 || s.Unjournaled != 1 || s.Unserved != 1 ||
		!s.Complete || s.Consistent || sa.Session.ID != sid {
		t.Errorf("summary %+v", s)
	}
	// The company of the impersonated user may read it; another company may not, nor
	// may an identity that cannot impersonate.
	e.do("GET", "/api/v1/audit/sessions/"+sid, e.login(DemoCompanyAdminEmail), nil).decode(t, 200, &sa)
	e.do("GET", "/api/v1/audit/sessions/"+sid, e.login("bea@bluebird.demo"), nil).wantErr(t, api.CodeNotFound)
	e.do("GET", "/api/v1/audit/sessions/"+sid, e.login(DemoNarrowAgentEmail), nil).wantErr(t, api.CodeNotFound)
	e.do("GET", "/api/v1/audit/sessions/"+sid, e.login(DemoFleetManagerEmail), nil).wantErr(t, api.CodeForbidden)
	e.do("GET", "/api/v1/audit/sessions/"+sid, imp, nil).wantErr(t, api.CodeForbidden)
	e.do("GET", "/api/v1/audit/sessions/ses_nope", support, nil).wantErr(t, api.CodeNotFound)

	// A session whose every read is journaled is consistent.
	clean := e.impersonate(support, "ben@bluebird.demo")
	e.do("GET", "/api/v1/permissions", clean.Token, nil).decode(t, 200, nil)
	e.do("GET", "/api/v1/permissions", clean.Token, nil, "If-None-Match", "*").decode(t, 304, nil)
	cb := func(action, details string) api.RecordBody {
		return api.RecordBody{Action: action, Time: clean.Session.StartedAt.Add(time.Second), SessionID: clean.Session.ID,
			Actor: clean.Session.Impersonator, User: &clean.Session.User, Details: details}
	}
	e.do("PUT", journalPath("clean.journal"), support, api.PutRecordsRequest{Records: records(t, "clean.journal", 1, api.ZeroHash,
		cb(api.ActionSessionStart, ""), cb(api.ActionView, "permissions: 40 resources × 6 actions"), cb(api.ActionView, "permissions: 40 resources × 6 actions"))}).decode(t, 200, nil)
	e.do("GET", "/api/v1/audit/sessions/"+clean.Session.ID, support, nil).decode(t, 200, &sa)
	if !sa.Summary.Consistent || sa.Summary.Matched != 2 {
		t.Errorf("a fully journaled session: %+v", sa.Summary)
	}
}

// The caps bite: open sessions per identity, and records per journal per minute, each
// 429 with Retry-After.
func TestCaps(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxOpenSessions = 2; o.JournalRecordsPerMinute = 60; o.JournalRecordBurst = 5 })
	support := e.login(DemoSupportEmail)
	first := e.impersonate(support, DemoFleetManagerEmail)
	e.impersonate(support, DemoTechnicianEmail)
	r := e.do("POST", "/api/v1/impersonation/sessions", support, api.StartSessionRequest{UserID: "u-bluebird-ben", Reason: "r"})
	b := r.wantErr(t, api.CodeRateLimited)
	if r.header.Get("Retry-After") != "1800" || b.RetryAfterSeconds != 1800 {
		t.Fatalf("a third open session: Retry-After %q, %+v", r.header.Get("Retry-After"), b)
	}
	if n := len(e.events(support, "kind=session.refused&actor=u-staff-sam")); n != 1 {
		t.Fatalf("%d refusals audited", n)
	}
	e.impersonate(e.login(DemoAgentEmail), DemoFleetManagerEmail) // another identity has its own count
	e.do("DELETE", "/api/v1/impersonation/sessions/"+first.Session.ID, support, nil)
	e.impersonate(support, "ben@bluebird.demo") // a place is free again

	body := func(i int) api.RecordBody {
		return api.RecordBody{Action: api.ActionError, Time: testEpoch, Actor: first.Session.Impersonator, Details: fmt.Sprint(i)}
	}
	var bodies []api.RecordBody
	for i := range 8 {
		bodies = append(bodies, body(i))
	}
	recs := records(t, "capped.journal", 1, api.ZeroHash, bodies...)
	e.do("PUT", journalPath("capped.journal"), support, api.PutRecordsRequest{Records: recs[:5]}).decode(t, 200, nil)
	r = e.do("PUT", journalPath("capped.journal"), support, api.PutRecordsRequest{Records: recs[5:]})
	if b := r.wantErr(t, api.CodeRateLimited); r.header.Get("Retry-After") != "3" || b.Head != nil {
		t.Fatalf("beyond the burst: Retry-After %q, %+v", r.header.Get("Retry-After"), b)
	}
	e.do("PUT", journalPath("capped.journal"), support, api.PutRecordsRequest{Records: recs[:5]}).decode(t, 200, nil) // a resend costs nothing
	e.clock.Advance(3 * time.Second)
	e.do("PUT", journalPath("capped.journal"), support, api.PutRecordsRequest{Records: recs[5:]}).decode(t, 200, nil)
	e.do("PUT", journalPath("other.journal"), support, api.PutRecordsRequest{Records: records(t, "other.journal", 1, api.ZeroHash, bodies[:5]...)}).decode(t, 200, nil)
}

// Refused journal writes are audited bounded too: the first per identity, code and
// minute, then one count.
func TestRefusedJournalWritesAreAuditedBounded(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	e.do("PUT", journalPath("sam.journal"), support, api.PutRecordsRequest{Records: records(t, "sam.journal", 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionError, Time: testEpoch, Actor: api.UserRef{ID: "u-staff-sam"}})}).decode(t, 200, nil)
	jordan := e.login(DemoNarrowAgentEmail)
	for range 100 {
		e.do("PUT", journalPath("sam.journal"), jordan, api.PutRecordsRequest{Records: []api.WireRecord{}}).wantErr(t, api.CodeForbidden)
	}
	q := "kind=" + api.EventJournalRefused + "&actor=u-staff-jordan"
	if n := len(e.events(support, q)); n != 1 {
		t.Fatalf("%d events for 100 refused writes in a minute, want 1", n)
	}
	e.clock.Advance(time.Minute)
	evs := e.events(support, q)
	if len(evs) != 2 || evs[1].Count != 99 {
		t.Fatalf("after the minute: %+v", evs)
	}
}

// TestTenantIsolation is the property: random records uploaded by random identities
// of random companies (claiming random actors, sessions, users and times); then for
// every reader, every event it can list is one its organisation may see, and no
// journal record names an actor other than its uploader.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxOpenSessions = -1; o.JournalRecordsPerMinute = -1 })
	type who struct {
		email, id, company string // company "" for staff
		scope              []string
		token              string
	}
	identities := []*who{
		{email: DemoSupportEmail, id: "u-staff-sam"}, {email: DemoAgentEmail, id: "u-staff-alex"},
		{email: DemoNarrowAgentEmail, id: "u-staff-jordan", scope: []string{"c-bluebird"}},
		{email: DemoCompanyAdminEmail, id: DemoCompanyAdminID, company: "c-acme"}, {email: "aaron@acme.demo", id: "u-acme-aaron", company: "c-acme"},
		{email: DemoOpsLeadEmail, id: "u-acme-omar", company: "c-acme"}, {email: "bea@bluebird.demo", id: "u-bluebird-bea", company: "c-bluebird"},
		{email: "otto@orbit.demo", id: "u-orbit-otto", company: "c-orbit"}, {email: "pia@polar.demo", id: "u-polar-pia", company: "c-polar"},
	}
	byID := map[string]*who{}
	for _, w := range identities {
		w.token = e.login(w.email)
		byID[w.id] = w
	}
	type sessionFact struct {
		api.Session
		company string
	}
	var sessions []sessionFact
	for _, c := range []struct{ actor, target, company string }{
		{DemoSupportEmail, DemoFleetManagerEmail, "c-acme"}, {DemoSupportEmail, "ben@bluebird.demo", "c-bluebird"},
		{DemoNarrowAgentEmail, "ben@bluebird.demo", "c-bluebird"}, {DemoCompanyAdminEmail, DemoTechnicianEmail, "c-acme"},
		{"bea@bluebird.demo", "ben@bluebird.demo", "c-bluebird"}, {"otto@orbit.demo", DemoOutOfScopeEmail, "c-orbit"},
		{DemoOpsLeadEmail, DemoSouthFleetManagerEmail, "c-acme"},
	} {
		for _, w := range identities {
			if w.email == c.actor {
				sessions = append(sessions, sessionFact{e.impersonate(w.token, c.target).Session, c.company})
			}
		}
	}
	sessionByID := map[string]sessionFact{}
	for _, s := range sessions {
		sessionByID[s.ID] = s
	}
	rng := rand.New(rand.NewPCG(8, 2025))
	pick := func(n int) int { return rng.IntN(n) }
	users := []api.UserRef{{ID: DemoFleetManagerID}, {ID: "u-bluebird-ben"}, {ID: DemoOutOfScopeID}, {ID: "u-nobody"}}
	heads := map[string]api.Hash{}
	seqs := map[string]uint64{}
	owners := map[string]string{}
	accepted := 0
	for i := range 400 {
		up := identities[pick(len(identities))]
		jid := fmt.Sprintf("j-%s-%d", up.id, pick(2))
		if pick(10) == 0 { // now and then, someone else's journal
			jid = fmt.Sprintf("j-%s-0", identities[pick(len(identities))].id)
		}
		b := api.RecordBody{Action: []string{api.ActionView, api.ActionSessionStart, api.ActionError, api.ActionSessionRefused}[pick(4)],
			Time: testEpoch.Add(time.Duration(pick(3600)-600) * time.Second), Details: fmt.Sprintf("dashboard d-%d: x", i)}
		switch pick(4) {
		case 0, 1:
			b.Actor = api.UserRef{ID: up.id}
		case 2:
			b.Actor = api.UserRef{ID: identities[pick(len(identities))].id, Name: "someone"}
		default:
			b.Actor = api.UserRef{ID: []string{"", "shadow", "u-ghost"}[pick(3)], Name: "forged"}
		}
		switch pick(3) {
		case 0:
			s := sessions[pick(len(sessions))]
			b.SessionID, b.User = s.ID, &s.User
		case 1:
			b.SessionID = "ses_unknown_" + fmt.Sprint(pick(3))
		}
		if pick(3) == 0 {
			u := users[pick(len(users))]
			b.User = &u
		}
		recs := records(t, jid, seqs[jid]+1, heads[jid], b)
		r := e.do("PUT", journalPath(jid), up.token, api.PutRecordsRequest{Records: recs})
		if r.status == 200 {
			if owners[jid] == "" {
				owners[jid] = up.id
			} else if owners[jid] != up.id {
				t.Fatalf("%s wrote %s's journal %s", up.id, owners[jid], jid)
			}
			heads[jid], _ = api.ParseHash(recs[0].Hash)
			seqs[jid]++
			accepted++
		}
	}
	if accepted < 100 {
		t.Fatalf("only %d of 400 records accepted: the property would hold vacuously", accepted)
	}
	companyOf := func(id string) (string, bool) {
		if w := byID[id]; w != nil {
			return w.company, true
		}
		return "", false
	}
	for _, reader := range identities {
		mayReadCompany := func(c string) bool {
			if reader.company != "" {
				return c == reader.company
			}
			return reader.scope == nil || slices.Contains(reader.scope, c)
		}
		for _, ev := range e.events(reader.token, "") {
			if ev.Kind != api.EventJournalRecord {
				if s, ok := sessionByID[ev.SessionID]; ok && reader.company != "" {
					if actorCompany, _ := companyOf(ev.Actor.ID); s.company != reader.company && actorCompany != reader.company {
						t.Fatalf("%s reads an event of a %s session: %+v", reader.email, s.company, ev)
					}
				}
				continue
			}
			if ev.SyncedBy == nil || ev.Actor.ID != ev.SyncedBy.ID {
				t.Fatalf("%s reads a record listed under %s, uploaded by %+v", reader.email, ev.Actor.ID, ev.SyncedBy)
			}
			upCompany, known := companyOf(ev.SyncedBy.ID)
			if !known {
				t.Fatalf("a record uploaded by an unknown identity %s", ev.SyncedBy.ID)
			}
			sameOrg := upCompany == reader.company
			if ev.Verification == api.RecordVerified {
				s, ok := sessionByID[ev.SessionID]
				if !ok || s.Impersonator.ID != ev.SyncedBy.ID || ev.User == nil || ev.User.ID != s.User.ID {
					t.Fatalf("a verified record that no session of its uploader vouches for: %+v", ev)
				}
				if !mayReadCompany(s.company) && !(upCompany != "" && mayReadCompany(upCompany)) && !(reader.company == "" && reader.scope == nil) {
					t.Fatalf("%s reads a verified record of a %s session: %+v", reader.email, s.company, ev)
				}
				continue
			}
			if !sameOrg {
				t.Fatalf("%s (%q) reads an unverified record uploaded by %s (%q): %+v", reader.email, reader.company, ev.SyncedBy.ID, upCompany, ev)
			}
			// Within the staff, a narrow scope reads only the records of a session of a
			// company it covers, and its own.
			if s, ok := sessionByID[ev.SessionID]; reader.company == "" && reader.scope != nil && ev.SyncedBy.ID != reader.id &&
				(!ok || !slices.Contains(reader.scope, s.company)) {
				t.Fatalf("%s (scope %v) reads another's unverified record of no company of its scope: %+v", reader.email, reader.scope, ev)
			}
		}
	}
	// And each uploader reads every record it stored.
	for _, w := range identities {
		for jid, n := range seqs {
			if owners[jid] != w.id {
				continue
			}
			got := 0
			for _, ev := range e.events(w.token, "kind=journal.record") {
				if ev.JournalID == jid {
					got++
				}
			}
			if got != int(n) {
				t.Errorf("%s reads %d of the %d records of its journal %s", w.email, got, n, jid)
			}
		}
	}
}

// A data dir of before the checks (testdata/datadir-69183f9) is judged once by them on
// start: the genuine record becomes verified, the forged one is kept (records are
// immutable) but listed under its uploader, unverified, and shown to Acme alone.
func TestLegacyDataDirIsJudgedOnce(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"server.db", "audit-signing-key.pem"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "datadir-69183f9", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // and again: the judgement is made once and kept
		e := newEnv(t, func(o *Options) { o.DataDir = dir })
		support := e.login(DemoSupportEmail)
		byJournal := map[string]api.AuditEvent{}
		for _, ev := range e.events(support, "kind=journal.record") {
			byJournal[ev.JournalID] = ev
		}
		if ev := byJournal["sam.journal"]; ev.Verification != api.RecordVerified || ev.SessionID == "" {
			t.Fatalf("the genuine record: %+v", ev)
		}
		if _, seen := byJournal["ada.journal"]; seen {
			t.Fatal("staff read the record Acme's admin forged")
		}
		for _, ev := range e.events(e.login("bea@bluebird.demo"), "") {
			if ev.JournalID == "ada.journal" {
				t.Fatalf("Bluebird reads the record forged in its name: %+v", ev)
			}
		}
		acme := e.events(e.login(DemoCompanyAdminEmail), "kind=journal.record")
		var forged *api.AuditEvent
		for i := range acme {
			if acme[i].JournalID == "ada.journal" {
				forged = &acme[i]
			}
		}
		if forged == nil || forged.Actor.ID != DemoCompanyAdminID || forged.ClaimedActor == nil || forged.ClaimedActor.ID != "u-bluebird-bea" ||
			forged.Verification != api.RecordUnverified || !strings.Contains(forged.VerificationNote, "journal_actor_mismatch") {
			t.Fatalf("the forged record as Acme reads it: %+v", forged)
		}
		// The journals are their first uploaders' now, as new ones are.
		e.do("PUT", journalPath("sam.journal"), e.login(DemoAgentEmail), api.PutRecordsRequest{Records: []api.WireRecord{}}).wantErr(t, api.CodeForbidden)
		e.do("PUT", journalPath("sam.journal"), support, api.PutRecordsRequest{Records: []api.WireRecord{}}).decode(t, 200, nil)
		e.http.Close()
		e.srv.Close()
	}
}

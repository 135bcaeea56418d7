package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/store"
)

// The regression tests of issue 8 ("An audit trail no one can forge, squat or flood"),
// one per finding, each through the real handler over loopback HTTP. Each failed
// against the server as it was before the fix (commit 69183f9).

// records builds a chained range of journal jid from seq from, one record per body.
func records(t testing.TB, jid string, from uint64, prev api.Hash, bodies ...api.RecordBody) []api.WireRecord {
	t.Helper()
	out := make([]api.WireRecord, 0, len(bodies))
	for i, b := range bodies {
		seq := from + uint64(i)
		if b.EventID == "" {
			b.EventID = fmt.Sprintf("01J%023d", seq)
		}
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		h := api.RecordHash(jid, seq, prev, raw)
		out = append(out, api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: raw})
		prev = h
	}
	return out
}

func lastHash(t testing.TB, recs []api.WireRecord) api.Hash {
	t.Helper()
	h, err := api.ParseHash(recs[len(recs)-1].Hash)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func journalPath(jid string) string { return "/api/v1/audit/journals/" + jid + "/records" }

func ref(id, name string) *api.UserRef { return &api.UserRef{ID: id, Name: name} }

// Finding 1 (high): Acme's admin uploaded a record naming Bluebird's admin as actor and a
// Bluebird user as target, backdated to 2001, with control characters in the reason:
// it was stored, shown in Bluebird's audit log and merged into staff's views of a real
// Bluebird session. Now a record is bound to its uploader and to the server's own
// session record: provable forgeries are refused with their code, and what the server
// cannot check stays in the uploader's organisation, flagged.
func TestForgedRecordsAreRefusedAndNeverCrossTenants(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	ada := e.login(DemoCompanyAdminEmail)
	bea := e.login("bea@bluebird.demo")
	blue := e.impersonate(support, "ben@bluebird.demo") // a real Bluebird session, Sam's
	own := e.impersonate(ada, DemoFleetManagerEmail)    // Ada's own session on Nora
	ben := blue.Session.User
	const jid = "acme-forge.journal"
	backdated := time.Date(2001, 9, 1, 8, 0, 0, 0, time.UTC)

	for _, c := range []struct {
		name string
		body api.RecordBody
		code api.Code
	}{
		{"another tenant's admin as actor", api.RecordBody{Action: api.ActionView, Time: backdated,
			Actor: api.UserRef{ID: "u-bluebird-bea", Name: "Bea Collins"}, User: &ben,
			Reason: "ticket\x1b[2J\u202e", Details: "dashboard d-bluebird-fleet: Fleet overview"}, api.CodeJournalActorMismatch},
		{"a session someone else started", api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: blue.Session.ID,
			Actor: api.UserRef{ID: DemoCompanyAdminID}, User: &ben, Details: "dashboard d-bluebird-fleet: Fleet overview"}, api.CodeJournalSessionMismatch},
		{"a user who is not the session's", api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: own.Session.ID,
			Actor: api.UserRef{ID: DemoCompanyAdminID}, User: &ben, Details: "dashboard d-acme-fleet: Fleet overview"}, api.CodeJournalUserMismatch},
	} {
		b := e.do("PUT", journalPath(jid), ada, api.PutRecordsRequest{Records: records(t, jid, 1, api.ZeroHash, c.body)}).wantErr(t, c.code)
		if b.Head != nil || b.Field != "records[0]" {
			t.Errorf("%s: refusal %+v: want the record named and no head", c.name, b)
		}
	}

	// What the server cannot check is kept, flagged, and stays Acme's.
	nora := own.Session.User
	kept := records(t, jid, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: backdated, SessionID: own.Session.ID, Actor: api.UserRef{ID: DemoCompanyAdminID}, User: &nora,
			Details: "dashboard d-acme-fleet: Fleet overview"},
		api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: "ses_never_started_here", Actor: api.UserRef{ID: DemoCompanyAdminID}, User: &ben,
			Details: "dashboard d-bluebird-fleet: Fleet overview"})
	e.do("PUT", journalPath(jid), ada, api.PutRecordsRequest{Records: kept}).decode(t, 200, nil)
	mine := e.events(ada, "kind=journal.record")
	if len(mine) != 2 {
		t.Fatalf("Acme's admin sees %d of her own records, want 2", len(mine))
	}
	for _, ev := range mine {
		if ev.Verification != api.RecordUnverified || ev.VerificationNote == "" || ev.Actor.ID != DemoCompanyAdminID {
			t.Errorf("kept record %d: %+v", ev.Seq, ev)
		}
	}

	for who, token := range map[string]string{"Bluebird's admin": bea, "staff": support} {
		for _, ev := range e.events(token, "kind=journal.record") {
			if ev.SyncedBy != nil && ev.SyncedBy.ID == DemoCompanyAdminID {
				t.Errorf("%s sees a record Acme's admin uploaded: %+v", who, ev)
			}
		}
	}
	for _, q := range []string{"session=" + blue.Session.ID, "actor=u-bluebird-bea", "user=" + ben.ID} {
		for _, ev := range e.events(support, q) {
			if ev.Kind == api.EventJournalRecord {
				t.Errorf("staff's %s view holds a journal record: %+v", q, ev)
			}
		}
	}
	refused := e.events(ada, "kind="+api.EventJournalRefused)
	if len(refused) == 0 || refused[0].Actor.ID != DemoCompanyAdminID || refused[0].JournalID != jid {
		t.Errorf("the refused forgeries are not audited: %+v", refused)
	}
}

// Finding 2 (medium): a narrow-scope agent sent an empty PUT to another staff member's
// journal id, read its head and appended the next seq; the owner's genuine record was
// then refused for ever. The same worked inside one company. A journal now belongs to
// the identity that first wrote to it.
func TestJournalsCannotBeSquatted(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	actor, user := start.Session.Impersonator, start.Session.User
	const jid = "sam-laptop.journal"
	recs := journalRange(t, jid, 1, 3, api.ZeroHash, actor, user, start.Session.ID)
	e.do("PUT", journalPath(jid), support, api.PutRecordsRequest{Records: recs[:2]}).decode(t, 200, nil)

	jordan := e.login(DemoNarrowAgentEmail)
	b := e.do("PUT", journalPath(jid), jordan, api.PutRecordsRequest{Records: []api.WireRecord{}}).wantErr(t, api.CodeForbidden)
	if b.Head != nil || strings.Contains(b.Message, recs[1].Hash) {
		t.Fatalf("the refusal disclosed the head: %+v", b)
	}
	squat := records(t, jid, 3, lastHash(t, recs[:2]), api.RecordBody{Action: api.ActionView, Time: testEpoch,
		Actor: api.UserRef{ID: "u-staff-jordan"}, Details: "squatted"})
	e.do("PUT", journalPath(jid), jordan, api.PutRecordsRequest{Records: squat}).wantErr(t, api.CodeForbidden)

	var out api.PutRecordsResponse
	e.do("PUT", journalPath(jid), support, api.PutRecordsRequest{Records: recs[2:]}).decode(t, 200, &out)
	if out.Head.Seq != 3 || out.Accepted != 1 {
		t.Fatalf("the owner's next record after the squatting attempts: %+v", out)
	}
	if n := len(e.events(support, "kind="+api.EventJournalRefused+"&actor=u-staff-jordan")); n == 0 {
		t.Fatal("the refused PUTs are not audited")
	}

	// Inside one company: Omar's journal is not Ada's to touch.
	omar := e.login(DemoOpsLeadEmail)
	omars := records(t, "omar.journal", 1, api.ZeroHash, api.RecordBody{Action: api.ActionSessionRefused, Time: testEpoch,
		Actor: api.UserRef{ID: "u-acme-omar"}, User: &user, Details: "target_privileged: …"})
	e.do("PUT", journalPath("omar.journal"), omar, api.PutRecordsRequest{Records: omars}).decode(t, 200, nil)
	e.do("PUT", journalPath("omar.journal"), e.login(DemoCompanyAdminEmail), api.PutRecordsRequest{Records: []api.WireRecord{}}).wantErr(t, api.CodeForbidden)
}

// Finding 3 (medium): an Operations Lead got 404 on a user's private dashboard with his
// own token, started a session on that user (allowed) and read it. The never-widen rule
// now compares what each can read, ownership included.
func TestImpersonationNeverWidensWhatTheActorReads(t *testing.T) {
	e := newEnv(t)
	omar := e.login(DemoOpsLeadEmail)
	e.do("GET", "/api/v1/dashboards/d-acme-tomas-jobs", omar, nil).wantErr(t, api.CodeNotFound)
	b := e.do("POST", "/api/v1/impersonation/sessions", omar,
		api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "TICKET-9"}).wantErr(t, api.CodeTargetPrivileged)
	if !strings.Contains(b.Message, "My jobs") || !strings.Contains(b.Message, "cannot") {
		t.Fatalf("the refusal does not say what Tomás reads that Omar cannot: %q", b.Message)
	}
	var page api.UsersPage
	e.do("GET", "/api/v1/users?q=tomas", omar, nil).decode(t, 200, &page)
	if len(page.Users) != 1 || page.Users[0].Impersonable || page.Users[0].NotImpersonableCode != api.CodeTargetPrivileged {
		t.Fatalf("the directory disagrees with the refusal: %+v", page.Users)
	}
}

// Finding 4 (medium): 40 concurrent guesses for one e-mail with a limit of 5 — 31 were
// checked against bcrypt (check-then-act around the hash). An attempt is now reserved
// before hashing.
func TestLoginThrottleCannotBeRaced(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PasswordCost = bcrypt.DefaultCost }) // a real hash takes long enough to race
	nora := e.login(DemoFleetManagerEmail)
	race := func(send func() reply) (checked int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		gate := make(chan struct{})
		for range 40 {
			wg.Go(func() {
				<-gate
				r := send()
				mu.Lock()
				defer mu.Unlock()
				if r.status != http.StatusTooManyRequests {
					checked++
				}
			})
		}
		close(gate)
		wg.Wait()
		return checked
	}
	if n := race(func() reply {
		return e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: DemoFleetManagerEmail, Password: "guess"})
	}); n > loginFailuresPerEmail {
		t.Errorf("%d of 40 concurrent sign-ins were checked against the hash; the limit is %d", n, loginFailuresPerEmail)
	}
	if n := race(func() reply {
		return e.do("POST", "/api/v1/me/password", nora, api.PasswordChange{Current: "guess", New: "whatever-it-is"})
	}); n > loginFailuresPerEmail {
		t.Errorf("%d of 40 concurrent password changes were checked against the hash; the limit is %d", n, loginFailuresPerEmail)
	}
}

// Finding 5 (medium): every throttled sign-in attempt was audited with an fsync: 3,000
// grew the store by 4 MiB in 10 s. Now the first throttled attempt per key and window is
// audited, and a count when the window closes.
func TestThrottledSignInsAreAuditedBounded(t *testing.T) {
	e := newEnv(t)
	const attempts = 300
	for range attempts {
		e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: DemoFleetManagerEmail, Password: "guess"})
	}
	support := e.srvToken(t)
	failed := e.events(support, "kind="+api.EventLoginFailed)
	if len(failed) > loginFailuresPerEmail+1 {
		t.Fatalf("%d sign-in failures audited for %d attempts: want the %d wrong ones and the first throttled one", len(failed), attempts, loginFailuresPerEmail)
	}
	e.clock.Advance(loginWindow + time.Second)
	failed = e.events(support, "kind="+api.EventLoginFailed) // reading the log records windows that closed
	last := failed[len(failed)-1]
	if len(failed) != loginFailuresPerEmail+2 || last.Code != api.CodeRateLimited || last.Count != attempts-loginFailuresPerEmail-1 {
		t.Fatalf("after the window: %d events, the last %+v; want a summary counting %d more", len(failed), last, attempts-loginFailuresPerEmail-1)
	}
}

// rawUnsafe finds a character the API's JSON must never carry raw: a control (C0, DEL,
// C1), a format character (bidi controls, zero-width spaces and joiners, BOM), a line
// or paragraph separator.
func rawUnsafe(raw []byte) (rune, bool) {
	for _, r := range string(raw) {
		if unicode.IsControl(r) && r != '\n' || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// Finding 6 (low): raw control characters from %-decoded paths and failed sign-in
// e-mails were handed verbatim to every reader of GET /audit/events. Audit text is now
// stored as received, bounded, and served with every such character escaped, so it
// still round-trips exactly.
func TestAuditTextIsServedEscapedAndBounded(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	e.do("GET", "/api/v1/dashboards/X%1B%5D0%3Bowned%07%C2%9B31m%E2%80%AE%E2%80%8B%EF%BB%BF", start.Token, nil).wantErr(t, api.CodeNotFound)
	hostile := "eve\u202e\u200b\x1b[31m\u0085@example.test"
	e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: hostile, Password: "x"}).wantErr(t, api.CodeInvalidCredentials)
	long := strings.Repeat("détails ", 1500) // 13 KB: within a record, beyond what the log keeps
	recs := records(t, "long.journal", 1, api.ZeroHash, api.RecordBody{Action: api.ActionError, Time: testEpoch,
		Actor: api.UserRef{ID: "u-staff-sam"}, Details: long})
	e.do("PUT", journalPath("long.journal"), support, api.PutRecordsRequest{Records: recs}).decode(t, 200, nil)

	r := e.do("GET", "/api/v1/audit/events?limit=200", support, nil)
	if c, bad := rawUnsafe(r.body); bad {
		t.Fatalf("GET /audit/events carries %U raw", c)
	}
	var page api.AuditEventsPage
	r.decode(t, 200, &page)
	wantPath := "/api/v1/dashboards/X\x1b]0;owned\x07\u009b31m\u202e\u200b\ufeff"
	var sawPath, sawEmail, sawLong bool
	for _, ev := range page.Events {
		sawPath = sawPath || ev.Path == wantPath
		sawEmail = sawEmail || ev.Actor.Email == strings.ToLower(hostile)
		if ev.JournalID == "long.journal" {
			sawLong = true
			if len(ev.Details) > store.MaxDetails+len("…") || !utf8.ValidString(ev.Details) || !strings.HasPrefix(long, strings.TrimSuffix(ev.Details, "…")) {
				t.Errorf("a %d-byte detail is listed as %d bytes", len(long), len(ev.Details))
			}
		}
	}
	if !sawPath || !sawEmail || !sawLong {
		t.Fatalf("the values do not round-trip: path %v, email %v, long record %v", sawPath, sawEmail, sawLong)
	}
	// The error envelope echoes the path too.
	r = e.do("GET", "/api/v1/nothing%E2%80%AE%C2%9B", support, nil)
	if c, bad := rawUnsafe(r.body); bad || r.status != 404 {
		t.Fatalf("a 404 envelope carries %U raw (status %d)", c, r.status)
	}
}

// Finding 7 (low): a Bluebird-only agent listed Orbit's users (no support contract) with
// their phone numbers, which redaction withholds elsewhere.
func TestDirectoryStaysInScopeAndCarriesNoPhones(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		email   string
		company func(api.User) bool
	}{
		{DemoNarrowAgentEmail, func(u api.User) bool { return u.Kind == api.KindStaff || u.CompanyID == "c-bluebird" }},
		{DemoSupportEmail, func(api.User) bool { return true }},
		{DemoCompanyAdminEmail, func(u api.User) bool { return u.CompanyID == "c-acme" }},
	} {
		token := e.login(c.email)
		listed := 0
		for cursor := ""; ; {
			r := e.do("GET", "/api/v1/users?limit=200&cursor="+cursor, token, nil)
			if bytes.Contains(r.body, []byte(`"phone"`)) {
				t.Errorf("%s's directory carries phone numbers", c.email)
			}
			var page api.UsersPage
			r.decode(t, 200, &page)
			for _, u := range page.Users {
				listed++
				if !c.company(u) {
					t.Errorf("%s's directory lists %s of %s", c.email, u.Email, u.Company)
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if listed == 0 {
			t.Errorf("%s's directory is empty", c.email)
		}
	}
}

// Finding 8 (low): no Host check, so a page on rebind.attacker.example resolving to
// 127.0.0.1 could sign in to the loopback server with the public demo password.
func TestOnlyAllowedHostsAreAnswered(t *testing.T) {
	e := newEnv(t)
	login := func(host string) reply {
		raw, _ := json.Marshal(api.LoginRequest{Email: DemoSupportEmail, Password: DemoSupportPassword})
		req, err := http.NewRequest("POST", e.http.URL+"/api/v1/auth/login", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Host = host
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
	}
	b := login("rebind.attacker.example").wantErr(t, api.CodeHostNotAllowed)
	if !strings.Contains(b.Message, "--allow-host") || !strings.Contains(b.Message, "rebind.attacker.example") {
		t.Fatalf("the refusal does not tell an operator what to do: %q", b.Message)
	}
	for _, host := range []string{"localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:1", "[::1]:8080", "LOCALHOST."} {
		if r := login(host); r.status != 200 {
			t.Errorf("Host %q: %d %s", host, r.status, r.body)
		}
	}
	allowed := newEnv(t, func(o *Options) { o.AllowedHosts = []string{"shadow.internal"} })
	e = allowed
	if r := login("shadow.internal:8443"); r.status != 200 {
		t.Errorf("an --allow-host name is refused: %d %s", r.status, r.body)
	}
	login("other.internal").wantErr(t, api.CodeHostNotAllowed)
}

package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/store"
)

// TestEveryImpersonationRuleIsRefusedWithItsCode: each rule of the policy, triggered
// for real over HTTP, answers its own code and status, and the refusal is in the
// audit log with the actor, the target and the code.
func TestEveryImpersonationRuleIsRefusedWithItsCode(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	id := func(email string) string { return e.userID(support, email) }
	cases := []struct {
		name   string
		actor  string
		target string // an email, or a raw id when it starts with "raw:"
		reason string
		code   api.Code
	}{
		{"a fleet manager lacks the permission", DemoFleetManagerEmail, DemoTechnicianEmail, "r", api.CodeImpersonationForbidden},
		{"an explicit deny removes the permission", DemoPeerOpsLeadEmail, DemoTechnicianEmail, "r", api.CodeImpersonationForbidden},
		{"yourself", DemoSupportEmail, DemoSupportEmail, "r", api.CodeSelfImpersonation},
		{"staff", DemoSupportEmail, DemoAgentEmail, "r", api.CodeTargetPrivileged},
		{"a company admin", DemoSupportEmail, DemoCompanyAdminEmail, "r", api.CodeTargetPrivileged},
		{"an equal rank", DemoOpsLeadEmail, DemoPeerOpsLeadEmail, "r", api.CodeTargetPrivileged},
		{"a permission the customer impersonator lacks", DemoOpsLeadEmail, "fiona@acme.demo", "r", api.CodeTargetPrivileged},
		{"a company outside support's scope", DemoSupportEmail, DemoOutOfScopeEmail, "r", api.CodeTargetOutOfScope},
		{"an agent's narrow scope", DemoNarrowAgentEmail, DemoFleetManagerEmail, "r", api.CodeTargetOutOfScope},
		{"another company, for a customer admin", DemoCompanyAdminEmail, "ben@bluebird.demo", "r", api.CodeTargetOutOfScope},
		{"a company that opted out", DemoSupportEmail, DemoOptedOutEmail, "r", api.CodeImpersonationDisabled},
		{"no reason", DemoSupportEmail, DemoFleetManagerEmail, "", api.CodeReasonRequired},
		{"a blank reason", DemoSupportEmail, DemoFleetManagerEmail, " \t ", api.CodeReasonRequired},
		{"a reason too long", DemoSupportEmail, DemoFleetManagerEmail, strings.Repeat("x", api.MaxReasonLength+1), api.CodeValidation},
		{"a reason with control characters", DemoSupportEmail, DemoFleetManagerEmail, "TICKET-1\x1b[2J", api.CodeValidation},
		{"an unknown user", DemoSupportEmail, "raw:u-nobody", "r", api.CodeTargetOutOfScope}, // answered as one outside the scope
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.clock.Advance(time.Minute) // refusals are audited one per identity, code and minute
			token := e.login(c.actor)
			target := strings.TrimPrefix(c.target, "raw:")
			if !strings.HasPrefix(c.target, "raw:") {
				target = id(c.target)
			}
			b := e.do("POST", "/api/v1/impersonation/sessions", token, api.StartSessionRequest{UserID: target, Reason: c.reason}).wantErr(t, c.code)
			if c.code == api.CodeReasonRequired && b.Field != "reason" {
				t.Errorf("field %q, want reason", b.Field)
			}
			found := false
			for _, ev := range e.events(support, "kind=session.refused&user="+target) {
				found = found || (ev.Code == c.code && ev.Actor.Email == c.actor && ev.User != nil && ev.User.ID == target)
			}
			if !found {
				t.Fatalf("refusal %s of %s by %s is not in the audit log", c.code, target, c.actor)
			}
		})
	}
	t.Run("nesting", func(t *testing.T) {
		started := e.impersonate(support, DemoFleetManagerEmail)
		imp := started.Token
		e.do("GET", "/api/v1/users", imp, nil).wantErr(t, api.CodeNestedImpersonation)
		// Starting one with an impersonation token is an unsafe method: the read-only
		// guarantee refuses it before anything else can.
		e.do("POST", "/api/v1/impersonation/sessions", imp, api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "r"}).
			wantErr(t, api.CodeReadOnlyImpersonation)
		// Both refusals are in the audit log, under the session, with both identities.
		refused := map[api.Code]bool{}
		for _, ev := range e.events(support, "kind=request&session="+started.Session.ID) {
			if ev.Status == http.StatusForbidden && ev.Actor.Email == DemoSupportEmail && ev.User != nil && ev.User.Email == DemoFleetManagerEmail {
				refused[ev.Code] = true
			}
		}
		if !refused[api.CodeNestedImpersonation] || !refused[api.CodeReadOnlyImpersonation] {
			t.Fatalf("nesting refusals audited: %v", refused)
		}
	})
}

// TestDirectoryFlagsMatchStartOutcomes: for each caller and every user they can list,
// the directory's impersonable flag, code and words are exactly what a start request
// then answers.
func TestDirectoryFlagsMatchStartOutcomes(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxOpenSessions = -1 }) // it starts a session on every user it may
	for _, caller := range []string{DemoSupportEmail, DemoNarrowAgentEmail, DemoCompanyAdminEmail, DemoOpsLeadEmail} {
		token := e.login(caller)
		var users []api.User
		cursor := ""
		for {
			var page api.UsersPage
			e.do("GET", "/api/v1/users?limit=7&cursor="+cursor, token, nil).decode(t, 200, &page)
			users = append(users, page.Users...)
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if len(users) < 5 {
			t.Fatalf("%s lists only %d users", caller, len(users))
		}
		allowed := 0
		for _, u := range users {
			if caller == DemoCompanyAdminEmail && u.CompanyID != "c-acme" {
				t.Fatalf("a company admin's directory shows %s of %s", u.Email, u.Company)
			}
			r := e.do("POST", "/api/v1/impersonation/sessions", token, api.StartSessionRequest{UserID: u.ID, Reason: "directory check"})
			if u.Impersonable {
				allowed++
				if r.status != 201 {
					t.Fatalf("%s: %s listed impersonable, start says %d %s", caller, u.Email, r.status, r.body)
				}
				continue
			}
			b := r.wantErr(t, u.NotImpersonableCode)
			if b.Message != u.NotImpersonableReason || u.NotImpersonableReason == "" {
				t.Fatalf("%s → %s: directory says %q, start says %q", caller, u.Email, u.NotImpersonableReason, b.Message)
			}
		}
		if allowed == 0 || allowed == len(users) {
			t.Fatalf("%s: %d of %d impersonable; the demo should have both kinds", caller, allowed, len(users))
		}
	}
}

// TestSessionLifecycle: start → read as the user → end → the token is dead at once →
// the audit log has it all with both identities.
func TestSessionLifecycle(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	sess := start.Session
	if sess.State != api.SessionActive || sess.User.Email != DemoFleetManagerEmail || sess.Impersonator.Email != DemoSupportEmail {
		t.Fatalf("session %+v", sess)
	}
	if got := sess.ExpiresAt.Sub(sess.StartedAt); got > api.MaxSessionTTL || got < api.MaxSessionTTL-time.Second {
		t.Fatalf("default session length %v", got)
	}

	var me api.Me
	e.do("GET", "/api/v1/me", start.Token, nil).decode(t, 200, &me)
	if !me.Impersonating || me.Scope != api.ScopeReadOnly || me.SessionID != sess.ID || me.Actor == nil ||
		me.Actor.Email != DemoSupportEmail || me.User.Email != DemoFleetManagerEmail || me.CanImpersonate {
		t.Fatalf("me while impersonating: %+v", me)
	}
	if me.User.Phone != "" || len(me.User.Redacted) != 1 || me.User.Redacted[0] != "phone" {
		t.Fatalf("personal contact data not redacted and marked: %+v", me.User)
	}
	if !me.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("me expiry %v, session %v", me.ExpiresAt, sess.ExpiresAt)
	}
	var own api.Me
	e.do("GET", "/api/v1/me", support, nil).decode(t, 200, &own)
	if own.Impersonating || own.Scope != api.ScopeFull || !own.CanImpersonate || own.User.Phone == "" {
		t.Fatalf("own me: %+v", own)
	}

	var got api.Session
	e.do("GET", "/api/v1/impersonation/sessions/"+sess.ID, start.Token, nil).decode(t, 200, &got)
	e.do("GET", "/api/v1/impersonation/sessions/"+sess.ID, support, nil).decode(t, 200, &got)
	// Someone unrelated cannot see it.
	e.do("GET", "/api/v1/impersonation/sessions/"+sess.ID, e.login(DemoNarrowAgentEmail), nil).wantErr(t, api.CodeNotFound)
	e.do("GET", "/api/v1/dashboards", start.Token, nil).decode(t, 200, nil)

	if r := e.do("DELETE", "/api/v1/impersonation/sessions/"+sess.ID, support, nil); r.status != 204 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/me", start.Token, nil).wantErr(t, api.CodeSessionExpired)
	e.do("GET", "/api/v1/dashboards", start.Token, nil).wantErr(t, api.CodeSessionExpired)
	e.do("GET", "/api/v1/impersonation/sessions/"+sess.ID, support, nil).decode(t, 200, &got)
	if got.State != api.SessionEnded || got.EndedAt == nil {
		t.Fatalf("ended session reads %+v", got)
	}
	if r := e.do("DELETE", "/api/v1/impersonation/sessions/"+sess.ID, support, nil); r.status != 204 {
		t.Fatalf("ending twice: %d", r.status)
	}

	kinds := map[string]int{}
	for _, ev := range e.events(support, "session="+sess.ID) {
		kinds[ev.Kind]++
		if ev.Actor.Email != DemoSupportEmail || ev.User == nil || ev.User.Email != DemoFleetManagerEmail {
			t.Fatalf("event without both identities: %+v", ev)
		}
	}
	if kinds[api.EventSessionStart] != 1 || kinds[api.EventSessionEnd] != 1 || kinds[api.EventRequest] < 5 {
		t.Fatalf("audit of the session: %v", kinds)
	}
}

// TestCustomerAdminCanEndVendorSession: a customer can always stop the shadowing of
// its users.
func TestCustomerAdminCanEndVendorSession(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoTechnicianEmail)
	ada := e.login(DemoCompanyAdminEmail)
	if r := e.do("DELETE", "/api/v1/impersonation/sessions/"+start.Session.ID, ada, nil); r.status != 204 {
		t.Fatalf("customer admin ending a session on their user: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/me", start.Token, nil).wantErr(t, api.CodeSessionExpired)
	evs := e.events(support, "kind=session.end&session="+start.Session.ID)
	if len(evs) != 1 || evs[0].Actor.Email != DemoCompanyAdminEmail || !strings.Contains(evs[0].Details, "not the impersonator") {
		t.Fatalf("end by the customer not audited as such: %+v", evs)
	}
	// An admin of another company cannot.
	other := e.impersonate(support, DemoFleetManagerEmail)
	e.do("DELETE", "/api/v1/impersonation/sessions/"+other.Session.ID, e.login("bea@bluebird.demo"), nil).wantErr(t, api.CodeNotFound)
}

// TestSessionExpiry: once the clock passes expires_at the token answers 401
// session_expired at once, and the expiry is audited exactly once, dated when it
// happened — also when nobody used the token and the log is read.
// TestAbsurdTTLIsCapped: ttl_seconds so large that it overflows a time.Duration once
// multiplied must be capped like any long one, not wrap round to a session that
// expired centuries before it started (with a session.expire dated then).
func TestAbsurdTTLIsCapped(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	var absurd api.StartSessionResponse
	e.do("POST", "/api/v1/impersonation/sessions", support,
		api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "absurd", TTLSeconds: 9_300_000_000}).decode(t, 201, &absurd)
	if d := absurd.Session.ExpiresAt.Sub(absurd.Session.StartedAt); d != DefaultSessionTTL {
		t.Fatalf("ttl_seconds 9,300,000,000 gives %v", d)
	}
	e.do("GET", "/api/v1/me", absurd.Token, nil).decode(t, 200, nil)
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionTTL = 10 * time.Minute })
	support := e.login(DemoSupportEmail)
	a := e.impersonate(support, DemoFleetManagerEmail)
	if d := a.Session.ExpiresAt.Sub(a.Session.StartedAt); d != 10*time.Minute {
		t.Fatalf("configured TTL gives %v", d)
	}
	var short api.StartSessionResponse
	e.do("POST", "/api/v1/impersonation/sessions", support,
		api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "short", TTLSeconds: 60}).decode(t, 201, &short)
	if d := short.Session.ExpiresAt.Sub(short.Session.StartedAt); d != time.Minute {
		t.Fatalf("ttl_seconds 60 gives %v", d)
	}
	var capped api.StartSessionResponse
	e.do("POST", "/api/v1/impersonation/sessions", support,
		api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "long", TTLSeconds: 86400}).decode(t, 201, &capped)
	if d := capped.Session.ExpiresAt.Sub(capped.Session.StartedAt); d != 10*time.Minute {
		t.Fatalf("ttl_seconds beyond the default gives %v", d)
	}
	e.do("POST", "/api/v1/impersonation/sessions", support,
		api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "neg", TTLSeconds: -1}).wantErr(t, api.CodeValidation)

	e.clock.Advance(59 * time.Second)
	e.do("GET", "/api/v1/me", short.Token, nil).decode(t, 200, nil)
	e.clock.Advance(time.Second)
	e.do("GET", "/api/v1/me", short.Token, nil).wantErr(t, api.CodeSessionExpired)
	e.do("GET", "/api/v1/me", short.Token, nil).wantErr(t, api.CodeSessionExpired)
	e.do("GET", "/api/v1/me", a.Token, nil).decode(t, 200, nil)

	e.clock.Advance(10 * time.Minute) // a's expiry passes with nobody using its token
	expired := e.events(support, "kind=session.expire")
	if len(expired) != 3 {
		t.Fatalf("%d expiries audited, want 3 (one per session): %+v", len(expired), expired)
	}
	for _, ev := range expired {
		if ev.SessionID == short.Session.ID && !ev.Time.Equal(short.Session.ExpiresAt) {
			t.Fatalf("expiry dated %v, expired at %v", ev.Time, short.Session.ExpiresAt)
		}
	}
	var got api.Session
	e.do("GET", "/api/v1/impersonation/sessions/"+a.Session.ID, support, nil).decode(t, 200, &got)
	if got.State != api.SessionExpired {
		t.Fatalf("state %s", got.State)
	}
	e.do("GET", "/api/v1/me", a.Token, nil).wantErr(t, api.CodeSessionExpired)
	// A dead token's use is audited (someone tried), without a second expiry event.
	if n := len(e.events(support, "kind=session.expire")); n != 3 {
		t.Fatalf("%d expiry events after reuse", n)
	}
	tries := 0
	for _, ev := range e.events(support, "kind=request&session="+short.Session.ID) {
		if ev.Code == api.CodeSessionExpired {
			tries++
		}
	}
	if tries != 2 {
		t.Fatalf("%d uses of the expired token audited, want 2", tries)
	}
}

// TestTokenClaims: the impersonation token is a JWT with sub = the user, act.sub = the
// admin (RFC 8693), sid, a read-only scope and exp within 30 minutes; forged and
// foreign tokens are refused.
func TestTokenClaims(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	parts := strings.Split(start.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub   string               `json:"sub"`
		Act   struct{ Sub string } `json:"act"`
		Sid   string               `json:"sid"`
		Scope string               `json:"scope"`
		Exp   int64                `json:"exp"`
		Iat   int64                `json:"iat"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Sub != DemoFleetManagerID || c.Act.Sub != "u-staff-sam" || c.Sid != start.Session.ID || c.Scope != api.ScopeReadOnly {
		t.Fatalf("claims %+v", c)
	}
	if c.Exp-c.Iat > int64(api.MaxSessionTTL/time.Second) || c.Exp != start.Session.ExpiresAt.Unix() {
		t.Fatalf("exp %d iat %d, session expires %v", c.Exp, c.Iat, start.Session.ExpiresAt)
	}

	// Tampering with the payload breaks the signature.
	forged := strings.Replace(string(raw), DemoFleetManagerID, "u-acme-sven", 1)
	bad := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	e.do("GET", "/api/v1/me", bad, nil).wantErr(t, api.CodeUnauthenticated)
	// alg "none" is refused.
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": DemoFleetManagerID, "scope": "full"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	e.do("GET", "/api/v1/me", none, nil).wantErr(t, api.CodeUnauthenticated)
	// Another server's token is refused: keys are per process.
	other := newEnv(t)
	e.do("GET", "/api/v1/me", other.login(DemoSupportEmail), nil).wantErr(t, api.CodeUnauthenticated)
	// A token with a valid signature but an inconsistent shape (sid without act) is refused.
	e.do("GET", "/api/v1/me", "", nil, "Authorization", "Basic abc").wantErr(t, api.CodeUnauthenticated)
	e.do("GET", "/api/v1/me", "", nil).wantErr(t, api.CodeUnauthenticated)
	half, err := e.srv.sign(claims{RegisteredClaims: jwt.RegisteredClaims{Subject: DemoFleetManagerID,
		ExpiresAt: jwt.NewNumericDate(e.clock.Now().Add(time.Minute))}, Scope: api.ScopeReadOnly, Sid: start.Session.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/api/v1/me", half, nil).wantErr(t, api.CodeUnauthenticated)

	// Own tokens expire too.
	e.clock.Advance(DefaultTokenTTL + time.Second)
	e.do("GET", "/api/v1/me", support, nil).wantErr(t, api.CodeTokenExpired)
}

// TestPasswordChangeSignsOutOtherTokens: earlier tokens die, the new one works, and
// sessions the user had started are revoked (and audited as such).
func TestPasswordChangeSignsOutOtherTokens(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	other := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	e.do("POST", "/api/v1/me/password", support, api.PasswordChange{Current: "wrong", New: "new-password-1"}).wantErr(t, api.CodeForbidden)
	e.do("POST", "/api/v1/me/password", support, api.PasswordChange{Current: DemoSupportPassword, New: "short"}).wantErr(t, api.CodeValidation)
	var lr api.LoginResponse
	e.do("POST", "/api/v1/me/password", support, api.PasswordChange{Current: DemoSupportPassword, New: "new-password-1"}).decode(t, 200, &lr)
	e.do("GET", "/api/v1/me", other, nil).wantErr(t, api.CodeTokenExpired)
	e.do("GET", "/api/v1/me", support, nil).wantErr(t, api.CodeTokenExpired)
	e.do("GET", "/api/v1/me", start.Token, nil).wantErr(t, api.CodeSessionExpired)
	e.do("GET", "/api/v1/me", lr.Token, nil).decode(t, 200, nil)
	e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: DemoSupportEmail, Password: DemoSupportPassword}).wantErr(t, api.CodeInvalidCredentials)
	e.do("POST", "/api/v1/auth/login", "", api.LoginRequest{Email: DemoSupportEmail, Password: "new-password-1"}).decode(t, 200, nil)
	evs := e.events(lr.Token, "kind=session.revoke&session="+start.Session.ID)
	if len(evs) != 1 {
		t.Fatalf("revocation not audited: %+v", evs)
	}
}

// TestStartedServerRecordsExpiriesUnasked: a started server's sweeper writes the
// session.expire event when the time comes, with nobody using the token or reading the
// log.
func TestStartedServerRecordsExpiriesUnasked(t *testing.T) {
	c := newClock()
	s, err := New(Options{Now: c.Now, PasswordCost: bcrypt.MinCost, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.sweepInterval = 5 * time.Millisecond
	url, err := s.Start("")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: s, http: &httptest.Server{URL: url, Config: &http.Server{}}, clock: c}
	start := e.impersonate(e.login(DemoSupportEmail), DemoFleetManagerEmail)
	c.Advance(api.MaxSessionTTL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, _, err := s.store.Events(store.EventFilter{Kind: api.EventSessionExpire, SessionID: start.Session.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no expiry recorded by the sweeper: %+v", evs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

// journalRange builds n valid records of journal jid starting at seq from, chained to
// prev: what a client's journal would send.
func journalRange(t testing.TB, jid string, from uint64, n int, prev api.Hash, actor, user api.UserRef, sid string) []api.WireRecord {
	t.Helper()
	out := make([]api.WireRecord, 0, n)
	for i := range n {
		seq := from + uint64(i)
		u := user
		body, err := json.Marshal(api.RecordBody{
			EventID: fmt.Sprintf("01J%023d", seq), SessionID: sid, Time: testEpoch.Add(time.Duration(seq) * time.Second),
			Action: api.ActionView, Actor: actor, User: &u, Details: fmt.Sprintf("dashboard d-acme-fleet (record %d)", seq),
		})
		if err != nil {
			t.Fatal(err)
		}
		h := api.RecordHash(jid, seq, prev, body)
		out = append(out, api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: body})
		prev = h
	}
	return out
}

// writeCase is one real write, known to succeed with the right identity's own token.
type writeCase struct {
	route string
	path  string
	body  any
	as    string // "nora", "support" or "" (no token)
	want  int
}

// TestReadOnlyGuarantee walks the whole route table × every unsafe method (and paths
// that match no route) with a live impersonation token: every one is refused with
// 403 read_only_impersonation and audited, and no data changes. Then the same writes
// succeed with the users' own tokens, and the data does change, so the refusals were
// not an accident of bad input. A route added to the table later fails this test
// until it has a success case here.
func TestReadOnlyGuarantee(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	nora := e.login(DemoFleetManagerEmail)
	session := e.impersonate(support, DemoFleetManagerEmail)
	imp := session.Token

	var me api.Me
	e.do("GET", "/api/v1/me", support, nil).decode(t, 200, &me)
	journal := journalRange(t, "j-readonly", 1, 2, api.ZeroHash, me.User.Ref(), api.UserRef{ID: DemoFleetManagerID}, session.Session.ID)
	const dash = "d-acme-nora-north" // Nora's own dashboard: her writes to it are allowed
	// In the order they can succeed one after another.
	writes := []writeCase{
		{api.RouteLogin, "/api/v1/auth/login", api.LoginRequest{Email: DemoTechnicianEmail, Password: DemoSupportPassword}, "", 200},
		{api.RoutePutJournal, "/api/v1/audit/journals/j-readonly/records", api.PutRecordsRequest{Records: journal}, "support", 200},
		{api.RouteUpdateProfile, "/api/v1/me", map[string]string{"name": "Nora L.", "phone": "+49 30 5550 9999"}, "nora", 200},
		{api.RouteUpdateSettings, "/api/v1/me/settings", api.Settings{Timezone: "Europe/Stockholm", Locale: "sv-SE"}, "nora", 200},
		{api.RouteCreateDashboard, "/api/v1/dashboards", api.DashboardCreate{Title: "Read-only probe"}, "nora", 201},
		{api.RouteUpdateDashboard, "/api/v1/dashboards/" + dash, map[string]string{"title": "North, renamed"}, "nora", 200},
		{api.RouteShareDashboard, "/api/v1/dashboards/" + dash + "/shares", api.DashboardShare{UserID: DemoTechnicianID}, "nora", 201},
		{api.RouteDeleteDashboard, "/api/v1/dashboards/" + dash, nil, "nora", 204},
		{api.RouteChangePassword, "/api/v1/me/password", api.PasswordChange{Current: DemoSupportPassword, New: "a-much-better-pass"}, "nora", 200},
		{api.RouteStartSession, "/api/v1/impersonation/sessions", api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "probe"}, "support", 201},
		{api.RouteEndSession, "/api/v1/impersonation/sessions/" + session.Session.ID, nil, "support", 204},
	}
	byRoute := map[string]writeCase{}
	for _, w := range writes {
		byRoute[w.route] = w
	}
	for _, rt := range api.Routes {
		if _, ok := byRoute[rt.Name]; !rt.Safe() && !ok {
			t.Fatalf("unsafe route %s has no success case here: add one", rt.Name)
		}
	}

	before := snapshot(t, e, nora, support, session.Session.ID)
	attempts := 0
	refuse := func(method, path string, body any) {
		t.Helper()
		if body == nil {
			body = "{}"
		}
		r := e.do(method, path, imp, body)
		if r.status != http.StatusForbidden {
			t.Errorf("%s %s with an impersonation token: status %d: %s", method, path, r.status, r.body)
			return
		}
		r.wantErr(t, api.CodeReadOnlyImpersonation)
		attempts++
	}
	for _, rt := range api.Routes {
		path := strings.NewReplacer("{id}", dash, "{journal_id}", "j-readonly").Replace(rt.Path)
		if rt.Name == api.RouteGetSession || rt.Name == api.RouteEndSession {
			path = "/api/v1/impersonation/sessions/" + session.Session.ID
		}
		for _, m := range api.UnsafeMethods {
			refuse(m, path, byRoute[rt.Name].body)
		}
	}
	for _, path := range []string{"/", "/api/v1/nope", "/api/v1/dashboards/x/y/z", "/API/V1/ME", "/api/v1//me", "/healthz/../api/v1/me"} {
		for _, m := range api.UnsafeMethods {
			refuse(m, path, nil)
		}
	}
	if after := snapshot(t, e, nora, support, session.Session.ID); !bytes.Equal(before, after) {
		t.Fatalf("data changed after refused writes:\nbefore %s\nafter  %s", before, after)
	}
	refusedEvents := 0
	for _, ev := range e.events(support, "kind=request&session="+session.Session.ID) {
		if ev.Code == api.CodeReadOnlyImpersonation {
			refusedEvents++
			if ev.Actor.Email != DemoSupportEmail || ev.User == nil || ev.User.Email != DemoFleetManagerEmail || ev.Status != 403 {
				t.Fatalf("refusal audited without both identities: %+v", ev)
			}
		}
	}
	if refusedEvents != attempts {
		t.Fatalf("%d refusals, %d audited", attempts, refusedEvents)
	}

	// The very same writes succeed with the users' own tokens.
	for _, w := range writes {
		token := map[string]string{"nora": nora, "support": support}[w.as]
		r := e.do(methodOf(t, w.route), w.path, token, w.body)
		if r.status != w.want {
			t.Fatalf("%s with the user's own token: status %d, want %d: %s", w.route, r.status, w.want, r.body)
		}
		if w.route == api.RouteChangePassword {
			var lr api.LoginResponse
			r.decode(t, 200, &lr)
			nora = lr.Token
		}
	}
	var after api.Me
	e.do("GET", "/api/v1/me", nora, nil).decode(t, 200, &after)
	if after.User.Name != "Nora L." || after.Settings.Timezone != "Europe/Stockholm" {
		t.Fatalf("own writes did not land: %+v", after)
	}
	e.do("GET", "/api/v1/dashboards/"+dash, nora, nil).wantErr(t, api.CodeNotFound)
}

func methodOf(t *testing.T, route string) string {
	rt, ok := api.RouteByName(route)
	if !ok {
		t.Fatalf("no route %s", route)
	}
	return rt.Method
}

// snapshot is what the read-only test compares: Nora's own view of herself, her
// dashboards and permissions, the session, and what the audit log says was synced or
// ended. ETags and request ids are left out (they vary by design).
func snapshot(t *testing.T, e *env, nora, support, sessionID string) []byte {
	t.Helper()
	var parts []string
	for _, q := range []struct{ path, token string }{
		{"/api/v1/me", nora},
		{"/api/v1/dashboards", nora},
		{"/api/v1/dashboards/d-acme-nora-north", nora},
		{"/api/v1/permissions", nora},
		{"/api/v1/impersonation/sessions/" + sessionID, support},
		{"/api/v1/users?q=nora", support},
	} {
		r := e.do("GET", q.path, q.token, nil)
		parts = append(parts, fmt.Sprintf("%s %d %s", q.path, r.status, r.body))
	}
	kinds := map[string]int{}
	for _, ev := range e.events(support, "") {
		if ev.Kind != api.EventRequest && ev.Kind != api.EventLogin {
			kinds[ev.Kind]++
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s=%d", k, kinds[k]))
	}
	return []byte(strings.Join(parts, "\n"))
}

// TestSafeMethodsStillWorkWhileImpersonating: the guarantee refuses writes, not reads.
func TestSafeMethodsStillWorkWhileImpersonating(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	imp := e.impersonate(support, DemoFleetManagerEmail).Token
	for _, path := range []string{"/api/v1/me", "/api/v1/dashboards", "/api/v1/dashboards/d-acme-fleet", "/api/v1/permissions",
		"/api/v1/permissions/explain?resource=vehicle:acme-n1&action=edit", "/healthz", "/api/v1/audit/key"} {
		if r := e.do("GET", path, imp, nil); r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
		if r := e.do("HEAD", path, imp, nil); r.status != 200 || len(r.body) != 0 {
			t.Errorf("HEAD %s: %d, %d body bytes", path, r.status, len(r.body))
		}
	}
	r := e.do("OPTIONS", "/api/v1/dashboards", imp, nil)
	if r.status != 204 || r.header.Get("Allow") != "GET, HEAD, OPTIONS, POST" {
		t.Fatalf("OPTIONS: %d Allow=%q", r.status, r.header.Get("Allow"))
	}
}

// TestTwoAuthorizationHeadersAreRefused: a request carrying an impersonation token next
// to an own token is ambiguous (which one a proxy in front honours is its business), so
// it is refused whatever the order, and the write it carried does not happen.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	imp := e.impersonate(support, DemoFleetManagerEmail).Token
	nora := e.login(DemoFleetManagerEmail)
	for _, order := range [][2]string{{nora, imp}, {imp, nora}} {
		req, err := http.NewRequest("PATCH", e.http.URL+"/api/v1/me", strings.NewReader(`{"name":"Two Headers"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("Authorization", "Bearer "+order[0])
		req.Header.Add("Authorization", "Bearer "+order[1])
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		reply{status: resp.StatusCode, header: resp.Header, body: raw}.wantErr(t, api.CodeUnauthenticated)
	}
	var me api.Me
	e.do("GET", "/api/v1/me", nora, nil).decode(t, 200, &me)
	if me.User.Name != "Nora Lindqvist" {
		t.Fatalf("a write with two Authorization headers went through: %q", me.User.Name)
	}
}

// TestReadOnlyRefusesBeforeReadingTheBody: a huge body with an impersonation token is
// refused as a write (403), not read and measured (413).
func TestReadOnlyRefusesBeforeReadingTheBody(t *testing.T) {
	e := newEnv(t)
	imp := e.impersonate(e.login(DemoSupportEmail), DemoFleetManagerEmail).Token
	huge := `{"title":"` + strings.Repeat("x", 3*api.MaxRequestBody) + `"}`
	e.do("POST", "/api/v1/dashboards", imp, huge).wantErr(t, api.CodeReadOnlyImpersonation)
	e.do("POST", "/api/v1/dashboards", e.login(DemoFleetManagerEmail), huge).wantErr(t, api.CodePayloadTooLarge)
}

// TestUnauditedReadsAreWithheld: when the audit log cannot be written, an impersonated
// read is answered 503 and its data is not sent. The fault is real: the state file is
// closed under the running server.
func TestUnauditedReadsAreWithheld(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	imp := e.impersonate(support, DemoFleetManagerEmail).Token
	nora := e.login(DemoFleetManagerEmail)
	if err := e.srv.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/dashboards/d-acme-fleet", imp, nil)
	b := r.wantErr(t, api.CodeUnavailable)
	if strings.Contains(string(r.body), "Truck") || b.RetryAfterSeconds == 0 {
		t.Fatalf("data leaked or no retry hint: %s", r.body)
	}
	// Reads with a user's own token are not impersonated and need no audit event.
	e.do("GET", "/api/v1/dashboards/d-acme-fleet", nora, nil).decode(t, 200, nil)
	// Starting a session cannot be recorded either, so none starts.
	e.do("POST", "/api/v1/impersonation/sessions", support, api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "r"}).
		wantErr(t, api.CodeUnavailable)
	// A write that cannot be saved changes nothing.
	e.do("PATCH", "/api/v1/me", nora, map[string]string{"name": "Lost"}).wantErr(t, api.CodeUnavailable)
	var me api.Me
	e.do("GET", "/api/v1/me", nora, nil).decode(t, 200, &me)
	if me.User.Name != "Nora Lindqvist" {
		t.Fatalf("an unsaved change is visible: %q", me.User.Name)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/api/openapi"
	"github.com/shadowview/shadow/server/notify"
)

func (e *env) impersonations(token, query string) api.ImpersonationsPage {
	e.t.Helper()
	var page api.ImpersonationsPage
	e.do("GET", "/api/v1/me/impersonations"+query, token, nil).decode(e.t, 200, &page)
	return page
}

// TestTheShadowedUserSeesWhoLookedAndAtWhat: Nora, with her own token, is told of the
// session Sam opened on her — who, his organisation, the reason, how long, each thing
// read and how often, the refused write — and Acme's admin sees the same for the company,
// while another user, another company's admin and the session's own token do not.
func TestTheShadowedUserSeesWhoLookedAndAtWhat(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	nora := e.login(DemoFleetManagerEmail)
	s := e.impersonate(support, DemoFleetManagerEmail)
	for _, p := range []string{"/api/v1/me", "/api/v1/dashboards", "/api/v1/dashboards/d-acme-fleet", "/api/v1/dashboards/d-acme-fleet"} {
		e.do("GET", p, s.Token, nil).decode(t, 200, nil)
	}
	e.do("PATCH", "/api/v1/me", s.Token, `{"name":"x"}`).wantErr(t, api.CodeReadOnlyImpersonation)
	e.do("GET", "/api/v1/me/impersonations", s.Token, nil).wantErr(t, api.CodeForbidden) // not for the shadowing admin to read
	e.clock.Advance(90 * time.Second)
	e.do("DELETE", "/api/v1/impersonation/sessions/"+s.Session.ID, support, nil).decode(t, 204, nil)

	page := e.impersonations(nora, "")
	if page.Scope != api.TransparencySelf || len(page.Impersonations) != 1 {
		t.Fatalf("Nora is told %+v", page)
	}
	got := page.Impersonations[0]
	if got.Session.ID != s.Session.ID || got.Session.Impersonator.ID != "u-staff-sam" || got.Session.Reason != s.Session.Reason ||
		got.Session.State != api.SessionEnded || got.ImpersonatorKind != api.KindStaff || got.ImpersonatorOrganisation != vendorOrganisation {
		t.Errorf("session as told: %+v", got)
	}
	if got.DurationSeconds != 90 {
		t.Errorf("lasted %d s, want 90", got.DurationSeconds)
	}
	// GET /me/impersonations with the session's token was refused too: two refusals.
	if got.Refused != 2 {
		t.Errorf("refused %d, want 2 (the PATCH and the transparency read)", got.Refused)
	}
	want := []struct {
		path, what string
		count      int
	}{
		{"/api/v1/me", "who they are (their profile and settings)", 1},
		{"/api/v1/dashboards", "the list of their dashboards", 1},
		{"/api/v1/dashboards/d-acme-fleet", "dashboard Fleet overview", 2},
	}
	if len(got.Viewed) != len(want) {
		t.Fatalf("viewed %+v", got.Viewed)
	}
	for i, w := range want {
		v := got.Viewed[i]
		if v.Path != w.path || v.What != w.what || v.Count != w.count || v.First.IsZero() || v.Last.Before(v.First) {
			t.Errorf("viewed[%d] = %+v, want %+v", i, v, w)
		}
	}

	ada := e.login(DemoCompanyAdminEmail)
	company := e.impersonations(ada, "?user="+DemoFleetManagerID)
	if company.Scope != api.TransparencyCompany || len(company.Impersonations) != 1 || company.Impersonations[0].Session.ID != s.Session.ID {
		t.Errorf("Acme's admin is told %+v", company)
	}
	tomas := e.login(DemoTechnicianEmail)
	if p := e.impersonations(tomas, ""); len(p.Impersonations) != 0 {
		t.Errorf("Tomás is told of sessions on others: %+v", p)
	}
	e.do("GET", "/api/v1/me/impersonations?user="+DemoFleetManagerID, tomas, nil).wantErr(t, api.CodeForbidden)
	otto := e.login("otto@orbit.demo")
	if p := e.impersonations(otto, ""); p.Scope != api.TransparencyCompany || len(p.Impersonations) != 0 {
		t.Errorf("Orbit's admin is told of Acme's sessions: %+v", p)
	}
}

// TestImpersonationsPageNewestFirst: three sessions come back newest first across pages
// of two, each once; a cursor the server did not issue is 400.
func TestImpersonationsPageNewestFirst(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	var ids []string
	for range 3 {
		s := e.impersonate(support, DemoFleetManagerEmail)
		e.do("DELETE", "/api/v1/impersonation/sessions/"+s.Session.ID, support, nil).decode(t, 204, nil)
		ids = append([]string{s.Session.ID}, ids...)
		e.clock.Advance(time.Minute)
	}
	nora := e.login(DemoFleetManagerEmail)
	first := e.impersonations(nora, "?limit=2")
	if len(first.Impersonations) != 2 || first.NextCursor == "" {
		t.Fatalf("first page %+v", first)
	}
	second := e.impersonations(nora, "?limit=2&cursor="+first.NextCursor)
	if len(second.Impersonations) != 1 || second.NextCursor != "" {
		t.Fatalf("second page %+v", second)
	}
	got := []string{first.Impersonations[0].Session.ID, first.Impersonations[1].Session.ID, second.Impersonations[0].Session.ID}
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("order %v, want newest first %v", got, ids)
	}
	e.do("GET", "/api/v1/me/impersonations?cursor=bogus", nora, nil).wantErr(t, api.CodeBadRequest)
	e.do("GET", "/api/v1/me/impersonations?limit=0", nora, nil).wantErr(t, api.CodeBadRequest)
}

// hookReceiver is a company's webhook receiver: it checks every signature against the
// env's clock, as a real one would against its own.
type hookReceiver struct {
	mu     sync.Mutex
	events []api.WebhookEvent
	bad    []string
	got    chan struct{}
}

func newHookReceiver(t *testing.T, e func() *env, secret string) (*hookReceiver, string) {
	key, err := api.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{got: make(chan struct{}, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := api.VerifyWebhook(key, r.Header, body, e().clock.Now(), 5*time.Minute); err != nil {
			h.bad = append(h.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev api.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.events = append(h.events, ev)
		w.WriteHeader(http.StatusNoContent)
		h.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hookReceiver) next(t *testing.T) api.WebhookEvent {
	t.Helper()
	select {
	case <-h.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook within 10 s")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		t.Fatalf("deliveries that did not verify: %v", h.bad)
	}
	return h.events[len(h.events)-1]
}

// TestSessionWebhooks: Acme's receiver is told, signed, of a session's start, of its end
// by DELETE, and of another's expiry; Bluebird's sessions go to no one.
func TestSessionWebhooks(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var e *env
	rc, url := newHookReceiver(t, func() *env { return e }, secret)
	key, _ := api.ParseWebhookSecret(secret)
	e = newEnv(t, func(o *Options) { o.Webhooks = notify.Config{"c-acme": {URL: url, Secret: key}} })
	support := e.login(DemoSupportEmail)

	s := e.impersonate(support, DemoFleetManagerEmail)
	if ev := rc.next(t); ev.Type != api.WebhookSessionStarted || ev.Data.Session.ID != s.Session.ID || ev.Data.CompanyID != "c-acme" ||
		ev.Data.Session.Impersonator.ID != "u-staff-sam" || ev.Data.Session.Reason != s.Session.Reason {
		t.Errorf("start: %+v", ev)
	}
	e.do("DELETE", "/api/v1/impersonation/sessions/"+s.Session.ID, support, nil).decode(t, 204, nil)
	if ev := rc.next(t); ev.Type != api.WebhookSessionEnded || ev.Data.Session.ID != s.Session.ID || ev.Data.Session.State != api.SessionEnded {
		t.Errorf("end: %+v", ev)
	}

	var short api.StartSessionResponse
	e.do("POST", "/api/v1/impersonation/sessions", support, api.StartSessionRequest{UserID: DemoTechnicianID, Reason: "TICKET-9", TTLSeconds: 60}).decode(t, 201, &short)
	rc.next(t)
	e.clock.Advance(2 * time.Minute)
	e.events(support, "session="+short.Session.ID) // reading the log records due expiries
	if ev := rc.next(t); ev.Type != api.WebhookSessionEnded || ev.Data.Session.ID != short.Session.ID || ev.Data.Session.State != api.SessionExpired {
		t.Errorf("expiry: %+v", ev)
	}
	e.do("POST", "/api/v1/impersonation/sessions", support, api.StartSessionRequest{UserID: e.userID(support, "ben@bluebird.demo"), Reason: "TICKET-10"}).decode(t, 201, nil)
	select {
	case <-rc.got:
		t.Error("Acme's receiver was told of a Bluebird session")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWebhooksForAnUnknownCompanyAreRefused(t *testing.T) {
	key, _ := api.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	_, err := New(Options{DataDir: t.TempDir(), Webhooks: notify.Config{"c-acmee": {URL: "https://x", Secret: key}}})
	if err == nil || !strings.Contains(err.Error(), `no company "c-acmee"`) {
		t.Errorf("New: %v", err)
	}
}

// TestOpenAPIIsServed: the document at /api/v1/openapi.json is the one package openapi
// builds, with an ETag like every reply.
func TestOpenAPIIsServed(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	var served, built bytes.Buffer
	if r.status != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("status %d, ETag %q", r.status, r.header.Get("ETag"))
	}
	if err := json.Compact(&served, r.body); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&built, openapi.Document()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served.Bytes(), built.Bytes()) {
		t.Error("the served document is not the built one")
	}
	e.do("GET", "/api/v1/openapi.json", "", nil, "If-None-Match", r.header.Get("ETag")).decode(t, 304, nil)
}

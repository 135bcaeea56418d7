package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// Every method of the client against the reference server's real handler.

func TestHealth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, err := New(testOptions(ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(ctxT(t))
	if err != nil || h.Status != "ok" {
		t.Fatalf("health: %+v, %v", h, err)
	}
	if got := ts.requests()[0].UserAgent; got != "shadow/1.2.3-test" {
		t.Fatalf("User-Agent %q", got)
	}
}

func TestLoginAndMe(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	u, ok := c.User()
	if !ok || u.Email != server.DemoSupportEmail || u.Kind != api.KindStaff {
		t.Fatalf("signed-in user %+v, %v", u, ok)
	}
	me, err := c.Me(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if me.Impersonating || me.Scope != api.ScopeFull || me.User.ID != u.ID {
		t.Fatalf("me %+v", me)
	}

	// The same identity from a bare token (SHADOW_TOKEN).
	c2, _ := New(testOptions(ts.URL))
	c2.SetToken(c.token)
	if _, ok := c2.User(); ok {
		t.Fatal("identity known before asking")
	}
	if _, err := c2.Me(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if u2, ok := c2.User(); !ok || u2.ID != u.ID {
		t.Fatalf("Me did not record the identity: %+v", u2)
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := New(testOptions(ts.URL))
	_, err := c.Login(ctxT(t), server.DemoSouthFleetManagerEmail, "wrong password")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnauthenticated) || e.Code() != api.CodeInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if e.Attempts != 1 || ts.arrived.Load() != 1 {
		t.Fatalf("a login must never be retried: %d attempts, %d requests", e.Attempts, ts.arrived.Load())
	}
	if err.Error() != "sign in: wrong email or password" {
		t.Errorf("message %q", err.Error())
	}
	if strings.Contains(fmt.Sprint(err), "wrong password") {
		t.Fatal("the password leaked into the error")
	}

	// Without a token, a staff route says to sign in.
	_, err = c.Users(ctxT(t), UsersQuery{})
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("users without a token: %v", err)
	}
}

func TestDirectorySearchAndPaging(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)

	first, err := c.Users(ctx, UsersQuery{Query: "acme", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Users) != 5 || first.NextCursor == "" {
		t.Fatalf("first page: %d users, cursor %q", len(first.Users), first.NextCursor)
	}
	second, err := c.Users(ctx, UsersQuery{Query: "acme", Limit: 5, Cursor: first.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Users) == 0 || second.Users[0].ID == first.Users[0].ID {
		t.Fatalf("second page repeats the first: %+v", second.Users)
	}
	for _, u := range append(first.Users, second.Users...) {
		if !strings.Contains(strings.ToLower(u.Name+u.Email+u.Company), "acme") {
			t.Errorf("%s does not match acme", u.Email)
		}
	}
	all, err := c.Users(ctx, UsersQuery{Limit: 1 << 30})
	if err != nil || len(all.Users) > api.MaxPageLimit {
		t.Fatalf("an absurd limit: %d users, %v", len(all.Users), err)
	}

	out, err := c.Users(ctx, UsersQuery{Query: server.DemoOutOfScopeEmail})
	if err != nil || len(out.Users) != 1 {
		t.Fatalf("search by email: %+v, %v", out, err)
	}
	if u := out.Users[0]; u.Impersonable || u.NotImpersonableCode != api.CodeTargetOutOfScope || u.NotImpersonableReason == "" {
		t.Fatalf("a user out of scope must say why: %+v", u)
	}
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)
	admin, _ := c.User()

	v, sess, err := c.StartSession(ctx, server.DemoFleetManagerID, "ticket T-42", WithTTL(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if sess.User.ID != server.DemoFleetManagerID || sess.Impersonator.ID != admin.ID || sess.State != api.SessionActive {
		t.Fatalf("session %+v", sess)
	}
	if v.Session().ID != sess.ID || v.Remaining() <= 9*time.Minute || v.Remaining() > 10*time.Minute {
		t.Fatalf("view session %+v, remaining %v", v.Session(), v.Remaining())
	}

	me, err := v.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !me.Impersonating || me.Scope != api.ScopeReadOnly || me.User.ID != server.DemoFleetManagerID ||
		me.Actor == nil || me.Actor.ID != admin.ID || me.SessionID != sess.ID {
		t.Fatalf("impersonated me %+v", me)
	}

	list, err := v.Dashboards(ctx)
	if err != nil || len(list.Dashboards) == 0 {
		t.Fatalf("dashboards: %+v, %v", list, err)
	}
	for _, d := range list.Dashboards {
		full, err := v.Dashboard(ctx, d.ID)
		if err != nil {
			t.Fatalf("dashboard %s: %v", d.ID, err)
		}
		if full.ID != d.ID || full.Title != d.Title || len(full.Widgets) == 0 {
			t.Fatalf("dashboard %s: %+v", d.ID, full.DashboardSummary)
		}
	}
	_, err = v.Dashboard(ctx, "d-no-such-dashboard")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown dashboard: %v", err)
	}
	_, err = v.Dashboard(ctx, "")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrValidation) || !e.Local {
		t.Fatalf("an empty id must be refused before sending: %v", err)
	}

	matrix, err := v.Permissions(ctx)
	if err != nil || len(matrix.Rows) == 0 || len(matrix.Actions) == 0 || matrix.Subject.ID != server.DemoFleetManagerID {
		t.Fatalf("permissions: %d rows, %v", len(matrix.Rows), err)
	}
	row := matrix.Rows[0]
	expl, err := v.Explain(ctx, row.Resource.ID, matrix.Actions[0])
	if err != nil || len(expl.Steps) == 0 || expl.Resource.ID != row.Resource.ID {
		t.Fatalf("explain: %+v, %v", expl, err)
	}
	if want := map[byte]string{api.EffectAllow: api.EffectNameAllow, api.EffectDeny: api.EffectNameDeny, api.EffectNone: api.EffectNameNone}[row.Effects[0]]; expl.Effect != want {
		t.Fatalf("explain says %s, the matrix says %c", expl.Effect, row.Effects[0])
	}

	own, err := v.GetSession(ctx)
	if err != nil || own.ID != sess.ID || own.State != api.SessionActive {
		t.Fatalf("view's own session: %+v, %v", own, err)
	}
	seen, err := c.GetSession(ctx, sess.ID)
	if err != nil || seen.ID != sess.ID {
		t.Fatalf("staff reads the session: %+v, %v", seen, err)
	}

	token := v.token
	if err := c.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if !v.Closed() {
		t.Fatal("the view is still open after EndSession")
	}
	before := ts.arrived.Load()
	_, err = v.Dashboards(ctx)
	if !errors.As(err, &e) || !errors.Is(err, ErrSessionExpired) || !e.Local {
		t.Fatalf("a closed view must refuse locally: %v", err)
	}
	if ts.arrived.Load() != before {
		t.Fatal("a closed view sent a request")
	}
	// The server agrees: the token is dead at once.
	var dead api.Me
	err = c.w.call(ctx, request{op: "me with an ended token", route: api.RouteMe, token: token, out: &dead})
	if !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("the ended session's token still works: %v", err)
	}
	ended, err := c.GetSession(ctx, sess.ID)
	if err != nil || ended.State != api.SessionEnded || ended.EndedAt == nil {
		t.Fatalf("ended session: %+v, %v", ended, err)
	}
}

func TestStartSessionRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)
	admin, _ := c.User()
	for _, tc := range []struct {
		name, user, reason string
		kind               error
		code               api.Code
	}{
		{"privileged target", server.DemoCompanyAdminID, "r", ErrNotAllowed, api.CodeTargetPrivileged},
		{"outside scope", server.DemoOutOfScopeID, "r", ErrNotAllowed, api.CodeTargetOutOfScope},
		{"company opted out", server.DemoOptedOutID, "r", ErrNotAllowed, api.CodeImpersonationDisabled},
		{"self", admin.ID, "r", ErrNotAllowed, api.CodeSelfImpersonation},
		{"no reason", server.DemoTechnicianID, "", ErrValidation, api.CodeReasonRequired},
		{"unknown user", "u-nobody", "r", ErrNotAllowed, api.CodeTargetOutOfScope}, // answered as one outside the scope
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.arrived.Load()
			v, _, err := c.StartSession(ctx, tc.user, tc.reason)
			var e *Error
			if v != nil || !errors.As(err, &e) || !errors.Is(err, tc.kind) || e.Code() != tc.code {
				t.Fatalf("got view %v, error %v; want %v / %s", v, err, tc.kind, tc.code)
			}
			if e.Body.Message == "" || !strings.Contains(err.Error(), e.Body.Message) {
				t.Errorf("the message %q does not carry the server's reason %q", err.Error(), e.Body.Message)
			}
			if got := ts.arrived.Load() - before; got != 1 {
				t.Errorf("a session start was sent %d times; it must never be retried", got)
			}
		})
	}
}

// An impersonation token handed to a Client as its own (say, through SHADOW_TOKEN)
// cannot start a nested session: the POST is refused before it is sent.
func TestNestedStartIsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	v, _ := startNora(t, staff(t, ts))

	wrong, _ := New(testOptions(ts.URL)) // a fresh client: the token is not registered with it
	wrong.SetToken(v.token)
	me, err := wrong.Me(ctxT(t))
	if err != nil || !me.Impersonating {
		t.Fatalf("me: %+v, %v", me, err)
	}
	before := ts.arrived.Load()
	_, _, err = wrong.StartSession(ctxT(t), server.DemoTechnicianID, "nested")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrReadOnly) || !e.Local || e.Attempts != 0 {
		t.Fatalf("nested start: %v", err)
	}
	if ts.arrived.Load() != before {
		t.Fatal("the nested start reached the server")
	}
}

func TestViewExposesReadMethodsAlone(t *testing.T) {
	t.Parallel()
	reads := map[string]bool{"Me": true, "GetSession": true, "Dashboards": true, "Dashboard": true,
		"Permissions": true, "PermissionsPage": true, "Explain": true, "Session": true, "Remaining": true, "Closed": true,
		"String": true, "GoString": true}
	typ := reflect.TypeOf(&View{})
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; !reads[name] {
			t.Errorf("View has method %s; it must expose reads alone (add it to this list only if it cannot change anything)", name)
		}
	}
	// And it cannot be made except by StartSession: a zero View refuses.
	var zero View
	if _, err := zero.Dashboards(context.Background()); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("zero View: %v", err)
	}
	var nilView *View
	if _, err := nilView.Me(context.Background()); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("nil View: %v", err)
	}
}

func TestAuditEventsNameBothIdentities(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)
	admin, _ := c.User()
	v, id := startNora(t, c)
	if _, err := v.Dashboards(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := c.AuditEvents(ctx, AuditFilter{Session: id, Since: time.Now().Add(-time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var sawStart, sawRequest bool
	for _, ev := range page.Events {
		if ev.SessionID != id {
			t.Errorf("filter leaked an event of session %q", ev.SessionID)
		}
		if ev.Actor.ID != admin.ID || ev.User == nil || ev.User.ID != server.DemoFleetManagerID {
			t.Errorf("event %s does not name both identities: actor %+v user %+v", ev.Kind, ev.Actor, ev.User)
		}
		sawStart = sawStart || ev.Kind == api.EventSessionStart
		sawRequest = sawRequest || (ev.Kind == api.EventRequest && ev.Path == api.Prefix+"/dashboards")
	}
	if !sawStart || !sawRequest {
		t.Fatalf("events %+v: want the start and the dashboards request", page.Events)
	}
	kinds, err := c.AuditEvents(ctx, AuditFilter{Session: id, Kind: api.EventSessionStart})
	if err != nil || len(kinds.Events) != 1 {
		t.Fatalf("kind filter: %d events, %v", len(kinds.Events), err)
	}
}

// TestSessionAuditNamesTheUnjournaledRead: a read the client never journaled comes
// back from the server as unjournaled, and the session is not consistent.
func TestSessionAuditNamesTheUnjournaledRead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)
	v, id := startNora(t, c)
	if _, err := v.Dashboards(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.SessionAudit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Session.ID != id || got.Summary.Consistent || got.Summary.Unjournaled == 0 {
		t.Fatalf("session audit %+v: want session %s with an unjournaled read", got.Summary, id)
	}
	var sawDashboards bool
	for _, ev := range got.Unjournaled {
		sawDashboards = sawDashboards || ev.Path == api.Prefix+"/dashboards"
	}
	if !sawDashboards {
		t.Fatalf("unjournaled %+v: want GET /dashboards", got.Unjournaled)
	}
	if _, err := c.SessionAudit(ctx, "ses_nosuchsession"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v, want ErrNotFound", err)
	}
}

// journalRange builds records from..to of a journal, chained from prev.
func journalRange(t testing.TB, journalID string, from, to uint64, prev api.Hash) ([]api.WireRecord, api.Hash) {
	t.Helper()
	var out []api.WireRecord
	for seq := from; seq <= to; seq++ {
		body := []byte(fmt.Sprintf(`{"event_id":"e%d","time":"2025-01-01T00:00:00Z","action":"view","actor":{"id":"s","name":"S"}}`, seq))
		h := api.RecordHash(journalID, seq, prev, body)
		out = append(out, api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: body})
		prev = h
	}
	return out, prev
}

func TestJournalSyncAndReceipts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := staff(t, ts)
	ctx := ctxT(t)
	journal := fmt.Sprintf("j-client-test-%d", time.Now().UnixNano())

	key, err := c.AuditKey(ctx)
	if err != nil || len(key.PublicKey) != 32 {
		t.Fatalf("audit key: %+v, %v", key, err)
	}
	first, head := journalRange(t, journal, 1, 3, api.ZeroHash)
	res, err := c.PutJournalRecords(ctx, journal, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || res.Head.Seq != 3 || res.Head.Hash != head.String() {
		t.Fatalf("put: %+v", res)
	}
	if err := res.Receipt.Verify(key.PublicKey); err != nil || res.Receipt.Seq != 3 {
		t.Fatalf("receipt: %v", err)
	}
	again, err := c.PutJournalRecords(ctx, journal, first)
	if err != nil || again.Duplicates != 3 || again.Accepted != 0 {
		t.Fatalf("an exact resend must be accepted as duplicates: %+v, %v", again, err)
	}

	gap, _ := journalRange(t, journal, 6, 6, head) // seq 4 and 5 missing
	_, err = c.PutJournalRecords(ctx, journal, gap)
	var body api.ErrorBody
	if !errors.Is(err, ErrConflict) || !errors.As(err, &body) || body.Code != api.CodeJournalGap || body.Head == nil || body.Head.Seq != 3 {
		t.Fatalf("gap: %v (body %+v)", err, body)
	}
}

func TestPrintingNeverShowsATokenOrPassword(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var debug bytes.Buffer
	opts := testOptions(ts.URL)
	opts.Debug = &syncWriter{w: &debug}
	c := signIn(t, ts, opts, server.DemoSupportEmail)
	v, id := startNora(t, c)
	ctx := ctxT(t)
	if _, err := v.Dashboards(ctx); err != nil {
		t.Fatal(err)
	}
	staffToken, viewToken := c.token, v.token
	if err := c.EndSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v %s | %v %+v %#v %s", c, c, c, c, v, v, v, v) + debug.String()
	for name, secret := range map[string]string{"staff token": staffToken, "impersonation token": viewToken, "password": server.DemoSupportPassword} {
		if secret == "" || strings.Contains(printed, secret) {
			t.Errorf("the %s appears in printed output or the debug log", name)
		}
	}
	if !strings.Contains(debug.String(), "Authorization: Bearer [redacted]") {
		t.Errorf("the debug log does not show the redaction:\n%s", debug.String())
	}
}

// The app's own routes with a user's own token: reads and real writes succeed, so the
// read-only guarantee elsewhere is not an accident of writes never working.
func TestOwnRoutesWithAUsersOwnToken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	// Only this test signs in as Nora, and it puts her password back.
	nora := signIn(t, ts, testOptions(ts.URL), server.DemoFleetManagerEmail)
	ctx := ctxT(t)

	list, err := nora.Dashboards(ctx)
	if err != nil || len(list.Dashboards) == 0 {
		t.Fatalf("own dashboards: %v", err)
	}
	if d, err := nora.Dashboard(ctx, list.Dashboards[0].ID); err != nil || len(d.Widgets) == 0 {
		t.Fatalf("own dashboard: %v", err)
	}
	m, err := nora.Permissions(ctx)
	if err != nil || len(m.Rows) == 0 {
		t.Fatalf("own permissions: %v", err)
	}
	if ex, err := nora.Explain(ctx, m.Rows[0].Resource.ID, m.Actions[0]); err != nil || len(ex.Steps) == 0 {
		t.Fatalf("own explain: %v", err)
	}

	created, err := nora.CreateDashboard(ctx, api.DashboardCreate{Title: "Client test board", Description: "made by the client tests"})
	if err != nil || created.ID == "" || created.Title != "Client test board" {
		t.Fatalf("create: %+v, %v", created.DashboardSummary, err)
	}
	title := "Client test board, renamed"
	updated, err := nora.UpdateDashboard(ctx, created.ID, api.DashboardUpdate{Title: &title})
	if err != nil || updated.Title != title {
		t.Fatalf("update: %+v, %v", updated.DashboardSummary, err)
	}
	shared, err := nora.ShareDashboard(ctx, created.ID, api.DashboardShare{UserID: server.DemoTechnicianID})
	if err != nil || len(shared.SharedWith) != 1 || shared.SharedWith[0].ID != server.DemoTechnicianID {
		t.Fatalf("share: %+v, %v", shared.SharedWith, err)
	}
	if err := nora.DeleteDashboard(ctx, created.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := nora.Dashboard(ctx, created.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted dashboard still readable: %v", err)
	}

	phone := "+46 70 123 45 67"
	u, err := nora.UpdateProfile(ctx, api.ProfileUpdate{Phone: &phone})
	if err != nil || u.Phone != phone {
		t.Fatalf("profile: %+v, %v", u, err)
	}
	settings := api.Settings{Timezone: "Europe/Stockholm", Locale: "sv-SE", EmailAlert: false}
	if got, err := nora.UpdateSettings(ctx, settings); err != nil || got != settings {
		t.Fatalf("settings: %+v, %v", got, err)
	}
	_, err = nora.UpdateSettings(ctx, api.Settings{Timezone: "Mars/Olympus", Locale: "en-GB"})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrValidation) || e.Body.Field != "timezone" || !strings.Contains(err.Error(), "(field timezone)") {
		t.Fatalf("bad timezone: %v", err)
	}

	oldToken := nora.token
	const temporary = "a-temporary-password"
	if _, err := nora.ChangePassword(ctx, server.DemoSupportPassword, temporary); err != nil {
		t.Fatal(err)
	}
	if nora.token == oldToken {
		t.Fatal("the client kept the signed-out token")
	}
	if _, err := nora.ChangePassword(ctx, temporary, server.DemoSupportPassword); err != nil {
		t.Fatalf("put the demo password back: %v", err)
	}
	if _, err := nora.Me(ctx); err != nil {
		t.Fatalf("the fresh token does not work: %v", err)
	}
	var stale api.Me
	if err := nora.w.call(ctx, request{op: "me with a signed-out token", route: api.RouteMe, token: oldToken, out: &stale}); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("the pre-change token still works: %v", err)
	}
}

package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// signedIn is a model signed in as the demo support account, on the picker.
func signedInDriver(t *testing.T, e *testEnv) *driver {
	t.Helper()
	d := newDriver(t, New(e.options(colorprofile.ASCII)), 100, 30)
	if d.m.Screen() != ScreenPicker || !strings.Contains(d.view(), "Nora Lindqvist") {
		t.Fatalf("not on the picker after signing in: %q\n%s", d.m.Screen(), d.view())
	}
	return d
}

// loginDriver is a model signed in through the login screen, on the picker.
func loginDriver(t *testing.T, e *testEnv) *driver {
	t.Helper()
	d := loginScreen(t, e, 100, 30)
	d.typeText(server.DemoSupportEmail)
	d.press("tab")
	d.typeText(server.DemoSupportPassword)
	d.press("enter")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("not signed in: %s", d.view())
	}
	return d
}

// loginScreen is a model without credentials, on the login screen.
func loginScreen(t *testing.T, e *testEnv, w, h int) *driver {
	t.Helper()
	opts := e.options(colorprofile.ASCII)
	opts.Credentials = nil
	d := newDriver(t, New(opts), w, h)
	if d.m.Screen() != ScreenLogin {
		t.Fatalf("screen %q without credentials", d.m.Screen())
	}
	return d
}

// sessionRecords are the journal's records of one session, by action.
func sessionActions(t *testing.T, j *audit.Journal, id string) []string {
	t.Helper()
	entries, err := j.SessionRecords(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Data.Action)
	}
	return out
}

func TestKeys(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)

	d.press("?")
	if d.m.over.kind != overlayHelp || !strings.Contains(d.view(), "Keys") {
		t.Fatal("? does not open the help")
	}
	d.press("down", "enter")
	if d.m.over.kind != overlayHelp || d.m.Screen() != ScreenPicker {
		t.Fatal("the page's keys must not act behind the help")
	}
	d.press("esc")
	if d.m.over.kind == overlayHelp {
		t.Fatal("esc does not close the help")
	}
	d.press("?", "?")
	if d.m.over.kind == overlayHelp {
		t.Fatal("? does not close the help")
	}

	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	if d.m.Tab() != TabDashboards || !strings.Contains(d.view(), "Fleet overview") {
		t.Fatalf("the session does not open on the dashboards:\n%s", d.view())
	}
	for _, c := range []struct {
		key  string
		want int
	}{{"2", TabPermissions}, {"3", TabJournal}, {"1", TabDashboards}, {"tab", TabPermissions}, {"tab", TabJournal}, {"tab", TabDashboards}, {"shift+tab", TabJournal}, {"shift+tab", TabPermissions}} {
		d.press(c.key)
		if d.m.Tab() != c.want {
			t.Fatalf("%s: tab %d, want %d", c.key, d.m.Tab(), c.want)
		}
	}
	// While the matrix filter has the keyboard, q, digits and tab are text.
	d.press("/")
	d.typeText("q1")
	d.press("tab")
	if d.m.Tab() != TabPermissions || d.m.over.kind == overlayConfirm || !strings.Contains(d.view(), "Filter: q1") {
		t.Fatalf("keys typed into the filter reached the root:\n%s", d.view())
	}
	d.press("esc")

	d.press("q")
	if d.m.over.kind != overlayConfirm || !strings.Contains(d.view(), "End the session?") {
		t.Fatalf("q does not ask before ending:\n%s", d.view())
	}
	d.press("n")
	if d.m.over.kind == overlayConfirm || d.m.SessionID() != id {
		t.Fatal("n does not keep the session")
	}
	d.press("q", "y")
	if d.m.Screen() != ScreenPicker || d.m.SessionID() != "" || d.m.Banner() != nil {
		t.Fatalf("y does not end the session: %q", d.m.Screen())
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionEnd {
		t.Fatalf("the end is not journaled: %v", got)
	}
	s, err := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id)
	if err != nil || s.State != api.SessionEnded {
		t.Fatalf("the server still has the session %v: %+v", err, s)
	}

	// ctrl+c in a session ends it on the server, journals it, then quits.
	d.startSession(server.DemoFleetManagerEmail, "TICKET-2")
	id = d.m.SessionID()
	d.press("ctrl+c")
	if !d.quit {
		t.Fatal("ctrl+c does not quit")
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionEnd {
		t.Fatalf("ctrl+c did not journal the end: %v", got)
	}
	if s, _ := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id); s.State != api.SessionEnded {
		t.Fatalf("ctrl+c left the session %s", s.State)
	}
}

// statusLine is the last line of the frame.
func (d *driver) statusLine() string {
	lines := strings.Split(d.view(), "\n")
	return lines[len(lines)-1]
}

// TestHintsDoNotLie checks the status line promises only keys that work where it is
// shown: over the help, q and the tab keys act (closing it); in text input and dialogs
// the help key is not offered, nor keys that would be typed.
func TestHintsDoNotLie(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.press("/")
	if l := d.statusLine(); strings.Contains(l, "? help") || strings.Contains(l, "q quit") {
		t.Fatalf("the search box takes ? and q as text, but the status line offers them: %q", l)
	}
	d.typeText(server.DemoFleetManagerEmail)
	d.press("enter", "enter")
	if l := d.statusLine(); d.m.Screen() != ScreenReason || strings.Contains(l, "? help") {
		t.Fatalf("the reason prompt takes ? as text, but the status line offers help: %q", l)
	}
	d.typeText("TICKET-1")
	d.press("enter")

	d.press("?")
	l := d.statusLine()
	if !contains(l, "esc close help", "q end session") || strings.Contains(l, "↓/j") {
		t.Fatalf("the status line over the help: %q", l)
	}
	d.press("q")
	if d.m.over.kind == overlayHelp || d.m.over.kind != overlayConfirm {
		t.Fatalf("q over the help does not ask to end the session, as the status line says:\n%s", d.view())
	}
	if l := d.statusLine(); !contains(l, "y end session", "n keep going") || strings.Contains(l, "? help") {
		t.Fatalf("the status line under the end question: %q", l)
	}
	d.press("n", "?", "2")
	if d.m.over.kind == overlayHelp || d.m.Tab() != TabPermissions {
		t.Fatal("a tab key over the help does not close it and switch")
	}
	d.press("/")
	if l := d.statusLine(); strings.Contains(l, "q end session") || strings.Contains(l, "tab next tab") || strings.Contains(l, "? help") {
		t.Fatalf("the filter takes q, tab and ? as text, but the status line offers them: %q", l)
	}
	d.press("esc", "q", "y")
	d.press("?", "q")
	if !d.quit {
		t.Fatal("q over the help on the picker does not quit, as the status line says")
	}
}

func TestQOnThePickerQuits(t *testing.T) {
	t.Parallel()
	d := signedInDriver(t, newTestEnv(t, server.DemoSeed))
	d.press("/")
	d.typeText("q")
	if d.quit {
		t.Fatal("q typed into the search quit")
	}
	d.press("enter", "q")
	if !d.quit {
		t.Fatal("q on the picker does not quit")
	}
}

// TestStaleRepliesNeverReachTheNextSession holds back a real reply of one session,
// ends it, starts another, and delivers the old reply: the new session's pages must not
// take it, nor a forged reply tagged with the old session.
func TestStaleRepliesNeverReachTheNextSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-A")
	first := d.m.SessionID()

	// Ask for the matrix and hold its reply back.
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(viewReply); return ok }
	d.press("2")
	d.hold = nil
	if len(d.held) != 1 {
		t.Fatalf("held %d replies, want the matrix's", len(d.held))
	}
	late := d.held[0].(viewReply)
	if _, ok := late.reply.(matrix.Loaded); !ok || late.Session != first {
		t.Fatalf("held %T for %q", late.reply, late.Session)
	}
	d.press("1", "q", "y")

	d.startSession(server.DemoTechnicianEmail, "TICKET-B")
	second := d.m.SessionID()
	if second == first {
		t.Fatal("the same session twice")
	}
	d.press("2")
	before := d.view()
	if !strings.Contains(before, "Tomás Ortega") {
		t.Fatalf("the second session's matrix is not Tomás's:\n%s", before)
	}
	d.send(late)
	d.send(matrix.Loaded{Tag: late.Tag, Matrix: &api.PermissionMatrix{Subject: api.UserRef{Name: "STALE SUBJECT"}}})
	d.send(dashboards.ListLoaded{Tag: common.Tag{Session: first, Seq: late.Seq + 1}, List: &api.DashboardList{
		Dashboards: []api.DashboardSummary{{ID: "stale", Title: "STALE DASHBOARD"}}}})
	d.press("1")
	after := d.view()
	d.press("2")
	after += d.view()
	if strings.Contains(after, "Nora") || strings.Contains(after, "STALE") {
		t.Fatalf("a reply of the ended session reached the next one:\n%s", after)
	}
	if d.m.sess.pending != 0 {
		t.Fatalf("stale replies changed the session's count of requests: %d", d.m.sess.pending)
	}
}

// TestStaleJournalReadStillLeavesTheNextSessionsRead holds back the read of one
// session's journal records until the next session has asked for its own: the stale
// answer is dropped, and the read the next session asked for meanwhile is made then.
func TestStaleJournalReadStillLeavesTheNextSessionsRead(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(records); return ok }
	d.startSession(server.DemoFleetManagerEmail, "TICKET-A")
	first := d.m.SessionID()
	d.press("q", "y")
	d.startSession(server.DemoTechnicianEmail, "TICKET-B")
	d.press("3") // the Journal tab asks too; one read at a time, so it waits
	d.hold = nil
	if len(d.held) != 1 || d.held[0].(records).Session != first {
		t.Fatalf("held %d reads, want the first session's one", len(d.held))
	}
	if strings.Contains(d.view(), "session.start") { // the header names the reason; the tab shows records
		t.Fatalf("the Journal tab shows records no read brought:\n%s", d.view())
	}
	// Delivered by hand: the driver would also feed the journal's status changes, and
	// each of those asks again, hiding a read that was never made.
	_, cmd := d.m.Update(d.held[0])
	if cmd == nil {
		t.Fatal("the stale read was dropped and the next session's read with it")
	}
	d.feed(cmd)
	if v := d.view(); !contains(v, "session.start", "TICKET-B") || strings.Contains(v, "TICKET-A") {
		t.Fatalf("the Journal tab does not show the second session's records:\n%s", v)
	}
}

// TestViewsAreJournaledBeforeTheyAreShown catches each reply carrying data on its way
// to a page and checks the journal already holds its record, durably.
func TestViewsAreJournaledBeforeTheyAreShown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	checked := 0
	d.hold = func(msg tea.Msg) bool {
		r, ok := msg.(viewReply)
		if !ok || r.reply == nil {
			return false
		}
		entries, err := e.journal.SessionRecords(r.Session)
		if err != nil {
			t.Fatal(err)
		}
		last := entries[len(entries)-1].Data
		want := map[string]string{"dashboards.ListLoaded": "dashboards: the list", "dashboards.Loaded": "dashboard ",
			"matrix.Loaded": "permissions: ", "matrix.ExplainLoaded": "explain "}[typeName(r.reply)]
		if want == "" || !strings.HasPrefix(last.Details, want) || (last.Action != api.ActionView && last.Action != api.ActionExplain) {
			t.Errorf("%s is on its way to the page but the journal's last record is %s %q", typeName(r.reply), last.Action, last.Details)
		}
		checked++
		return false
	}
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	d.press("2", "enter")
	if checked != 4 {
		t.Fatalf("checked %d replies, want list, dashboard, matrix and explain", checked)
	}
	got := sessionActions(t, e.journal, d.m.SessionID())
	want := []string{api.ActionSessionStart, api.ActionView, api.ActionView, api.ActionView, api.ActionExplain}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("journal %v, want %v", got, want)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case dashboards.ListLoaded:
		return "dashboards.ListLoaded"
	case dashboards.Loaded:
		return "dashboards.Loaded"
	case matrix.Loaded:
		return "matrix.Loaded"
	case matrix.ExplainLoaded:
		return "matrix.ExplainLoaded"
	}
	return ""
}

// TestJournalFailureStopsTheSession closes the real journal under a live session: the
// next view must not reach the page, the session must end on the server, and the screen
// must say why.
func TestJournalFailureStopsTheSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	if err := e.journal.Close(context.Background()); err != nil && !errors.Is(err, audit.ErrUnsynced) {
		t.Fatal(err)
	}
	d.press("2")
	view := d.view()
	if d.m.Screen() != ScreenFatal || d.m.Banner() != nil {
		t.Fatalf("screen %q after the journal failed:\n%s", d.m.Screen(), view)
	}
	if !contains(view, "shadow cannot go on", "journal", "ended the session") {
		t.Fatalf("the screen does not say why:\n%s", view)
	}
	if strings.Contains(view, "resources ×") || strings.Contains(view, "Truck") {
		t.Fatalf("data that was not journaled is shown:\n%s", view)
	}
	if s, _ := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id); s.State != api.SessionEnded {
		t.Fatalf("the session is %s on the server", s.State)
	}
	d.press("/", "enter")
	if d.m.Screen() != ScreenFatal || d.m.SessionID() != "" {
		t.Fatal("shadow went on without a journal")
	}
	d.press("q")
	if !d.quit {
		t.Fatal("q does not quit the fatal screen")
	}
}

// TestRevocationIsNoticedAndNothingCachedIsShown ends the session from elsewhere (the
// company's admin) and lets the poll notice: the session ends with a message, and its
// view can no longer be read, not even from the cache it filled.
func TestRevocationIsNoticedAndNothingCachedIsShown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id, v := d.m.SessionID(), d.m.sess.view
	if _, err := v.Dashboards(context.Background()); err != nil {
		t.Fatal(err) // a fresh cache entry now exists for this session
	}
	if err := e.staff(t, server.DemoCompanyAdminEmail).EndSession(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	d.send(pollDue{session: id})
	if d.m.Screen() != ScreenPicker || d.m.Dialog() != "Session ended" || !strings.Contains(d.view(), "ended elsewhere") {
		t.Fatalf("the revocation is not told: %q\n%s", d.m.Screen(), d.view())
	}
	if !v.Closed() {
		t.Fatal("the dead session's view is still open")
	}
	if _, err := v.Dashboards(context.Background()); !errors.Is(err, client.ErrSessionExpired) {
		t.Fatalf("the dead session's data is still served: %v", err)
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionExpire {
		t.Fatalf("the revocation is not journaled: %v", got)
	}
	d.press("enter")
	if d.m.Dialog() != "" {
		t.Fatal("enter does not close the message")
	}
}

// TestExpiryEndsTheSession moves the clock past the session's end: the next tick ends
// it, on the server too, with a message.
func TestExpiryEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	d.send(tick{session: id})
	if d.m.SessionID() != id {
		t.Fatal("a tick before expiry ended the session")
	}
	e.clock.Advance(api.MaxSessionTTL + time.Second)
	d.send(tick{session: id})
	if d.m.Screen() != ScreenPicker || !strings.Contains(d.view(), "time limit") {
		t.Fatalf("expiry is not told: %q\n%s", d.m.Screen(), d.view())
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionExpire {
		t.Fatalf("the expiry is not journaled: %v", got)
	}
	d.send(tick{session: id}) // a late tick of the ended session changes nothing
	if d.m.Screen() != ScreenPicker {
		t.Fatal("a stale tick acted")
	}
}

func TestRefusalsAreJournaledWithTheServersCode(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.press("/")
	d.typeText(server.DemoFleetManagerEmail)
	d.press("enter", "enter", "enter") // no reason
	if d.m.Screen() != ScreenReason || !strings.Contains(d.view(), "reason_required") {
		t.Fatalf("the refusal is not shown in the server's words:\n%s", d.view())
	}
	entries, _ := e.journal.SessionRecords("")
	last := entries[len(entries)-1].Data
	if last.Action != api.ActionSessionRefused || !strings.HasPrefix(last.Details, "reason_required") || last.User.Name != "Nora Lindqvist" {
		t.Fatalf("the refusal is journaled as %+v", last)
	}
	d.press("esc")
	if d.m.Screen() != ScreenPicker {
		t.Fatal("esc does not go back to the picker")
	}
}

func TestLoginScreen(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := loginScreen(t, e, 80, 24)
	const secret = "not-the-password-42"
	d.typeText(server.DemoSupportEmail)
	d.press("tab")
	d.typeText(secret)
	if strings.Contains(d.m.Frame(), secret) || strings.Contains(d.m.Frame(), strings.Repeat("*", 5)) {
		t.Fatal("the password (or its length) is drawn")
	}
	d.press("enter")
	if !strings.Contains(d.view(), "Wrong email or password.") {
		t.Fatalf("a wrong password is not said in words:\n%s", d.view())
	}
	d.press("enter")
	if !strings.Contains(d.view(), "Enter your password.") {
		t.Fatalf("the password is kept after submitting:\n%s", d.view())
	}
	for i := 0; i < 5; i++ {
		d.typeText(secret)
		d.press("enter")
	}
	if !strings.Contains(d.view(), "Too many failed sign-ins") {
		t.Fatalf("the rate limit is not said:\n%s", d.view())
	}
	d = loginScreen(t, newTestEnv(t, server.DemoSeed), 80, 24)
	d.typeText(server.DemoFleetManagerEmail)
	d.press("tab")
	d.typeText(server.DemoSupportPassword)
	d.press("enter")
	if d.m.Screen() != ScreenLogin || !strings.Contains(d.view(), "may not impersonate") {
		t.Fatalf("an account without the impersonate permission got in:\n%s", d.view())
	}
	d.typeText(server.DemoSupportPassword) // the email is kept; only the password is asked again
	d.press("shift+tab")
	for range server.DemoFleetManagerEmail {
		d.press("backspace")
	}
	d.typeText(server.DemoSupportEmail)
	d.press("enter")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("signing in with the right account fails: %q\n%s", d.m.Screen(), d.view())
	}
}

func TestTokenSignIn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	// An impersonation token given as one's own is refused.
	tok := impersonationToken(t, e)
	opts := e.options(colorprofile.ASCII)
	opts.Credentials, opts.UseToken = nil, true
	opts.Client = e.newClient(t)
	opts.Client.SetToken(tok)
	d := newDriver(t, New(opts), 80, 24)
	if d.m.Screen() != ScreenFatal || !strings.Contains(d.view(), "impersonation token") {
		t.Fatalf("an impersonation token was taken as the admin's: %q\n%s", d.m.Screen(), d.view())
	}

	// A token the server refuses says so once, and what to do instead.
	for _, c := range []struct {
		name, why string
		client    func() *client.Client
	}{
		{"garbage", "is not valid", func() *client.Client { c := e.newClient(t); c.SetToken("garbage"); return c }},
		{"expired", "has expired", func() *client.Client {
			c := e.staff(t, server.DemoSupportEmail) // the admin's own token, let expire
			e.clock.Advance(server.DefaultTokenTTL + time.Minute)
			return c
		}},
	} {
		opts.Client = c.client()
		d := newDriver(t, New(opts), 100, 24)
		view := strings.Join(strings.Fields(d.view()), " ")
		if d.m.Screen() != ScreenFatal || !contains(view, "SHADOW_TOKEN "+c.why, "unset it to sign in with email and password") ||
			strings.Count(view, "sign in") > 2 {
			t.Fatalf("%s token: %q\n%s", c.name, d.m.Screen(), d.view())
		}
	}
}

// TestUnreachableServerIsSaidOnce signs in to a server that is gone: the screen says it
// cannot reach it, once, in the client's words.
func TestUnreachableServerIsSaidOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := loginScreen(t, e, 100, 30)
	e.ts.Close()
	d.typeText(server.DemoSupportEmail)
	d.press("tab")
	d.typeText(server.DemoSupportPassword)
	d.press("enter")
	view := strings.Join(strings.Fields(d.view()), " ")
	if !strings.Contains(view, "Cannot reach the server at 127.0.0.1:") || strings.Count(view, "reach the server") != 1 || strings.Contains(view, "sign in: ") {
		t.Fatalf("the unreachable server is not said plainly:\n%s", d.view())
	}
}

// impersonationToken starts a session over plain HTTP (the client never hands its
// tokens out) and returns the session's token.
func impersonationToken(t *testing.T, e *testEnv) string {
	t.Helper()
	post := func(path, token string, body, out any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+api.Prefix+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, err)
		}
	}
	var login api.LoginResponse
	post("/auth/login", "", api.LoginRequest{Email: server.DemoSupportEmail, Password: server.DemoSupportPassword}, &login)
	var started api.StartSessionResponse
	post("/impersonation/sessions", login.Token, api.StartSessionRequest{UserID: server.DemoFleetManagerID, Reason: "token test"}, &started)
	return started.Token
}

// TestShutdownTellsWhatIsLeft stops the server under a live session and quits: the
// session cannot be ended on the server, its end is journaled anyway, and what the
// journal could not sync is said, to sync next time.
func TestShutdownTellsWhatIsLeft(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ASCII)
	opts.Journal, opts.StateDir = nil, t.TempDir()
	d := newDriver(t, New(opts), 100, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	e.ts.Close()
	var out strings.Builder
	if err := d.m.Shutdown(&out); err != nil {
		t.Fatal(err)
	}
	said := out.String()
	for _, want := range []string{"could not be ended on the server", "will sync next time", "shadow journal sync"} {
		if !strings.Contains(said, want) {
			t.Errorf("Shutdown does not say %q:\n%s", want, said)
		}
	}
	a, err := audit.LoadArchive(opts.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	_, entries, err := a.Select(id)
	if err != nil || entries[len(entries)-1].Data.Details != "ended: shadow was stopped" || entries[len(entries)-1].Synced {
		t.Fatalf("the end is not journaled, pending: %v %+v", err, entries[len(entries)-1].Data)
	}
}

// TestConnectionWarningsOnScreen checks the client's warnings (TLS verification off,
// plain http to a remote host) stay on screen, not only on standard error.
func TestConnectionWarningsOnScreen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opts client.Options
		tag  string
	}{
		{client.Options{BaseURL: "https://shadow.example.com", InsecureSkipVerify: true}, "TLS NOT VERIFIED"},
		{client.Options{BaseURL: "http://shadow.example.com"}, "UNENCRYPTED"},
	} {
		cl, err := client.New(c.opts)
		if err != nil || cl.Warning() == "" {
			t.Fatalf("%+v: %v, warning %q", c.opts, err, cl.Warning())
		}
		m := New(Options{Client: cl, Notices: []string{cl.Warning()}, Profile: colorprofile.ASCII})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		m.Init()
		view := m.Frame()
		if !strings.Contains(view, c.tag) || !strings.Contains(view, "note: WARNING") {
			t.Fatalf("%s is not on screen as a note:\n%s", c.tag, view)
		}
	}
}

// TestSignInAgainAfterExpiry lets the admin's own sign-in expire (8 hours on the
// reference server): the login screen asks again and the picker comes back; the demo
// signs in again by itself.
func TestSignInAgainAfterExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := loginDriver(t, e)
	e.clock.Advance(server.DefaultTokenTTL + time.Minute)
	d.press("/", "o") // this driver searches at each key
	if d.m.Screen() != ScreenLogin || !strings.Contains(d.view(), "Your sign-in has expired") || !strings.Contains(d.view(), server.DemoSupportEmail) {
		t.Fatalf("an expired sign-in does not ask again: %q\n%s", d.m.Screen(), d.view())
	}
	d.typeText(server.DemoSupportPassword)
	d.press("enter")
	if d.m.Screen() != ScreenPicker || !strings.Contains(d.view(), `matching "o"`) {
		t.Fatalf("the picker did not come back with its search: %q\n%s", d.m.Screen(), d.view())
	}

	demo := newTestEnv(t, server.DemoSeed)
	d = signedInDriver(t, demo)
	demo.clock.Advance(server.DefaultTokenTTL + time.Minute)
	d.press("/")
	d.typeText("nora")
	if d.m.Screen() != ScreenPicker || !strings.Contains(d.view(), `1 user matching "nora"`) {
		t.Fatalf("the demo did not sign in again: %q\n%s", d.m.Screen(), d.view())
	}
}

// TestSignInAgainAfterTheServerForgetsIt signs everyone out on the server (as a restart
// with a new signing key does) in the middle of a session: the session ends, saying
// why, and the picker asks to sign in again, since the journal cannot sync without it;
// once signed in, the records sync.
func TestSignInAgainAfterTheServerForgetsIt(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := loginDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()

	e.faults.failPermissions.Store(true)
	d.press("2")
	if d.m.LastError() == nil {
		t.Fatal("the failed read is not said")
	}
	e.faults.failPermissions.Store(false)
	e.faults.signOutEveryone()
	d.press("r")
	if d.m.SessionID() != "" || d.m.Dialog() != "Session ended" || !strings.Contains(d.view(), "no longer accepts the session's token") {
		t.Fatalf("a session whose token the server refuses is still shown: %q\n%s", d.m.Screen(), d.view())
	}
	if got := sessionActions(t, e.journal, id); got[len(got)-1] != api.ActionSessionExpire {
		t.Fatalf("the end is not journaled: %v", got)
	}
	if view := strings.Join(strings.Fields(strings.ReplaceAll(d.view(), "┃", "")), " "); !strings.Contains(view, "The server could not be told: it no longer accepts your sign-in") {
		t.Fatalf("the end not told to the server is not said plainly:\n%s", d.view())
	}
	d.press("enter")
	if d.m.LastError() != nil {
		t.Fatalf("the session's error outlives it: %v", d.m.LastError())
	}
	deadline := time.Now().Add(10 * time.Second)
	for d.m.Screen() != ScreenLogin && time.Now().Before(deadline) {
		d.feed(nil) // the journal's status: its sync is refused too
		time.Sleep(10 * time.Millisecond)
	}
	if d.m.Screen() != ScreenLogin || !strings.Contains(d.view(), "no longer accepts your sign-in") {
		t.Fatalf("the lost sign-in is not asked again: %q\n%s", d.m.Screen(), d.view())
	}
	if strings.Contains(d.view(), "signed in as") {
		t.Fatalf("the sign-in screen says signed in while asking to sign in:\n%s", d.view())
	}
	d.typeText(server.DemoSupportPassword)
	d.press("enter")
	if d.m.Screen() != ScreenPicker {
		t.Fatalf("not back on the picker: %q %v %+v\n%s", d.m.Screen(), d.m.lastErr, d.m.sync, d.view())
	}
	for e.journal.Status().State != audit.SyncSynced && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := e.journal.Status(); st.State != audit.SyncSynced {
		t.Fatalf("the journal did not sync once signed in again: %+v", st)
	}
}

// TestDamagedJournalIsTold puts a damaged journal of an "earlier run" where shadow
// keeps them: signing in sets it aside and says so, and the new journal records it.
func TestDamagedJournalIsTold(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ASCII)
	opts.Journal, opts.StateDir = nil, t.TempDir()
	dir := audit.JournalsDir(opts.StateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "01HZZZZZZZZZZZZZZZZZZZZZZZ.db"), []byte("not a journal"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, New(opts), 100, 30)
	if d.m.Dialog() != "Journal recovered" || !strings.Contains(d.view(), "set aside") {
		t.Fatalf("the damaged journal is not told:\n%s", d.view())
	}
	d.press("enter")
	entries, err := d.m.Journal().SessionRecords("")
	if err != nil || len(entries) == 0 || entries[0].Data.Action != api.ActionJournalRecovered {
		t.Fatalf("the new journal does not record the recovery: %v %+v", err, entries)
	}
	d.m.Shutdown(discard{})
}

// TestQuitWhileTheSessionStarts presses ctrl+c while the server is starting a session:
// shadow waits for the answer, ends the session it got at once (on the server too),
// journals both, and only then quits — nothing of the session is shown.
func TestQuitWhileTheSessionStarts(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.press("/")
	d.typeText(server.DemoFleetManagerEmail)
	d.press("enter", "enter")
	d.typeText("TICKET-1")
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(sessionStarted); return ok }
	d.press("enter")
	d.hold = nil
	if len(d.held) != 1 || !d.m.reason.Busy() {
		t.Fatalf("the start is not on its way (%d held)", len(d.held))
	}
	d.press("ctrl+c")
	if d.quit || !strings.Contains(d.view(), "quitting once the server answers") {
		t.Fatalf("ctrl+c did not wait for the start, or did not say so:\n%s", d.view())
	}
	started := d.held[0].(sessionStarted)
	d.send(started)
	if !d.quit {
		t.Fatal("shadow did not quit once the session was ended")
	}
	if strings.Contains(d.view(), "Fleet overview") {
		t.Fatal("the session's data was shown")
	}
	if got := sessionActions(t, e.journal, started.session.ID); strings.Join(got, ",") != "session.start,session.end" {
		t.Fatalf("journal %v", got)
	}
	if s, _ := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), started.session.ID); s.State != api.SessionEnded {
		t.Fatalf("the session is %s on the server", s.State)
	}
}

// TestUnwritableStateDirSaysWhatToDo gives shadow a state directory that is a file: it
// will not go on without a journal, and says how to give it one.
func TestUnwritableStateDirSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ASCII)
	opts.Journal, opts.StateDir = nil, filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(opts.StateDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, New(opts), 100, 30)
	if view := strings.Join(strings.Fields(d.view()), " "); d.m.Screen() != ScreenFatal || !strings.Contains(view, "with --state-dir") {
		t.Fatalf("%q\n%s", d.m.Screen(), d.view())
	}
}

// TestProgramContextStopsCallsAtOnce cancels the program's context (as a SIGTERM, a
// quit or a closed SSH connection does) while a view is on its way to a server that
// stalls: the call must stop at once, not after its 45 s timeout, and nothing of it is
// shown or journaled as seen.
func TestProgramContextStopsCallsAtOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := e.options(colorprofile.ASCII)
	opts.Context = ctx
	d := newDriver(t, New(opts), 100, 30)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	before := sessionActions(t, e.journal, id) // the start and the dashboards' views
	e.faults.stallPermissions.Store(true)
	_, cmd := d.m.Update(uitest.Key("2"))
	req, ok := uitest.Find[matrix.Requested](run(cmd, 10*time.Second, d.late))
	if !ok {
		t.Fatal("the Permissions tab asked for nothing")
	}
	_, cmd = d.m.Update(req) // the view's call, run as the program would
	got := make(chan []tea.Msg, 1)
	go func() { got <- run(cmd, time.Minute, d.late) }()
	select {
	case <-e.faults.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the permissions request never reached the server")
	}
	cancel()
	start := time.Now()
	select {
	case <-e.faults.gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("the request went on after the program's context ended")
	}
	select {
	case msgs := <-got:
		for _, msg := range msgs {
			if r, ok := msg.(viewReply); ok && r.reply != nil {
				t.Fatalf("a call stopped by the program's end still brought %T", r.reply)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not return once its call stopped")
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the call took %v to stop", waited)
	}
	if got := sessionActions(t, e.journal, id); len(got) != len(before) {
		t.Fatalf("journal %v, was %v: the stopped view must not be journaled as seen", got, before)
	}
}

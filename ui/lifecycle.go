package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/login"
)

// The lifecycle's messages. Each one about a session carries its id, and is ignored
// once that session is no longer the active one.
type (
	// signedIn is the reply to a sign-in (demo credentials, token, or login screen).
	signedIn struct {
		tag   common.Tag // the login screen's request; zero otherwise
		token bool       // with a token typed into the login screen
		user  api.User
		err   error
	}
	// journalOpened is the reply to opening this run's journal.
	journalOpened struct {
		journal   *audit.Journal
		recovered []audit.Recovery
		err       error
	}
	// syncStatus is the journal's newest status.
	syncStatus struct {
		status audit.Status
		ch     <-chan audit.Status
	}
	// sessionStarted is the reply to a start that the server granted and the journal
	// recorded.
	sessionStarted struct {
		common.Tag
		view    *client.View
		session api.Session
		user    api.User
	}
	// sessionEnded says a session is over here and on the server (as far as it could be
	// told) and its end is journaled.
	sessionEnded struct {
		id         string
		action     string
		why        string // shown to the admin for an end they did not ask for
		serverErr  error
		journalErr error
		// byYou: the admin ended it (q, y). kept is what the journal holds of the session
		// once its end is durable, for the word on that end; nil if it could not be read.
		byYou bool
		kept  *sessionKept
	}
	// sessionGone says a read found the session over (the server said so).
	sessionGone struct {
		common.Tag
		err error
	}
	// journalFailed says a record could not be made durable: fail closed.
	journalFailed struct {
		common.Tag
		err error
	}
	// tick redraws the countdown and checks for expiry.
	tick struct{ session string }
	// pollDue asks the server for the session's state.
	pollDue struct{ session string }
	// sessionState is the server's answer about the session.
	sessionState struct {
		session string
		state   api.Session
		err     error
	}
	// signInChecked is the server's answer about the admin's sign-in (GET /me).
	signInChecked struct{ err error }
	// records are the active session's journal records, for the Journal tab.
	records struct {
		common.Tag
		entries []audit.Entry // the session's records after those the Journal tab held
		acked   uint64        // the acknowledged seq, read with them
		err     error
	}
)

// lifecycle handles sign-in, the journal and the session's start and end.
func (m *Model) lifecycle(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case signedIn:
		return m.onSignedIn(msg), true
	case journalOpened:
		return m.onJournalOpened(msg), true
	case syncStatus:
		return m.onSyncStatus(msg), true
	case sessionStarted:
		return m.onSessionStarted(msg), true
	case sessionEnded:
		return m.onSessionEnded(msg), true
	case sessionGone:
		if m.sess == nil || msg.Session != m.sess.id {
			return nil, true
		}
		if !errors.Is(msg.err, client.ErrSessionExpired) {
			says := serverSays(msg.err)
			return m.endSession(api.ActionSessionExpire, "the server no longer accepts the session's token: "+says,
				"The server no longer accepts the session's token ("+says+"; it may have restarted), so the session is over."), true
		}
		return m.endSession(api.ActionSessionExpire, "the server ended the session", "The server says the session is over (ended elsewhere, expired or revoked)."), true
	case journalFailed:
		return m.onJournalFailed(msg.err), true
	case tick:
		return m.onTick(msg), true
	case pollDue:
		if m.sess == nil || msg.session != m.sess.id {
			return nil, true
		}
		return m.poll(m.sess), true
	case sessionState:
		return m.onSessionState(msg), true
	case records:
		return m.onRecords(msg), true
	case signInChecked:
		m.checkingSignIn = false
		if m.screen != ScreenPicker {
			return nil, true
		}
		return m.signInAgain(msg.err), true
	}
	return nil, false
}

func (m *Model) onSignedIn(msg signedIn) tea.Cmd {
	if msg.err != nil {
		if m.screen == ScreenLogin {
			why := signInFailure(msg.err)
			if msg.token {
				why = tokenRefused(msg.err, "this token")
			}
			_, cmd := m.login.Update(login.Failed{Tag: msg.tag, Message: why})
			return cmd
		}
		if m.opts.UseToken {
			return m.setFatal("Could not sign in: " + tokenRefused(msg.err, "the token in SHADOW_TOKEN"))
		}
		return m.setFatal("Could not sign in: " + signInFailure(msg.err))
	}
	m.admin = msg.user
	if m.journal != nil { // signed in again after the sign-in expired
		m.screen, m.lastErr = ScreenPicker, nil
		m.resize()
		return m.picker.Refresh()
	}
	m.screen, m.connecting = ScreenConnecting, "Opening the journal…"
	if m.opts.Journal != nil {
		return tea.Batch(m.spin.Tick, common.Emit(journalOpened{journal: m.opts.Journal}))
	}
	stateDir, actor := m.opts.StateDir, m.admin.Ref()
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		j, recovered, err := audit.Open(audit.Options{StateDir: stateDir, Actor: actor})
		return journalOpened{journal: j, recovered: recovered, err: err}
	})
}

// signInAgain handles a call of the admin's own that the server refused because the
// sign-in expired, outside a session: the demo signs in again by itself, the login
// screen asks again; with SHADOW_TOKEN there is nothing to do but say so. nil when err
// is not such a refusal.
func (m *Model) signInAgain(err error) tea.Cmd {
	expired, lost := signInLost(err)
	if !lost || m.sess != nil {
		return nil
	}
	switch {
	case m.opts.Credentials != nil:
		m.screen, m.connecting = ScreenConnecting, "Signing in again…"
		return tea.Batch(m.spin.Tick, m.signIn(common.Tag{}, m.opts.Credentials.Email, m.opts.Credentials.Password, ""))
	case m.opts.UseToken && expired:
		m.lastErr = errors.New("the token (SHADOW_TOKEN) has expired: start shadow again with a new one")
		return nil
	case m.opts.UseToken:
		m.lastErr = errors.New("the server no longer accepts the token (SHADOW_TOKEN): start shadow again with a valid one")
		return nil
	}
	why := "Your sign-in has expired; sign in again."
	if !expired {
		why = "The server no longer accepts your sign-in (it may have restarted); sign in again."
	}
	m.screen = ScreenLogin
	m.resize()
	return m.login.Reopen(m.admin.Email, why)
}

// signInLost reports whether err is the server refusing the admin's own sign-in: it
// expired, or the server no longer accepts it at all (a restarted server signing with a
// new key, a revoked token).
func signInLost(err error) (expired, lost bool) {
	var body api.ErrorBody
	if err == nil || !errors.As(err, &body) {
		return false, false
	}
	switch body.Code {
	case api.CodeTokenExpired:
		return true, true
	case api.CodeUnauthenticated:
		return false, true
	}
	return false, false
}

// syncSignInAgain checks the admin's sign-in when the journal's sync is refused for it,
// so records do not wait unsynced behind a sign-in nobody is told about. The sync's
// status cannot say whether the refused try used the sign-in of now (a try on its way
// when the admin signs in again still fails), so the server is asked (GET /me), and only
// a refusal of it signs in again.
func (m *Model) syncSignInAgain() tea.Cmd {
	if _, lost := signInLost(m.sync.LastError); !lost || m.sync.State != audit.SyncFailing || m.checkingSignIn || m.screen != ScreenPicker {
		return nil
	}
	m.checkingSignIn = true
	c, base := m.opts.Client, m.opts.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, m.opts.RequestTimeout)
		defer cancel()
		_, err := c.Me(ctx)
		return signInChecked{err: err}
	}
}

// signInFailure says why a sign-in failed, in words.
func signInFailure(err error) string {
	var wait interface{ RetryAfter() time.Duration }
	switch {
	case errors.Is(err, client.ErrRateLimited):
		if errors.As(err, &wait) && wait.RetryAfter() > 0 {
			return "Too many failed sign-ins: the server asks to wait " + roundUp(wait.RetryAfter()) + " before trying again."
		}
		return "Too many failed sign-ins: wait a while before trying again."
	case errors.Is(err, client.ErrUnauthenticated):
		var body api.ErrorBody
		if errors.As(err, &body) && body.Code == api.CodeInvalidCredentials {
			return "Wrong email or password."
		}
		return "The server did not accept the sign-in: " + inWords(err)
	case errors.Is(err, client.ErrUnreachable):
		return sentence(inWords(err)) // "Cannot reach the server at …", "The certificate of … is not trusted …"
	}
	return err.Error()
}

// tokenRefused says why a token (which, e.g. "the token in SHADOW_TOKEN") did not sign
// in, and what to do instead.
func tokenRefused(err error, which string) string {
	var body api.ErrorBody
	if !errors.Is(err, client.ErrUnauthenticated) || !errors.As(err, &body) {
		return signInFailure(err)
	}
	why := "is not valid"
	if body.Code == api.CodeTokenExpired {
		why = "has expired"
	}
	if which != "the token in SHADOW_TOKEN" {
		return "The server says " + which + " " + why + ". Give a current token of your own, or your email and password."
	}
	return "the server says " + which + " " + why + ". Set it to a current token of your own, or unset it to sign in with email and password."
}

// inWords is an error's words without the client's "what was being done: " in front,
// for messages that say that already.
func inWords(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Op != "" {
		return strings.TrimPrefix(err.Error(), ce.Op+": ")
	}
	return err.Error()
}

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func roundUp(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return fmt.Sprintf("%d min", int((d+time.Minute-1)/time.Minute))
	default:
		return fmt.Sprintf("%d s", int((d+time.Second-1)/time.Second))
	}
}

func (m *Model) onJournalOpened(msg journalOpened) tea.Cmd {
	if msg.err != nil {
		return m.setFatal("The journal cannot be opened: " + msg.err.Error() +
			"\nshadow never impersonates without a journal. Give it a directory it can write with --state-dir DIR.")
	}
	m.journal = msg.journal
	if len(msg.recovered) > 0 {
		lines := []string{"A damaged journal of an earlier run was set aside (never deleted); this run's journal records it."}
		for _, r := range msg.recovered {
			lines = append(lines, "", r.String())
		}
		m.show(overlay{kind: overlayDialog, title: "Journal recovered", lines: lines})
	} else if m.opts.DemoNotice != "" {
		m.show(overlay{kind: overlayDialog, title: "Throwaway demo", lines: []string{m.opts.DemoNotice}})
	}
	if err := m.journal.StartSync(m.opts.Client, m.opts.Sync); err != nil {
		m.lastErr = fmt.Errorf("journal sync: %w", err)
	}
	ch, stop := m.journal.Subscribe()
	m.stopStatus = stop
	m.screen = ScreenPicker
	m.resize()
	return tea.Batch(m.recordConnect(), waitStatus(ch), m.picker.Init())
}

func (m *Model) onSyncStatus(msg syncStatus) tea.Cmd {
	m.sync = msg.status
	if n := len(msg.status.Notices); n > m.noticesSeen {
		// The sync loop found something to tell once (another journal set aside, one left
		// for its owner): the status line says all it found in a few words, each kind once
		// ("1 journal of another sign-in kept for its owner"); the full words are
		// `shadow journal verify`'s, where there is room.
		m.noticesSeen = n
		m.note = audit.Brief(msg.status.Findings)
	}
	cmds := []tea.Cmd{waitStatus(msg.ch), m.syncSignInAgain()}
	if m.sess != nil {
		cmds = append(cmds, m.readRecords())
	}
	return tea.Batch(cmds...)
}

// setFatal stops everything but quitting, ending the session first if one is active.
func (m *Model) setFatal(why string) tea.Cmd {
	m.show(overlay{kind: overlayFatal, title: "shadow cannot go on", lines: strings.Split(why, "\n")})
	if m.sess != nil {
		return m.endSession(api.ActionSessionEnd, "ended: "+m.over.lines[0], "")
	}
	if m.ending == nil {
		m.screen = ScreenFatal
	}
	return nil
}

func (m *Model) onJournalFailed(err error) tea.Cmd {
	if m.failed() {
		return nil
	}
	return m.setFatal("The journal cannot record what is shown: " + err.Error() +
		"\nshadow stopped showing the user's data and ended the session; nothing is shown that is not journaled.")
}

// record is a journal record of this admin about a session's user.
func (m *Model) record(action, sessionID string, user *api.UserRef, details string) api.RecordBody {
	return api.RecordBody{SessionID: sessionID, Action: action, Actor: m.admin.Ref(), User: user, Details: details}
}

func (m *Model) onSessionStarted(msg sessionStarted) tea.Cmd {
	s := newSession(m.opts.Context, m.ctx, msg.view, msg.session, msg.user, m.admin.Name, m.ctx.Now())
	if m.quitting || m.failed() || m.screen != ScreenReason || m.sess != nil {
		// The admin left while the server was starting it: end it, do not show it.
		m.ending = s
		m.screen = ScreenEnding
		return m.endCmd(s, api.ActionSessionEnd, "ended at once: the admin had left before it started", "")
	}
	m.sess = s
	m.ended = nil // the word on the last session's end goes with the next one
	m.ctx.Session = s.id
	m.screen = ScreenSession
	m.lastErr = nil
	m.resize()
	return tea.Batch(
		m.showTab(TabDashboards),
		m.tickAfter(s),
		m.pollAfter(s),
		m.readRecords(),
	)
}

func (m *Model) tickAfter(s *session) tea.Cmd {
	return tea.Tick(m.opts.Tick, func(time.Time) tea.Msg { return tick{session: s.id} })
}

func (m *Model) pollAfter(s *session) tea.Cmd {
	return tea.Tick(m.opts.Poll, func(time.Time) tea.Msg { return pollDue{session: s.id} })
}

func (m *Model) onTick(msg tick) tea.Cmd {
	s := m.sess
	if s == nil || msg.session != s.id {
		return nil // the session ended; its clock stops
	}
	if s.expired(m.ctx.Now()) {
		return m.endSession(api.ActionSessionExpire, "the session expired", "The session reached its time limit and has ended.")
	}
	if h := BodyHeight(m.ctx, &s.info); h != m.bodyHeight {
		m.resize() // the banner's wording (and so its lines) can change as it counts down
	}
	return m.tickAfter(s)
}

func (m *Model) onSessionState(msg sessionState) tea.Cmd {
	s := m.sess
	if s == nil || msg.session != s.id {
		return nil
	}
	switch {
	case errors.Is(msg.err, client.ErrNotFound):
		return m.endSession(api.ActionSessionExpire, "the server no longer knows the session", "The server no longer knows this session; it has ended.")
	case refused(msg.err):
		// The server answered, and will not say: it no longer takes the admin's sign-in
		// (a restarted server) or no longer lets them see the session. Nothing it
		// stands behind is left to show, so the session ends now, not at its expiry.
		says := serverSays(msg.err)
		return m.endSession(api.ActionSessionExpire, "the server refused the session's poll: "+says,
			"The server refused to say whether the session is still active ("+says+"), so it is over.")
	case msg.err != nil:
		// No answer (unreachable, a timeout, a server error): after LostAfter polls in a
		// row the banner says CONNECTION LOST and the user's data is hidden, since
		// nobody can say the session still holds; the polls go on.
		s.failedPolls++
		if s.failedPolls >= LostAfter && !s.info.Lost {
			s.info.Lost, s.lostErr = true, msg.err
			m.resize()
		}
		return m.pollAfter(s)
	case msg.state.State != api.SessionActive:
		why, say := endedBy(msg.state)
		return m.endSession(api.ActionSessionExpire, why, say)
	}
	if s.failedPolls = 0; s.info.Lost {
		s.info.Lost, s.lostErr = false, nil // the server answers again: so does the data
		m.resize()
	}
	return m.pollAfter(s)
}

// LostAfter is how many polls in a row must go unanswered before the session is shown
// as CONNECTION LOST (with the default poll, 20 seconds without an answer).
const LostAfter = 2

// refused reports whether the server answered a call with 401 or 403.
func refused(err error) bool {
	return errors.Is(err, client.ErrUnauthenticated) || errors.Is(err, client.ErrNotAllowed)
}

// serverSays is the server's own words for a refusal ("the token is not valid"),
// or the error's words when it sent none.
func serverSays(err error) string {
	var body api.ErrorBody
	if errors.As(err, &body) && body.Message != "" {
		return safetext.Clean(body.Message)
	}
	return inWords(err)
}

// endedBy says how a session the server reports as over ended: for the journal, and
// for the admin.
func endedBy(s api.Session) (journal, say string) {
	switch s.State {
	case api.SessionExpired:
		return "the session expired on the server", "The session reached its time limit and has ended."
	case api.SessionRevoked:
		return "the server revoked the session", "The server revoked the session."
	}
	return "the session was ended elsewhere (state " + s.State + ")", "The session was ended elsewhere, for example by an admin of the user's company."
}

// sessionKept is the word on a session the admin ended themselves (q, y), said on the
// picker's top line until the next session starts: whom, when, and what the journal
// holds of it. Synced is never remembered: it is read from the sync loop's latest status
// each frame, so it says "synced" only once the server has acknowledged every record.
type sessionKept struct {
	user string
	at   time.Time
	seqs []uint64 // the journal's records of the session, its end last
}

// state is "synced" when the server has acknowledged every record of the session
// (acked being the last seq of this run's journal it has), else "N pending".
func (k *sessionKept) state(acked uint64) string {
	pending := 0
	for _, seq := range k.seqs {
		if seq > acked {
			pending++
		}
	}
	if pending > 0 {
		return fmt.Sprintf("%d pending", pending)
	}
	return "synced"
}

// note says sessionKept in words: "session with Ava Eriksen ended by you at 03:12 UTC;
// journal: 14 records, synced" (or "…, 2 pending").
func (k *sessionKept) note(acked uint64) string {
	n := len(k.seqs)
	return fmt.Sprintf("session with %s ended by you at %s UTC; journal: %d %s, %s",
		safetext.Clean(k.user), k.at.UTC().Format("15:04"), n, words.Plural(n, "record", "records"), k.state(acked))
}

// line is note in at most width cells: narrower, "Ava Eriksen: ended by you at 03:12
// UTC · 14 records, synced", the name cut first so what is true of the journal stays.
func (k *sessionKept) line(st *common.Styles, acked uint64, width int) string {
	paint := st.OK
	if k.state(acked) != "synced" {
		paint = st.Warn
	}
	if full := k.note(acked); safetext.Width(full) <= width {
		return paint.Apply(full)
	}
	n := len(k.seqs)
	rest := fmt.Sprintf(": ended by you at %s UTC · %d %s, %s", k.at.UTC().Format("15:04"), n, words.Plural(n, "record", "records"), k.state(acked))
	return paint.Apply(safetext.Fit(safetext.Clean(k.user), max(1, width-len([]rune(rest)))) + rest)
}

// endByYou ends the session the admin asked to end (q, y): the picker then says so.
func (m *Model) endByYou() tea.Cmd {
	if m.sess != nil {
		m.sess.byYou = true
	}
	return m.endSession(api.ActionSessionEnd, "ended by the admin", "")
}

// endSession stops showing the session at once and ends it: DELETE on the server (which
// also forgets its token and purges its cached data here), then the journal record.
// say, when not "", is told to the admin afterwards.
func (m *Model) endSession(action, why, say string) tea.Cmd {
	s := m.sess
	if s == nil {
		return nil
	}
	m.sess = nil
	m.ending = s
	m.ctx.Session = "" // every reply for it is stale from now on
	m.screen = ScreenEnding
	m.closeOverlay()
	s.cancel()
	m.resize()
	return tea.Batch(m.spin.Tick, m.endCmd(s, action, why, say))
}

func (m *Model) onSessionEnded(msg sessionEnded) tea.Cmd {
	if m.ending == nil || m.ending.id != msg.id {
		return nil
	}
	m.ending = nil
	m.resize()
	var cmds []tea.Cmd
	if msg.journalErr != nil {
		m.show(overlay{kind: overlayFatal, title: "shadow cannot go on", lines: []string{
			"The journal cannot record the end of the session: " + msg.journalErr.Error(),
			"The session is ended; shadow will not start another without a working journal."}})
	}
	var lines []string
	if msg.why != "" {
		lines = append(lines, msg.why)
	}
	if msg.serverErr != nil {
		// Said in the dialog, not left in the status line after it is closed.
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		told := "The server could not be told (" + inWords(msg.serverErr) + ")"
		if _, lost := signInLost(msg.serverErr); lost {
			told = "The server could not be told: it no longer accepts your sign-in"
		}
		lines = append(lines, told+"; the session's token is forgotten here, and if the session still runs on the server, it ends there by its expiry.")
	}
	switch {
	case m.failed():
		m.screen = ScreenFatal
	case m.quitting:
		return tea.Batch(append(cmds, tea.Quit)...)
	default:
		m.screen = ScreenPicker
		m.lastErr = nil // the session's errors went with it
		if len(lines) > 0 {
			m.show(overlay{kind: overlayDialog, title: "Session ended", lines: lines})
		}
		if msg.byYou && msg.kept != nil && msg.journalErr == nil {
			m.ended = msg.kept // said on the status line, no dialog to dismiss
		}
		cmds = append(cmds, m.syncSignInAgain())
	}
	return tea.Batch(cmds...)
}

func (m *Model) onRecords(msg records) tea.Cmd {
	m.readingRecords = false
	var again tea.Cmd
	if m.recordsDirty { // asked for while this read was out, perhaps by the next session
		m.recordsDirty = false
		again = m.readRecords()
	}
	if m.sess == nil || common.StaleFor(m.sess.id, msg) {
		return again
	}
	if msg.err != nil {
		m.lastErr = fmt.Errorf("read the journal: %w", msg.err)
	} else {
		m.sess.journal.Update(journalview.Appended{Entries: journalEntries(msg.entries).Entries, Acked: msg.acked})
	}
	return again
}

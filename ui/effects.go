package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/picker"
	"github.com/shadowview/shadow/ui/reason"
	"github.com/shadowview/shadow/ui/shadowed"
)

// effects.go: the program's effects, in one place — every tea.Cmd that talks to the
// server or the journal (sign-in, the directory, the session's start, views, its poll
// and end, the journal's records and status, a remote connection's record). Each call's context derives from the program's (Options.Context,
// which Run cancels when the program ends, and shadow ssh when the connection goes), so
// a signal, a quit or a closed connection stops calls at once. A journal append alone
// runs to its own deadline (journalTimeout): a record asked for is made durable or
// failed, never dropped halfway.
//
// What the root decides (which screen, what state) stays in lifecycle.go and
// requests.go; those hand the effects here what they need and take their replies.

// signIn signs in with email and password, with a token typed into the login screen,
// or with the client's token when both are "", and checks the identity may
// impersonate.
func (m *Model) signIn(tag common.Tag, email, password, token string) tea.Cmd {
	c, base := m.opts.Client, m.opts.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, m.opts.RequestTimeout)
		defer cancel()
		reply := signedIn{tag: tag, token: token != ""}
		switch {
		case email != "":
			if _, err := c.Login(ctx, email, password); err != nil {
				reply.err = err
				return reply
			}
		case token != "":
			c.SetToken(token)
		}
		me, err := c.Me(ctx)
		switch {
		case err != nil:
			reply.err = err
		case me.Impersonating:
			reply.err = errors.New("this token is an impersonation token: sign in with your own account (sessions cannot be nested)")
		case !me.CanImpersonate:
			reply.err = fmt.Errorf("%s may not impersonate anyone: the account lacks the impersonate permission", me.User.Email)
		default:
			reply.user = me.User
		}
		if reply.err != nil && token != "" {
			c.SetToken("") // a token refused is not kept, even in memory
		}
		return reply
	}
}

// appendDurably writes a record and waits until it is on disk (or the journal failed).
// A cancelled session does not cancel the wait: a record once submitted is written.
func appendDurably(j *audit.Journal, body api.RecordBody) error {
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	_, err := j.Append(ctx, body)
	return err
}

// poll asks the server whether the session is still active, with the admin's own
// token (the answer says how it ended).
func (m *Model) poll(s *session) tea.Cmd {
	c, timeout := m.opts.Client, m.pollTimeout()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(s.ctx, timeout)
		defer cancel()
		state, err := c.GetSession(ctx, s.id)
		return sessionState{session: s.id, state: state, err: inPlainWords(err, timeout)}
	}
}

// pollTimeout bounds one poll by the poll's own interval: a server that takes the
// connection and never answers is one unanswered poll per interval, so CONNECTION LOST
// comes after LostAfter intervals (20 s by default), not after LostAfter request
// timeouts (90 s). It never goes below minPollTimeout, so a very short poll interval
// (the tests' ticks) does not make every poll fail before a server could answer.
func (m *Model) pollTimeout() time.Duration {
	return min(max(m.opts.Poll, minPollTimeout), m.opts.RequestTimeout)
}

const minPollTimeout = time.Second

func (m *Model) endCmd(s *session, action, why, say string) tea.Cmd {
	c, j, base := m.opts.Client, m.journal, m.opts.Context
	rec := m.record(action, s.id, &s.user, why)
	byYou, at := s.byYou, m.ctx.Now()
	// A compare's second session ends with the session it was opened from: every one
	// still open on the server, even one still starting (seconds.go).
	if s.second != nil {
		s.second, s.info.User = nil, s.name
	}
	seconds := m.secondEnd(api.ActionSessionEnd, why+" (the compare's session)", false)
	return func() tea.Msg {
		secondErr, secondJournalErr := m.seconds.endOf(seconds, s.id)
		ctx, cancel := context.WithTimeout(base, m.opts.RequestTimeout)
		defer cancel()
		serverErr := c.EndSession(ctx, s.id)
		if base.Err() != nil {
			// The program was stopped meanwhile: Shutdown ends the session (still
			// m.ending) on a context of its own and journals why, once.
			return nil
		}
		journalErr := errors.Join(secondJournalErr, appendDurably(j, rec))
		ended := sessionEnded{id: s.id, action: action, why: say, serverErr: serverErr, journalErr: journalErr, byYou: byYou}
		if secondErr != nil {
			ended.why = strings.TrimSpace(say + " " + sentence(secondErr.Error()))
		}
		if byYou && journalErr == nil {
			ended.kept = kept(j, s, at)
		}
		return ended
	}
}

// secondEnd is how compare sessions are to be ended now: journaled as action (session.end,
// or session.expire when the server had ended them: overByServer) with why.
func (m *Model) secondEnd(action, why string, overByServer bool) secondEnd {
	return secondEnd{c: m.opts.Client, j: m.journal, rec: m.record(action, "", nil, why),
		overByServer: overByServer, timeout: m.opts.RequestTimeout}
}

// kept reads what the journal holds of session s once its end is durable; nil when it
// cannot be read (then nothing is said rather than a count that may be wrong).
func kept(j *audit.Journal, s *session, at time.Time) *sessionKept {
	if j == nil {
		return nil
	}
	entries, err := j.SessionRecords(s.id)
	if err != nil || len(entries) == 0 {
		return nil
	}
	k := &sessionKept{user: s.name, at: at, seqs: make([]uint64, len(entries))}
	for i, e := range entries {
		k.seqs[i] = e.Seq
	}
	return k
}

// waitStatus waits for the journal's next status.
func waitStatus(ch <-chan audit.Status) tea.Cmd {
	return func() tea.Msg {
		st, ok := <-ch
		if !ok {
			return nil // the journal closed
		}
		return syncStatus{status: st, ch: ch}
	}
}

// users asks the directory for one page.
func (m *Model) users(tag common.Tag, query, cursor string, back bool) tea.Cmd {
	c, limit, base, timeout := m.opts.Client, m.opts.PageSize, m.opts.Context, m.opts.RequestTimeout
	m.usersPending++
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		page, err := c.Users(ctx, client.UsersQuery{Query: query, Cursor: cursor, Limit: limit})
		if err != nil {
			return picker.PageLoaded{Tag: tag, Cursor: cursor, Back: back, Err: inPlainWords(err, timeout)}
		}
		return picker.PageLoaded{Tag: tag, Cursor: cursor, Back: back, Page: &page}
	}
}

// viewReply is the one envelope of every view's reply: the journal's word on the view,
// wrapped around the reply for the page that asked, which gets it only once the record
// is durable. With page nil, reply is for the root (the journal failed, the session is
// over); with reply nil there is nothing to deliver.
type viewReply struct {
	common.Tag
	reply tea.Msg
	page  common.Component
	err   error // the read's, for the status line
}

// view reads one screen of the impersonated user's data for a tab and journals it BEFORE the page
// may show it: the reply message carries the data only after the view record is
// durable. A failed read is journaled too (as an error) before the page is told. If
// the journal cannot write, the page gets nothing and the session stops (fail closed);
// if the server says the session is over, it ends. describe nil is a read an earlier
// record already names (a later page of the matrix, see matrixload.go): only its
// failure is journaled.
func view[T any](m *Model, tab int, tag common.Tag, fetch func(context.Context, *client.View) (T, error),
	describe func(T) string, what, label string, reply func(*T, error) tea.Msg) tea.Cmd {
	s := m.sess
	if s == nil || tag.Session != s.id {
		return nil // asked for by a page of a session that is over
	}
	j, page := m.journal, s.tabs[tab].page
	base := m.record(api.ActionView, s.id, &s.user, "")
	if _, ok := any((*T)(nil)).(*api.Explanation); ok {
		base.Action = api.ActionExplain
	}
	s.pending++
	timeout := m.opts.RequestTimeout
	ctx, ld := s.startLoad(tag, tab, label, m.ctx.Now(), timeout)
	return func() tea.Msg {
		out := readJournaled(ctx, j, s, base, timeout, what, fetch, describe, ld.cancelledAs)
		switch {
		case out.left:
			return viewReply{Tag: tag} // the session ended meanwhile: nothing to show or record
		case out.gone != nil:
			return viewReply{Tag: tag, reply: sessionGone{Tag: tag, err: out.gone}}
		case out.jerr != nil:
			return viewReply{Tag: tag, reply: journalFailed{Tag: tag, err: out.jerr}}
		case out.err != nil:
			return viewReply{Tag: tag, reply: reply(nil, out.err), page: page, err: out.err}
		}
		return viewReply{Tag: tag, reply: reply(out.data, nil), page: page}
	}
}

// errCancelled is a view the admin cancelled (esc) before it came.
var errCancelled = errors.New("cancelled (esc); nothing of it was shown")

// saidError is an error with words for people in front of its cause, which errors.Is
// and errors.As still reach.
type saidError struct {
	words string
	err   error
}

func (e saidError) Error() string { return e.words }
func (e saidError) Unwrap() error { return e.err }

// inPlainWords says a call's failure in words: never a Go error string such as
// "context deadline exceeded" on screen.
func inPlainWords(err error, timeout time.Duration) error {
	switch {
	case err == nil || errors.Is(err, errCancelled) || errors.Is(err, errReloaded) || errors.Is(err, client.ErrTimeout):
		return err // the client's ErrTimeout says what timed out, in words
	case errors.Is(err, context.DeadlineExceeded):
		return saidError{words: "the server did not answer in " + roundUp(timeout), err: err}
	case errors.Is(err, context.Canceled):
		return saidError{words: "the request was stopped before the server answered", err: err}
	}
	return err
}

// startSession asks the server for a session and journals the outcome before the
// admin sees it: a refusal with the server's code, or the start with the reason.
func (m *Model) startSession(req reason.Submitted) tea.Cmd {
	open := m.openSession(req.User, req.Reason)
	return func() tea.Msg {
		view, s, err, jerr := open()
		switch {
		case jerr != nil:
			return journalFailed{Tag: req.Tag, err: jerr}
		case err != nil:
			return reason.Refused{Tag: req.Tag, Err: err}
		}
		return sessionStarted{Tag: req.Tag, view: view, session: s, user: req.User}
	}
}

// openSession gives the call (to run in a tea.Cmd) that asks the server for a
// read-only session on u and journals the outcome before anyone sees it: a refusal
// with the server's code (err), or the start with the reason. A start the journal
// cannot hold is ended at once (jerr).
func (m *Model) openSession(u api.User, why string) func() (*client.View, api.Session, error, error) {
	c, j, parent := m.opts.Client, m.journal, m.opts.Context
	user := u.Ref()
	base := m.record("", "", &user, "")
	timeout := m.opts.RequestTimeout
	return func() (*client.View, api.Session, error, error) {
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		view, s, err := c.StartSession(ctx, u.ID, why)
		if err != nil {
			rec := base
			rec.Reason = why
			var body api.ErrorBody
			if errors.As(err, &body) && body.Code.ImpersonationRefusal() {
				rec.Action, rec.Details = api.ActionSessionRefused, string(body.Code)+": "+body.Message
			} else {
				rec.Action, rec.Details = api.ActionError, "start a session: "+err.Error()
			}
			if jerr := appendDurably(j, rec); jerr != nil {
				return nil, api.Session{}, err, jerr
			}
			return nil, api.Session{}, err, nil
		}
		rec := base
		rec.Action, rec.SessionID, rec.Reason = api.ActionSessionStart, s.ID, why
		rec.Details = "read-only until " + s.ExpiresAt.UTC().Format(time.RFC3339)
		if jerr := appendDurably(j, rec); jerr != nil {
			// Nothing may be shown of a session the journal does not hold: end it now.
			endCtx, endCancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
			defer endCancel()
			_ = c.EndSession(endCtx, s.ID)
			return nil, api.Session{}, nil, fmt.Errorf("%w (the session was ended at once)", jerr)
		}
		return view, s, nil, nil
	}
}

// compareReads is what both of a compare's reads (the matrices, an explain) report
// besides their data: the session the compare was asked from and its second session,
// the journal's failure (fail closed), and a read the server refused (or found over)
// for either session.
type compareReads struct {
	of, second            *session
	jerr                  error
	firstGone, secondGone error
}

// compareStarted is the reply to startCompare: second is nil when none was started.
type compareStarted struct {
	compareReads
	reply compare.Loaded
}

// compareExplained is the reply to compareExplain.
type compareExplained struct {
	compareReads
	reply compare.ExplainLoaded
}

// compareEnded says the second session of a compare is ended and journaled; err says
// it could not be ended on the server (stillOpen).
type compareEnded struct {
	id  string
	err error
}

// readOutcome is one journaled read: data (nil unless it came), err (the read's, in
// words), gone (the server refused it or said the session is over: nothing more can
// be read as the user), jerr (the journal's), left (the session ended meanwhile:
// nothing to show or record).
type readOutcome[T any] struct {
	data            *T
	err, gone, jerr error
	left            bool
}

// readJournaled reads as sess and journals the read BEFORE anything of it may be shown,
// the one place every view of the user's data goes through (a tab's view, a compare's
// reads): rec with details by describe, or a failure as an error record (what: its
// subject, in the journal's grammar). describe nil is a read an earlier record already
// names: only its failure is journaled. cancelled says the admin cancelled it (esc).
func readJournaled[T any](ctx context.Context, j *audit.Journal, sess *session, rec api.RecordBody, timeout time.Duration,
	what string, fetch func(context.Context, *client.View) (T, error), describe func(T) string, cancelled func() error) readOutcome[T] {
	data, err := fetch(ctx, sess.view)
	if sess.ctx.Err() != nil {
		return readOutcome[T]{left: true}
	}
	if err != nil && cancelled != nil {
		if why := cancelled(); why != nil {
			err = why
		}
	}
	err = inPlainWords(err, timeout)
	if errors.Is(err, client.ErrSessionExpired) || refused(err) {
		// Over, or a token the server no longer takes (a restarted server), or a read
		// it refuses outright: either way nothing more can be read as the user.
		return readOutcome[T]{err: err, gone: err}
	}
	if err != nil {
		rec.Action, rec.Details = api.ActionError, what+": "+err.Error()
	} else if describe != nil {
		rec.Details = describe(data)
	}
	if err != nil || describe != nil {
		if jerr := appendDurably(j, rec); jerr != nil {
			return readOutcome[T]{jerr: jerr}
		}
	}
	if err != nil {
		return readOutcome[T]{err: err}
	}
	return readOutcome[T]{data: &data}
}

// errCompareLeft is a compare read whose session ended before it came.
var errCompareLeft = errors.New("the session ended before the server answered")

// readCompared reads for a compare as the first session, then (if that came) as the
// second, each through its own session and journaled in its own records before
// anything of it is shown; recs are the two sessions' records. err is the first
// failure, in words and naming whose read it was.
func readCompared[T any](j *audit.Journal, cr *compareReads, recs [2]api.RecordBody, timeout time.Duration, what string,
	fetch func(context.Context, *client.View) (T, error), describe func(T, string) string) (a, b *T, err error) {
	sessions := [2]*session{cr.of, cr.second}
	var got [2]*T
	for i, sess := range sessions {
		other := sessions[1-i]
		ctx, cancel := context.WithTimeout(sess.ctx, timeout)
		out := readJournaled(ctx, j, sess, recs[i], timeout, what, fetch, func(v T) string { return describe(v, other.name) }, nil)
		cancel()
		switch {
		case out.left:
			return nil, nil, errCompareLeft
		case out.jerr != nil:
			cr.jerr = out.jerr
			return nil, nil, nil
		case out.gone != nil:
			if i == 0 {
				cr.firstGone = out.gone
			} else {
				cr.secondGone = out.gone
			}
			return nil, nil, out.err
		case out.err != nil:
			return nil, nil, fmt.Errorf("%s: %w", sess.name, out.err)
		}
		got[i] = out.data
	}
	return got[0], got[1], nil
}

// startCompare starts the second read-only session of a compare on u, with the
// session's reason, and reads both users' whole permission matrices (each through its
// own session, each journaled before it is shown), then sets them side by side. The
// session is registered (seconds.go) as soon as the server starts it; if the session
// it is opened from ends meanwhile, it ends here.
func (m *Model) startCompare(s *session, tag common.Tag, u api.User) tea.Cmd {
	open := m.openSession(u, s.reason)
	j, timeout, admin, now := m.journal, m.opts.RequestTimeout, m.admin.Name, m.ctx.Now()
	recs := [2]api.RecordBody{m.record(api.ActionView, s.id, &s.user, ""), m.record(api.ActionView, "", nil, "")}
	parent, ctx := m.opts.Context, m.ctx
	mine := m.record("", s.id, &s.user, "") // a record in the session's own journal
	left := m.secondEnd(api.ActionSessionEnd, "ended at once: the session it was opened from ended before the compare started", false)
	return func() tea.Msg {
		if !m.seconds.enter() {
			return nil // shadow is stopping: start nothing
		}
		defer m.seconds.leave()
		reply := compareStarted{compareReads: compareReads{of: s}, reply: compare.Loaded{Tag: tag, User: u}}
		view, started, err, jerr := open()
		if jerr == nil && err != nil {
			// In the session's own records too, before the refusal is shown.
			var body api.ErrorBody
			if errors.As(err, &body) && body.Code.ImpersonationRefusal() {
				rec := mine
				rec.Action, rec.Details = ActionCompareRefused, "compare with "+u.Name+" ("+u.ID+"): refused: "+string(body.Code)+": "+body.Message
				jerr = appendDurably(j, rec)
			}
		}
		if jerr != nil || err != nil {
			reply.jerr, reply.reply.Err = jerr, err
			return reply
		}
		second := newSession(parent, ctx, view, started, u, admin, now)
		// Registered before anything is read, so whatever ends meanwhile ends it too.
		m.seconds.add(second, s)
		reply.second = second
		rec := mine
		rec.Action = ActionCompareStart
		rec.Details = "compare with " + u.Name + " (" + u.ID + "): read-only session " + second.id + " started on them"
		if reply.jerr = appendDurably(j, rec); reply.jerr != nil {
			return reply // onCompareStarted ends the second session and stops on the journal
		}
		recs[1].SessionID, recs[1].User = second.id, &second.user
		a, b, err := readCompared(j, &reply.compareReads, recs, timeout, "permissions",
			func(c context.Context, v *client.View) (api.PermissionMatrix, error) { return v.Permissions(c) },
			func(p api.PermissionMatrix, with string) string {
				return fmt.Sprintf("permissions: %d resources × %d actions (compared with %s)", len(p.Rows), len(p.Actions), with)
			})
		if s.ctx.Err() != nil {
			// The session it was opened from ended (or shadow is stopping) while it
			// started: nobody will show it, so it ends here, journaled.
			if e := m.seconds.get(second.id); e != nil {
				_, jerr := m.seconds.end(left, e)
				reply.jerr = errors.Join(reply.jerr, jerr)
			}
			reply.reply.Err = errCompareLeft
			return reply
		}
		if err != nil || reply.jerr != nil {
			reply.reply.Err = err
			return reply
		}
		reply.reply.Diff = compare.Compute(a, b)
		return reply
	}
}

// compareExplain explains one cell for both users of a compare, each through its own
// session and journaled (explain) before it is shown.
func (m *Model) compareExplain(s *session, req compare.ExplainRequested) tea.Cmd {
	second := s.second
	if second == nil || req.Session != s.id {
		return nil
	}
	j, timeout := m.journal, m.opts.RequestTimeout
	recs := [2]api.RecordBody{m.record(api.ActionExplain, s.id, &s.user, ""), m.record(api.ActionExplain, second.id, &second.user, "")}
	what := "explain " + req.Action + " on " + req.Resource.ID
	return func() tea.Msg {
		reply := compareExplained{compareReads: compareReads{of: s, second: second}, reply: compare.ExplainLoaded{Tag: req.Tag}}
		a, b, err := readCompared(j, &reply.compareReads, recs, timeout, what,
			func(c context.Context, v *client.View) (api.Explanation, error) {
				return v.Explain(c, req.Resource.ID, req.Action)
			},
			func(e api.Explanation, with string) string {
				return what + " (" + e.Resource.Name + ", compared with " + with + "): " + e.Effect
			})
		if err != nil || reply.jerr != nil {
			reply.reply.Err = err
			return reply
		}
		reply.reply.First, reply.reply.Second = a, b
		return reply
	}
}

// endCompare ends the second session of a compare on the server and journals what is
// true (seconds.go): action session.end, or session.expire when the server had ended it
// (overByServer).
func (m *Model) endCompare(second *session, action, why string) tea.Cmd {
	how := m.secondEnd(action, why, action == api.ActionSessionExpire)
	return func() tea.Msg {
		e := m.seconds.get(second.id)
		if e == nil {
			return nil // ended already (with the session it was opened from)
		}
		err, jerr := m.seconds.end(how, e)
		if jerr != nil {
			return journalFailed{err: jerr}
		}
		return compareEnded{id: second.id, err: err}
	}
}

// readRecords reads the active session's journal records the Journal tab does not hold
// yet (after its last) and the acknowledged seq: a sync status costs the new records,
// not a scan of the whole journal. One read at a time, another right after if something
// changed meanwhile.
func (m *Model) readRecords() tea.Cmd {
	s := m.sess
	if s == nil || m.journal == nil {
		return nil
	}
	if m.readingRecords {
		m.recordsDirty = true
		return nil
	}
	m.readingRecords = true
	j, tag, after := m.journal, common.Tag{Session: s.id}, s.journal.LastSeq()
	return func() tea.Msg {
		entries, acked, err := j.SessionRecordsAfter(tag.Session, after)
		return records{Tag: tag, entries: entries, acked: acked, err: err}
	}
}

// impersonations asks who shadowed the admin, or their company's users (GET
// /me/impersonations), one page.
func (m *Model) impersonations(req shadowed.Requested) tea.Cmd {
	c, base, timeout := m.opts.Client, m.opts.Context, m.opts.RequestTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		page, err := c.MyImpersonations(ctx, client.ImpersonationsQuery{Cursor: req.Cursor, User: req.User, Limit: req.Limit})
		if err != nil {
			return shadowed.Loaded{Tag: req.Tag, Cursor: req.Cursor, Err: inPlainWords(err, timeout)}
		}
		return shadowed.Loaded{Tag: req.Tag, Cursor: req.Cursor, Page: &page}
	}
}

// sessionAudit asks the server's reconciliation of the active session, with the
// admin's own token: the admin's audit data, not the user's, so not a view to journal.
func (m *Model) sessionAudit(tag common.Tag) tea.Cmd {
	s := m.sess
	if s == nil || tag.Session != s.id {
		return nil
	}
	c, timeout := m.opts.Client, m.opts.RequestTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(s.ctx, timeout)
		defer cancel()
		a, err := c.SessionAudit(ctx, s.id)
		if err != nil {
			return journalview.AuditLoaded{Tag: tag, Err: inPlainWords(err, timeout)}
		}
		return journalview.AuditLoaded{Tag: tag, Audit: &a}
	}
}

// recordConnect journals the connection once the journal is open: the first record of
// a remote run, before anything is shown.
func (m *Model) recordConnect() tea.Cmd {
	r, j := m.opts.Remote, m.journal
	if r == nil {
		return nil
	}
	rec := m.record(ActionRemoteConnect, "", nil, "connected over SSH: "+r.String())
	return func() tea.Msg {
		if err := appendDurably(j, rec); err != nil {
			return journalFailed{err: err}
		}
		return nil
	}
}

package ui

import (
	"errors"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
)

// comparing.go: the compare view's lifecycle in the root ("why can she do this and he
// cannot?"). From the matrix (c) the compare view is shown over the session's tabs; the
// user picked there gets a second read-only session with the session's reason (the
// server decides whether the admin may impersonate them), journaled like any: its
// start, both users' whole matrices (each read through its own session, journaled in
// its own session's records), the explain of the cell under the list's cursor for both,
// its end. The second session is polled like the first: a 401/403/404 or an end on the
// server ends the compare with the server's words; LostAfter polls unanswered hide the
// compare (CONNECTION LOST) until it answers. It ends when the view closes (esc) or the
// main session ends (endCmd, Shutdown), through the registry of seconds.go, which holds
// it from the moment the server starts it, so nothing ending while the compare starts
// can leave it open. While it is open the banner names both users, and the tab keys do
// nothing (the hints say none); esc is the compare's (it closes it), never a tab's load.

// Journal actions of a compare, in the records of the session it was opened from (the
// second session's own records hold its session.start … session.end): the server's
// reconciliation takes them as lifecycle, not reads.
const (
	// ActionCompareStart: the second session was started (Details names its user and id).
	ActionCompareStart = "compare.start"
	// ActionCompareRefused: the server refused a session on the user picked to compare
	// with (its code and words in Details); nothing was started.
	ActionCompareRefused = "compare.refused"
	// ActionCompareEnd: the compare is over (Details: with whom, its session, why).
	ActionCompareEnd = "compare.end"
)

type (
	// secondPollDue asks the server for the compare's second session's state.
	secondPollDue struct{ id string }
	// secondState is the server's answer about it.
	secondState sessionState
)

// comparison handles the compare view's requests and replies.
func (m *Model) comparison(msg tea.Msg) (tea.Cmd, bool) {
	s := m.sess
	switch msg := msg.(type) {
	case matrix.CompareRequested:
		if s == nil || s.compare != nil || m.failed() {
			return nil, true
		}
		s.compare = compare.New(m.ctx, msg.Resource, msg.Action, s.name)
		s.compare.SetSize(m.ctx.Width, m.bodyHeight)
		return s.compare.Init(), true
	case picker.Picked:
		if s == nil || s.compare == nil || !s.compare.Picking() {
			return nil, false // the main picker's
		}
		return m.startCompare(s, s.compare.Starting(msg.User), msg.User), true
	case picker.PageLoaded:
		if s == nil || s.compare == nil || !s.compare.Picking() {
			return nil, false
		}
		m.usersPending--
		_, cmd := s.compare.Update(msg)
		return tea.Batch(cmd, m.signInAgain(msg.Err)), true
	case compareStarted:
		return m.onCompareStarted(msg), true
	case compare.ExplainRequested:
		if s == nil || s.compare == nil {
			return nil, true
		}
		return m.compareExplain(s, msg), true
	case compareExplained:
		return m.onCompareExplained(msg), true
	case compare.Closed:
		if s == nil || s.compare == nil {
			return nil, true
		}
		s.compare = nil
		return m.closeSecond(s, api.ActionSessionEnd, "ended: the compare view was closed"), true
	case compareEnded:
		m.onCompareEnded(msg)
		return nil, true
	case secondPollDue:
		if second := secondOf(s); second != nil && second.id == msg.id {
			poll := m.poll(second)
			return func() tea.Msg { return secondState(poll().(sessionState)) }, true
		}
		return nil, true
	case secondState:
		return m.onSecondState(msg), true
	}
	return nil, false
}

func (m *Model) onCompareStarted(msg compareStarted) tea.Cmd {
	s := msg.of
	if msg.jerr != nil {
		var end tea.Cmd
		if msg.second != nil {
			end = m.endCompare(msg.second, api.ActionSessionEnd, "ended at once: the journal failed")
		}
		return tea.Batch(end, m.onJournalFailed(msg.jerr))
	}
	if m.sess != s || s.compare == nil {
		// The session or the view was left while the server was starting it: end it
		// (if the command has not: endCompare ends only what is still open).
		if msg.second == nil {
			return nil
		}
		return m.endCompare(msg.second, api.ActionSessionEnd, "ended at once: the compare was left before it started")
	}
	if msg.second == nil {
		_, cmd := s.compare.Update(msg.reply) // refused: nothing started
		return tea.Batch(cmd, m.signInAgain(msg.reply.Err))
	}
	s.second = msg.second
	s.info.User = s.name + " and " + msg.second.name
	m.resize()
	if cmd, over := m.compareGone(msg.compareReads); over {
		return cmd
	}
	if msg.reply.Diff == nil {
		// A matrix could not be read: nothing to show, so the second session ends now
		// and the view says why (pick again, or esc).
		_, cmd := s.compare.Update(msg.reply)
		return tea.Batch(cmd, m.closeSecond(s, api.ActionSessionEnd, "ended: the compare could not read the permissions"))
	}
	_, cmd := s.compare.Update(msg.reply)
	return tea.Batch(cmd, m.pollSecondAfter(msg.second))
}

// compareGone ends what a compare's read found over: the session itself (and the
// compare with it), or the compare's second session. over is false when neither is.
func (m *Model) compareGone(r compareReads) (cmd tea.Cmd, over bool) {
	switch {
	case r.firstGone != nil:
		// The server no longer serves the session itself: it ends, and the compare's with it.
		return m.handle(sessionGone{Tag: common.Tag{Session: r.of.id}, err: r.firstGone}), true
	case r.secondGone != nil:
		return m.secondRefused(r.of, r.second, r.secondGone), true
	}
	return nil, false
}

func (m *Model) onCompareExplained(msg compareExplained) tea.Cmd {
	s := msg.of
	switch {
	case msg.jerr != nil:
		return m.onJournalFailed(msg.jerr)
	case m.sess != s || s.compare == nil || s.second != msg.second:
		return nil // the compare or the session it was asked for is over
	}
	if cmd, over := m.compareGone(msg.compareReads); over {
		return cmd
	}
	_, cmd := s.compare.Update(msg.reply)
	return cmd
}

func (m *Model) pollSecondAfter(second *session) tea.Cmd {
	return tea.Tick(m.opts.Poll, func(time.Time) tea.Msg { return secondPollDue{id: second.id} })
}

// onSecondState takes the server's answer about the compare's second session, as
// onSessionState does for the session itself.
func (m *Model) onSecondState(msg secondState) tea.Cmd {
	s := m.sess
	second := secondOf(s)
	if second == nil || second.id != msg.session {
		return nil
	}
	who := "the compare's session on " + second.name
	switch {
	case errors.Is(msg.err, client.ErrNotFound):
		return m.secondOver(s, "the server no longer knows the compare's session", true,
			"The server no longer knows "+who+", so the compare is over.")
	case refused(msg.err):
		says := serverSays(msg.err)
		return m.secondOver(s, "ended: the server refused the compare's session's poll: "+says, false,
			"The server refused to say whether "+who+" is still active ("+says+"), so the compare is over.")
	case msg.err != nil:
		second.failedPolls++
		if second.failedPolls >= LostAfter {
			second.info.Lost, second.lostErr = true, msg.err
			s.info.User = s.name + " and " + second.name + " (" + banner.WordLost + ")"
			s.compare.SetLost([]string{
				banner.WordLost + " to " + who + ".",
				"The server has not answered the last " + strconv.Itoa(second.failedPolls) + " checks of it (" + inWords(msg.err) + ").",
				"Nothing of the compare is shown until it answers; shadow keeps asking. esc closes the compare.",
			})
			m.resize()
		}
		return m.pollSecondAfter(second)
	case msg.state.State != api.SessionActive:
		why, say := endedBy(msg.state)
		return m.secondOver(s, why+" (the compare's session)", true, "Of "+who+": "+say+" So the compare is over.")
	}
	if second.failedPolls = 0; second.info.Lost {
		second.info.Lost, second.lostErr = false, nil // the server answers again: so does the compare
		s.info.User = s.name + " and " + second.name
		s.compare.SetLost(nil)
		m.resize()
	}
	return m.pollSecondAfter(second)
}

// secondRefused ends the compare after the server refused a read of its second
// session (or said it is over).
func (m *Model) secondRefused(s *session, second *session, err error) tea.Cmd {
	if s.second != second {
		return nil
	}
	if errors.Is(err, client.ErrSessionExpired) {
		return m.secondOver(s, "the server ended the compare's session", true,
			"The server says the compare's session on "+second.name+" is over (ended elsewhere, expired or revoked), so the compare is over.")
	}
	says := serverSays(err)
	return m.secondOver(s, "ended: the server no longer accepts the compare's session's token: "+says, false,
		"The server no longer accepts the token of the compare's session on "+second.name+" ("+says+"), so the compare is over.")
}

// secondOver closes the compare because the server no longer stands behind its second
// session, said to the admin (say) in a dialog. overByServer: the server said it is
// over (journaled, why, as its expiry); else it only refused a call (a poll, a read),
// so the session may still be active there: shadow ends it, and the journal and the
// dialog say whether the server could be told (onCompareEnded).
func (m *Model) secondOver(s *session, why string, overByServer bool, say string) tea.Cmd {
	s.compare = nil
	m.show(overlay{kind: overlayDialog, title: compareEndedTitle, lines: []string{say, "", "Back to " + s.name + " alone."}})
	action := api.ActionSessionEnd
	if overByServer {
		action = api.ActionSessionExpire
	}
	return m.closeSecond(s, action, why)
}

// compareEndedTitle is the dialog's that says the compare ended without the admin.
const compareEndedTitle = "Compare ended"

// onCompareEnded says a compare's session the server could not be told to end: it
// stays open there until its expiry (in the compare's dialog, if one is shown).
func (m *Model) onCompareEnded(msg compareEnded) {
	if msg.err == nil {
		return
	}
	said := sentence(msg.err.Error())
	if m.over.kind == overlayDialog && m.over.title == compareEndedTitle {
		o := m.over
		o.lines = append(append([]string{}, o.lines...), "", said)
		m.show(o)
		return
	}
	m.show(overlay{kind: overlayDialog, title: compareEndedTitle, lines: []string{said}})
}

// closeSecond ends the compare's second session, if one is open, and gives the banner
// back to the impersonated user alone.
func (m *Model) closeSecond(s *session, action, why string) tea.Cmd {
	second := s.second
	if second == nil {
		return nil
	}
	s.second = nil
	s.info.User = s.name
	m.resize()
	return m.endCompare(second, action, why)
}

// secondOf is a session's compare session, nil when none.
func secondOf(s *session) *session {
	if s == nil {
		return nil
	}
	return s.second
}

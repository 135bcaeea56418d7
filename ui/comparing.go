package ui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
)

// comparing.go: the compare view's lifecycle in the root ("why can she do this and he
// cannot?"). From the matrix (c) the compare view is shown over the session's tabs; the
// user picked there gets a second read-only session with the session's reason (the
// server decides whether the admin may impersonate them), journaled like any: its
// start, the explain of the same cell for both users, its end. It ends when the view
// closes (esc) or the main session ends (endCmd, Shutdown). While it is open the banner
// names both users.

// comparison handles the compare view's requests and replies.
func (m *Model) comparison(msg tea.Msg) (tea.Cmd, bool) {
	s := m.sess
	switch msg := msg.(type) {
	case matrix.CompareRequested:
		if s == nil || s.compare != nil || m.failed() {
			return nil, true
		}
		s.compare = compare.New(m.ctx, msg.Resource, msg.Action, s.info.User)
		s.compare.SetSize(m.ctx.Width, m.bodyHeight)
		return s.compare.Init(), true
	case picker.Picked:
		if s == nil || s.compare == nil || !s.compare.Picking() {
			return nil, false // the main picker's
		}
		res, action := s.compare.Cell()
		return m.startCompare(s, s.compare.Starting(msg.User), msg.User, res, action), true
	case picker.PageLoaded:
		if s == nil || s.compare == nil || !s.compare.Picking() {
			return nil, false
		}
		m.usersPending--
		_, cmd := s.compare.Update(msg)
		return tea.Batch(cmd, m.signInAgain(msg.Err)), true
	case compareStarted:
		return m.onCompareStarted(msg), true
	case compare.Closed:
		if s == nil || s.compare == nil {
			return nil, true
		}
		s.compare = nil
		return m.closeSecond(s, "ended: the compare view was closed"), true
	case compareEnded:
		if msg.err != nil {
			m.lastErr = msg.err
		}
		return nil, true
	}
	return nil, false
}

func (m *Model) onCompareStarted(msg compareStarted) tea.Cmd {
	s := msg.of
	if msg.jerr != nil {
		var end tea.Cmd
		if msg.second != nil {
			end = m.endCompare(msg.second, "ended at once: the journal failed")
		}
		return tea.Batch(end, m.onJournalFailed(msg.jerr))
	}
	if msg.second == nil {
		_, cmd := s.compare.Update(msg.reply) // refused: nothing started
		if m.sess == s && s.compare != nil {
			return tea.Batch(cmd, m.signInAgain(msg.reply.Err))
		}
		return nil
	}
	if m.sess != s || s.compare == nil {
		// The session or the view was left while the server was starting it: end it.
		return m.endCompare(msg.second, "ended at once: the compare was left before it started")
	}
	s.second = msg.second
	s.info.User = s.name + " and " + msg.second.info.User
	m.resize()
	_, cmd := s.compare.Update(msg.reply)
	return cmd
}

// closeSecond ends the compare's second session, if one is open, and gives the banner
// back to the impersonated user alone.
func (m *Model) closeSecond(s *session, why string) tea.Cmd {
	second := s.second
	if second == nil {
		return nil
	}
	s.second = nil
	s.info.User = s.name
	m.resize()
	return m.endCompare(second, why)
}

// secondOf is a session's compare session, nil when none.
func secondOf(s *session) *session {
	if s == nil {
		return nil
	}
	return s.second
}

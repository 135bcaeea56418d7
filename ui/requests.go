package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/login"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
	"github.com/shadowview/shadow/ui/reason"
	"github.com/shadowview/shadow/ui/shadowed"
)

// requests performs what the pages ask for.
func (m *Model) requests(msg tea.Msg) (tea.Cmd, bool) {
	if cmd, ok := m.comparison(msg); ok {
		return cmd, true
	}
	switch msg := msg.(type) {
	case login.Submitted:
		return m.signIn(msg.Tag, msg.Email, msg.Password, msg.Token), true
	case picker.SearchRequested:
		return m.users(msg.Tag, msg.Query, "", false), true
	case picker.LoadMore:
		return m.users(msg.Tag, msg.Query, msg.Cursor, msg.Back), true
	case picker.Picked:
		if m.screen != ScreenPicker || m.failed() {
			return nil, true
		}
		m.screen = ScreenReason
		return m.reason.Open(msg.User), true
	case shadowed.Requested:
		return m.impersonations(msg), true
	case shadowed.Closed:
		if m.screen == ScreenShadowed {
			m.screen = ScreenPicker
		}
		return nil, true
	case reason.Cancelled:
		if m.screen == ScreenReason {
			m.screen = ScreenPicker
		}
		return nil, true
	case reason.Submitted:
		if m.screen != ScreenReason || m.journal == nil {
			return nil, true
		}
		return m.startSession(msg), true
	// The session's pages' requests: each is read and journaled by view, and its reply
	// goes back to the tab that asked (viewReply).
	case dashboards.ListRequested:
		return view(m, TabDashboards, msg.Tag,
			func(ctx context.Context, v *client.View) (api.DashboardList, error) { return v.Dashboards(ctx) },
			func(l api.DashboardList) string { return fmt.Sprintf("dashboards: the list (%d)", len(l.Dashboards)) },
			"dashboards: the list", "the dashboard list",
			func(l *api.DashboardList, err error) tea.Msg {
				return dashboards.ListLoaded{Tag: msg.Tag, List: l, Err: err}
			}), true
	case dashboards.Requested:
		return view(m, TabDashboards, msg.Tag,
			func(ctx context.Context, v *client.View) (api.Dashboard, error) { return v.Dashboard(ctx, msg.ID) },
			func(d api.Dashboard) string { return "dashboard " + d.ID + ": " + d.Title },
			"dashboard "+msg.ID, strings.TrimSpace("the dashboard "+msg.Title),
			func(d *api.Dashboard, err error) tea.Msg {
				return dashboards.Loaded{Tag: msg.Tag, Dashboard: d, Err: err}
			}), true
	case matrix.Requested:
		return m.matrixView(msg), true
	case matrix.MoreRequested:
		return m.matrixPage(msg), true
	case journalview.AuditRequested:
		return m.sessionAudit(msg.Tag), true
	case matrix.ExplainRequested:
		what := msg.Action + " on " + msg.Resource.ID
		return view(m, TabPermissions, msg.Tag,
			func(ctx context.Context, v *client.View) (api.Explanation, error) {
				return v.Explain(ctx, msg.Resource.ID, msg.Action)
			},
			func(e api.Explanation) string { return "explain " + what + " (" + e.Resource.Name + "): " + e.Effect },
			"explain "+what, "why "+msg.Action+" on "+msg.Resource.Name+" is decided",
			func(e *api.Explanation, err error) tea.Msg {
				return matrix.ExplainLoaded{Tag: msg.Tag, Explanation: e, Err: err}
			}), true
	}
	return nil, false
}

// replies routes answers to the pages, dropping those for a session that is over.
func (m *Model) replies(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case viewReply:
		stale := m.sess == nil || common.StaleFor(m.sess.id, msg)
		if !stale {
			m.sess.pending--
			m.sess.endLoad(msg.Tag)
		}
		switch {
		case msg.reply == nil:
			return nil, true
		case msg.page == nil:
			return m.handle(msg.reply), true // the journal's or the session's news
		case stale:
			return nil, true // a reply for a session that is over never reaches the next one's pages
		}
		m.lastErr = msg.err
		_, cmd := msg.page.Update(msg.reply)
		return cmd, true
	case picker.PageLoaded:
		m.usersPending--
		if common.StaleFor(m.ctx.Session, msg) {
			return nil, true
		}
		_, cmd := m.picker.Update(msg)
		if again := m.signInAgain(msg.Err); again != nil {
			return again, true
		}
		return cmd, true
	case shadowed.Loaded:
		_, cmd := m.shadowed.Update(msg)
		return tea.Batch(cmd, m.signInAgain(msg.Err)), true
	case journalview.AuditLoaded, journalview.Indexed:
		if m.sess != nil && !common.StaleFor(m.sess.id, msg.(common.Tagged)) {
			_, cmd := m.sess.journal.Update(msg) // to the Journal tab, whichever is shown
			return cmd, true
		}
		return nil, true
	case reason.Refused:
		_, cmd := m.reason.Update(msg)
		if m.quitting {
			return tea.Quit, true
		}
		if again := m.signInAgain(msg.Err); again != nil {
			return again, true
		}
		return cmd, true
	}
	return nil, false
}

// handle handles a message as Update does and returns only the command.
func (m *Model) handle(msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

// journalEntries maps journal records to the Journal tab's rows.
func journalEntries(in []audit.Entry) journalview.Updated {
	out := make([]journalview.Entry, len(in))
	for i, e := range in {
		d := e.Data
		details := d.Details
		if d.Reason != "" {
			details = "reason: " + d.Reason + " · " + details
		}
		user := ""
		if d.User != nil {
			user = d.User.Name
		}
		sync := journalview.Pending
		if e.Synced {
			sync = journalview.Synced
		}
		out[i] = journalview.Entry{Seq: e.Seq, EventID: d.EventID, SessionID: d.SessionID, Time: d.Time, Action: d.Action, Actor: d.Actor.Name, User: user, Details: details, Sync: sync}
	}
	return journalview.Updated{Entries: out}
}

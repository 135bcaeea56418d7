package ui

import (
	"context"
	"errors"
	"fmt"

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
)

// requests performs what the pages ask for.
func (m *Model) requests(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case login.Submitted:
		return m.signIn(msg.Tag, msg.Email, msg.Password, msg.Token), true
	case picker.SearchRequested:
		return m.users(msg.Tag, msg.Query, ""), true
	case picker.LoadMore:
		return m.users(msg.Tag, msg.Query, msg.Cursor), true
	case picker.Picked:
		if m.screen != ScreenPicker || m.failed() {
			return nil, true
		}
		m.screen = ScreenReason
		return m.reason.Open(msg.User), true
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
			"dashboards: the list",
			func(l *api.DashboardList, err error) tea.Msg {
				return dashboards.ListLoaded{Tag: msg.Tag, List: l, Err: err}
			}), true
	case dashboards.Requested:
		return view(m, TabDashboards, msg.Tag,
			func(ctx context.Context, v *client.View) (api.Dashboard, error) { return v.Dashboard(ctx, msg.ID) },
			func(d api.Dashboard) string { return "dashboard " + d.ID + ": " + d.Title },
			"dashboard "+msg.ID,
			func(d *api.Dashboard, err error) tea.Msg {
				return dashboards.Loaded{Tag: msg.Tag, Dashboard: d, Err: err}
			}), true
	case matrix.Requested:
		return view(m, TabPermissions, msg.Tag,
			func(ctx context.Context, v *client.View) (api.PermissionMatrix, error) { return v.Permissions(ctx) },
			func(p api.PermissionMatrix) string {
				return fmt.Sprintf("permissions: %d resources × %d actions", len(p.Rows), len(p.Actions))
			},
			"permissions",
			func(p *api.PermissionMatrix, err error) tea.Msg {
				return matrix.Loaded{Tag: msg.Tag, Matrix: p, Err: err}
			}), true
	case matrix.ExplainRequested:
		what := msg.Action + " on " + msg.Resource.ID
		return view(m, TabPermissions, msg.Tag,
			func(ctx context.Context, v *client.View) (api.Explanation, error) {
				return v.Explain(ctx, msg.Resource.ID, msg.Action)
			},
			func(e api.Explanation) string { return "explain " + what + " (" + e.Resource.Name + "): " + e.Effect },
			"explain "+what,
			func(e *api.Explanation, err error) tea.Msg {
				return matrix.ExplainLoaded{Tag: msg.Tag, Explanation: e, Err: err}
			}), true
	}
	return nil, false
}

// users asks the directory for one page.
func (m *Model) users(tag common.Tag, query, cursor string) tea.Cmd {
	c, limit, base := m.opts.Client, m.opts.PageSize, m.opts.Context
	m.usersPending++
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, requestTimeout)
		defer cancel()
		page, err := c.Users(ctx, client.UsersQuery{Query: query, Cursor: cursor, Limit: limit})
		if err != nil {
			return picker.PageLoaded{Tag: tag, Cursor: cursor, Err: err}
		}
		return picker.PageLoaded{Tag: tag, Cursor: cursor, Page: &page}
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
// if the server says the session is over, it ends.
func view[T any](m *Model, tab int, tag common.Tag, fetch func(context.Context, *client.View) (T, error),
	describe func(T) string, what string, reply func(*T, error) tea.Msg) tea.Cmd {
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
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
		defer cancel()
		data, err := fetch(ctx, s.view)
		if s.ctx.Err() != nil {
			return viewReply{Tag: tag} // the session ended meanwhile: nothing to show or record
		}
		if errors.Is(err, client.ErrSessionExpired) || errors.Is(err, client.ErrUnauthenticated) {
			// Over, or a token the server no longer takes (a restarted server): either way
			// nothing more can be read as the user.
			return viewReply{Tag: tag, reply: sessionGone{Tag: tag, err: err}}
		}
		rec := base
		if err != nil {
			rec.Action, rec.Details = api.ActionError, what+": "+err.Error()
		} else {
			rec.Details = describe(data)
		}
		if jerr := appendDurably(j, rec); jerr != nil {
			return viewReply{Tag: tag, reply: journalFailed{Tag: tag, err: jerr}}
		}
		if err != nil {
			return viewReply{Tag: tag, reply: reply(nil, err), page: page, err: err}
		}
		return viewReply{Tag: tag, reply: reply(&data, nil), page: page}
	}
}

// replies routes answers to the pages, dropping those for a session that is over.
func (m *Model) replies(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case viewReply:
		stale := m.sess == nil || common.StaleFor(m.sess.id, msg)
		if !stale {
			m.sess.pending--
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
		out[i] = journalview.Entry{Seq: e.Seq, Time: d.Time, Action: d.Action, Actor: d.Actor.Name, User: user, Details: details, Sync: sync}
	}
	return journalview.Updated{Entries: out}
}

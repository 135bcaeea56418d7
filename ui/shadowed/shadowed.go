// Package shadowed is the "who shadowed us" page: for the signed-in admin, the
// impersonation sessions in which they — or, for a company admin, the users of their
// company — were shadowed (GET /me/impersonations), newest first: who, whom, when,
// why, how long, and what was viewed; enter shows one session whole. Filters narrow it
// to one admin (who), one user (whom) and a time window (when): the user by the server
// (?user=), the admin and the window here, over every page of the server's list, read
// until the filter's answer is whole — never a first page filtered and called all.
//
// It asks for pages with messages (Requested) and takes the replies (Loaded) only when
// they answer its newest request. It must never call the API, or draw server text
// without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package shadowed

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/grid"
)

// Requested asks the root for a page of sessions (Cursor "" for the first), only those
// on User when it is not "" (GET /me/impersonations?user=), and a Loaded reply with the
// same Tag and Cursor.
type Requested struct {
	common.Tag
	Cursor string
	User   string
	Limit  int // sessions a page; 0 for the server's default
}

// Loaded is the reply to Requested.
type Loaded struct {
	common.Tag
	Cursor string
	Page   *api.ImpersonationsPage
	Err    error
}

// Closed says the admin left the page (esc).
type Closed struct{}

// KeyMap is the page's keys.
type KeyMap struct {
	Grid grid.KeyMap
	Open key.Binding
	Back key.Binding
	More key.Binding
	// Who and Whom keep only the sessions of the admin / on the user under the cursor
	// (again: all of them); When steps through the time windows; Clear drops every filter.
	Who, Whom, When, Clear key.Binding
}

// filter is what the list is narrowed to; the zero filter keeps everything.
type filter struct {
	who    api.UserRef // the admin who shadowed (ID "" for any)
	whom   api.UserRef // the user shadowed (ID "" for any): asked of the server
	window int         // an index into windows
}

// windows are the time windows When steps through: sessions started within them.
var windows = []struct {
	d    time.Duration
	name string
}{{0, "any time"}, {24 * time.Hour, "last 24 h"}, {7 * 24 * time.Hour, "last 7 days"}, {30 * 24 * time.Hour, "last 30 days"}}

// local reports whether the filter narrows what the server sent (admin or window), so
// every page must be read before the list is whole.
func (f filter) local() bool { return f.who.ID != "" || f.window != 0 }

func (f filter) any() bool { return f.local() || f.whom.ID != "" }

// Model is the page; it is a common.Component.
type Model struct {
	// PageSize is how many sessions a page asks for; 0 for the server's default.
	PageSize int

	ctx    *common.Context
	keys   KeyMap
	req    common.Latest
	grid   *grid.Model[api.Impersonation]
	all    []api.Impersonation // every session read for the server's query, newest first
	filter filter
	scope  string
	next   string
	err    error
	busy   bool
	open   bool
	width  int
	height int
}

// New makes the page.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, keys: KeyMap{Grid: grid.DefaultKeyMap(),
		Open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "whole session")),
		Back:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		More:  key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "more sessions")),
		Who:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "only this admin")),
		Whom:  key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "only this user")),
		When:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "when")),
		Clear: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clear filters"))}}
	m.grid = grid.New(ctx.Styles, columns(0), m.cell)
	m.grid.Empty = nobody
	return m
}

// nobody is said when no session at all was ever listed.
const nobody = "Nobody has shadowed you or your company's users."

// Busy reports whether a page is on its way.
func (m *Model) Busy() bool { return m.busy }

// Init asks for the first page, with no filter.
func (m *Model) Init() tea.Cmd {
	m.filter = filter{}
	return m.reload()
}

// reload asks for the first page of the server's query again, forgetting what was read.
func (m *Model) reload() tea.Cmd {
	m.busy, m.err, m.open, m.next = true, nil, false, ""
	m.all = nil
	m.grid.SetRows(nil)
	m.grid.SetCursor(0, 0)
	return common.Emit(Requested{Tag: m.req.Issue(m.ctx.Session), User: m.filter.whom.ID, Limit: m.PageSize})
}

// complete reports whether every session the filter keeps has been read: the server
// has no further page, or the time window ends before the oldest read (the list is
// newest first).
func (m *Model) complete() bool {
	if m.next == "" {
		return true
	}
	if w := windows[m.filter.window].d; w > 0 && len(m.all) > 0 {
		return m.all[len(m.all)-1].Session.StartedAt.Before(m.ctx.Now().Add(-w))
	}
	return false
}

// apply shows the sessions read that the filter keeps, the cursor on the session it was
// on when that one is still shown, and asks for the next page while a local filter's
// answer is not whole.
func (m *Model) apply() tea.Cmd {
	var on string
	if s, ok := m.grid.Selected(); ok {
		on = s.Session.ID
	}
	var cutoff time.Time
	if w := windows[m.filter.window].d; w > 0 {
		cutoff = m.ctx.Now().Add(-w)
	}
	rows := make([]api.Impersonation, 0, len(m.all))
	cursor := 0
	for _, s := range m.all {
		if (m.filter.who.ID != "" && s.Session.Impersonator.ID != m.filter.who.ID) || s.Session.StartedAt.Before(cutoff) {
			continue
		}
		if s.Session.ID == on {
			cursor = len(rows)
		}
		rows = append(rows, s)
	}
	m.grid.SetRows(rows)
	m.grid.SetCursor(cursor, 0)
	if m.filter.local() && !m.complete() && !m.busy && m.err == nil {
		m.busy = true
		return common.Emit(Requested{Tag: m.req.Issue(m.ctx.Session), Cursor: m.next, User: m.filter.whom.ID, Limit: m.PageSize})
	}
	return nil
}

const (
	colWhen   = "when"
	colWho    = "who"
	colWhom   = "whom"
	colReason = "reason"
	colLong   = "long"
	colViewed = "viewed"
	// colViewedN is how many things were viewed, below viewedWordsFrom.
	colViewedN = "viewed-n"
)

// viewedWordsFrom is the width from which what each session viewed has a column in
// words, beside names and reasons left whole.
const viewedWordsFrom = 150

func columns(width int) []grid.Column {
	cols := []grid.Column{
		{Key: colWhen, Title: "Started (UTC)", Width: 16},
		{Key: colWho, Title: "Who", Width: 12, Flex: 2},
		{Key: colWhom, Title: "Whom", Width: 12, Flex: 2},
		{Key: colReason, Title: "Why", Width: 10, Flex: 3},
		{Key: colLong, Title: "How long", Width: 10, Align: grid.Right},
	}
	switch {
	case width >= viewedWordsFrom:
		// What was viewed, in words (narrower, the line under the list says it).
		cols = append(cols, grid.Column{Key: colViewed, Title: "Viewed", Width: 12, Flex: 3})
	case width >= 100:
		cols = append(cols, grid.Column{Key: colViewedN, Title: "Viewed", Width: 6, Align: grid.Right})
	}
	return cols
}

func (m *Model) cell(s api.Impersonation, col int) grid.Cell {
	switch m.grid.Column(col).Key {
	case colWhen:
		return grid.Cell{Text: s.Session.StartedAt.UTC().Format("2006-01-02 15:04")}
	case colWho:
		if s.ImpersonatorOrganisation == "" {
			return grid.Cell{Text: s.Session.Impersonator.Name}
		}
		return grid.Cell{Text: s.Session.Impersonator.Name + " (" + s.ImpersonatorOrganisation + ")"}
	case colWhom:
		return grid.Cell{Text: s.Session.User.Name}
	case colReason:
		return grid.Cell{Text: s.Session.Reason}
	case colLong:
		return grid.Cell{Text: duration(s.DurationSeconds)}
	case colViewed:
		return grid.Cell{Text: viewedWhat(s)}
	case colViewedN:
		return grid.Cell{Text: fmt.Sprint(len(s.Viewed))}
	}
	return grid.Cell{}
}

// duration is a session's length for people: "4 min", "45 s", "1 h 5 min".
func duration(secs int64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", secs)
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.grid.SetColumns(columns(width))
	m.grid.SetSize(width, max(1, height-3))
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case Loaded:
		if !m.req.Current(msg) {
			return m, nil
		}
		m.busy, m.err = false, msg.Err
		if msg.Page != nil {
			m.scope, m.next = msg.Page.Scope, msg.Page.NextCursor
			m.all = append(m.all, msg.Page.Impersonations...)
		}
		return m, m.apply()
	case tea.KeyPressMsg:
		switch {
		case m.open && key.Matches(msg, m.keys.Back):
			m.open = false
		case key.Matches(msg, m.keys.Back):
			return m, common.Emit(Closed{})
		case m.open:
		case key.Matches(msg, m.keys.Open):
			_, m.open = m.grid.Selected()
		case key.Matches(msg, m.keys.More) && m.next != "" && !m.busy:
			m.busy = true
			return m, common.Emit(Requested{Tag: m.req.Issue(m.ctx.Session), Cursor: m.next, User: m.filter.whom.ID, Limit: m.PageSize})
		case key.Matches(msg, m.keys.Who):
			s, ok := m.grid.Selected()
			switch {
			case m.filter.who.ID != "":
				m.filter.who = api.UserRef{}
			case ok:
				m.filter.who = s.Session.Impersonator
			default:
				return m, nil
			}
			return m, m.apply()
		case key.Matches(msg, m.keys.Whom):
			s, ok := m.grid.Selected()
			switch {
			case m.filter.whom.ID != "":
				m.filter.whom = api.UserRef{}
			case ok:
				m.filter.whom = s.Session.User
			default:
				return m, nil
			}
			return m, m.reload() // the server narrows it
		case key.Matches(msg, m.keys.When):
			m.filter.window = (m.filter.window + 1) % len(windows)
			return m, m.apply()
		case key.Matches(msg, m.keys.Clear) && m.filter.any():
			server := m.filter.whom.ID != ""
			m.filter = filter{}
			if server {
				return m, m.reload()
			}
			return m, m.apply()
		default:
			m.grid.Update(msg)
		}
	}
	return m, nil
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	if m.open {
		return common.Join(common.FitLines(m.sessionView(), m.width, m.height))
	}
	st := m.ctx.Styles
	title := "Who shadowed you"
	if m.scope == api.TransparencyCompany {
		title = "Who shadowed your company's users"
	}
	n := m.grid.Len()
	head := st.Title.Apply(title)
	whole := m.complete()
	switch {
	case n > 0:
		r, _ := m.grid.Cursor()
		more := ""
		if !whole {
			more = "+"
		}
		head += st.Muted.Apply(fmt.Sprintf(" · row %d of %d%s %s", r+1, n, more, words.Plural(n, "session", "sessions")))
	case m.filter.any() && !m.busy && m.err == nil && whole:
		head += " · " + st.Warn.Apply("no session matches")
	}
	if m.filter.local() && !whole {
		read := len(m.all)
		head += st.Muted.Apply(fmt.Sprintf(" · of the %d read so far", read))
	}
	switch {
	case m.busy || !whole:
		m.grid.Empty = "None read so far."
	case m.filter.any():
		m.grid.Empty = "No session matches the filter."
	default:
		m.grid.Empty = nobody
	}
	status := m.filterLine()
	switch {
	case m.busy:
		status = st.Muted.Apply(fmt.Sprintf("Asking the server… %d %s read", len(m.all), words.Plural(len(m.all), "session", "sessions")))
	case m.err != nil:
		status = st.Error.Apply(safetext.Clean("Could not list the sessions: " + m.err.Error()))
	case m.next != "" && !m.filter.local():
		status += st.Muted.Apply(" · m for more sessions")
	}
	lines := []string{common.FitLine(head, m.width), common.FitLine(status, m.width)}
	lines = append(lines, common.Fill(m.grid.Lines(), m.width, max(1, m.height-3))...)
	if s, ok := m.grid.Selected(); ok {
		lines = append(lines, common.FitLine(st.Muted.Apply(safetext.Fit(viewedLine(s), m.width)), m.width))
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

// filterLine says what the list is narrowed to and the keys that narrow it.
func (m *Model) filterLine() string {
	st := m.ctx.Styles
	f := m.filter
	if !f.any() {
		return st.Muted.Apply("Filter: a this admin · u this user · t when")
	}
	var on []string
	if f.who.ID != "" {
		on = append(on, "by "+safetext.Clean(f.who.Name))
	}
	if f.whom.ID != "" {
		on = append(on, "on "+safetext.Clean(f.whom.Name))
	}
	if f.window != 0 {
		on = append(on, "started "+windows[f.window].name)
	}
	return st.Accent.Apply("Filter: "+strings.Join(on, " · ")) + st.Muted.Apply(" · a/u/t change · x clear")
}

func viewedLine(s api.Impersonation) string {
	line := fmt.Sprintf("Viewed %d %s", len(s.Viewed), words.Plural(len(s.Viewed), "thing", "things"))
	if len(s.Viewed) > 0 {
		line += ": " + viewedWhat(s)
	}
	if s.Refused > 0 {
		line += fmt.Sprintf(" · %d refused", s.Refused)
	}
	return line + " · enter for the whole session"
}

// viewedWhat is what a session viewed, in the server's words, most read first kept in
// the order first read: "dashboard Fleet overview ×2, the list of their dashboards".
func viewedWhat(s api.Impersonation) string {
	parts := make([]string, 0, len(s.Viewed))
	for _, v := range s.Viewed {
		p := safetext.Clean(v.What)
		if v.Count > 1 {
			p += fmt.Sprintf(" ×%d", v.Count)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// sessionView is one session whole: every field and what it viewed.
func (m *Model) sessionView() []string {
	st := m.ctx.Styles
	s, _ := m.grid.Selected()
	w := m.width
	row := func(name, value string) string {
		return common.FitLine(st.Muted.Apply(safetext.Pad(name, 12))+" "+safetext.Fit(value, max(1, w-13)), w)
	}
	end := "still active"
	if s.Session.EndedAt != nil {
		end = s.Session.EndedAt.UTC().Format(time.RFC3339)
	}
	lines := []string{
		common.FitLine(st.Title.Apply("Session "+safetext.Fit(s.Session.ID, w/2))+st.Muted.Apply(" · esc back"), w),
		row("Who", s.Session.Impersonator.Name+" <"+s.Session.Impersonator.Email+"> · "+s.ImpersonatorOrganisation),
		row("Whom", s.Session.User.Name+" <"+s.Session.User.Email+">"),
		row("Why", s.Session.Reason),
		row("Started", s.Session.StartedAt.UTC().Format(time.RFC3339)),
		row("Ended", end+" · "+s.Session.State),
		row("How long", duration(s.DurationSeconds)),
		row("Refused", fmt.Sprint(s.Refused)),
		common.FitLine(st.Bold.Apply("Viewed"), w),
	}
	for _, v := range s.Viewed {
		lines = append(lines, common.FitLine("  "+safetext.Fit(fmt.Sprintf("%s ×%d", safetext.Clean(v.What), v.Count), max(1, w-2)), w))
	}
	return lines
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.open {
		return []key.Binding{m.keys.Back}
	}
	// Only keys that do something now: enter, a and u need a row under the cursor (or,
	// for a and u, a filter of theirs to drop), m a further page the server has.
	_, row := m.grid.Selected()
	var out []key.Binding
	if row {
		out = append(out, m.keys.Open)
	}
	out = append(out, m.keys.Back)
	if row || m.filter.who.ID != "" {
		out = append(out, m.keys.Who)
	}
	if row || m.filter.whom.ID != "" {
		out = append(out, m.keys.Whom)
	}
	out = append(out, m.keys.When)
	if m.filter.any() {
		out = append(out, m.keys.Clear)
	}
	if m.next != "" && !m.busy {
		out = append(out, m.keys.More)
	}
	return out
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Grid.Up, m.keys.Grid.Down, m.keys.Grid.PageUp, m.keys.Grid.PageDown}, {m.keys.Open, m.keys.Back, m.keys.More}, {m.keys.Who, m.keys.Whom, m.keys.When, m.keys.Clear}}
}

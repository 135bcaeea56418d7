// Package shadowed is the "who shadowed us" page: for the signed-in admin, the
// impersonation sessions in which they — or, for a company admin, the users of their
// company — were shadowed (GET /me/impersonations), newest first: who, whom, when,
// why, how long, and what was viewed; enter shows one session whole.
//
// It asks for pages with messages (Requested) and takes the replies (Loaded) only when
// they answer its newest request. It must never call the API, or draw server text
// without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package shadowed

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/grid"
)

// Requested asks the root for a page of sessions (Cursor "" for the first) and a Loaded
// reply with the same Tag and Cursor.
type Requested struct {
	common.Tag
	Cursor string
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
}

// Model is the page; it is a common.Component.
type Model struct {
	ctx    *common.Context
	keys   KeyMap
	req    common.Latest
	grid   *grid.Model[api.Impersonation]
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
		Open: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "whole session")),
		Back: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		More: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "more"))}}
	m.grid = grid.New(ctx.Styles, columns(0), m.cell)
	m.grid.Empty = "Nobody has shadowed you or your company's users."
	return m
}

// Busy reports whether a page is on its way.
func (m *Model) Busy() bool { return m.busy }

// Init asks for the first page.
func (m *Model) Init() tea.Cmd {
	m.busy, m.err, m.open = true, nil, false
	m.grid.SetRows(nil)
	return common.Emit(Requested{Tag: m.req.Issue(m.ctx.Session)})
}

const (
	colWhen   = "when"
	colWho    = "who"
	colWhom   = "whom"
	colReason = "reason"
	colLong   = "long"
	colViewed = "viewed"
)

func columns(width int) []grid.Column {
	cols := []grid.Column{
		{Key: colWhen, Title: "Started (UTC)", Width: 16},
		{Key: colWho, Title: "Who", Width: 12, Flex: 2},
		{Key: colWhom, Title: "Whom", Width: 12, Flex: 2},
		{Key: colReason, Title: "Why", Width: 10, Flex: 3},
		{Key: colLong, Title: "How long", Width: 10, Align: grid.Right},
	}
	if width >= 100 {
		cols = append(cols, grid.Column{Key: colViewed, Title: "Viewed", Width: 8, Align: grid.Right})
	}
	return cols
}

func (m *Model) cell(s api.Impersonation, col int) grid.Cell {
	switch m.grid.Column(col).Key {
	case colWhen:
		return grid.Cell{Text: s.Session.StartedAt.UTC().Format("2006-01-02 15:04")}
	case colWho:
		return grid.Cell{Text: s.Session.Impersonator.Name + " (" + s.ImpersonatorOrganisation + ")"}
	case colWhom:
		return grid.Cell{Text: s.Session.User.Name}
	case colReason:
		return grid.Cell{Text: s.Session.Reason}
	case colLong:
		return grid.Cell{Text: duration(s.DurationSeconds)}
	case colViewed:
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
			m.grid.AppendRows(msg.Page.Impersonations...)
		}
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
			return m, common.Emit(Requested{Tag: m.req.Issue(m.ctx.Session), Cursor: m.next})
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
	if n > 0 {
		r, _ := m.grid.Cursor()
		more := ""
		if m.next != "" {
			more = "+"
		}
		head += st.Muted.Apply(fmt.Sprintf(" · row %d of %d%s %s", r+1, n, more, words.Plural(n, "session", "sessions")))
	}
	status := ""
	switch {
	case m.busy:
		status = st.Muted.Apply("Asking the server…")
	case m.err != nil:
		status = st.Error.Apply(safetext.Clean("Could not list the sessions: " + m.err.Error()))
	case m.next != "":
		status = st.Muted.Apply("m for more sessions")
	}
	lines := []string{common.FitLine(head, m.width), common.FitLine(status, m.width)}
	lines = append(lines, common.Fill(m.grid.Lines(), m.width, max(1, m.height-3))...)
	if s, ok := m.grid.Selected(); ok {
		lines = append(lines, common.FitLine(st.Muted.Apply(safetext.Fit(viewedLine(s), m.width)), m.width))
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

func viewedLine(s api.Impersonation) string {
	line := fmt.Sprintf("Viewed %d %s", len(s.Viewed), words.Plural(len(s.Viewed), "thing", "things"))
	if s.Refused > 0 {
		line += fmt.Sprintf(" · %d refused", s.Refused)
	}
	return line + " · enter for the whole session"
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
	return []key.Binding{m.keys.Open, m.keys.Back, m.keys.More}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Grid.Up, m.keys.Grid.Down, m.keys.Grid.PageUp, m.keys.Grid.PageDown}, {m.keys.Open, m.keys.Back, m.keys.More}}
}

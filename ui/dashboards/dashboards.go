// Package dashboards is the Dashboards page: the list of dashboards the impersonated
// user may read, and the selected dashboard's widgets drawn as the user sees them — KPI
// tiles with their change against the previous period, bar charts, line charts with a
// sparkline legend, and tables (virtualised, zoomable) with the row scope ("12 of 40
// rows visible") — with every withheld value shown as [redacted].
//
// It asks for data with messages (ListRequested, Requested) and takes the replies
// (ListLoaded, Loaded) only when they answer its newest request. It must never call the
// API, journal, or draw server text without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package dashboards

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/grid"
)

// ListRequested asks the root for the dashboard list (GET /dashboards) and a ListLoaded
// reply with the same Tag.
type ListRequested struct{ common.Tag }

// ListLoaded is the reply to ListRequested. The root journals the view before sending it.
type ListLoaded struct {
	common.Tag
	List *api.DashboardList
	Err  error
}

// Requested asks the root for one dashboard (GET /dashboards/{id}) and a Loaded reply
// with the same Tag.
type Requested struct {
	common.Tag
	ID    string
	Title string // the list's title of it, to say what loads ("" when not known)
}

// Loaded is the reply to Requested. The root journals the view before sending it.
type Loaded struct {
	common.Tag
	Dashboard *api.Dashboard
	Err       error
}

// Redacted is how a withheld value is drawn.
const Redacted = "[redacted]"

// KeyMap is the page's keys.
type KeyMap struct {
	Grid   grid.KeyMap
	Open   key.Binding
	Info   key.Binding // a zoomed table's row, whole (as enter there)
	Back   key.Binding
	Reload key.Binding
}

// DefaultKeyMap is the page's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Grid:   grid.DefaultKeyMap(),
		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open / zoom")),
		Info:   key.NewBinding(key.WithKeys("i", "enter"), key.WithHelp("enter/i", "whole row")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Reload: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload")),
	}
}

type focus int

const (
	onList focus = iota
	onWidgets
	onZoom
)

// Model is the Dashboards page; it is a common.Component.
type Model struct {
	ctx  *common.Context
	keys KeyMap

	listReq, dashReq common.Latest
	list             *api.DashboardList
	listErr          error
	listGrid         *grid.Model[api.DashboardSummary]

	current   *api.Dashboard
	shownID   string // the id current was asked for by (the list's, whatever the reply says)
	dashErr   error
	loadingID string
	tables    map[int]*grid.Model[api.TableRow] // a grid per table widget of current, sized as drawn

	info   *detail.Model // a zoomed table's row, whole; nil when closed
	focus  focus
	widget int // the focused widget
	scroll int // first line of the widget pane shown
	width  int
	height int
}

// New makes the page.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap()}
	m.listGrid = grid.New(ctx.Styles, []grid.Column{{Title: "Dashboards", Width: 8, Flex: 1}},
		func(d api.DashboardSummary, _ int) grid.Cell { return grid.Cell{Text: d.Title} })
	m.listGrid.Empty = "Loading…"
	return m
}

// Init asks for the list.
func (m *Model) Init() tea.Cmd { return m.reloadList() }

func (m *Model) reloadList() tea.Cmd {
	return common.Emit(ListRequested{Tag: m.listReq.Issue(m.ctx.Session)})
}

func (m *Model) open(id string) tea.Cmd {
	m.loadingID, m.dashErr = id, nil
	return common.Emit(Requested{Tag: m.dashReq.Issue(m.ctx.Session), ID: id, Title: m.summaryTitle(id)})
}

// titleOr is the list's title of a dashboard, or "Dashboard <id>" when it is not listed.
func (m *Model) titleOr(id string) string {
	if t := m.summaryTitle(id); t != "" {
		return t
	}
	return "Dashboard " + safetext.Clean(id)
}

// summaryTitle is the list's title of a dashboard, cleaned; "" when it is not listed.
func (m *Model) summaryTitle(id string) string {
	if m.list != nil {
		for _, d := range m.list.Dashboards {
			if d.ID == id {
				return safetext.Clean(d.Title)
			}
		}
	}
	return ""
}

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.listGrid.SetSize(m.listWidth(), height)
	if m.info != nil {
		m.info.SetSize(width, height)
	}
}

// listWidth is the list pane's width; below 60 columns one pane is shown at a time.
func (m *Model) listWidth() int {
	switch {
	case m.width < 60:
		return m.width
	case m.width >= 100:
		return 28
	}
	return 22
}

func (m *Model) paneWidth() int {
	if m.onePane() {
		return m.width
	}
	return m.width - m.listWidth() - 1
}

// onePane reports whether one pane takes the whole width: below 60 columns, and while a
// table is zoomed (it wants every column it can get).
func (m *Model) onePane() bool { return m.width < 60 || m.focus == onZoom }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case ListLoaded:
		if !m.listReq.Current(msg) {
			return m, nil
		}
		m.list, m.listErr = msg.List, msg.Err
		m.listGrid.Empty = "No dashboards."
		if msg.Err != nil {
			m.listGrid.Empty = "Could not load the list."
		}
		if msg.List != nil {
			m.listGrid.SetRows(msg.List.Dashboards)
			if m.current == nil && m.loadingID == "" && len(msg.List.Dashboards) > 0 {
				return m, m.open(msg.List.Dashboards[0].ID)
			}
		}
	case Loaded:
		if !m.dashReq.Current(msg) {
			return m, nil
		}
		id := m.loadingID
		m.loadingID = ""
		m.dashErr = msg.Err
		if msg.Err == nil && msg.Dashboard != nil {
			m.current, m.shownID = msg.Dashboard, id
			m.widget, m.scroll, m.info = 0, 0, nil
			m.buildTables()
		}
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if cmd, ok := detail.Route(&m.info, msg); ok {
		return cmd
	}
	g := m.keys.Grid
	switch m.focus {
	case onZoom:
		switch {
		case key.Matches(msg, m.keys.Back):
			m.focus = onWidgets
			return nil
		case key.Matches(msg, m.keys.Info):
			m.openRow()
			return nil
		}
		if t := m.tables[m.widget]; t != nil {
			t.Update(msg)
		}
	case onWidgets:
		switch {
		case key.Matches(msg, m.keys.Back, g.Left):
			m.focus = onList
		case key.Matches(msg, g.Up):
			m.widget = max(0, m.widget-1)
		case key.Matches(msg, g.Down):
			if m.current != nil {
				m.widget = min(len(m.current.Widgets)-1, m.widget+1)
			}
		case key.Matches(msg, g.Top):
			m.widget = 0
		case key.Matches(msg, g.Bottom):
			if m.current != nil {
				m.widget = len(m.current.Widgets) - 1
			}
		case key.Matches(msg, m.keys.Open):
			if m.tables[m.widget] != nil {
				m.focus = onZoom
			}
		case key.Matches(msg, m.keys.Reload):
			if m.current != nil {
				return m.open(m.shownID)
			}
		}
	default:
		switch {
		case key.Matches(msg, m.keys.Open, g.Right):
			d, ok := m.listGrid.Selected()
			if !ok {
				return nil
			}
			m.focus = onWidgets
			if m.current != nil && m.shownID == d.ID && m.loadingID == "" {
				return nil
			}
			return m.open(d.ID)
		case key.Matches(msg, m.keys.Reload):
			return m.reloadList()
		default:
			m.listGrid.Update(msg)
		}
	}
	return nil
}

// buildTables makes a grid for each table widget of the dashboard just loaded.
func (m *Model) buildTables() {
	m.tables = map[int]*grid.Model[api.TableRow]{}
	for i, w := range m.current.Widgets {
		if w.Kind != api.WidgetTable || w.Table == nil {
			continue
		}
		m.tables[i] = m.tableGrid(w.Table)
	}
}

// titleFloor is the most cells a table column keeps for its title when the columns do
// not all fit; maxColumn the widest a column grows from its cells when the table
// scrolls sideways.
const (
	titleFloor = 12
	maxColumn  = 28
)

func (m *Model) tableGrid(t *api.TableData) *grid.Model[api.TableRow] {
	st := m.ctx.Styles
	cols := make([]grid.Column, len(t.Columns))
	for c, tc := range t.Columns {
		// Widths follow the rows on screen (grid.Column.Fit), as the picker's do: a
		// column is as wide as its widest visible cell, and when they cannot all fit the
		// widest give way first, never below their title (up to titleFloor cells); when
		// even that is too wide the table scrolls sideways, each column as wide as its
		// cells on screen up to maxColumn. The key column (frozen) is cut in the middle:
		// a row's id is told apart at its end.
		cols[c] = grid.Column{Title: tc.Title, Width: min(max(safetext.Width(tc.Title), 4), titleFloor), Fit: true, Max: maxColumn, Middle: c == 0}
		if tc.Numeric {
			cols[c].Align = grid.Right
		}
	}
	g := grid.New(st, cols, func(r api.TableRow, c int) grid.Cell {
		if c >= len(r.Cells) {
			return grid.Cell{}
		}
		if r.Cells[c].Redacted {
			return grid.Cell{Text: Redacted, Paint: st.Redacted}
		}
		return grid.Cell{Text: r.Cells[c].Value}
	})
	g.SetRows(t.Rows)
	g.SetFrozen(1) // the key column stays when a zoomed table scrolls sideways
	g.Empty = "No rows visible to this user."
	return g
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	if m.info != nil && m.focus == onZoom {
		return m.info.View()
	}
	if m.onePane() {
		if m.focus == onList {
			return common.Join(m.listView())
		}
		return common.Join(m.paneView())
	}
	return common.Join(common.JoinColumns(m.ctx.Styles.Border.Apply("│"), m.listView(), m.paneView()))
}

func (m *Model) listView() []string {
	w := m.listWidth()
	if m.listErr != nil {
		return common.FitLines(m.ctx.Styles.Problem("Could not load the list:", m.listErr, w, "r to try again"), w, m.height)
	}
	m.listGrid.NoCursor = false
	return common.Fill(m.listGrid.Lines(), w, m.height)
}

// paneView is the selected dashboard: its header, then its widgets scrolled so the
// focused one is in view (or the zoomed table alone).
func (m *Model) paneView() []string {
	st := m.ctx.Styles
	w, h := m.paneWidth(), m.height
	var head []string
	switch {
	case m.dashErr != nil:
		return common.FitLines(st.Problem("Could not load the dashboard:", m.dashErr, w, "r to try again"), w, h)
	case m.loadingID != "" && (m.current == nil || m.shownID != m.loadingID):
		// The title is the one loading, never the dashboard shown before.
		return common.FitLines([]string{st.Title.Apply(safetext.Fit(m.titleOr(m.loadingID), w)), st.Muted.Apply("Loading the dashboard…")}, w, h)
	case m.current == nil:
		return common.FitLines([]string{st.Muted.Apply("Loading the dashboard…")}, w, h)
	}
	if sel, ok := m.listGrid.Selected(); ok && m.focus == onList && m.loadingID == "" && sel.ID != m.shownID {
		// The pane never shows a dashboard the cursor is not on.
		return common.FitLines([]string{st.Title.Apply(safetext.Fit(safetext.Clean(sel.Title), w)), st.Muted.Apply("enter to open it")}, w, h)
	}
	d := m.current
	title := st.Title.Apply(safetext.Clean(d.Title))
	if m.loadingID != "" {
		title += st.Muted.Apply(" · reloading…")
	}
	head = append(head, common.FitLine(title, w))
	// Labels and values, so the server's wording (capitalised or not) reads right.
	scope := "Data scope: All rows"
	if d.Scope != "" {
		scope = "Data scope: " + safetext.Clean(d.Scope)
	}
	if n := len(d.SharedWith); n > 0 {
		names := make([]string, 0, n)
		for _, sh := range d.SharedWith {
			names = append(names, safetext.Clean(sh.Name))
		}
		scope += " · Shared with: " + strings.Join(names, ", ")
	}
	head = append(head, common.FitLine(st.Muted.Apply(safetext.Fit(scope, w)), w))
	if m.focus == onZoom {
		return common.Fill(append(head, m.zoomView(w, h-len(head))...), w, h)
	}
	blocks, starts := m.widgetBlocks(w)
	room := max(0, h-len(head))
	// Keep the focused widget in view: its top if it is taller than the room.
	if m.widget < len(starts) {
		top, end := starts[m.widget], len(blocks)
		if m.widget+1 < len(starts) {
			end = starts[m.widget+1]
		}
		if top < m.scroll {
			m.scroll = top
		} else if end > m.scroll+room {
			m.scroll = min(top, end-room)
		}
	}
	m.scroll = max(0, min(m.scroll, len(blocks)-room))
	visible := blocks[min(m.scroll, len(blocks)):min(len(blocks), m.scroll+room)]
	return common.Fill(append(head, visible...), w, h)
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.info != nil {
		return m.info.ShortHelp()
	}
	switch m.focus {
	case onZoom:
		out := []key.Binding{m.keys.Grid.Down, m.keys.Info}
		if t := m.tables[m.widget]; t != nil {
			// ←/→ only when columns are off screen that way (at 120 columns most fit).
			left, right := t.Hidden()
			if left {
				out = append(out, m.keys.Grid.Left)
			}
			if right {
				out = append(out, m.keys.Grid.Right)
			}
		}
		return append(out, m.keys.Back)
	case onWidgets:
		if m.tables[m.widget] == nil {
			return []key.Binding{m.keys.Grid.Down, m.keys.Back} // enter zooms tables only
		}
		return []key.Binding{m.keys.Grid.Down, m.keys.Open, m.keys.Back}
	}
	return []key.Binding{m.keys.Grid.Down, m.keys.Open}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if m.info != nil {
		return m.info.FullHelp()
	}
	g := m.keys.Grid
	return [][]key.Binding{{g.Up, g.Down, g.Left, g.Right, g.Top, g.Bottom}, {m.keys.Open, m.keys.Info, m.keys.Back, m.keys.Reload}}
}

// Package matrix is the Permissions page: the impersonated user's effective permission
// matrix (resources × actions) in a virtualised grid, readable without colour (✓ allow,
// ✗ deny, ⋅ none, with a legend), a filter on resource name, type and id, a "deny rows
// only" toggle, the source of the cell under the cursor, and an explain panel showing the
// chain that decided a cell, with the decisive step marked.
//
// It asks for data with messages (Requested, MoreRequested, ExplainRequested) and takes
// the replies (Loaded, MoreLoaded, ExplainLoaded) only when they answer its newest
// request. The matrix comes in pages: the first (a few screens) is shown at once, the
// rest are asked for one after another in the background; the summary says the rows
// loaded of the total the server counted, a placeholder row past them says which load
// (or which did not, and why: what loaded stays). Memory: every row loaded is held once
// (a page's rows are taken as they come and the page let go; its sources merged into one
// table), so the whole matrix is held once it is all in; nothing else keeps a copy (the
// client does not memoise pages). It must never call the API, journal, or draw server
// text without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package matrix

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/grid"
)

// Requested asks the root for the matrix's first page (GET /permissions?limit=First) and
// a reply with Loaded carrying the same Tag. First is a screen's rows and a margin, so
// the first frame comes at once whatever the matrix's size; the rest follows in pages
// of MorePage rows (MoreRequested), in the background.
type Requested struct {
	common.Tag
	First int
}

// Loaded is the reply to Requested: the first page (the whole matrix from a server that
// does not page, or when it fits). The root journals the view before sending it: one
// record for the whole matrix, naming its rows and how many pages it comes in; the
// pages after it are part of that view and are journaled only if one fails.
type Loaded struct {
	common.Tag
	Matrix *api.PermissionMatrix
	Err    error
}

// MoreRequested asks the root for the page after Cursor (GET
// /permissions?cursor=&limit=Limit) of the view Loaded began, and a reply with
// MoreLoaded carrying the same Tag. From is the rows loaded so far and Total the whole
// matrix's, to say which rows load.
type MoreRequested struct {
	common.Tag
	Cursor      string
	Limit       int
	From, Total int
}

// MoreLoaded is the reply to MoreRequested. Its rows' source indexes point into its own
// Sources table; the page merges them into one table.
type MoreLoaded struct {
	common.Tag
	Page *api.PermissionMatrix
	Err  error
}

// Page sizes: the first page is at least MinFirstPage rows (three screens at a tall
// terminal), the following ones MorePage, the most the server gives at once.
const (
	MinFirstPage = 100
	MorePage     = api.MaxMatrixPage
)

// ExplainRequested asks the root to fetch the explanation of one cell
// (GET /permissions/explain) and reply with ExplainLoaded carrying the same Tag.
type ExplainRequested struct {
	common.Tag
	Resource api.Resource
	Action   string
}

// ExplainLoaded is the reply to ExplainRequested. The root journals it (explain) before
// sending it.
type ExplainLoaded struct {
	common.Tag
	Explanation *api.Explanation
	Err         error
}

// CompareRequested asks the root to compare the cell under the cursor with a second
// user's (the c key): the root opens the compare view, which picks the user.
type CompareRequested struct {
	Resource api.Resource
	Action   string
}

// Glyphs of the three effects: single-cell and not East Asian ambiguous, so they line
// up in any terminal and read without colour.
const (
	GlyphAllow = "✓"
	GlyphDeny  = "✗"
	GlyphNone  = "⋅"
)

// KeyMap is the page's keys (the grid's movement keys included).
type KeyMap struct {
	Grid       grid.KeyMap
	Filter     key.Binding
	DenyOnly   key.Binding
	Explain    key.Binding
	Close      key.Binding
	Reload     key.Binding
	Compare    key.Binding
	Info       key.Binding // the cell whole (info.go)
	EndFilter  key.Binding
	ClearInput key.Binding
}

// DefaultKeyMap is the page's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Grid:       grid.DefaultKeyMap(),
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		DenyOnly:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deny rows only")),
		Explain:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "explain cell")),
		Close:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close explanation")),
		Reload:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload")),
		Compare:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare")),
		Info:       key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "cell details")),
		EndFilter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		ClearInput: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
}

// Model is the Permissions page. Create it with New; it is a common.Component and a
// common.Capturer.
type Model struct {
	// Follow is the pause after the cursor stops before the open explain panel asks
	// for the cell under it (FollowDelay; tests shorten it).
	Follow time.Duration

	ctx  *common.Context
	keys KeyMap

	load, explain common.Latest
	loading       bool
	loadErr       error

	// The matrix is loaded in pages: matrix holds every row loaded so far, once (each
	// page is merged in and let go), with one Sources table that every row's indexes
	// point into (sourceAt finds a source's index in it). next is the cursor of the page
	// to come ("" when all is loaded); total is the rows of the whole matrix as the
	// server counted them; more is set while a page is on its way, moreErr when the last
	// one failed (what loaded stays).
	matrix   *api.PermissionMatrix
	sourceAt map[api.PermissionSource]int
	next     string
	total    int
	more     bool
	moreErr  error
	// ids are the resource ids held, so a row a page repeats (a resource renamed while
	// the matrix loads moves in the server's order) is dropped, not held twice; asked are
	// the cursors followed, so a server that hands one out again is not followed round
	// for ever; served is the total the server gave with the last page, changed is set
	// when a row came twice or the rows held at the end are not that total.
	ids      map[string]struct{}
	asked    map[string]struct{}
	served   int
	changed  bool
	haystack []string // per row: lower-cased name, type and id, for the filter
	glyphs   []drawnGlyphs
	grid     *grid.Model[int]
	// nameW and typeW are the widest resource name and type (capped), measured once per
	// matrix; first is the first action column (after the name, and the type when shown).
	nameW, typeW int
	first        int

	filter    textinput.Model
	filtering bool
	denyOnly  bool
	panel     *panel
	info      *detail.Model // the cell whole (i); nil when closed
	width     int
	height    int
	layout    layout
}

// explainDue fires FollowDelay after the cursor moved with the panel open; only the
// newest (by its tag) asks the server.
type explainDue struct {
	common.Tag
	resource api.Resource
	action   string
}

// FollowDelay is the pause after the cursor stops before the open panel asks why for the
// cell now under it: holding a key down asks (and journals) once, not once a row.
const FollowDelay = 150 * time.Millisecond

// panel is the explain panel's state.
type panel struct {
	resource api.Resource
	action   string
	exp      *api.Explanation
	err      error
}

// New makes the Permissions page.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), Follow: FollowDelay}
	m.filter = textinput.New()
	m.filter.Prompt = "Filter: "
	m.filter.Placeholder = "resource name, type or id"
	m.filter.CharLimit = 100
	ctx.Styles.StyleInput(&m.filter)
	m.grid = grid.New(ctx.Styles, nil, m.cell)
	m.grid.SetMode(grid.CellCursor)
	m.grid.Empty = "No resource matches."
	return m
}

// Init asks for the matrix.
func (m *Model) Init() tea.Cmd { return m.Reload() }

// Reload asks for the matrix again, from its first page; any reply still on its way,
// page or not, is dropped.
func (m *Model) Reload() tea.Cmd {
	m.loading = true
	// The old view's page on its way is cancelled (ui/matrixload.go) and its reply, with
	// the old tag, dropped: nothing more of it is loading.
	if m.more {
		m.more, m.moreErr = false, errReloading
	}
	return common.Emit(Requested{Tag: m.load.Issue(m.ctx.Session), First: max(MinFirstPage, 3*m.height)})
}

// Capturing reports whether the filter input has the keyboard.
func (m *Model) Capturing() bool { return m.filtering }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.filter.SetWidth(max(1, width-ansi.StringWidth(m.filter.Prompt)-2))
	m.layoutColumns()
	m.relayout()
	if m.info != nil {
		m.info.SetSize(width, height)
	}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case Loaded:
		if !m.load.Current(msg) {
			return m, nil
		}
		m.loading = false
		m.loadErr = msg.Err
		if msg.Err == nil && msg.Matrix != nil {
			m.setMatrix(msg.Matrix)
			return m, m.askMore(msg.Tag)
		}
		if m.matrix != nil { // the reload failed: the old rows stay, nothing is on its way
			m.more = false
			if !m.complete() {
				m.moreErr = fmt.Errorf("the reload failed: %w", msg.Err)
				m.applyFilter()
			}
		}
	case MoreLoaded:
		if !m.load.Current(msg) || !m.more {
			return m, nil
		}
		m.more = false
		if msg.Err != nil || msg.Page == nil {
			m.moreErr = msg.Err
			m.applyFilter() // the placeholder row now says why the rest is missing
			return m, nil
		}
		if why := m.implausible(msg.Page); why != nil {
			m.moreErr = why // what loaded stays; the rest is not followed
			m.applyFilter()
			return m, nil
		}
		m.addPage(msg.Page)
		return m, m.askMore(msg.Tag)
	case explainDue:
		if m.panel == nil || !m.explain.Current(msg) {
			return m, nil
		}
		return m, common.Emit(ExplainRequested{Tag: msg.Tag, Resource: msg.resource, Action: msg.action})
	case ExplainLoaded:
		if m.panel == nil || !m.explain.Current(msg) {
			return m, nil
		}
		m.panel.exp, m.panel.err = msg.Explanation, msg.Err
		m.relayout()
		m.refreshInfo()
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.filtering {
			return m, m.edit(msg)
		}
	}
	return m, nil
}

// edit gives the filter a key or a paste, and filters by what it then holds.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	before := m.filter.Value()
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	if m.filter.Value() != before {
		m.applyFilter()
		return tea.Batch(cmd, m.follow())
	}
	return cmd
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if cmd, ok := detail.Route(&m.info, msg); ok {
		return cmd
	}
	if m.filtering {
		switch {
		case key.Matches(msg, m.keys.EndFilter):
			m.filtering = false
			m.filter.Blur()
			m.relayout()
		case key.Matches(msg, m.keys.ClearInput):
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.applyFilter()
			m.relayout()
			return m.follow()
		default:
			return m.edit(msg)
		}
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		m.relayout()
		return m.filter.Focus()
	case key.Matches(msg, m.keys.DenyOnly):
		m.denyOnly = !m.denyOnly
		m.applyFilter()
		return m.follow()
	case key.Matches(msg, m.keys.Close):
		if m.panel != nil {
			m.panel = nil
			m.explain.Forget()
			m.relayout()
		}
	case key.Matches(msg, m.keys.Reload):
		return m.Reload()
	case key.Matches(msg, m.keys.Compare):
		if res, action, ok := m.current(); ok {
			return common.Emit(CompareRequested{Resource: res, Action: action})
		}
	case key.Matches(msg, m.keys.Info):
		return m.openInfo()
	case key.Matches(msg, m.keys.Explain):
		res, action, ok := m.current()
		if !ok {
			return nil
		}
		m.panel = &panel{resource: res, action: action}
		m.relayout()
		return m.explainNow(res, action)
	default:
		m.grid.Update(msg)
		return m.follow()
	}
	return nil
}

// explainNow asks why for a cell at once (enter, i).
func (m *Model) explainNow(res api.Resource, action string) tea.Cmd {
	return common.Emit(ExplainRequested{Tag: m.explain.Issue(m.ctx.Session), Resource: res, Action: action})
}

// follow keeps the open panel on the cell under the cursor: it never describes a cell
// the cursor has left; the new cell's chain is asked for once the cursor rests.
func (m *Model) follow() tea.Cmd {
	if m.panel == nil {
		return nil
	}
	if r, ok := m.grid.Selected(); ok && r == pending {
		return nil // on the row of what still loads: the panel waits with the cursor (its row says so)
	}
	res, action, ok := m.current()
	if !ok { // no cell under the cursor: a filter that leaves none
		m.panel = nil
		m.explain.Forget()
		m.relayout()
		return nil
	}
	if res.ID == m.panel.resource.ID && action == m.panel.action {
		return nil
	}
	m.panel = &panel{resource: res, action: action}
	m.relayout()
	tag := m.explain.Issue(m.ctx.Session)
	return tea.Tick(m.Follow, func(time.Time) tea.Msg { return explainDue{Tag: tag, resource: res, action: action} })
}

// Column sizes. The name column is as wide as the widest name up to maxName, narrowed
// down to minName so that every action fits, and when they cannot all fit anyway, given
// up to two fifths of the width; the type
// column shows from typeFrom cells; action columns start one cell wider than their
// title (so neighbouring titles never touch) and spread up to maxAction on a wide
// terminal.
const (
	minName   = 12
	maxName   = 48
	maxType   = 16
	typeFrom  = 64
	minAction = 5
	maxAction = 11
)

// setMatrix takes a new matrix's first page (or the whole matrix): what was loaded
// before is let go, and the page is taken as addPage takes any.
func (m *Model) setMatrix(first *api.PermissionMatrix) {
	m.matrix = &api.PermissionMatrix{Subject: first.Subject, Actions: first.Actions}
	m.sourceAt = map[api.PermissionSource]int{}
	m.haystack, m.glyphs = nil, nil // the columns are laid out for this matrix
	m.nameW, m.typeW = len("Resource"), len("Type")
	m.total, m.next, m.more, m.moreErr = 0, "", false, nil
	m.ids, m.asked, m.served, m.changed = map[string]struct{}{}, map[string]struct{}{}, 0, false
	m.addPage(first)
}

// addPage merges a page into the matrix: its rows appended (the page's own slice, not a
// copy), their source indexes remapped from the page's table into the matrix's one, so
// the source of any cell reads the same whichever page brought it; the filter index
// built and the names measured for the new rows only.
func (m *Model) addPage(page *api.PermissionMatrix) {
	pm := m.matrix
	remap := make([]int, len(page.Sources))
	for i, src := range page.Sources {
		at, ok := m.sourceAt[src]
		if !ok {
			at = len(pm.Sources)
			pm.Sources = append(pm.Sources, src)
			m.sourceAt[src] = at
		}
		remap[i] = at
	}
	widths := [2]int{m.nameW, m.typeW}
	rows := page.Rows
	for i, r := range page.Rows {
		if _, dup := m.ids[r.Resource.ID]; dup {
			if len(rows) == len(page.Rows) {
				rows = slices.Clone(page.Rows[:i]) // from here on, the rows kept
			}
			m.changed = true
			continue
		}
		m.ids[r.Resource.ID] = struct{}{}
		if len(rows) != len(page.Rows) {
			rows = append(rows, r)
		}
		for a, i := range r.Sources {
			if i >= 0 && i < len(remap) {
				r.Sources[a] = remap[i]
			} else if i >= 0 {
				r.Sources[a] = unknownSource // outside the page's table: said as unknown
			}
		}
		m.haystack = append(m.haystack, strings.ToLower(r.Resource.Name+"\x00"+r.Resource.Type+"\x00"+r.Resource.ID))
		if m.nameW < maxName {
			m.nameW = min(maxName, max(m.nameW, safetext.Width(r.Resource.Name)))
		}
		if m.typeW < maxType {
			m.typeW = min(maxType, max(m.typeW, safetext.Width(r.Resource.Type)))
		}
	}
	pm.Rows = append(pm.Rows, rows...)
	m.next = page.NextCursor
	m.served = page.TotalRows
	m.total = max(page.TotalRows, len(pm.Rows))
	if m.next == "" {
		// All of it is here: what is held is the total, unless the server counted
		// otherwise (rows changed while loading: r reads it again).
		m.changed = m.changed || page.TotalRows > 0 && page.TotalRows != len(pm.Rows)
		m.total = len(pm.Rows)
	}
	if widths != [2]int{m.nameW, m.typeW} || len(m.glyphs) == 0 {
		m.layoutColumns()
	}
	m.applyFilter()
}

// errReloading is the old view's rest while the reload's first page is on its way.
var errReloading = errors.New("reloading")

// implausible is why a later page is not taken, nil when it is: a server (a broken
// third-party one) that sends a page of no rows that promises more, hands out a cursor
// it gave before, or sends more rows than it counted by more than a page, would
// otherwise be followed for ever and held without bound.
func (m *Model) implausible(page *api.PermissionMatrix) error {
	n := chart.Number
	switch {
	case page.NextCursor != "" && len(page.Rows) == 0:
		return errors.New("the server sent a page with no rows that says more follow; stopped")
	case page.NextCursor != "" && m.followed(page.NextCursor):
		return errors.New("the server gave a cursor it gave before, which would repeat pages for ever; stopped")
	case m.served > 0 && len(m.matrix.Rows)+len(page.Rows) > m.served+MorePage:
		return fmt.Errorf("the server sent more rows than the %s it counted; stopped at %s", n(float64(m.served)), n(float64(len(m.matrix.Rows))))
	}
	return nil
}

// followed reports whether cursor was asked for before in this view.
func (m *Model) followed(cursor string) bool {
	_, ok := m.asked[cursor]
	return ok
}

// unknownSource is the index a cell's source gets when its page's table has no such
// entry: beyond any table, so it is said as "an unknown source".
const unknownSource = 1 << 30

// askMore asks for the page after the rows loaded, if there is one.
func (m *Model) askMore(tag common.Tag) tea.Cmd {
	if m.next == "" {
		return nil
	}
	m.more, m.moreErr = true, nil
	m.asked[m.next] = struct{}{}
	return common.Emit(MoreRequested{Tag: tag, Cursor: m.next, Limit: MorePage, From: len(m.matrix.Rows), Total: m.total})
}

// totalWords is the whole matrix's rows while it loads: the server's count, or "more"
// when rows came beyond it.
func (m *Model) totalWords() string {
	if m.total <= len(m.matrix.Rows) {
		return "more"
	}
	return chart.Number(float64(m.total))
}

// complete reports whether every row of the matrix is loaded.
func (m *Model) complete() bool { return m.matrix != nil && m.next == "" }

// pending is the placeholder row under the rows loaded while the rest is on its way
// (or failed to come): the cursor may rest on it, and the page arriving takes its place.
const pending = -1

// rowsAfter names the rows after those loaded, up to n of them: "rows 101–5,100 of
// 50,000"; "rows after 5,100" when the server's count is behind what came (rows were
// added since it counted), so no total is claimed that is not known.
func (m *Model) rowsAfter(n int) string {
	from := len(m.matrix.Rows)
	if m.total <= from {
		return "rows after " + chart.Number(float64(from))
	}
	return "rows " + chart.Number(float64(from+1)) + "–" + chart.Number(float64(min(m.total, from+n))) +
		" of " + chart.Number(float64(m.total))
}

// layoutColumns sizes the columns to the matrix and the width: the resource's name,
// its type (when there is room), then the actions, spread over what is left.
func (m *Model) layoutColumns() {
	pm := m.matrix
	if pm == nil {
		return
	}
	actions := make([]int, len(pm.Actions))
	used := grid.Gutter
	for i, a := range pm.Actions {
		actions[i] = max(minAction, min(safetext.Width(a)+1, maxAction-2)) | 1 // odd: a glyph sits in the middle, bracketed or not
		used += actions[i] + 1
	}
	showType := m.width >= typeFrom
	if showType {
		used += m.typeW + 1
	}
	name := m.nameW
	switch {
	case used+name <= m.width:
	case m.width-used >= minName:
		name = m.width - used // every action in view; the longest names are cut
	default:
		// The actions scroll sideways anyway: the names keep up to two fifths of the width.
		name = min(m.nameW, max(minName, m.width*2/5))
	}
	// What is left spreads the action columns, two cells at a time so glyphs stay centred.
	for spare := m.width - used - name; spare >= 2; {
		grown := false
		for i := range actions {
			if spare >= 2 && actions[i] < maxAction {
				actions[i] += 2
				spare -= 2
				grown = true
			}
		}
		if !grown {
			break
		}
	}
	// A name cut keeps its end too ("Vehicle…00417"): resources are told apart there.
	cols := []grid.Column{{Key: colResource, Title: "Resource", Width: name, Middle: true}}
	if showType {
		cols = append(cols, grid.Column{Key: colType, Title: "Type", Width: m.typeW})
	}
	for i, a := range pm.Actions {
		cols = append(cols, grid.Column{Key: colAction, Title: a, Width: actions[i], Align: grid.Center})
	}
	action := m.colIndex() // kept when the type column comes or goes
	m.first = len(cols) - len(pm.Actions)
	m.drawGlyphs(cols[m.first:])
	m.grid.SetColumns(cols)
	m.grid.SetFrozen(m.first)
	row, _ := m.grid.Cursor()
	m.grid.SetCursor(row, m.first+max(0, action))
}

// applyFilter recomputes the visible rows, keeping the cursor on the same resource when
// it is still shown.
func (m *Model) applyFilter() {
	if m.matrix == nil {
		return
	}
	keep := -2
	cursor, col := m.grid.Cursor()
	if r, ok := m.grid.Selected(); ok {
		keep = r
	}
	needle := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	rows := make([]int, 0, len(m.matrix.Rows))
	at := 0
	for i, r := range m.matrix.Rows {
		if needle != "" && !strings.Contains(m.haystack[i], needle) {
			continue
		}
		if m.denyOnly && !strings.ContainsRune(r.Effects, rune(api.EffectDeny)) {
			continue
		}
		if i == keep {
			at = len(rows)
		}
		rows = append(rows, i)
	}
	if !m.complete() {
		if keep == pending {
			// Waiting on the placeholder: the rows the page brought take its place.
			at = min(cursor, len(rows))
		}
		rows = append(rows, pending)
	}
	m.grid.SetRows(rows)
	m.grid.SetCursor(at, col)
}

// layout is what the page shows at its height, decided by relayout.
type layout struct {
	summary, bar, detail bool // the summary line; the legend (or the filter); the cell's two lines
	panel, grid          int  // the explain panel's height (0: none) and the grid's
}

// relayout shares the height out. The grid's header and the cursor's row come first,
// then the legend (or the filter being typed), the explain panel, the summary and the
// cell's details; the panel takes what its chain needs but leaves the grid four more
// rows while there is room.
func (m *Model) relayout() {
	rest := m.height - 2
	take := func(n int) bool {
		ok := n > 0 && rest >= n
		if ok {
			rest -= n
		}
		return ok
	}
	var l layout
	l.bar = take(1)
	if m.panel != nil {
		body, _ := m.panelBody()
		l.panel = min(len(body)+2, max(3, rest-1-2-3), rest)
		if !take(l.panel) || l.panel < 3 {
			l.panel = 0
		}
	}
	l.summary = take(1)
	l.detail = take(2)
	l.grid = max(1, m.height) - boolLines(l.summary, 1) - boolLines(l.bar, 1) - boolLines(l.detail, 2) - l.panel
	if m.filtering && !l.bar && l.grid > 1 {
		l.bar, l.grid = true, l.grid-1 // what is typed is always seen
	}
	m.layout = l
	m.grid.SetSize(m.width, max(1, l.grid))
}

func boolLines(on bool, n int) int {
	if on {
		return n
	}
	return 0
}

// effect returns the effect byte and source index of a cell, tolerating a short row.
func (m *Model) effect(row, action int) (byte, int) {
	e, src := api.EffectNone, -1
	if row < 0 {
		return e, src
	}
	r := m.matrix.Rows[row]
	if action < len(r.Effects) {
		e = r.Effects[action]
	}
	if action < len(r.Sources) {
		src = r.Sources[action]
	}
	return e, src
}

// The matrix's column keys: the resource's name and type (frozen; the type only when
// there is room), then one column per action.
const (
	colResource = "resource"
	colType     = "type"
	colAction   = "action"
)

func (m *Model) cell(row, col int) grid.Cell {
	if row == pending {
		if m.grid.Column(col).Key == colResource {
			return grid.Cell{Text: m.pendingLine(), Paint: m.ctx.Styles.Muted}
		}
		return grid.Cell{}
	}
	r := m.matrix.Rows[row]
	switch m.grid.Column(col).Key {
	case colResource:
		return grid.Cell{Text: r.Resource.Name}
	case colType:
		return grid.Cell{Text: r.Resource.Type, Paint: m.ctx.Styles.Muted}
	}
	// An action's column: the actions follow the frozen columns in the matrix's order.
	e, _ := m.effect(row, col-m.first)
	g := m.glyphs[col-m.first]
	switch e {
	case api.EffectAllow:
		return grid.Cell{Text: GlyphAllow, Drawn: g.allow}
	case api.EffectDeny:
		return grid.Cell{Text: GlyphDeny, Drawn: g.deny}
	case api.EffectNone:
		return grid.Cell{Text: GlyphNone, Drawn: g.none}
	}
	return grid.Cell{Text: "?", Paint: m.ctx.Styles.Warn}
}

// drawnGlyphs are an action column's three cells, drawn once per matrix.
type drawnGlyphs struct{ allow, deny, none string }

// drawGlyphs draws the cells of the action columns.
func (m *Model) drawGlyphs(actions []grid.Column) {
	st := m.ctx.Styles
	m.glyphs = make([]drawnGlyphs, len(actions))
	for i, c := range actions {
		m.glyphs[i] = drawnGlyphs{
			allow: st.Allow.Apply(safetext.Center(GlyphAllow, c.Width)),
			deny:  st.Deny.Apply(safetext.Center(GlyphDeny, c.Width)),
			none:  st.None.Apply(safetext.Center(GlyphNone, c.Width)),
		}
	}
}

// current is the resource and action under the cursor.
func (m *Model) current() (api.Resource, string, bool) {
	row, ok := m.grid.Selected()
	a := m.colIndex()
	if !ok || row < 0 || m.matrix == nil || a < 0 || a >= len(m.matrix.Actions) {
		return api.Resource{}, "", false
	}
	return m.matrix.Rows[row].Resource, m.matrix.Actions[a], true
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	st := m.ctx.Styles
	switch {
	case m.matrix == nil && m.loadErr != nil:
		return common.Join(common.FitLines(st.Problem("Could not load the permissions:", m.loadErr, m.width, "r to try again"), m.width, m.height))
	case m.matrix == nil:
		return common.FitLine(st.Muted.Apply("Loading permissions…"), m.width)
	case m.info != nil:
		return m.info.View()
	}
	l := m.layout
	lines := make([]string, 0, m.height)
	if l.summary {
		lines = append(lines, m.summary())
	}
	switch {
	case l.bar && m.filtering:
		lines = append(lines, common.FitLine(st.InputView(m.filter), m.width))
	case l.bar:
		lines = append(lines, m.legend())
	}
	lines = append(lines, common.Fill(m.gridLines(), m.width, max(1, l.grid))...)
	if l.detail {
		lines = append(lines, m.detail()...)
	}
	if l.panel > 0 {
		lines = append(lines, m.panelView(l.panel)...)
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

// gridLines are the grid's lines, the placeholder row (if in view) drawn across the
// whole width: what it says is longer than the resource column.
func (m *Model) gridLines() []string {
	lines := m.grid.Lines()
	first, end := m.grid.VisibleRows()
	last := m.grid.Len() - 1
	if m.complete() || last < first || last >= end || 1+last-first >= len(lines) {
		return lines
	}
	mark := common.Spaces(grid.Gutter)
	if at, _ := m.grid.Cursor(); at == last {
		mark = grid.CursorMark
	}
	paint := m.ctx.Styles.Muted
	if !m.more {
		paint = m.ctx.Styles.Warn
	}
	lines[1+last-first] = common.FitLine(mark+paint.Apply(safetext.Fit(m.pendingLine(), m.width-grid.Gutter)), m.width)
	return lines
}

// summary names whose matrix it is and how much of it is shown.
func (m *Model) summary() string {
	st := m.ctx.Styles
	pm := m.matrix
	s := st.Title.Apply(safetext.Fit(pm.Subject.Name, max(8, m.width/3)))
	n := func(v int) string { return chart.Number(float64(v)) }
	shown := m.grid.Len()
	if !m.complete() {
		shown-- // the placeholder row
	}
	row := ""
	if r, ok := m.grid.Selected(); ok && r != pending {
		at, _ := m.grid.Cursor()
		row = " · row " + n(at+1)
	}
	// Of what: the whole matrix, or the rows loaded of the total the server counted.
	size := " resources × " + n(len(pm.Actions)) + " actions"
	switch {
	case m.complete() && m.changed && shown == len(pm.Rows):
		// No total is said: the rows held are not the matrix as it is now.
		s += row + " · " + n(len(pm.Rows)) + " rows loaded × " + n(len(pm.Actions)) + " actions"
	case m.complete() && shown == len(pm.Rows):
		s += row + " of " + n(len(pm.Rows)) + size
	case m.complete():
		s += row + " of " + n(shown) + " shown · " + n(shown) + " of " + n(len(pm.Rows)) + size
	case shown == len(pm.Rows):
		s += row + " · rows 1–" + n(len(pm.Rows)) + " of " + m.totalWords() + size
	default:
		s += row + " of " + n(shown) + " shown · from rows 1–" + n(len(pm.Rows)) + " of " + m.totalWords() + size
	}
	switch {
	case m.more && m.total > len(pm.Rows):
		s += st.Muted.Apply(" · loading " + n(min(MorePage, m.total-len(pm.Rows))) + " more…")
	case m.more:
		s += st.Muted.Apply(" · loading more…")
	case !m.complete():
		s += st.Warn.Apply(" · rest not loaded")
	case m.changed:
		s += st.Warn.Apply(" · rows changed while loading · r reloads")
	}
	if m.loading {
		s += st.Muted.Apply(" · reloading…")
	} else if m.loadErr != nil {
		s += st.Warn.Apply(" · the reload failed · r tries again") // the rows shown are the last view's
	}
	return common.FitLine(s, m.width)
}

// legend says what the glyphs mean, then which filters are on, then the hint.
func (m *Model) legend() string {
	st := m.ctx.Styles
	s := st.Allow.Apply(GlyphAllow) + " allow  " + st.Deny.Apply(GlyphDeny) + " deny  " + st.None.Apply(GlyphNone) + " none"
	if v := strings.TrimSpace(m.filter.Value()); v != "" {
		s += " │ filter \"" + safetext.Fit(v, 20) + "\""
	}
	if m.denyOnly {
		s += " │ " + st.Deny.Apply("deny rows only")
	}
	return common.FitLine(s+st.Muted.Apply(" │ enter: why?"), m.width)
}

// detail is two lines about the cell under the cursor: where it is, and what decided it.
func (m *Model) detail() []string {
	st := m.ctx.Styles
	row, ok := m.grid.Selected()
	if ok && row == pending {
		what, why := m.pendingWords()
		return common.FitLines([]string{st.Muted.Apply(what), why}, m.width, 2)
	}
	res, action, okc := m.current()
	if !ok || !okc {
		return common.FitLines(nil, m.width, 2)
	}
	e, src := m.effect(row, m.colIndex())
	where := st.Bold.Apply(safetext.Fit(res.Name, m.width/2)) + " " + st.Muted.Apply(safetext.Fit("("+res.ID+")", m.width/3)) + " · " + st.Accent.Apply(safetext.Fit(action, 20))
	// The source is cut with an ellipsis so a cut name never reads as a whole one.
	by := func(said string) string {
		return said + " by " + safetext.Fit(m.source(src), m.width-common.Width(said)-len(" by "))
	}
	var what string
	switch e {
	case api.EffectAllow:
		what = by(st.Allow.Apply(GlyphAllow + " allowed"))
	case api.EffectDeny:
		what = by(st.Deny.Apply(GlyphDeny + " denied"))
	case api.EffectNone:
		what = st.None.Apply(GlyphNone+" not granted") + ": nothing grants it"
	default:
		what = st.Warn.Apply("? unknown effect " + safetext.Clean(string(e)))
	}
	return []string{common.FitLine(where, m.width), common.FitLine(what, m.width)}
}

// pendingWords say what the placeholder row waits for: the rows on their way, or which
// did not come, how to try again, and why.
func (m *Model) pendingWords() (what, why string) {
	if m.more {
		return "… loading " + m.rowsAfter(MorePage) + m.escStops(), ""
	}
	why = "stopped"
	if m.moreErr != nil {
		why = safetext.Clean(m.moreErr.Error())
	}
	return m.rowsAfter(m.total) + " not loaded · r reloads", why
}

// pendingLine is pendingWords on one line.
func (m *Model) pendingLine() string {
	what, why := m.pendingWords()
	if why != "" {
		what += ": " + why
	}
	return what
}

// colIndex is the action under the cursor (an index of Actions; below 0 for none).
func (m *Model) colIndex() int {
	_, col := m.grid.Cursor()
	return col - m.first
}

// source says in words where an effect came from.
func (m *Model) source(i int) string {
	if i < 0 || i >= len(m.matrix.Sources) {
		return "an unknown source"
	}
	s := m.matrix.Sources[i]
	name := safetext.Clean(s.Name)
	via := ""
	if s.Via != "" {
		via = " via " + safetext.Clean(s.Via)
	}
	switch s.Kind {
	case api.SourceRole:
		return "role " + name
	case api.SourceTeam:
		return "team role " + name + via
	case api.SourceDirect:
		return "direct grant " + name
	case api.SourceDeny:
		return "explicit deny " + name + via
	}
	return safetext.Clean(s.Kind) + " " + name + via
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if short, _, ok := m.infoHelp(); ok {
		return short
	}
	if m.filtering {
		return []key.Binding{m.keys.EndFilter, m.keys.ClearInput}
	}
	if m.matrix == nil {
		// Nothing to explain or filter yet: while it loads no key of the page's does
		// anything; when it failed, r tries again (as the page says).
		if m.loadErr != nil {
			return []key.Binding{m.keys.Reload}
		}
		return nil
	}
	hs := []key.Binding{m.keys.Explain, m.keys.Info, m.keys.Compare, m.keys.Filter, m.keys.DenyOnly}
	if m.panel != nil {
		hs = append(hs, m.keys.Close)
	}
	return hs
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if _, full, ok := m.infoHelp(); ok {
		return full
	}
	if m.matrix == nil {
		if short := m.ShortHelp(); len(short) > 0 {
			return [][]key.Binding{short}
		}
		return nil
	}
	g := m.keys.Grid
	return [][]key.Binding{
		{g.Up, g.Down, g.Left, g.Right, g.PageUp, g.PageDown, g.Top, g.Bottom},
		{m.keys.Explain, m.keys.Info, m.keys.Compare, m.keys.Close, m.keys.Filter, m.keys.DenyOnly, m.keys.Reload},
	}
}

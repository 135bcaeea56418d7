// Package picker is the user picker: the directory (name, email, company, team, role)
// in a virtualised list, searched on the server as you type (debounced), with more pages
// loaded as the cursor nears the end. Users who may not be impersonated are dimmed,
// marked ⊘ with the server's reason, and cannot be picked.
//
// It asks for pages with messages (SearchRequested, LoadMore) and takes replies
// (PageLoaded) only when they answer its newest query and the page it is waiting for, so
// a slow reply for "al" never lands on the list for "ali". It must never call the API
// or draw server text without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package picker

import (
	"cmp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/grid"
)

// SearchRequested asks the root for the first page of users matching Query
// (GET /users?q=) and a PageLoaded reply with the same Tag and an empty Cursor.
type SearchRequested struct {
	common.Tag
	Query string
}

// LoadMore asks for the page after Cursor of the same query; the reply is a PageLoaded
// with the same Tag, Cursor and Back. Back asks again for a page above the ones held
// (the picker let it go when the cursor went far below it); its Cursor is the one that
// fetched it first ("" for the first page).
type LoadMore struct {
	common.Tag
	Query  string
	Cursor string
	Back   bool
}

// PageLoaded is the reply to SearchRequested (Cursor "") or LoadMore (Cursor and Back as
// asked).
type PageLoaded struct {
	common.Tag
	Cursor string
	Back   bool
	Page   *api.UsersPage
	Err    error
}

// KeepPages is how many directory pages the picker holds at once, around the cursor:
// pages further away are let go and asked for again when the cursor comes back, so its
// memory is the same for 100 users and 1,000,000 (see docs/BENCHMARKS.md).
const KeepPages = 5

// pageRef is one page of the query shown, held or not: the cursor that fetches it and
// its number of rows.
type pageRef struct {
	cursor string
	rows   int
}

// Picked says the admin chose a user who may be impersonated.
type Picked struct{ User api.User }

// debounced fires Debounce after a keystroke in the search box; only the tick of the
// newest keystroke (by its tag) starts a search.
type debounced struct{ common.Tag }

// DefaultDebounce is the pause in typing after which a search is sent.
const DefaultDebounce = 150 * time.Millisecond

// GlyphBlocked marks a user who may not be impersonated (single-cell, unambiguous).
const GlyphBlocked = "⊘"

// KeyMap is the picker's keys.
type KeyMap struct {
	Grid       grid.KeyMap
	Pick       key.Binding
	Search     key.Binding
	EndSearch  key.Binding
	ClearInput key.Binding
	// NewSearch and ClearSearch are / and esc while a search is kept (typed, then
	// enter): / starts a new one, esc goes back to the whole directory.
	NewSearch   key.Binding
	ClearSearch key.Binding
	Info        key.Binding // the user under the cursor, whole (enter starts the session)
}

// DefaultKeyMap is the picker's bindings.
func DefaultKeyMap() KeyMap {
	g := grid.DefaultKeyMap()
	g.Bottom.SetHelp("G/end", "last user")
	return KeyMap{
		Grid:        g,
		Pick:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "shadow user")),
		Search:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		EndSearch:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep search")),
		ClearInput:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
		NewSearch:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "new search")),
		ClearSearch: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
		Info:        key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "user details")),
	}
}

// Model is the picker. Create it with New; it is a common.Component and a
// common.Capturer.
type Model struct {
	// Debounce is the typing pause before a search is sent.
	Debounce time.Duration
	// Prefetch is how close (in rows) the cursor gets to the end of the loaded rows
	// before the next page is asked for.
	Prefetch int

	ctx   *common.Context
	keys  KeyMap
	title string // what the list is for ("Pick a user to shadow" unless told)

	search       common.Latest
	query        string // the query of the newest tag
	shownQuery   string // the query the rows on screen answer
	typing       bool   // a keystroke's debounce is running
	waitingFirst bool   // the newest query's first page is on its way
	waitingMore  bool   // the page after next is on its way
	waitingBack  bool   // a page above the held ones is on its way
	next         string // the cursor of the page after the last one fetched; "" at the end
	// pages are every page of the query fetched so far, in order; the grid holds pages
	// [lo, hi), and offset rows come before its first.
	pages          []pageRef
	lo, hi, offset int
	// toEnd is set by G/end while the pages up to the last are fetched one after the
	// other (held only near the cursor); esc stops it.
	toEnd  bool
	total  int
	err    error
	notice string
	// pickQueued is set when enter is pressed before the list answers what was typed:
	// the pick waits for the answer instead of taking whoever the old list showed.
	pickQueued bool
	// refused is set when enter was pressed on a user who cannot be shadowed, until the
	// next key: the line about them says why, in the error's colour.
	refused bool

	grid      *grid.Model[api.User]
	info      *detail.Model // the user under the cursor, whole (i); nil when closed
	input     textinput.Model
	searching bool
	width     int
	height    int
}

// New makes the picker.
func New(ctx *common.Context) *Model {
	m := &Model{Debounce: DefaultDebounce, ctx: ctx, keys: DefaultKeyMap(), total: -1}
	m.input = textinput.New()
	m.input.Prompt = "/ "
	m.input.Placeholder = "name, email or company"
	m.input.CharLimit = 200
	ctx.Styles.StyleInput(&m.input)
	m.grid = grid.New(ctx.Styles, nil, m.cell)
	m.grid.SetRowPaint(func(u api.User) common.Paint {
		if u.Impersonable {
			return common.Paint{}
		}
		return ctx.Styles.Dim
	})
	return m
}

// SetPickHelp says what enter does with the user, in the hints ("shadow user" unless
// told): the compare view picks a user to compare with.
func (m *Model) SetPickHelp(desc string) { m.keys.Pick.SetHelp("enter", desc) }

// SetTitle says what the list is for, above it ("Pick a user to shadow" unless told):
// the compare view picks the user to compare with. title must be clean (safetext).
func (m *Model) SetTitle(title string) { m.title = title }

// Init asks for the first page of the whole directory.
func (m *Model) Init() tea.Cmd {
	tag := m.search.Issue(m.ctx.Session)
	m.query, m.waitingFirst, m.waitingMore, m.waitingBack, m.toEnd = "", true, false, false, false
	return common.Emit(SearchRequested{Tag: tag})
}

// Refresh asks again for the first page of the query shown (after signing in again, say).
func (m *Model) Refresh() tea.Cmd {
	tag := m.search.Issue(m.ctx.Session)
	m.waitingFirst, m.waitingMore, m.waitingBack, m.typing, m.toEnd = true, false, false, false, false
	return common.Emit(SearchRequested{Tag: tag, Query: m.query})
}

// Row is the cursor's row in the whole list (0 for the first), held or not.
func (m *Model) Row() int {
	row, _ := m.grid.Cursor()
	return m.offset + row
}

// Held is how many users the picker holds now (at most KeepPages pages).
func (m *Model) Held() int { return m.grid.Len() }

// Capturing reports whether the search box has the keyboard.
func (m *Model) Capturing() bool { return m.searching }

// Waiting reports whether the list is about to change: a keystroke's pause is running
// or a page is on its way.
func (m *Model) Waiting() bool {
	return m.typing || m.waitingFirst || m.waitingMore || m.waitingBack || m.toEnd
}

// Query is the query the list shows (or is about to).
func (m *Model) Query() string { return m.query }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.SetWidth(max(1, width-ansi.StringWidth(m.input.Prompt)-1))
	m.grid.SetColumns(columns(width))
	m.grid.SetSize(width, max(1, height-m.extraLines()))
	if m.info != nil {
		m.info.SetSize(width, height)
	}
	if m.Prefetch == 0 {
		m.Prefetch = max(10, height)
	}
}

// compactBelow is the height under which the picker keeps one line above the list and
// one below it, so a short terminal still shows users.
const compactBelow = 8

// extraLines is what the picker draws besides the list: a title, the search line, the
// line about the user under the cursor and its own status line; on a short terminal
// only one line above the list and one below.
func (m *Model) extraLines() int {
	switch {
	case m.height >= compactBelow:
		return 4
	case m.height >= 4:
		return 2
	}
	return max(0, m.height-2) // the list's header and a row first
}

// columns are the directory's columns for a width: a note column with the reason a
// user cannot be picked when there is room for it. Their widths follow the rows on
// screen (grid.Column.Fit), so a name is cut only when the row has no room for it, and
// then in the middle, where it tells least ("Ava Eri…00417"); the team gives way first.
func columns(width int) []grid.Column {
	cols := []grid.Column{
		{Key: colMark, Title: "", Width: 1},
		{Key: colName, Title: "Name", Width: 8, Flex: 2, Fit: true, Middle: true},
		{Key: colEmail, Title: "Email", Width: 10, Flex: 3, Fit: true},
		{Key: colCompany, Title: "Company", Width: 8, Flex: 2, Fit: true, Middle: true},
		{Key: colTeam, Title: "Team", Width: 6, Flex: 1, Fit: true, Path: true}, // the first to give way; a team path cut to its team ("…/North-East")
		{Key: colRole, Title: "Role", Width: 6, Flex: 2, Fit: true},             // "Finance Analyst", "Company Admin"
	}
	if width >= 110 {
		// The note takes what the others leave: the line under the list says it whole.
		cols = append(cols, grid.Column{Key: colNote, Title: "Note", Width: 14, Flex: 3})
	}
	return cols
}

// The directory's column keys.
const (
	colMark    = "mark" // ⊘ for a user who cannot be picked
	colName    = "name"
	colEmail   = "email"
	colCompany = "company"
	colTeam    = "team"
	colRole    = "role"
	colNote    = "note" // why a user cannot be picked
)

func (m *Model) cell(u api.User, col int) grid.Cell {
	switch m.grid.Column(col).Key {
	case colMark:
		if !u.Impersonable {
			return grid.Cell{Text: GlyphBlocked}
		}
		return grid.Cell{}
	case colName:
		return grid.Cell{Text: u.Name}
	case colEmail:
		return grid.Cell{Text: u.Email}
	case colCompany:
		return grid.Cell{Text: u.Company}
	case colTeam:
		return grid.Cell{Text: u.Team}
	case colRole:
		return grid.Cell{Text: u.Role}
	case colNote:
		return grid.Cell{Text: u.NotImpersonableReason}
	}
	return grid.Cell{}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case debounced:
		if !m.search.Current(msg) {
			return m, nil // a newer keystroke has its own tick coming
		}
		m.waitingFirst, m.waitingMore, m.typing = true, false, false
		return m, common.Emit(SearchRequested{Tag: msg.Tag, Query: m.query})
	case PageLoaded:
		return m, m.page(msg)
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.searching {
			return m, m.edit(msg)
		}
	}
	return m, nil
}

// page takes a reply if it is the one awaited, and asks for more if the cursor is
// already near the end.
func (m *Model) page(msg PageLoaded) tea.Cmd {
	if !m.search.Current(msg) {
		return nil
	}
	first := msg.Cursor == "" && !msg.Back
	fwd, _ := m.forward()
	switch {
	case first && m.waitingFirst:
		m.waitingFirst = false
	case msg.Back && m.waitingBack && m.lo > 0 && msg.Cursor == m.pages[m.lo-1].cursor:
		m.waitingBack = false
	case !first && !msg.Back && m.waitingMore && msg.Cursor == fwd:
		m.waitingMore = false
	default:
		return nil // a duplicate, or a page nobody asked for
	}
	if msg.Err != nil {
		m.err, m.toEnd = msg.Err, false
		if first {
			m.grid.SetRows(nil)
			m.next, m.total = "", -1
			m.pages, m.lo, m.hi, m.offset = nil, 0, 0, 0
			m.shownQuery = m.query
		}
		return nil
	}
	m.err = nil
	var users []api.User
	if msg.Page != nil {
		users = msg.Page.Users
	}
	switch {
	case first:
		m.grid.SetRows(users)
		m.grid.SetCursor(0, 0)
		m.shownQuery = m.query
		m.pages, m.lo, m.hi, m.offset = []pageRef{{rows: len(users)}}, 0, 1, 0
		m.next, m.total = "", -1
		if msg.Page != nil {
			m.next, m.total = msg.Page.NextCursor, msg.Page.Total
		}
		if m.toEnd { // G came before the first page: it goes on from here
			m.grid.SetCursor(m.grid.Len()-1, 0)
		}
	case msg.Back:
		m.lo--
		m.pages[m.lo].rows = len(users)
		m.offset -= len(users)
		m.grid.PrependRows(users...)
		for m.hi-m.lo > KeepPages { // let go of the page furthest below
			m.hi--
			m.grid.DropLast(m.pages[m.hi].rows)
		}
	default:
		if m.hi == len(m.pages) { // a page never fetched before: the newest end
			m.pages = append(m.pages, pageRef{cursor: msg.Cursor, rows: len(users)})
			m.next = ""
			if msg.Page != nil {
				m.next = msg.Page.NextCursor
				if msg.Page.Total >= 0 {
					m.total = msg.Page.Total
				}
			}
		} else {
			m.pages[m.hi].rows = len(users)
		}
		m.hi++
		m.grid.AppendRows(users...)
		if m.toEnd {
			m.grid.SetCursor(m.grid.Len()-1, 0)
		}
		for m.hi-m.lo > KeepPages { // let go of the page furthest above
			n := m.pages[m.lo].rows
			m.lo++
			m.offset += n
			m.grid.DropFirst(n)
		}
	}
	if first && m.pickQueued {
		m.pickQueued, m.notice = false, ""
		return tea.Batch(m.pick(), m.maybeLoadMore())
	}
	return m.maybeLoadMore()
}

// pick takes the user under the cursor, if they may be shadowed.
func (m *Model) pick() tea.Cmd {
	u, ok := m.grid.Selected()
	if !ok {
		m.notice = "No user matches " + quoted(m.shownQuery) + "."
		return nil
	}
	if !u.Impersonable {
		m.refused = true // the line about the user says why, now as an error: said once
		return nil
	}
	return common.Emit(Picked{User: u})
}

func quoted(s string) string { return "\"" + safetext.Fit(s, 30) + "\"" }

// forward is the cursor of the page after the held ones, ok false at the end.
func (m *Model) forward() (cursor string, ok bool) {
	if m.hi < len(m.pages) {
		return m.pages[m.hi].cursor, true
	}
	return m.next, m.next != ""
}

// maybeLoadMore asks for the page after the held ones when the cursor nears their end
// (or G is on its way to the last), and for the page before them when it nears their
// start.
func (m *Model) maybeLoadMore() tea.Cmd {
	if m.waitingFirst {
		return nil
	}
	row, _ := m.grid.Cursor()
	var cmds []tea.Cmd
	if fwd, ok := m.forward(); ok && !m.waitingMore && (m.toEnd || row >= m.grid.Len()-1-m.Prefetch) {
		m.waitingMore = true
		cmds = append(cmds, common.Emit(LoadMore{Tag: m.search.Tag(), Query: m.query, Cursor: fwd}))
	} else if !ok {
		m.toEnd = false
	}
	if m.lo > 0 && !m.waitingBack && !m.toEnd && row <= m.Prefetch {
		m.waitingBack = true
		cmds = append(cmds, common.Emit(LoadMore{Tag: m.search.Tag(), Query: m.query, Cursor: m.pages[m.lo-1].cursor, Back: true}))
	}
	return tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if cmd, ok := detail.Route(&m.info, msg); ok {
		return cmd
	}
	m.notice, m.refused = "", false
	m.pickQueued = false // any key but another enter cancels a waiting pick
	if m.searching {
		switch {
		case key.Matches(msg, m.keys.EndSearch):
			m.searching = false
			m.input.Blur()
			return nil
		case key.Matches(msg, m.keys.ClearInput):
			m.searching = false
			m.input.Blur()
			if m.input.Value() == "" {
				return nil
			}
			m.input.SetValue("")
			return m.typed()
		case key.Matches(msg, m.keys.Grid.Up, m.keys.Grid.Down, m.keys.Grid.PageUp, m.keys.Grid.PageDown) && msg.Text == "":
			m.grid.Update(msg)
			return m.maybeLoadMore()
		}
		return m.edit(msg)
	}
	switch {
	case m.toEnd && key.Matches(msg, m.keys.ClearInput):
		m.toEnd = false // esc stops the way to the end where it is
		return nil
	case key.Matches(msg, m.keys.Grid.Bottom) && (m.waitingFirst || m.typing):
		// Before the list answers the query (the first page on its way, or the rows of
		// the last one still shown) the end is not known yet: G waits for the first page
		// and goes on from it, as a queued enter does.
		m.toEnd = true
		return nil
	case key.Matches(msg, m.keys.Grid.Bottom):
		// The real end, not the last row held: the pages up to it are fetched one after
		// the other, and let go of as the cursor passes.
		m.grid.SetCursor(m.grid.Len()-1, 0)
		if _, more := m.forward(); more {
			m.toEnd = true
		}
		return m.maybeLoadMore()
	case key.Matches(msg, m.keys.Grid.Top) && m.lo > 0:
		m.grid.SetRows(nil) // the first page again, as a new search of the same query
		return m.Refresh()
	case key.Matches(msg, m.keys.Search):
		m.searching = true
		focus := m.input.Focus()
		if m.input.Value() != "" {
			// A new search, not more words on the kept one: the box starts empty and the
			// list goes back to everyone until something is typed.
			m.input.SetValue("")
			return tea.Batch(focus, m.typed())
		}
		return focus
	case key.Matches(msg, m.keys.ClearSearch) && m.input.Value() != "":
		m.input.SetValue("")
		return m.typed()
	case key.Matches(msg, m.keys.Info):
		if u, ok := m.grid.Selected(); ok {
			m.info = detail.New(m.ctx, "User "+safetext.Clean(u.Name), userFields(u))
			m.info.SetSize(m.width, m.height)
		}
		return nil
	case key.Matches(msg, m.keys.Pick):
		if m.typing || m.waitingFirst {
			m.pickQueued = true
			m.notice = "Searching… enter will pick the first match."
			return nil
		}
		return m.pick()
	}
	if m.grid.Update(msg) {
		return m.maybeLoadMore()
	}
	return nil
}

// edit gives the search box a key or a paste, and searches for what it then holds.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if clean := safetext.Clean(m.input.Value()); clean != m.input.Value() {
		m.input.SetValue(clean) // what is searched is what is shown
	}
	if m.input.Value() != before {
		return tea.Batch(cmd, m.typed())
	}
	return cmd
}

// typed starts the debounce for the search box's new value: a new tag now (so replies to
// the old query are stale at once), the search itself when the tick comes back.
func (m *Model) typed() tea.Cmd {
	tag := m.search.Issue(m.ctx.Session)
	m.query = strings.TrimSpace(m.input.Value())
	m.waitingFirst, m.waitingMore, m.typing = false, false, true
	return tea.Tick(m.Debounce, func(time.Time) tea.Msg { return debounced{Tag: tag} })
}

func reason(u api.User) string {
	r := safetext.Clean(u.NotImpersonableReason)
	if r == "" {
		r = "the server does not allow it"
	}
	if u.NotImpersonableCode != "" {
		r += " (" + safetext.Clean(string(u.NotImpersonableCode)) + ")"
	}
	return r
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	if m.info != nil {
		return m.info.View()
	}
	st := m.ctx.Styles
	title := st.Title.Apply(cmp.Or(m.title, "Pick a user to shadow"))
	if c := m.counts(); c != "" {
		title += st.Muted.Apply(" · " + c)
	}
	search := st.Muted.Apply("/ to search by name, email or company")
	switch {
	case m.searching:
		search = st.InputView(m.input)
	case m.input.Value() != "":
		// A kept search says how to leave it (the input's own view pads to its width).
		search = m.input.Prompt + safetext.Clean(m.input.Value()) + st.Muted.Apply(" · esc clears · / new search")
	}
	switch {
	case m.waitingFirst && m.grid.Len() == 0:
		m.grid.Empty = "Searching…"
	case m.err != nil && m.grid.Len() == 0:
		m.grid.Empty = "Search failed."
	default:
		m.grid.Empty = "No user matches."
	}
	list := common.Fill(m.grid.Lines(), m.width, m.grid.BodyHeight()+1)
	status := m.status()
	lines := make([]string, 0, m.height)
	if m.height < compactBelow {
		// Short: the search when there is one (else the title), the list, then the
		// picker's own news (else who is under the cursor).
		top, bottom := common.FitLine(title, m.width), status
		if m.searching || m.input.Value() != "" {
			top = common.FitLine(search, m.width)
		}
		if bottom == "" {
			bottom = m.detail(1)[0]
		}
		switch m.extraLines() {
		case 2:
			lines = append(append(append(lines, top), list...), common.FitLine(bottom, m.width))
		case 1:
			lines = append(append(lines, top), list...)
		default:
			lines = list
		}
		return common.Join(common.Fill(lines, m.width, m.height))
	}
	lines = append(lines, common.FitLine(title, m.width), common.FitLine(search, m.width))
	lines = append(lines, list...)
	if status == "" {
		lines = append(lines, m.detail(2)...) // a long reason takes the free line under it
	} else {
		lines = append(lines, m.detail(1)[0], common.FitLine(status, m.width))
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

// counts says where the cursor is in the whole list and how long it is: "row 1 of 44
// users", "row 1 of 1 user matching "nora"", "row 34,501 of 100,055 users", "row 7 of
// 600+ users matching "gen"" (a search's total is not always known). Empty when a
// search failed and the list is empty.
func (m *Model) counts() string {
	n := m.grid.Len()
	num := func(v int) string { return chart.Number(float64(v)) }
	users := func(v int) string { return num(v) + " " + words.Plural(v, "user", "users") }
	matching := ""
	if m.shownQuery != "" {
		matching = " matching " + quoted(m.shownQuery)
	}
	known := m.offset + n // rows fetched up to the last held
	for _, p := range m.pages[min(m.hi, len(m.pages)):] {
		known += p.rows
	}
	row := ""
	if n > 0 {
		row = "row " + num(m.Row()+1) + " of "
	}
	switch {
	case m.err != nil && n == 0, m.pages == nil:
		return "" // failed, or nothing fetched yet: no count is known, not even 0
	case m.total >= 0:
		return row + users(m.total) + matching
	case m.next != "":
		return row + num(known) + "+ users" + matching
	}
	return row + users(known) + matching
}

// detail says who is under the cursor and whether they can be shadowed, in at most
// maxLines lines of exactly the width (a long reason wraps instead of being cut).
func (m *Model) detail(maxLines int) []string {
	st := m.ctx.Styles
	u, ok := m.grid.Selected()
	if !ok {
		return common.FitLines(nil, m.width, maxLines)
	}
	if !u.Impersonable {
		paint := st.Warn
		if m.refused {
			paint = st.Error
		}
		var lines []string
		for _, l := range safetext.Wrap(GlyphBlocked+" Cannot shadow "+u.Name+": "+reason(u), m.width, maxLines) {
			lines = append(lines, paint.Apply(l))
		}
		return common.FitLines(lines, m.width, maxLines)
	}
	line := st.Bold.Apply(safetext.Clean(u.Name)) + " · " + safetext.Clean(u.Email) + " · " + safetext.Clean(u.Company) + st.Muted.Apply(" · enter to shadow read-only")
	return common.FitLines([]string{line}, m.width, maxLines)
}

// status is the picker's own line: a refusal to pick, a failed search, or progress; ""
// when it has nothing to say.
func (m *Model) status() string {
	st := m.ctx.Styles
	switch {
	case m.notice != "":
		return st.Warn.Apply(safetext.Clean(m.notice))
	case m.err != nil:
		return st.Error.Apply("Search failed: ") + safetext.Clean(m.err.Error())
	case m.waitingFirst || m.typing:
		return st.Muted.Apply("Searching…")
	case m.toEnd:
		return st.Muted.Apply("Going to the end… esc stops here")
	case m.waitingMore || m.waitingBack:
		return st.Muted.Apply("Loading more…")
	}
	return ""
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.info != nil:
		return m.info.ShortHelp()
	case m.searching:
		return []key.Binding{m.keys.EndSearch, m.keys.ClearInput}
	case m.input.Value() != "":
		return []key.Binding{m.keys.Pick, m.keys.Info, m.keys.NewSearch, m.keys.ClearSearch}
	}
	return []key.Binding{m.keys.Pick, m.keys.Info, m.keys.Search}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if m.info != nil {
		return m.info.FullHelp()
	}
	g := m.keys.Grid
	return [][]key.Binding{
		{g.Up, g.Down, g.PageUp, g.PageDown, g.Top, g.Bottom, g.Left, g.Right},
		{m.keys.Pick, m.keys.Info, m.keys.Search, m.keys.EndSearch, m.keys.ClearInput},
	}
}

// userFields are a directory entry's fields for the detail view: who, where, their ids
// (copyable) and whether they may be shadowed, with the server's reason when not.
func userFields(u api.User) []detail.Field {
	may := "yes"
	if !u.Impersonable {
		may = "no: " + reason(u)
	}
	fs := []detail.Field{
		{Label: "Name", Value: u.Name},
		{Label: "Email", Value: u.Email, Copy: true},
		{Label: "User id", Value: u.ID, Copy: true},
		{Label: "Company", Value: u.Company},
		{Label: "Company id", Value: u.CompanyID, Copy: true},
		{Label: "Team", Value: u.Team},
		{Label: "Role", Value: u.Role},
		{Label: "Kind", Value: u.Kind},
	}
	if u.Phone != "" {
		fs = append(fs, detail.Field{Label: "Phone", Value: u.Phone})
	}
	fs = append(fs, detail.Field{Label: "May be shadowed", Value: may})
	if len(u.Redacted) > 0 {
		fs = append(fs, detail.Field{Label: "Withheld", Value: strings.Join(u.Redacted, ", ")})
	}
	return fs
}

// Package grid is a generic, virtualised table: it keeps every row but draws only the
// rows and columns that fit, so drawing costs the same for 50 rows or 100,000 (in the
// manner of pug's generic table). It has a row cursor (pick a row) or a cell cursor
// (pick a cell), frozen leading columns that stay put when scrolling sideways, column
// widths measured in cells, and a header that says when columns are hidden.
//
// It draws cell text from the row type through safetext, so callers hand it server text
// as it came. It must never hold styles of its own (they come from common.Styles, built
// once) and never draw a row or column that is not visible.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package grid

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Align places text in its column.
type Align int

// Alignments.
const (
	Left Align = iota
	Right
	Center
)

// Column describes one column. Width is its width in cells (its minimum, when Flex is
// set); Flex is its share of the width left over once every column has its Width.
type Column struct {
	// Key names the column for the page's cell function, so a cell is chosen by what
	// the column is, not where it stands (a column added or dropped for the width
	// moves no other).
	Key   string
	Title string
	Width int
	Flex  int
	Align Align
	// Fit sizes the column from the rows on screen: as wide as its widest visible cell
	// (and its title), at least Width. When the columns do not all fit, each is capped at
	// one width scaled by its Flex (1 when none), the largest that fits: the widest are
	// narrowed first, so a short column is never cut to make room for a long one, and a
	// column with more Flex keeps more. What is left of the width is shared by Flex.
	Fit bool
	// Max, when set on a Fit column, is how wide it may grow from its cells when the
	// columns cannot all fit even at their Width (the grid then scrolls sideways): each
	// keeps its widest visible cell up to Max rather than all being cut to their floor.
	Max int
	// Middle cuts a cell too long for the column in the middle (safetext.FitMiddle),
	// for ids and names whose end tells them apart ("Ava Eri…00417").
	Middle bool
	// Path cuts a cell that is a path ("North / North-East") to its last part
	// (safetext.FitPath), which is what tells the rows apart.
	Path bool
}

// Cell is what a row shows in one column: text (untrusted, sanitised when drawn) and an
// optional paint.
type Cell struct {
	Text  string
	Paint common.Paint
	// Drawn, when set, is the cell already drawn by the UI itself (painted, exactly the
	// column's width, no server text) and is used as is, except under the cursor. It
	// lets a page with a few distinct cells (the matrix's glyphs) draw them once.
	Drawn string
}

// Mode is what the cursor picks.
type Mode int

// Cursor modes.
const (
	RowCursor  Mode = iota // the cursor is a row; left/right scroll the columns
	CellCursor             // the cursor is a cell; left/right move it between columns
)

// Gutter is the width of the cursor marker column at the left of every line.
const Gutter = 2

// CursorMark marks the cursor's row in the gutter.
const CursorMark = "❯ "

const (
	hiddenLeft  = "‹"
	hiddenRight = "›"
)

// KeyMap is the grid's movement keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Left, Right key.Binding
}

// DefaultKeyMap is arrows and vi keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
	}
}

// Model is a virtualised grid over rows of T.
type Model[T any] struct {
	Keys KeyMap
	// Empty is shown, muted, when there are no rows.
	Empty string
	// NoCursor draws no cursor, for a grid that only shows (a table inside a tile).
	NoCursor bool

	st       *common.Styles
	cols     []Column
	widths   []int
	fits     bool // a column is sized from the rows on screen (Column.Fit)
	frozen   int
	mode     Mode
	rows     []T
	cell     func(row T, col int) Cell
	rowPaint func(row T) common.Paint

	width, height int
	row, col      int // cursor
	top, left     int // first visible row; first visible scrolling column
}

// New makes a grid drawing rows with cell, one call per visible cell.
func New[T any](st *common.Styles, cols []Column, cell func(row T, col int) Cell) *Model[T] {
	m := &Model[T]{Keys: DefaultKeyMap(), st: st, cell: cell}
	m.SetColumns(cols)
	return m
}

// SetColumns replaces the columns, keeping the cursor where it can.
func (m *Model[T]) SetColumns(cols []Column) {
	m.cols = cols
	m.frozen = min(m.frozen, len(cols))
	m.layout()
}

// SetFrozen keeps the first n columns in view when scrolling sideways.
func (m *Model[T]) SetFrozen(n int) {
	m.frozen = max(0, min(n, len(m.cols)))
	m.layout()
}

// SetMode chooses a row or a cell cursor.
func (m *Model[T]) SetMode(mode Mode) {
	m.mode = mode
	m.layout()
}

// SetRowPaint paints whole rows (e.g. dims rows that cannot be picked); a cell's own
// paint wins over it.
func (m *Model[T]) SetRowPaint(f func(row T) common.Paint) { m.rowPaint = f }

// SetSize sets the cells the grid may draw in, header included.
func (m *Model[T]) SetSize(width, height int) {
	m.width, m.height = max(0, width), max(0, height)
	m.layout()
}

// SetRows replaces the rows; the cursor keeps its index, clamped.
func (m *Model[T]) SetRows(rows []T) {
	m.rows = rows
	m.clamp()
}

// AppendRows adds rows at the end (a further page).
func (m *Model[T]) AppendRows(rows ...T) {
	m.rows = append(m.rows, rows...)
	m.clamp()
}

// PrependRows adds rows at the start (an earlier page of a windowed list); the cursor and
// the scroll stay on the rows they were on.
func (m *Model[T]) PrependRows(rows ...T) {
	m.rows = append(append(make([]T, 0, len(rows)+len(m.rows)), rows...), m.rows...)
	m.row += len(rows)
	m.top += len(rows)
	m.clamp()
}

// DropFirst forgets the first n rows (a windowed list letting go of a page far above the
// cursor); the cursor and the scroll stay on the rows they were on (clamped when they
// were among the dropped).
func (m *Model[T]) DropFirst(n int) {
	n = max(0, min(n, len(m.rows)))
	m.rows = append(make([]T, 0, len(m.rows)-n), m.rows[n:]...) // a new array: the old one is freed
	m.row -= n
	m.top = max(0, m.top-n)
	m.clamp()
}

// DropLast forgets the last n rows (a page far below the cursor).
func (m *Model[T]) DropLast(n int) {
	n = max(0, min(n, len(m.rows)))
	m.rows = append(make([]T, 0, len(m.rows)-n), m.rows[:len(m.rows)-n]...)
	m.clamp()
}

// Rows are the rows held (all of them, not only the visible ones).
func (m *Model[T]) Rows() []T { return m.rows }

// Len is the number of rows held.
func (m *Model[T]) Len() int { return len(m.rows) }

// Cursor is the cursor's row and column.
func (m *Model[T]) Cursor() (row, col int) { return m.row, m.col }

// Column is column col as set (SetColumns): a cell function reads its Key.
func (m *Model[T]) Column(col int) Column { return m.cols[col] }

// SetCursor moves the cursor (clamped) and scrolls it into view.
func (m *Model[T]) SetCursor(row, col int) {
	m.row, m.col = row, col
	m.clamp()
}

// Selected is the row under the cursor; ok is false when there are no rows.
func (m *Model[T]) Selected() (row T, ok bool) {
	if m.row < 0 || m.row >= len(m.rows) {
		return row, false
	}
	return m.rows[m.row], true
}

// BodyHeight is the number of rows visible at once.
func (m *Model[T]) BodyHeight() int { return max(0, m.height-1) }

// VisibleRows is the half-open range of rows drawn.
func (m *Model[T]) VisibleRows() (first, end int) {
	return m.top, min(len(m.rows), m.top+m.BodyHeight())
}

// VisibleColumns lists the columns drawn, frozen ones first.
func (m *Model[T]) VisibleColumns() []int {
	var out []int
	used := Gutter
	for c := 0; c < m.frozen; c++ {
		out = append(out, c)
		used += m.widths[c] + 1
	}
	for c := max(m.left, m.frozen); c < len(m.cols); c++ {
		if used+m.widths[c] > m.width && len(out) > 0 {
			break
		}
		out = append(out, c)
		used += m.widths[c] + 1
	}
	return out
}

// Hidden reports whether columns are scrolled off to the left and off to the right, as
// laid out for the last frame, so a page offers ←/→ only when they would move something.
func (m *Model[T]) Hidden() (left, right bool) {
	if len(m.widths) != len(m.cols) || len(m.cols) == 0 {
		return false, false
	}
	vis := m.VisibleColumns()
	if len(vis) == 0 {
		return false, false
	}
	first := len(m.cols)
	for _, c := range vis {
		if c >= m.frozen {
			first = min(first, c)
		}
	}
	return first > m.frozen && first < len(m.cols), vis[len(vis)-1] < len(m.cols)-1
}

// Update moves the cursor for a key; it reports whether the key was one of the grid's.
func (m *Model[T]) Update(msg tea.KeyPressMsg) bool {
	page := max(1, m.BodyHeight()-1)
	switch {
	case key.Matches(msg, m.Keys.Up):
		m.row--
	case key.Matches(msg, m.Keys.Down):
		m.row++
	case key.Matches(msg, m.Keys.PageUp):
		m.row -= page
		m.top -= page
	case key.Matches(msg, m.Keys.PageDown):
		m.row += page
		m.top += page
	case key.Matches(msg, m.Keys.Top):
		m.row = 0
	case key.Matches(msg, m.Keys.Bottom):
		m.row = len(m.rows) - 1
	case key.Matches(msg, m.Keys.Left):
		if m.mode == CellCursor {
			m.col--
		} else {
			m.left--
		}
	case key.Matches(msg, m.Keys.Right):
		if m.mode == CellCursor {
			m.col++
		} else if vis := m.VisibleColumns(); len(vis) > 0 && vis[len(vis)-1] < len(m.cols)-1 {
			m.left = max(m.left, m.frozen) + 1
		}
	default:
		return false
	}
	m.clamp()
	return true
}

// layout resolves column widths for the current size.
func (m *Model[T]) layout() {
	m.widths = make([]int, len(m.cols))
	fixed, flex := Gutter, 0
	for i, c := range m.cols {
		m.widths[i] = max(1, c.Width)
		fixed += m.widths[i] + 1
		flex += c.Flex
	}
	m.spread(m.width-fixed+1, flex)
	m.fits = false
	for _, c := range m.cols {
		m.fits = m.fits || c.Fit
	}
	m.clamp()
	m.fit()
}

// spread shares spare cells out among the Flex columns.
func (m *Model[T]) spread(spare, flex int) {
	if spare <= 0 || flex <= 0 {
		return
	}
	given := 0
	last := -1
	for i, c := range m.cols {
		if c.Flex > 0 {
			add := spare * c.Flex / flex
			m.widths[i] += add
			given += add
			last = i
		}
	}
	m.widths[last] += spare - given
}

// fit sizes the Fit columns from the rows on screen (see Column.Fit): each wants its
// widest visible cell; if they do not all fit, every column is capped at one limit
// scaled by its Flex, the largest that fits, so only the widest are cut; the rest of the
// width goes by Flex.
func (m *Model[T]) fit() {
	if !m.fits || m.width < 1 {
		return
	}
	first, end := m.VisibleRows()
	want := make([]int, len(m.cols))
	room, flex := m.width-Gutter-(len(m.cols)-1), 0
	need, widest := 0, 0
	for i, c := range m.cols {
		floor := max(1, c.Width)
		want[i] = floor
		if c.Fit {
			want[i] = max(floor, safetext.Width(c.Title))
			for r := first; r < end; r++ {
				want[i] = max(want[i], safetext.Width(m.cell(m.rows[r], i).Text))
			}
		}
		need += want[i]
		widest = max(widest, want[i])
		flex += c.Flex
	}
	if floors := sumFloors(m.cols); floors > room {
		// Too many columns to show at once whatever their widths: the grid scrolls
		// sideways, and each column keeps what its cells want, up to its Max.
		for i, c := range m.cols {
			m.widths[i] = max(1, c.Width)
			if c.Max > 0 {
				m.widths[i] = max(m.widths[i], min(want[i], c.Max))
			}
		}
		m.clamp()
		return
	}
	// A column's cap for a limit: limit × its weight (its Flex, at least 1) ÷ weightUnit.
	const weightUnit = 4
	capOf := func(c Column, limit int) int { return limit * max(1, c.Flex) / weightUnit }
	capped := func(limit int) int {
		sum := 0
		for i, c := range m.cols {
			sum += max(max(1, c.Width), min(want[i], capOf(c, limit)))
		}
		return sum
	}
	limit := widest * weightUnit
	if need > room {
		lo, hi := 0, widest*weightUnit // the largest limit that fits: capped is monotonic in it
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if capped(mid) <= room {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		limit = lo
	}
	used := 0
	for i, c := range m.cols {
		m.widths[i] = max(max(1, c.Width), min(want[i], capOf(c, limit)))
		used += m.widths[i]
	}
	if spare := room - used; spare > 0 && need > room {
		// The cap's remainder: a cell more for the cut columns, left to right.
		for i := range m.cols {
			if spare > 0 && m.widths[i] < want[i] {
				m.widths[i]++
				spare--
			}
		}
	} else if need <= room {
		m.spread(room-used, flex)
	}
	m.clamp()
}

// sumFloors is the columns' Widths, the least they take.
func sumFloors(cols []Column) int {
	n := 0
	for _, c := range cols {
		n += max(1, c.Width)
	}
	return n
}

// clamp keeps the cursor on a row and column that exist and scrolls it into view.
func (m *Model[T]) clamp() {
	m.row = max(0, min(m.row, len(m.rows)-1))
	lo := 0
	if m.mode == CellCursor {
		lo = min(m.frozen, len(m.cols)-1)
	}
	m.col = max(lo, min(m.col, len(m.cols)-1))
	body := m.BodyHeight()
	m.top = max(0, min(m.top, len(m.rows)-body))
	if m.row < m.top {
		m.top = m.row
	} else if body > 0 && m.row >= m.top+body {
		m.top = m.row - body + 1
	}
	m.left = max(m.frozen, min(m.left, len(m.cols)-1))
	if m.mode == CellCursor && m.col >= m.frozen {
		if m.col < m.left {
			m.left = m.col
		}
		for m.left < m.col && !m.columnVisible(m.col) {
			m.left++
		}
	}
}

func (m *Model[T]) columnVisible(c int) bool {
	for _, v := range m.VisibleColumns() {
		if v == c {
			return true
		}
	}
	return false
}

// View draws the header and the visible rows: at most height lines, each exactly width
// cells.
func (m *Model[T]) View() string { return common.Join(m.Lines()) }

// Lines is View as lines, for pages that place the grid among other lines.
func (m *Model[T]) Lines() []string {
	if m.width < 1 || m.height < 1 {
		return nil
	}
	m.fit() // the rows on screen may have changed since the last frame
	cols := m.VisibleColumns()
	used := Gutter - 1
	for _, c := range cols {
		used += m.widths[c] + 1
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.header(cols))
	first, end := m.VisibleRows()
	if len(m.rows) == 0 && m.Empty != "" && m.height > 1 {
		lines = append(lines, common.FitLine(common.Spaces(Gutter)+m.st.Muted.Apply(safetext.Fit(m.Empty, m.width-Gutter)), m.width))
	}
	var b strings.Builder
	for r := first; r < end; r++ {
		b.Reset()
		m.drawRow(&b, r, cols)
		lines = append(lines, m.exact(b.String(), used))
	}
	return lines
}

// exact makes a line of known width exactly the grid's width, measuring only when a
// column had to be cut.
func (m *Model[T]) exact(line string, width int) string {
	if width <= m.width {
		return line + common.Spaces(m.width-width)
	}
	return common.FitLine(line, m.width)
}

func (m *Model[T]) header(cols []int) string {
	var b strings.Builder
	if m.left > m.frozen {
		b.WriteString(hiddenLeft + " ")
	} else {
		b.WriteString(common.Spaces(Gutter))
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		title := align(m.cols[c].Title, m.widths[c], m.cols[c].Align)
		if m.mode == CellCursor && c == m.col {
			b.WriteString(m.st.Accent.Apply(title))
		} else {
			b.WriteString(m.st.Header.Apply(title))
		}
	}
	line := b.String()
	if len(cols) > 0 && cols[len(cols)-1] < len(m.cols)-1 {
		return common.FitLine(line, m.width-1) + hiddenRight
	}
	return common.FitLine(line, m.width)
}

func (m *Model[T]) drawRow(b *strings.Builder, r int, cols []int) {
	row := m.rows[r]
	onCursor := r == m.row && !m.NoCursor
	if onCursor {
		b.WriteString(CursorMark)
	} else {
		b.WriteString(common.Spaces(Gutter))
	}
	var rowPaint common.Paint
	if m.rowPaint != nil {
		rowPaint = m.rowPaint(row)
	}
	if onCursor && m.mode == RowCursor {
		// One paint over the whole row: paints do not nest, so the cells' own go.
		var cells strings.Builder
		for i, c := range cols {
			if i > 0 {
				cells.WriteByte(' ')
			}
			cells.WriteString(m.align(c, m.cell(row, c).Text, m.widths[c]))
		}
		b.WriteString(m.st.Selected.Apply(cells.String()))
		return
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		cell := m.cell(row, c)
		w := m.widths[c]
		if onCursor && c == m.col && w >= 3 {
			// Brackets mark the cursor cell where reverse video is lost (no colour).
			b.WriteString(m.st.CursorCell.Apply("[" + align(m.middle(c, cell.Text, w-2), w-2, Center) + "]"))
			continue
		}
		if cell.Drawn != "" && !(onCursor && c == m.col) {
			b.WriteString(cell.Drawn)
			continue
		}
		text := m.align(c, cell.Text, w)
		switch {
		case onCursor && c == m.col:
			b.WriteString(m.st.CursorCell.Apply(text))
		case !cell.Paint.IsZero():
			b.WriteString(cell.Paint.Apply(text))
		default:
			b.WriteString(rowPaint.Apply(text))
		}
	}
}

// align fits a cell's text to column c's width w and places it.
func (m *Model[T]) align(c int, s string, w int) string {
	return align(m.middle(c, s, w), w, m.cols[c].Align)
}

// middle cuts s in the middle for a Middle column and to its last part for a Path
// column; other columns are cut at the end by align.
func (m *Model[T]) middle(c int, s string, w int) string {
	switch {
	case m.cols[c].Path:
		return safetext.FitPath(s, w)
	case m.cols[c].Middle:
		return safetext.FitMiddle(s, w)
	}
	return s
}

func align(s string, w int, a Align) string {
	switch a {
	case Right:
		return safetext.PadLeft(s, w)
	case Center:
		return safetext.Center(s, w)
	}
	return safetext.Pad(s, w)
}

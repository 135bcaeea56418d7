// Package detail is the one view of a row whole: a title and a list of labelled fields,
// every value wrapped to the width and never cut, scrollable, closed with esc. The
// picker's user, the matrix's cell (with its explain chain), a dashboard table's row and
// a journal record all open in it, so a row too wide for its columns can always be read
// whole in the same way.
//
// A field may be copyable (ids, emails): Y on it puts the value on the terminal's
// clipboard with Bubble Tea's OSC 52 command (tea.SetClipboard), which the program
// writes to the terminal itself: a View never carries an OSC sequence. Copying is off
// unless the admin opted in (Context.Clipboard); the view's top line says what Y did —
// "sent", since a terminal never says whether it took the text.
//
// It draws server text only through safetext. It must never fetch, journal or hold
// styles of its own (they are the Context's).
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows from the page that opens it.
package detail

import (
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Field is one labelled value.
type Field struct {
	// Label is the UI's own word for the value ("Email", "Resource id").
	Label string
	// Value is the value as it came (server text is fine: it is drawn through
	// safetext.Wrap, whole).
	Value string
	// Paint paints the value (a redacted cell's, say); zero for none.
	Paint common.Paint
	// Draw, when set, draws the value itself at a width instead of Value (an explain
	// chain): lines the UI drew, server text in them already through safetext, each at
	// most width cells.
	Draw func(width int) []string
	// Copy makes the value copyable with Y (an id, an email): what is copied is Value
	// cleaned (safetext.Clean: one line, no control or escape), so a paste cannot run
	// anything.
	Copy bool
}

// KeyMap is the view's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Copy                                    key.Binding
	Close                                   key.Binding
}

// DefaultKeyMap is the view's bindings. Y copies (not y, which confirms ending a
// session in its dialog, nor c, the matrix's compare).
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous field")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next field")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first field")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last field")),
		Copy:     key.NewBinding(key.WithKeys("Y"), key.WithHelp("Y", "copy (OSC 52)")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	}
}

// Model is the detail view; it is a common.Component. Make it with New; the page that
// opened it drops it once Done.
type Model struct {
	ctx    *common.Context
	keys   KeyMap
	title  string
	fields []Field

	focus  int // the field the cursor is on (Y copies it)
	top    int // the first body line shown
	width  int
	height int
	done   bool
	note   string // the view's word on the last key ("… cannot be copied")

	// laid out by layout for the width: the body's lines and where each field starts
	lines  []string
	starts []int
	laidW  int
}

// New makes a detail view of fields under title (the UI's words; server text in it is
// cleaned when drawn).
func New(ctx *common.Context, title string, fields []Field) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), title: title}
	m.SetFields(fields)
	return m
}

// SetFields replaces the fields (a cell's chain that has just arrived), keeping the
// cursor on the same field and the scroll where they can.
func (m *Model) SetFields(fields []Field) {
	m.fields = fields
	m.laidW = -1
	m.focus = max(0, min(m.focus, len(fields)-1))
	m.layout()
	m.clamp()
}

// Done reports whether esc closed the view.
func (m *Model) Done() bool { return m.done }

// Route gives a key to the view *open, and lets go of it (*open = nil) once esc has
// closed it; ok is false when none is open, so the page takes the key itself. Every page
// that opens a detail view routes its keys through it.
func Route(open **Model, msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	if *open == nil {
		return nil, false
	}
	_, cmd = (*open).Update(msg)
	if (*open).Done() {
		*open = nil
	}
	return cmd, true
}

// Focused is the field under the cursor; ok is false when there are no fields.
func (m *Model) Focused() (Field, bool) {
	if m.focus < 0 || m.focus >= len(m.fields) {
		return Field{}, false
	}
	return m.fields[m.focus], true
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.layout()
	m.clamp()
}

// bodyHeight is the lines under the title line.
func (m *Model) bodyHeight() int { return max(0, m.height-1) }

// stackBelow is the width under which a label goes on its own line above its value.
const stackBelow = 40

// layout wraps every field for the width, once per width and fields.
func (m *Model) layout() {
	if m.laidW == m.width {
		return
	}
	m.laidW = m.width
	st := m.ctx.Styles
	w := m.width
	labelW := 0
	for _, f := range m.fields {
		labelW = max(labelW, safetext.Width(f.Label))
	}
	stacked := w < stackBelow
	labelW = min(labelW, max(8, w/3))
	valueW := max(1, w-gutter-labelW-1)
	indent := common.Spaces(gutter + labelW + 1)
	if stacked {
		valueW, indent = max(1, w-gutter-2), common.Spaces(gutter+2)
	}
	m.lines, m.starts = m.lines[:0], m.starts[:0]
	for _, f := range m.fields {
		m.starts = append(m.starts, len(m.lines))
		var value []string
		switch {
		case f.Draw != nil:
			value = f.Draw(valueW)
		case safetext.Clean(f.Value) == "":
			value = []string{st.Muted.Apply("(none)")}
		default:
			for _, l := range safetext.Wrap(f.Value, valueW, 0) {
				value = append(value, f.Paint.Apply(l))
			}
		}
		if len(value) == 0 {
			value = []string{""}
		}
		label := st.Muted.Apply(safetext.Pad(f.Label, labelW))
		if stacked {
			m.lines = append(m.lines, common.FitLine(common.Spaces(gutter)+st.Muted.Apply(safetext.Fit(f.Label, w-gutter)), w))
			label = ""
		}
		for i, v := range value {
			lead := indent
			if i == 0 && !stacked {
				lead = common.Spaces(gutter) + label + " "
			}
			m.lines = append(m.lines, common.FitLine(lead+v, w))
		}
	}
}

// gutter is the cursor mark's column.
const gutter = 2

// span is the first body line of field i and the line after its last.
func (m *Model) span(i int) (start, end int) {
	start = m.starts[i]
	end = len(m.lines)
	if i+1 < len(m.starts) {
		end = m.starts[i+1]
	}
	return start, end
}

// clamp keeps the scroll inside the body and the cursor's field in view: its first line
// always, its last when it fits.
func (m *Model) clamp() {
	body := m.bodyHeight()
	m.top = max(0, min(m.top, len(m.lines)-body))
	if len(m.fields) == 0 {
		return
	}
	start, _ := m.span(m.focus)
	if start < m.top || start >= m.top+max(1, body) {
		m.top = max(0, min(start, len(m.lines)-body))
	}
}

// show scrolls so field i is in view: its start, and its end when the body holds it.
func (m *Model) show(i int) {
	body := m.bodyHeight()
	start, end := m.span(i)
	if end > m.top+body {
		m.top = min(start, end-body)
	}
	if start < m.top {
		m.top = start
	}
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || len(m.fields) == 0 && !key.Matches(k, m.keys.Close) {
		return m, nil
	}
	m.note = ""
	body := max(1, m.bodyHeight())
	start, end := 0, 0
	if len(m.fields) > 0 {
		start, end = m.span(m.focus)
	}
	switch {
	case key.Matches(k, m.keys.Close):
		m.done = true
	case key.Matches(k, m.keys.Copy):
		return m, m.copy()
	case key.Matches(k, m.keys.Down):
		switch {
		case end > m.top+body:
			m.top++ // a field taller than the view: read it line by line first
		case m.focus < len(m.fields)-1:
			m.focus++
			m.show(m.focus)
		}
	case key.Matches(k, m.keys.Up):
		switch {
		case start < m.top:
			m.top--
		case m.focus > 0:
			m.focus--
			m.show(m.focus)
		}
	case key.Matches(k, m.keys.PageDown):
		m.top = min(m.top+max(1, body-1), max(0, len(m.lines)-body))
		m.focusTop()
	case key.Matches(k, m.keys.PageUp):
		m.top = max(0, m.top-max(1, body-1))
		m.focusTop()
	case key.Matches(k, m.keys.Top):
		m.focus, m.top = 0, 0
	case key.Matches(k, m.keys.Bottom):
		m.focus = len(m.fields) - 1
		m.top = max(0, len(m.lines)-body)
	}
	return m, nil
}

// focusTop puts the cursor on the field at the top of the view after a page.
func (m *Model) focusTop() {
	for i := range m.fields {
		if start, end := m.span(i); start <= m.top && m.top < end || start >= m.top {
			m.focus = i
			return
		}
	}
}

// Sent ends what the view says after a copy ("sent the user id" before it): how far the
// text is known to have gone. A terminal never answers OSC 52, so it is never "copied".
const Sent = " by OSC 52; the terminal decides if it takes it"

// copy puts the focused field's value on the terminal's clipboard, or says why not.
func (m *Model) copy() tea.Cmd {
	f, ok := m.Focused()
	switch {
	case !ok:
		return nil
	case !f.Copy:
		m.note = safetext.Clean(f.Label) + " is not one to copy"
		return nil
	case safetext.Clean(f.Value) == "":
		m.note = "no " + safetext.Clean(f.Label) + " to copy"
		return nil
	}
	if !m.ctx.Clipboard.On {
		m.note = "copying is off"
		if how := m.ctx.Clipboard.TurnOn; how != "" {
			m.note += ": " + how
		}
		return nil
	}
	m.note = "sent the " + lower(safetext.Clean(f.Label)) + Sent
	return tea.SetClipboard(safetext.Clean(f.Value))
}

// lower makes a label's first letter small, for "sent the user id".
func lower(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' && (len(s) < 2 || s[1] < 'A' || s[1] > 'Z') {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// View implements common.Component: the title line (with where the view is when the
// fields do not all fit), then the fields, the cursor's marked.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	st := m.ctx.Styles
	body := m.bodyHeight()
	// The title is the one thing cut (with an ellipsis: the fields below say it whole),
	// so where the view is and what Y does stay in view.
	tail := ""
	if len(m.lines) > body && body > 0 {
		last := min(len(m.lines), m.top+body)
		tail += " · lines " + strconv.Itoa(m.top+1) + "–" + strconv.Itoa(last) + " of " + strconv.Itoa(len(m.lines))
	}
	if f, ok := m.Focused(); ok && f.Copy && safetext.Clean(f.Value) != "" {
		tail += " · Y copy " + lower(safetext.Clean(f.Label))
	}
	tail += " · esc close"
	head := st.Title.Apply(safetext.Fit(m.title, max(12, m.width-common.Width(tail)))) + st.Muted.Apply(tail)
	if m.note != "" {
		head = st.Warn.Apply(m.note) + st.Muted.Apply(" · esc close") // the answer to the last key
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, common.FitLine(head, m.width))
	end := min(len(m.lines), m.top+body)
	for i := m.top; i < end; i++ {
		l := m.lines[i]
		if len(m.fields) > 0 && i == m.starts[m.focus] {
			l = common.FitLine("❯"+l[1:], m.width) // the gutter is spaces: the mark replaces the first
		}
		lines = append(lines, l)
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Close, m.keys.Copy, m.keys.Down}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Copy, k.Close}}
}

// Package compare is the compare view: "why can she do this and he cannot?" — the
// impersonated user's whole permission matrix set against a second user's, showing only
// what differs (the cells decided otherwise, and the resources one of them does not see
// at all), with the two explain chains of the cell under the cursor side by side and the
// first step where they part marked.
//
// It owns the picking of the second user (with the picker component), the list of
// differences (Compute makes it; a virtualised grid draws only its visible rows) and the
// drawing of the two chains. It asks the root for everything with messages (Picked
// reaches the root as picker.Picked; ExplainRequested; Closed) and takes the replies
// (Loaded, ExplainLoaded) only for its newest request. It must never call the server or
// the journal itself, and never start or end a session: the root starts the second
// read-only session (the server decides whether the admin may impersonate that user),
// reads both matrices and every explain through the two sessions, journals each read,
// polls the second session and ends it when Closed comes.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package compare

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/grid"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
)

// Loaded is the root's reply once the second session is started and both matrices are
// read and set side by side (or why not): Err is the server's refusal to start it, or
// what failed.
type Loaded struct {
	common.Tag
	User api.User
	Diff *Diff
	Err  error
}

// ExplainRequested asks the root to explain one cell for both users (each through its
// own session, each read journaled) and reply with ExplainLoaded carrying the same Tag.
type ExplainRequested struct {
	common.Tag
	Resource api.Resource
	Action   string
}

// ExplainLoaded is the reply to ExplainRequested.
type ExplainLoaded struct {
	common.Tag
	First, Second *api.Explanation
	Err           error
}

// Closed says the admin closed the compare view (esc): the root ends the second
// session, if one was started.
type Closed struct{}

// SideBySide is the narrowest width at which the two chains stand side by side; below
// it one is drawn above the other.
const SideBySide = 100

// FollowDelay is the pause after the cursor stops before the chains of the row under it
// are asked for, as on the matrix: holding a key down asks (and journals) once.
const FollowDelay = matrix.FollowDelay

type state int

const (
	picking  state = iota // the picker is shown
	starting              // the second session is being started and both matrices read
	shown                 // the differences are shown
)

// KeyMap is the view's own keys (the picker's are its own).
type KeyMap struct {
	Grid  grid.KeyMap
	Whole key.Binding // the row under the cursor whole (whole.go)
	Sort  key.Binding // the cells one may do and the other may not first, or back
	Close key.Binding
}

// Model is the compare view. Create it with New; it is a common.Component and a
// common.Capturer (while the picker's search has the keyboard).
type Model struct {
	// Follow is the pause before the chains of the row under the cursor are asked for
	// (FollowDelay; tests shorten it).
	Follow time.Duration

	ctx      *common.Context
	keys     KeyMap
	picker   *picker.Model
	resource api.Resource // the cell c was pressed on: the cursor starts there
	action   string
	first    string // the impersonated user's name

	st     state
	second api.User
	diff   *Diff
	err    error
	load   common.Latest
	grid   *grid.Model[int]

	explain common.Latest
	panel   *panel
	info    *detail.Model // the row under the cursor whole (i); nil when closed
	need    int           // the lines the last chains shown wanted whole (0: none yet)
	sorted  bool          // the cells one may do and the other may not first (s)
	lost    []string      // while the second session does not answer: why nothing is shown

	width, height int
}

// panel is the chains of one row: asked for, shown, or why not.
type panel struct {
	row  int
	a, b *api.Explanation
	err  error
}

// New makes the compare view for first (the impersonated user), opened on action on
// resource (the list's cursor starts on that cell when it differs).
func New(ctx *common.Context, resource api.Resource, action, first string) *Model {
	p := picker.New(ctx)
	p.SetPickHelp("compare with")
	p.SetTitle("Compare " + safetext.Clean(first) + " with…")
	m := &Model{ctx: ctx, picker: p, resource: resource, action: action, first: first, Follow: FollowDelay,
		keys: KeyMap{Grid: grid.DefaultKeyMap(), Close: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
			Whole: key.NewBinding(key.WithKeys("i", "enter"), key.WithHelp("i", "whole chains")),
			Sort:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "may-do first"))}}
	m.grid = grid.New(ctx.Styles, nil, m.cell)
	return m
}

// Init asks for the directory, to pick the second user from.
func (m *Model) Init() tea.Cmd { return m.picker.Init() }

// Starting says the root is starting a session on u; the tag goes with the root's
// Loaded. Until it comes esc does nothing, so a session the server is starting is
// never left behind.
func (m *Model) Starting(u api.User) common.Tag {
	m.st, m.second, m.err = starting, u, nil
	return m.load.Issue(m.ctx.Session)
}

// Cell is the resource and action the view was opened on.
func (m *Model) Cell() (api.Resource, string) { return m.resource, m.action }

// Diff is the differences shown, nil until they are.
func (m *Model) Diff() *Diff { return m.diff }

// Busy reports whether anything the view asked for is on its way: the second session's
// start, a page of the directory, the chains of the row under the cursor.
func (m *Model) Busy() bool {
	switch m.st {
	case starting:
		return true
	case picking:
		return m.picker.Waiting()
	}
	return m.waiting()
}

// waiting reports whether the chains of the row under the cursor are still to come.
func (m *Model) waiting() bool {
	p := m.panel
	return p != nil && m.diff.Rows[p.row].Kind == Differs && p.a == nil && p.err == nil
}

// Picking reports whether the picker is shown (a picked user is for this view).
func (m *Model) Picking() bool { return m.st == picking }

// SetLost says the second session's server has stopped answering (lines: why, for
// people; nil once it answers again): meanwhile nothing of the compare is shown.
func (m *Model) SetLost(lines []string) { m.lost = lines }

// Capturing implements common.Capturer.
func (m *Model) Capturing() bool { return m.st == picking && m.picker.Capturing() }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.picker.SetSize(width, max(1, height-m.headLines()))
	m.layoutColumns()
	m.grid.SetSize(width, m.gridHeight())
	if m.info != nil {
		m.info.SetSize(width, height)
	}
}

// fitted gives the list the lines the chains of the row under the cursor do not need
// whole (need; kept while the next row's are on their way, so the list does not jump).
func (m *Model) fitted() {
	if need := m.chainsNeed(); need > 0 && need != m.need {
		m.need = need
		m.grid.SetSize(m.width, m.gridHeight())
	}
}

// headLines is what the picking view spends above the picker.
func (m *Model) headLines() int {
	if m.err != nil {
		return 2 + len(m.problem())
	}
	return 2
}

// gridHeight is the list's share of the height (its header included): what the chains
// of the row do not need whole, at least a quarter and four lines (two fifths until
// chains were seen), no more than its rows need; the chains take the rest (cut to fit,
// said so, when they need more).
func (m *Model) gridHeight() int {
	rest := m.height - 2
	if m.diff == nil || rest < 1 {
		return 1
	}
	want := len(m.diff.Rows) + 1
	if rest < 10 {
		return max(1, min(want, rest)) // too short for both: the list alone
	}
	if m.need == 0 {
		return min(want, max(4, rest*2/5)) // no chains seen yet: two fifths
	}
	return min(want, max(4, rest/4, rest-m.need))
}

// Column widths of the list: the action and the two decisions; the resource takes the rest.
const (
	actionW   = 12
	decisionW = 16
)

func (m *Model) layoutColumns() {
	if m.diff == nil {
		return
	}
	names := func(s string) string { return safetext.Clean(s) }
	m.grid.SetColumns([]grid.Column{
		{Key: "resource", Title: "Resource", Width: 10, Flex: 1},
		{Key: "action", Title: "Action", Width: actionW},
		{Key: "a", Title: names(m.first), Width: decisionW},
		{Key: "b", Title: names(m.second.Name), Width: decisionW},
	})
}

// The words of a decision in the list, readable without colour.
func (m *Model) decision(e byte) grid.Cell {
	st := m.ctx.Styles
	switch e {
	case api.EffectAllow:
		return grid.Cell{Text: matrix.GlyphAllow + " allow", Paint: st.Allow}
	case api.EffectDeny:
		return grid.Cell{Text: matrix.GlyphDeny + " deny", Paint: st.Deny}
	case api.EffectNone:
		return grid.Cell{Text: matrix.GlyphNone + " not granted", Paint: st.None}
	}
	return grid.Cell{Text: "? " + string(e), Paint: st.Warn}
}

// Listed and NotListed are what the list says of a resource one matrix lists and the
// other does not: never "denied", which would say a rule refused it.
const (
	Listed    = "in matrix"
	NotListed = "not in matrix"
)

func (m *Model) cell(i, col int) grid.Cell {
	r := m.diff.Rows[i]
	st := m.ctx.Styles
	switch m.grid.Column(col).Key {
	case "resource":
		return grid.Cell{Text: r.Resource.Name}
	case "action":
		if r.Kind != Differs {
			return grid.Cell{Text: "(any)", Paint: st.Muted}
		}
		return grid.Cell{Text: r.Action}
	case "a":
		switch r.Kind {
		case OnlyFirst:
			return grid.Cell{Text: Listed}
		case OnlySecond:
			return grid.Cell{Text: NotListed, Paint: st.Warn}
		}
		return m.decision(r.A)
	}
	switch r.Kind {
	case OnlyFirst:
		return grid.Cell{Text: NotListed, Paint: st.Warn}
	case OnlySecond:
		return grid.Cell{Text: Listed}
	}
	return m.decision(r.B)
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case Loaded:
		if !m.load.Current(msg) {
			return m, nil
		}
		m.err = msg.Err
		if msg.Diff == nil {
			m.st = picking // refused, or failed: pick another, or esc
			m.SetSize(m.width, m.height)
			return m, nil
		}
		m.st, m.diff = shown, msg.Diff
		m.grid.SetRows(indexes(len(m.diff.Rows)))
		m.SetSize(m.width, m.height)
		if at := m.diff.Index(m.resource.ID, m.action); at >= 0 {
			m.grid.SetCursor(at, 0)
		}
		return m, m.follow(0)
	case explainDue:
		if !m.explain.Current(msg) {
			return m, nil
		}
		return m, common.Emit(ExplainRequested{Tag: msg.Tag, Resource: msg.resource, Action: msg.action})
	case ExplainLoaded:
		if m.panel == nil || !m.explain.Current(msg) {
			return m, nil
		}
		m.panel.a, m.panel.b, m.panel.err = msg.First, msg.Second, msg.Err
		m.fitted()
		m.refreshWhole()
		return m, nil
	}
	_, cmd := m.picker.Update(msg)
	return m, cmd
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if m.Capturing() {
		_, cmd := m.picker.Update(msg)
		return cmd
	}
	if m.lost == nil {
		if cmd, ok := detail.Route(&m.info, msg); ok {
			return cmd // esc closes it, back to the list
		}
	}
	switch {
	case key.Matches(msg, m.keys.Close):
		if m.st == starting {
			return nil
		}
		return common.Emit(Closed{})
	case m.st == picking:
		_, cmd := m.picker.Update(msg)
		return cmd
	case m.st == shown && m.lost == nil && m.panel != nil && key.Matches(msg, m.keys.Whole):
		m.openWhole()
	case m.st == shown && m.lost == nil && key.Matches(msg, m.keys.Sort):
		m.sort(!m.sorted)
	case m.st == shown && m.lost == nil && m.grid.Update(msg):
		return m.follow(m.Follow)
	}
	return nil
}

// sort shows the cells one may do and the other may not first (on), or the list in the
// matrix's order; the cursor stays on its row.
func (m *Model) sort(on bool) {
	row, ok := m.grid.Selected()
	m.sorted = on
	order := indexes(len(m.diff.Rows))
	if on {
		order = m.diff.MayFirst()
	}
	m.grid.SetRows(order)
	if ok {
		for i, r := range order {
			if r == row {
				m.grid.SetCursor(i, 0)
				break
			}
		}
	}
	if on {
		m.keys.Sort.SetHelp("s", "list order")
	} else {
		m.keys.Sort.SetHelp("s", "may-do first")
	}
}

// explainDue fires Follow after the cursor moved; only the newest (by its tag) asks.
type explainDue struct {
	common.Tag
	resource api.Resource
	action   string
}

// follow keeps the chains on the row under the cursor: they never describe a row the
// cursor has left; a differing cell's chains are asked for after wait (at once for 0).
func (m *Model) follow(wait time.Duration) tea.Cmd {
	row, ok := m.grid.Selected()
	if !ok {
		m.panel = nil
		return nil
	}
	if m.panel != nil && m.panel.row == row {
		return nil
	}
	m.panel = &panel{row: row}
	r := m.diff.Rows[row]
	if r.Kind != Differs {
		m.explain.Forget() // nothing to ask: one of them does not see the resource
		m.fitted()
		return nil
	}
	tag := m.explain.Issue(m.ctx.Session)
	if wait <= 0 {
		return common.Emit(ExplainRequested{Tag: tag, Resource: r.Resource, Action: r.Action})
	}
	return tea.Tick(wait, func(time.Time) tea.Msg { return explainDue{Tag: tag, resource: r.Resource, action: r.Action} })
}

func (m *Model) problem() []string {
	return m.ctx.Styles.Problem("Could not compare with "+safetext.Clean(m.second.Name)+":", m.err, max(1, m.width), "")
}

// title names the two users.
func (m *Model) title() string {
	t := "Compare " + safetext.Clean(m.first) + "'s permissions"
	if m.st != picking {
		t += " with " + safetext.Clean(m.second.Name) + "'s"
	}
	return m.ctx.Styles.Title.Apply(safetext.Fit(t, max(1, m.width)))
}

// View implements common.Component.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	st := m.ctx.Styles
	lines := []string{m.title()}
	switch {
	case m.info != nil && m.lost == nil:
		return m.info.View() // the row whole, over the list
	case m.lost != nil:
		for _, l := range m.lost {
			lines = append(lines, safetext.Wrap(l, m.width, 0)...)
		}
	case m.st == picking:
		lines = append(lines, st.Muted.Apply(safetext.Fit("Pick the user to compare with (enter); esc goes back.", m.width)))
		if m.err != nil {
			lines = append(lines, m.problem()...)
		}
		lines = append(lines, strings.Split(m.picker.View(), "\n")...)
	case m.st == starting:
		lines = append(lines, st.Muted.Apply(safetext.Fit("Starting a read-only session on "+safetext.Clean(m.second.Name)+" and reading both permission matrices…", m.width)))
	case m.diff.Same():
		for _, l := range safetext.Wrap(m.sameWords(), m.width, 0) {
			lines = append(lines, st.OK.Apply(l))
		}
	default:
		lines = append(lines, m.summary())
		lines = append(lines, common.Fill(m.grid.Lines(), m.width, m.gridHeight())...)
		if rest := m.height - len(lines); rest > 0 {
			lines = append(lines, m.chains(rest)...)
		}
	}
	return common.Join(common.FitLines(lines, m.width, m.height))
}

func num(n int) string { return chart.Number(float64(n)) }

// sameWords says that nothing differs, and how much was compared.
func (m *Model) sameWords() string {
	d := m.diff
	return fmt.Sprintf("No cell differs: both may do the same %s on %s (%s compared).",
		words.Plural(d.Allowed, num(d.Allowed)+" action", num(d.Allowed)+" actions"),
		words.Plural(d.Both, num(d.Both)+" resource", num(d.Both)+" resources"),
		words.Plural(d.Cells, num(d.Cells)+" cell", num(d.Cells)+" cells"))
}

// summary says where the cursor is in the list and what the list holds.
func (m *Model) summary() string {
	d := m.diff
	r, _ := m.grid.Cursor()
	parts := []string{"row " + num(r+1) + " of " + num(len(d.Rows))}
	if d.Differing > 0 {
		differ := words.Plural(d.Differing, num(d.Differing)+" cell differs", num(d.Differing)+" cells differ")
		if d.WhyNotOnly > 0 {
			// A deny against nothing granting it is a difference, but not in what they may do.
			differ += ": " + num(d.MayDiffer) + " in what they may do, " + num(d.WhyNotOnly) + " only in why not"
		}
		parts = append(parts, differ)
	}
	if m.sorted {
		parts = append(parts, "may-do first")
	}
	if d.OnlyFirst > 0 {
		parts = append(parts, words.Plural(d.OnlyFirst, "1 resource", num(d.OnlyFirst)+" resources")+" only "+safetext.Clean(m.first)+" sees")
	}
	if d.OnlySecond > 0 {
		parts = append(parts, words.Plural(d.OnlySecond, "1 resource", num(d.OnlySecond)+" resources")+" only "+safetext.Clean(m.second.Name)+" sees")
	}
	parts = append(parts, "of "+num(d.Both)+" resources both see × "+num(len(d.Actions))+" actions")
	// Whole parts only, as many as fit (the first cut if it must): never half of one.
	line := safetext.Fit(parts[0], m.width)
	for _, p := range parts[1:] {
		if safetext.Width(line+" · "+p) > m.width {
			break
		}
		line += " · " + p
	}
	return common.FitLine(line, m.width)
}

// chains draws what the row under the cursor says, in h lines: both chains, side by
// side when there is room, else one above the other, each in its box; or, for a
// resource one of them does not see, that one's decisions.
func (m *Model) chains(h int) []string {
	st := m.ctx.Styles
	p := m.panel
	if p == nil || h < 1 {
		return nil
	}
	r := m.diff.Rows[p.row]
	switch {
	case r.Kind != Differs:
		return m.onlyOne(r, h)
	case p.err != nil:
		return st.Problem("Could not explain "+safetext.Clean(r.Action)+" on "+safetext.Clean(r.Resource.Name)+":", p.err, m.width, "")
	case p.a == nil || p.b == nil:
		return []string{st.Muted.Apply(safetext.Fit("Asking the server why, for both users…", m.width))}
	}
	d := FirstDifference(p.a, p.b)
	head := st.Muted.Apply(safetext.Fit("Both chains read alike.", m.width))
	if d >= 0 {
		head = st.Warn.Apply(safetext.Fit("! marks the first step where the two chains part (differs).", m.width))
	}
	h--
	// Each box, when its chain does not fit, shows what decided it first and says what
	// is cut (fit); i opens both whole.
	box := func(name string, e *api.Explanation, lines []string, w, bh int) []string {
		return m.box(name, fit(st, lines, e, d, common.BoxInner(w), bh-2), w, bh)
	}
	if m.width >= SideBySide {
		w := (m.width - 1) / 2
		a, b := m.chain(p.a, w, d), m.chain(p.b, m.width-1-w, d)
		bh := min(h, max(len(a), len(b))+2) // as tall as the longer chain, where it fits
		left := box(m.first, p.a, a, w, bh)
		right := box(m.second.Name, p.b, b, m.width-1-w, bh)
		return append([]string{head}, common.JoinColumns(" ", left, right)...)
	}
	a, b := m.chain(p.a, m.width, d), m.chain(p.b, m.width, d)
	// The first box as tall as it needs, or half, leaving the second at least what it
	// needs to show its decisive step (core); and no less than its own core.
	top, lo, hi := max(h/2, h-len(b)-2), core(a, p.a)+2, h-core(b, p.b)-2
	switch {
	case lo > hi:
		top = h / 2 // no room for both: half each
	case top < lo:
		top = lo
	case top > hi:
		top = hi
	}
	top = min(top, len(a)+2)
	// The first box as tall as what it shows once fitted: the second has the rest.
	fa := fit(st, a, p.a, d, common.BoxInner(m.width), top-2)
	top = min(top, len(fa)+2)
	out := []string{head}
	out = append(out, m.box(m.first, fa, m.width, top)...)
	fb := fit(st, b, p.b, d, common.BoxInner(m.width), min(len(b)+2, h-top)-2)
	return append(out, m.box(m.second.Name, fb, m.width, min(len(fb)+2, h-top))...)
}

// chain is one explanation's lines in a box w wide, step d marked as the first that differs.
func (m *Model) chain(e *api.Explanation, w, d int) []string {
	lines, _ := matrix.Chain(m.ctx.Styles, e, common.BoxInner(w), d)
	return lines
}

// chainsNeed is how many lines the row under the cursor wants below the list to show
// whole: its chains' (with the line above them), its problem, or what one of them sees;
// 0 while they are on their way.
func (m *Model) chainsNeed() int {
	p := m.panel
	if p == nil {
		return 0
	}
	r := m.diff.Rows[p.row]
	switch {
	case r.Kind != Differs:
		return len(m.onlyOneLines(r, common.BoxInner(m.width))) + 2
	case p.err != nil:
		return len(m.ctx.Styles.Problem("Could not explain:", p.err, m.width, ""))
	case p.a == nil || p.b == nil:
		return 0
	}
	d := FirstDifference(p.a, p.b)
	if m.width >= SideBySide {
		w := (m.width - 1) / 2
		return 1 + max(len(m.chain(p.a, w, d)), len(m.chain(p.b, m.width-1-w, d))) + 2
	}
	return 1 + len(m.chain(p.a, m.width, d)) + 2 + len(m.chain(p.b, m.width, d)) + 2
}

// onlyOne says of a resource one matrix lists that the other user does not see it (so
// there is no chain of theirs to set beside), and what the one who sees it may do.
func (m *Model) onlyOne(r Row, h int) []string {
	lines := m.onlyOneLines(r, common.BoxInner(m.width))
	return m.box(r.Resource.Name, lines, m.width, min(h, len(lines)+2))
}

// onlyOneLines are onlyOne's words in w cells.
func (m *Model) onlyOneLines(r Row, w int) []string {
	sees, not := m.first, m.second.Name
	if r.Kind == OnlySecond {
		sees, not = not, sees
	}
	sees, not = safetext.Clean(sees), safetext.Clean(not)
	lines := safetext.Wrap(safetext.Clean(r.Resource.Name)+" is in "+sees+"'s matrix only: the server does not list it for "+
		not+" at all (not a deny: "+not+" does not see it), so there is no chain of "+not+"'s to set beside.", w, 0)
	var did []string
	for i, a := range m.diff.Actions {
		c := m.decision(effectAt(r.Effects, i))
		did = append(did, safetext.Clean(a)+" "+c.Text) // wrapped below: words only
	}
	lines = append(lines, "")
	return append(lines, safetext.Wrap(sees+": "+strings.Join(did, " · "), w, 0)...)
}

func (m *Model) box(name string, lines []string, w, h int) []string {
	if h < 1 {
		return nil
	}
	return m.ctx.Styles.Box(name, lines, w, h, false)
}

// FirstDifference is the first step (from 0) at which the two chains differ — in kind,
// effect, text or whether it decided — or -1 when they are alike; a step one chain has
// and the other does not differs.
func FirstDifference(a, b *api.Explanation) int {
	if a == nil || b == nil {
		return -1
	}
	n := max(len(a.Steps), len(b.Steps))
	for i := range n {
		if i >= len(a.Steps) || i >= len(b.Steps) {
			return i
		}
		x, y := a.Steps[i], b.Steps[i]
		// Each text names its own user ("Alice is a member of …"): without the names,
		// the same rule reads the same.
		xt := strings.ReplaceAll(x.Text, a.Subject.Name, "")
		yt := strings.ReplaceAll(y.Text, b.Subject.Name, "")
		if x.Kind != y.Kind || x.Effect != y.Effect || xt != yt || x.Decisive != y.Decisive {
			return i
		}
	}
	if a.Effect != b.Effect {
		return max(0, n-1)
	}
	return -1
}

// Hints of keys said together (the status line is short); the keys are the grid's.
var (
	hintEnds  = key.NewBinding(key.WithKeys("g", "G"), key.WithHelp("g/G", "first/last"))
	hintPages = key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "page"))
	hintMove  = key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("j/k", "move"))
)

// ShortHelp implements help.KeyMap: the keys that work where the cursor is (no "down"
// on the last row), the most wanted first, as the status line cuts from the end.
func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.info != nil && m.lost == nil:
		return m.info.ShortHelp()
	case m.st == picking:
		return append(m.picker.ShortHelp(), m.keys.Close)
	case m.st == shown && m.lost == nil && !m.diff.Same():
		g := m.keys.Grid
		r, _ := m.grid.Cursor()
		n := m.grid.Len()
		var hs []key.Binding
		switch {
		case r > 0 && r < n-1:
			hs = append(hs, hintMove)
		case r < n-1:
			hs = append(hs, g.Down)
		case r > 0:
			hs = append(hs, g.Up)
		}
		if m.panel != nil {
			hs = append(hs, m.keys.Whole)
		}
		hs = append(hs, m.keys.Close)
		if m.diff.WhyNotOnly > 0 && m.diff.MayDiffer > 0 {
			hs = append(hs, m.keys.Sort)
		}
		if n > 1 {
			hs = append(hs, hintEnds)
		}
		if n > m.gridHeight()-1 {
			hs = append(hs, hintPages)
		}
		return hs
	}
	return []key.Binding{m.keys.Close}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	switch {
	case m.info != nil && m.lost == nil:
		return m.info.FullHelp()
	case m.st == picking:
		return append(m.picker.FullHelp(), []key.Binding{m.keys.Close})
	case m.st == shown && m.lost == nil && !m.diff.Same():
		g := m.keys.Grid
		return [][]key.Binding{{g.Up, g.Down, g.PageUp, g.PageDown, g.Top, g.Bottom}, {m.keys.Whole, m.keys.Sort, m.keys.Close}}
	}
	return [][]key.Binding{{m.keys.Close}}
}

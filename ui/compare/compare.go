// Package compare is the compare view: "why can she do this and he cannot?" — one cell
// of the permission matrix (a resource × an action) explained for the impersonated user
// and for a second user side by side, the first step where their chains part marked.
//
// It owns the picking of the second user (with the picker component) and the drawing of
// the two chains. It asks the root for everything with messages (Picked reaches the
// root as picker.Picked; Closed) and takes the reply (Loaded) only for its newest
// request. It must never call the server or the journal itself, and never start or end
// a session: the root starts the second read-only session (the server decides whether
// the admin may impersonate that user), journals it and ends it when Closed comes.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package compare

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
)

// Loaded is the root's reply once the second session is started and both cells are
// explained (or why not): Err is the server's refusal to start it, or what failed.
type Loaded struct {
	common.Tag
	User          api.User
	First, Second *api.Explanation
	Err           error
}

// Closed says the admin closed the compare view (esc): the root ends the second
// session, if one was started.
type Closed struct{}

// SideBySide is the narrowest width at which the two chains stand side by side; below
// it one is drawn above the other.
const SideBySide = 100

type state int

const (
	picking  state = iota // the picker is shown
	starting              // the second session is being started and both cells explained
	shown                 // the two chains are shown
)

// KeyMap is the view's own keys (the picker's are its own).
type KeyMap struct {
	Close key.Binding
}

// Model is the compare view. Create it with New; it is a common.Component and a
// common.Capturer (while the picker's search has the keyboard).
type Model struct {
	ctx      *common.Context
	keys     KeyMap
	picker   *picker.Model
	resource api.Resource
	action   string
	first    string // the impersonated user's name

	st     state
	second api.User
	a, b   *api.Explanation
	err    error
	load   common.Latest

	width, height int
}

// New makes the compare view of action on resource for first (the impersonated user).
func New(ctx *common.Context, resource api.Resource, action, first string) *Model {
	p := picker.New(ctx)
	p.SetPickHelp("compare with")
	return &Model{ctx: ctx, picker: p, resource: resource, action: action, first: first,
		keys: KeyMap{Close: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close compare"))}}
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

// Cell is the resource and action compared.
func (m *Model) Cell() (api.Resource, string) { return m.resource, m.action }

// Busy reports whether the second session is being started.
func (m *Model) Busy() bool { return m.st == starting || (m.st == picking && m.picker.Waiting()) }

// Picking reports whether the picker is shown (a picked user is for this view).
func (m *Model) Picking() bool { return m.st == picking }

// Capturing implements common.Capturer.
func (m *Model) Capturing() bool { return m.st == picking && m.picker.Capturing() }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.picker.SetSize(width, max(1, height-m.headLines()))
}

// headLines is what the picking view spends above the picker.
func (m *Model) headLines() int {
	if m.err != nil {
		return 2 + len(m.problem())
	}
	return 2
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.Capturing() {
			_, cmd := m.picker.Update(msg)
			return m, cmd
		}
		if key.Matches(msg, m.keys.Close) {
			if m.st == starting {
				return m, nil
			}
			return m, common.Emit(Closed{})
		}
		if m.st == picking {
			_, cmd := m.picker.Update(msg)
			return m, cmd
		}
		return m, nil
	case Loaded:
		if !m.load.Current(msg) {
			return m, nil
		}
		m.a, m.b, m.err = msg.First, msg.Second, msg.Err
		m.st = shown
		if msg.Second == nil {
			m.st = picking // refused, or failed: pick another, or esc
		}
		m.SetSize(m.width, m.height)
		return m, nil
	}
	_, cmd := m.picker.Update(msg)
	return m, cmd
}

func (m *Model) problem() []string {
	return m.ctx.Styles.Problem("Could not compare with "+safetext.Clean(m.second.Name)+":", m.err, max(1, m.width), "")
}

// title names the cell and the two users.
func (m *Model) title() string {
	t := "Compare " + safetext.Clean(m.action) + " on " + safetext.Clean(m.resource.Name) + " · " + safetext.Clean(m.first)
	if m.st != picking {
		t += " vs " + safetext.Clean(m.second.Name)
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
	switch m.st {
	case picking:
		lines = append(lines, st.Muted.Apply(safetext.Fit("Pick the user to compare with (enter); esc goes back.", m.width)))
		if m.err != nil {
			lines = append(lines, m.problem()...)
		}
		lines = append(lines, strings.Split(m.picker.View(), "\n")...)
	case starting:
		lines = append(lines, st.Muted.Apply(safetext.Fit("Starting a read-only session on "+safetext.Clean(m.second.Name)+" and asking the server why…", m.width)))
	case shown:
		lines = append(lines, m.chains()...)
	}
	return common.Join(common.FitLines(lines, m.width, m.height))
}

// chains draws both explanations, side by side when there is room, else one above the
// other, each in its box.
func (m *Model) chains() []string {
	st := m.ctx.Styles
	d := FirstDifference(m.a, m.b)
	h := m.height - 1
	head := st.Muted.Apply(safetext.Fit("Both users are decided alike.", m.width))
	if d >= 0 {
		head = st.Warn.Apply(safetext.Fit("! marks the first step where the two chains part (differs).", m.width))
	}
	h--
	chain := func(e *api.Explanation, w int) []string {
		lines, _ := matrix.Chain(st, e, common.BoxInner(w), d)
		return lines
	}
	if m.width >= SideBySide {
		w := (m.width - 1) / 2
		a, b := chain(m.a, w), chain(m.b, m.width-1-w)
		bh := min(h, max(len(a), len(b))+2) // as tall as the longer chain, where it fits
		left := m.box(m.first, a, w, bh)
		right := m.box(m.second.Name, b, m.width-1-w, bh)
		return append([]string{head}, common.JoinColumns(" ", left, right)...)
	}
	a, b := chain(m.a, m.width), chain(m.b, m.width)
	top := min(len(a)+2, max(h/2, h-len(b)-2))
	out := []string{head}
	out = append(out, m.box(m.first, a, m.width, top)...)
	return append(out, m.box(m.second.Name, b, m.width, min(len(b)+2, h-top))...)
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

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.st == picking {
		return append(m.picker.ShortHelp(), m.keys.Close)
	}
	return []key.Binding{m.keys.Close}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if m.st == picking {
		return append(m.picker.FullHelp(), []key.Binding{m.keys.Close})
	}
	return [][]key.Binding{{m.keys.Close}}
}

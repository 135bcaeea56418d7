package matrix

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/detail"
)

// The cell under the cursor, whole (i): resource, action, decision, ids and the explain
// chain, in the one detail view every list opens (ui/detail). The chain is the explain
// panel's: i opens the panel on the cell as enter does (asked for, and journaled, once),
// and the view shows it when it comes.

// openInfo opens the detail view of the cell under the cursor, asking why unless the
// panel already holds (or waits for) that cell's chain.
func (m *Model) openInfo() tea.Cmd {
	res, action, ok := m.current()
	if !ok {
		return nil
	}
	var cmd tea.Cmd
	if m.panel == nil || m.panel.resource.ID != res.ID || m.panel.action != action {
		m.panel = &panel{resource: res, action: action}
		m.relayout()
		cmd = m.explainNow(res, action)
	}
	m.info = detail.New(m.ctx, safetext.Clean(action)+" on "+safetext.Clean(res.Name), m.infoFields())
	m.info.SetSize(m.width, m.height)
	return cmd
}

// refreshInfo redraws the open detail view's fields (the chain has come).
func (m *Model) refreshInfo() {
	if m.info != nil {
		m.info.SetFields(m.infoFields())
	}
}

// infoFields are the cell's fields: where it is, what was decided and by what, whose
// matrix it is, and the chain.
func (m *Model) infoFields() []detail.Field {
	row, _ := m.grid.Selected()
	res, action, _ := m.current()
	e, src := m.effect(row, m.colIndex())
	decision := GlyphNone + " not granted: nothing grants it"
	switch e {
	case api.EffectAllow:
		decision = GlyphAllow + " allowed by " + m.source(src)
	case api.EffectDeny:
		decision = GlyphDeny + " denied by " + m.source(src)
	case api.EffectNone:
	default:
		decision = "? unknown effect " + safetext.Clean(string(e))
	}
	st, p := m.ctx.Styles, m.panel
	return []detail.Field{
		{Label: "Resource", Value: res.Name},
		{Label: "Resource id", Value: res.ID, Copy: true},
		{Label: "Type", Value: res.Type},
		{Label: "Action", Value: action},
		{Label: "Decision", Value: decision},
		{Label: "User", Value: m.matrix.Subject.Name},
		{Label: "User id", Value: m.matrix.Subject.ID, Copy: true},
		{Label: "Why", Draw: func(w int) []string {
			switch {
			case p == nil:
				return nil
			case p.err != nil:
				return st.Problem("Could not explain:", p.err, w, "")
			case p.exp == nil:
				return []string{st.Muted.Apply("Asking the server…")}
			}
			// The panel's chain, its outcome line wrapped too: here nothing is cut.
			chain, _ := Chain(st, p.exp, w, -1)
			var lines []string
			for _, l := range chain {
				lines = append(lines, strings.Split(ansi.Wrap(l, w, ""), "\n")...)
			}
			return lines
		}},
	}
}

// TakesEsc reports whether esc closes something the page shows — the detail view, the
// explain panel, the filter being typed — rather than stopping the load of later pages:
// the root gives the page esc first then, so esc closes the innermost thing and a second
// esc stops the load.
func (m *Model) TakesEsc() bool { return m.info != nil || m.panel != nil || m.filtering }

// escStops is what the placeholder row says esc does to the load of later pages: it
// stops it, unless the explain panel is open, which esc closes first.
func (m *Model) escStops() string {
	if m.panel != nil {
		return " (esc closes the explanation, then stops)"
	}
	return " (esc stops)"
}

// infoHelp is the detail view's keys while it is open.
func (m *Model) infoHelp() ([]key.Binding, [][]key.Binding, bool) {
	if m.info == nil {
		return nil, nil, false
	}
	return m.info.ShortHelp(), m.info.FullHelp(), true
}

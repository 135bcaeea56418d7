package matrix

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// decisiveMark points at the step that decided the cell; "(decisive)" says it in words
// too, so it reads without colour.
const decisiveMark = "▶"

// panelView draws the explain panel in a box of height lines.
func (m *Model) panelView(height int) []string {
	p := m.panel
	title := "Why? " + safetext.Clean(p.action) + " on " + safetext.Clean(p.resource.Name)
	return m.ctx.Styles.Box(title, m.panelBody(), m.width, height, true)
}

// panelBody is the panel's content: the outcome and its chain, or where the answer is.
func (m *Model) panelBody() []string {
	st := m.ctx.Styles
	p := m.panel
	switch {
	case p.err != nil:
		return []string{st.Error.Apply("Could not explain: ") + safetext.Fit(p.err.Error(), common.BoxInner(m.width))}
	case p.exp == nil:
		return []string{st.Muted.Apply("Asking the server…")}
	}
	return m.steps(p.exp, common.BoxInner(m.width))
}

// steps draws the outcome and each step of the chain, the decisive one marked.
func (m *Model) steps(e *api.Explanation, width int) []string {
	st := m.ctx.Styles
	var outcome string
	switch e.Effect {
	case api.EffectNameAllow:
		outcome = st.Allow.Apply(GlyphAllow + " ALLOWED")
	case api.EffectNameDeny:
		outcome = st.Deny.Apply(GlyphDeny + " DENIED")
	default:
		outcome = st.None.Apply(GlyphNone + " NOT GRANTED")
	}
	lines := []string{outcome + ": " + safetext.Clean(e.Subject.Name) + " · " + safetext.Clean(e.Action) + " · " + safetext.Clean(e.Resource.Name)}
	kindW := 0
	for _, s := range e.Steps {
		kindW = max(kindW, min(12, safetext.Width(s.Kind)))
	}
	for i, s := range e.Steps {
		mark := " "
		if s.Decisive {
			mark = decisiveMark
		}
		prefix := mark + " " + strconv.Itoa(i+1) + ". " + safetext.Pad(s.Kind, kindW) + " "
		text := safetext.Clean(s.Text)
		switch s.Effect {
		case api.EffectNameAllow:
			text = "[allow] " + text
		case api.EffectNameDeny:
			text = "[deny] " + text
		}
		if s.Decisive {
			text += " (decisive)"
		}
		indent := ansi.StringWidth(prefix)
		wrapped := safetext.Wrap(text, max(1, width-indent), 2)
		for j, w := range wrapped {
			lead := prefix
			if j > 0 {
				lead = strings.Repeat(" ", indent)
			}
			if s.Decisive {
				w = st.Bold.Apply(w)
			}
			lines = append(lines, lead+w)
		}
	}
	return lines
}

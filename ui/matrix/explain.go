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
	body, decisive := m.panelBody()
	if room := height - 2; room > 1 && len(body) > room {
		// Too short for the whole chain: the outcome, then the steps from the decisive one
		// if it would not be in view, cut where the box ends with an ellipsis.
		start := 1
		if decisive > room-1 {
			start = decisive
		}
		end := min(len(body), start+room-1)
		cut := append([]string{body[0]}, body[start:end]...)
		if end < len(body) {
			last := len(cut) - 1
			cut[last] = ansi.Truncate(cut[last], max(0, common.BoxInner(m.width)-1), "") + "…"
		}
		body = cut
	}
	return m.ctx.Styles.Box(title, body, m.width, height, true)
}

// panelBody is the panel's content: the outcome and its chain, or where the answer is;
// decisive is the line where the decisive step starts (0 when there is none).
func (m *Model) panelBody() (lines []string, decisive int) {
	st := m.ctx.Styles
	p := m.panel
	switch {
	case p.err != nil:
		return st.Problem("Could not explain:", p.err, common.BoxInner(m.width), ""), 0
	case p.exp == nil:
		return []string{st.Muted.Apply("Asking the server…")}, 0
	}
	return Chain(m.ctx.Styles, p.exp, common.BoxInner(m.width), -1)
}

// differsMark points at the step where two users' chains part (the compare view);
// "(differs)" says it in words too.
const differsMark = "!"

// Chain draws the outcome and each step of an explanation's chain in width cells, the
// decisive one marked, and step number differs (from 0; -1 for none) marked as the
// first that differs from another user's chain; it says on which line the decisive
// step starts.
func Chain(st *common.Styles, e *api.Explanation, width, differs int) (lines []string, decisive int) {
	var outcome string
	switch e.Effect {
	case api.EffectNameAllow:
		outcome = st.Allow.Apply(GlyphAllow + " ALLOWED")
	case api.EffectNameDeny:
		outcome = st.Deny.Apply(GlyphDeny + " DENIED")
	default:
		outcome = st.None.Apply(GlyphNone + " NOT GRANTED")
	}
	lines = []string{outcome + ": " + safetext.Clean(e.Subject.Name) + " · " + safetext.Clean(e.Action) + " · " + safetext.Clean(e.Resource.Name)}
	kindW := 0
	for _, s := range e.Steps {
		kindW = max(kindW, min(12, safetext.Width(s.Kind)))
	}
	for i, s := range e.Steps {
		mark := " "
		if s.Decisive {
			mark = decisiveMark
		}
		if i == differs {
			mark = differsMark
		}
		prefix := mark + " " + strconv.Itoa(i+1) + ". " + safetext.Pad(s.Kind, kindW) + " "
		text := safetext.Clean(s.Text)
		if s.Decisive {
			text = "(decisive) " + text // first, so it is never what a cut loses
			decisive = len(lines)
		}
		if i == differs {
			text = "(differs) " + text
		}
		switch s.Effect {
		case api.EffectNameAllow:
			text = "[allow] " + text
		case api.EffectNameDeny:
			text = "[deny] " + text
		}
		indent := ansi.StringWidth(prefix)
		wrapped := safetext.Wrap(text, max(1, width-indent), 0)
		for j, w := range wrapped {
			lead := prefix
			if j > 0 {
				lead = strings.Repeat(" ", indent)
			}
			switch {
			case i == differs:
				w = st.Warn.Apply(w)
			case s.Decisive:
				w = st.Bold.Apply(w)
			}
			lines = append(lines, lead+w)
		}
	}
	return lines, decisive
}

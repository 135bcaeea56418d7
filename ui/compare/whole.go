package compare

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/matrix"
)

// whole.go: the chains of the row under the cursor when they do not fit their boxes
// (fit: what decided first, and a mark saying what is cut), and both chains whole in
// the one detail view every list opens (i or enter), scrollable, esc back.

// wholeHint is what a cut chain's last line says: how to read both whole.
const wholeHint = "i shows both whole"

// fit is a chain's lines (matrix.Chain's, of e's steps; differs the first step that
// differs from the other chain, -1 for none) in h lines: all of them when they fit;
// else the outcome, the decisive step and the differing step first, then the other
// steps in order while whole ones fit, and a last line saying what is cut.
func fit(st *common.Styles, lines []string, e *api.Explanation, differs, w, h int) []string {
	if len(lines) <= h || h < 1 {
		return lines
	}
	mark := func(n int) string {
		say := "… cut · " + wholeHint
		if n > 0 {
			say = "… " + words.Plural(n, "1 more step", strconv.Itoa(n)+" more steps") + " · " + wholeHint
		}
		return st.Warn.Apply(safetext.Fit(say, max(1, w)))
	}
	starts := stepStarts(lines, len(e.Steps))
	if starts == nil || h < 2 {
		return append(append([]string{}, lines[:h-1]...), mark(len(e.Steps)))
	}
	end := func(i int) int { // where step i's lines end
		if i+1 < len(starts) {
			return starts[i+1]
		}
		return len(lines)
	}
	keep := make([]bool, len(lines))
	budget := h - 1 // the last line says what is cut
	take := func(from, to int, part bool) bool {
		if to-from > budget && !part {
			return false
		}
		for i := from; i < to && budget > 0; i++ {
			keep[i] = true
			budget--
		}
		return true
	}
	take(0, starts[0], true) // the outcome
	decisive := decisiveStep(e)
	if decisive >= 0 {
		take(starts[decisive], end(decisive), true) // the answer: as much of it as there is room for
	}
	if differs >= 0 && differs < len(starts) && differs != decisive {
		take(starts[differs], end(differs), false)
	}
	for i := range starts {
		take(starts[i], end(i), false)
	}
	var out []string
	cut := 0
	for i := range starts {
		if !keep[end(i)-1] {
			cut++
		}
	}
	for i, l := range lines {
		if keep[i] {
			out = append(out, l)
		}
	}
	return append(out, mark(cut))
}

// decisiveStep is the first decisive step's index, -1 when none is.
func decisiveStep(e *api.Explanation) int {
	for i, s := range e.Steps {
		if s.Decisive {
			return i
		}
	}
	return -1
}

// core is how many lines fit needs to show a chain cut: its outcome, its decisive step
// whole and the line saying what is cut (all of it when that is no less).
func core(lines []string, e *api.Explanation) int {
	starts := stepStarts(lines, len(e.Steps))
	d := decisiveStep(e)
	if starts == nil || d < 0 {
		return min(len(lines), 3)
	}
	end := len(lines)
	if d+1 < len(starts) {
		end = starts[d+1]
	}
	return min(len(lines), starts[0]+end-starts[d]+1)
}

// stepStarts is the line on which each of n steps starts in matrix.Chain's lines
// ("▶ 2. role …": a mark, the step's number), or nil when they cannot all be found.
func stepStarts(lines []string, n int) []int {
	out := make([]int, 0, n)
	at := 1 // line 0 is the outcome
	for i := range n {
		num := strconv.Itoa(i+1) + ". "
		for ; at < len(lines); at++ {
			plain := []rune(ansi.Strip(lines[at]))
			if len(plain) > 2 && strings.HasPrefix(string(plain[2:]), num) {
				break
			}
		}
		if at >= len(lines) {
			return nil
		}
		out = append(out, at)
		at++
	}
	return out
}

// openWhole opens the row under the cursor whole in the detail view: both decisions and
// both chains, nothing cut.
func (m *Model) openWhole() {
	p := m.panel
	if p == nil {
		return
	}
	r := m.diff.Rows[p.row]
	title := "Compare: " + safetext.Clean(r.Resource.Name)
	if r.Kind == Differs {
		title = "Compare: " + safetext.Clean(r.Action) + " on " + safetext.Clean(r.Resource.Name)
	}
	m.info = detail.New(m.ctx, title, m.wholeFields())
	m.info.SetSize(m.width, m.height)
}

// wholeFields are the row's fields: the cell, both decisions and both chains (or, for a
// resource one of them does not see, what the other may do).
func (m *Model) wholeFields() []detail.Field {
	p, st := m.panel, m.ctx.Styles
	r := m.diff.Rows[p.row]
	fields := []detail.Field{{Label: "Resource", Value: r.Resource.Name}, {Label: "Resource id", Value: r.Resource.ID, Copy: true}}
	if r.Kind != Differs {
		return append(fields, detail.Field{Label: "Why", Draw: func(w int) []string { return m.onlyOneLines(r, w) }})
	}
	fields = append(fields,
		detail.Field{Label: "Action", Value: r.Action},
		detail.Field{Label: safetext.Clean(m.first), Value: m.decision(r.A).Text},
		detail.Field{Label: safetext.Clean(m.second.Name), Value: m.decision(r.B).Text})
	why := func(e func() *api.Explanation) func(int) []string {
		return func(w int) []string {
			switch {
			case p.err != nil:
				return st.Problem("Could not explain:", p.err, w, "")
			case p.a == nil || p.b == nil:
				return []string{st.Muted.Apply("Asking the server…")}
			}
			chain, _ := matrix.Chain(st, e(), w, FirstDifference(p.a, p.b))
			var lines []string
			for _, l := range chain { // the outcome line wrapped too: here nothing is cut
				lines = append(lines, strings.Split(ansi.Wrap(l, w, ""), "\n")...)
			}
			return lines
		}
	}
	return append(fields,
		detail.Field{Label: "Why, for " + safetext.Clean(m.first), Draw: why(func() *api.Explanation { return p.a })},
		detail.Field{Label: "Why, for " + safetext.Clean(m.second.Name), Draw: why(func() *api.Explanation { return p.b })})
}

// refreshWhole redraws the open detail view (the chains have come).
func (m *Model) refreshWhole() {
	if m.info != nil {
		m.info.SetFields(m.wholeFields())
	}
}

package dashboards

import (
	"fmt"
	"math"
	"strings"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/common"
)

const (
	minTile   = 20 // narrowest KPI tile
	maxTile   = 32 // widest KPI tile
	tileLines = 4  // a KPI tile: frame, value, change, frame
)

// roomy reports whether the page has the height of a 40-line terminal, so charts and
// tables get more lines.
func (m *Model) roomy() bool { return m.height >= 30 }

// widgetBlocks draws every widget of the current dashboard for a pane w cells wide,
// stacked; starts[i] is the line widget i begins on. KPI tiles share rows.
func (m *Model) widgetBlocks(w int) (lines []string, starts []int) {
	ws := m.current.Widgets
	starts = make([]int, len(ws))
	for i := 0; i < len(ws); {
		if ws[i].Kind == api.WidgetKPI {
			j := i
			for j < len(ws) && ws[j].Kind == api.WidgetKPI {
				j++
			}
			perRow := max(1, min(j-i, (w+1)/(minTile+1)))
			tileW := min(maxTile, (w-(perRow-1))/perRow)
			for row := i; row < j; row += perRow {
				var tiles [][]string
				for k := row; k < min(j, row+perRow); k++ {
					starts[k] = len(lines)
					tiles = append(tiles, m.kpiTile(k, ws[k], tileW))
				}
				for _, l := range common.JoinColumns(" ", tiles...) {
					lines = append(lines, common.FitLine(l, w))
				}
			}
			i = j
			continue
		}
		starts[i] = len(lines)
		lines = append(lines, m.widgetBox(i, ws[i], w)...)
		i++
	}
	return lines, starts
}

func (m *Model) focused(i int) bool { return m.focus != onList && i == m.widget }

// title is a widget's title for w cells. A widget with withheld values says so after
// its title, in words that fit: "· some values redacted", else "· redacted", else
// nothing (the body shows [redacted] where values were withheld), so the mark is never
// cut mid-word and never pushes the title itself off the edge.
func (m *Model) title(wd api.Widget, w int) string {
	t := safetext.Clean(wd.Title)
	if !wd.Redacted {
		return t
	}
	for _, mark := range []string{" · some values redacted", " · redacted"} {
		if safetext.Width(t)+safetext.Width(mark) <= w {
			return t + mark
		}
	}
	return t
}

// kpiTile is a figure with its unit and its change against the previous period.
func (m *Model) kpiTile(i int, wd api.Widget, w int) []string {
	st := m.ctx.Styles
	inner := common.BoxInner(w)
	if wd.KPI == nil {
		return st.Box(m.title(wd, common.BoxTitle(w)), []string{st.Warn.Apply("no figure sent")}, w, tileLines, m.focused(i))
	}
	k := wd.KPI
	unit := safetext.Clean(k.Unit)
	var value, change string
	switch {
	case k.Redacted:
		value = st.Redacted.Apply(Redacted)
		change = st.Muted.Apply("withheld")
	default:
		value = st.Bold.Apply(safetext.Fit(chart.WithUnit(chart.Number(k.Value), unit), inner))
		change = m.change(k, unit)
	}
	return st.Box(m.title(wd, common.BoxTitle(w)), []string{value, change}, w, tileLines, m.focused(i))
}

// change says how a figure moved since the previous period, in words and arrows so it
// reads without colour.
func (m *Model) change(k *api.KPIData, unit string) string {
	st := m.ctx.Styles
	if k.Previous == nil {
		return st.Muted.Apply("no earlier figure")
	}
	prev := *k.Previous
	prevText := "vs " + chart.WithUnit(chart.Number(prev), unit)
	delta := k.Value - prev
	switch {
	case delta == 0:
		return st.Muted.Apply("= unchanged " + prevText)
	case prev == 0:
		if delta > 0 {
			return st.Up.Apply("▲ +"+chart.Number(delta)) + " " + st.Muted.Apply(prevText)
		}
		return st.Down.Apply("▼ "+chart.Number(delta)) + " " + st.Muted.Apply(prevText)
	}
	pct := delta / math.Abs(prev) * 100
	if delta > 0 {
		return st.Up.Apply(fmt.Sprintf("▲ +%s%%", chart.Number(math.Round(pct*10)/10))) + " " + st.Muted.Apply(prevText)
	}
	return st.Down.Apply(fmt.Sprintf("▼ %s%%", chart.Number(math.Round(pct*10)/10))) + " " + st.Muted.Apply(prevText)
}

// widgetBox draws a chart or table widget in its frame.
func (m *Model) widgetBox(i int, wd api.Widget, w int) []string {
	st := m.ctx.Styles
	inner := common.BoxInner(w)
	var body []string
	switch {
	case wd.Redacted && withheldWhole(wd):
		// Everything was withheld: say so, never "no data" (the user does see data here).
		// Wrapped in the lines it needs (the tile grows), never cut mid-sentence.
		for j, l := range safetext.Wrap(Redacted+" withheld while impersonating: the user sees these values, this session may not.", inner, 0) {
			if rest, ok := strings.CutPrefix(l, Redacted); ok && j == 0 {
				l = st.Redacted.Apply(Redacted) + st.Muted.Apply(rest)
			} else {
				l = st.Muted.Apply(l)
			}
			body = append(body, l)
		}
	case wd.Kind == api.WidgetBar && wd.Bar != nil:
		rows := min(len(wd.Bar.Bars), m.pick(5, 8))
		bars := make([]chart.Bar, len(wd.Bar.Bars))
		for j, b := range wd.Bar.Bars {
			bars[j] = chart.Bar{Label: b.Label, Value: b.Value}
		}
		body = chart.Bars(st, bars, safetext.Clean(wd.Bar.Unit), inner, max(1, rows))
		if wd.Redacted {
			body = append(body, st.Redacted.Apply(Redacted)+st.Muted.Apply(" some bars withheld while impersonating"))
		}
	case wd.Kind == api.WidgetSeries && wd.Series != nil:
		body = m.series(wd.Series, inner)
	case wd.Kind == api.WidgetTable && wd.Table != nil:
		body = m.tableTile(i, wd.Table, inner)
	default:
		body = []string{st.Warn.Apply(safetext.Fit(fmt.Sprintf("This %q widget has nothing to draw.", wd.Kind), inner))}
	}
	return st.Box(m.title(wd, common.BoxTitle(w)), body, w, len(body)+2, m.focused(i))
}

// withheldWhole reports whether a redacted chart came with nothing to draw: the server
// withheld it all.
func withheldWhole(wd api.Widget) bool {
	switch {
	case wd.Bar != nil:
		return len(wd.Bar.Bars) == 0
	case wd.Series != nil:
		return len(wd.Series.Lines) == 0
	case wd.Table != nil:
		return false // no rows is the row scope's to say ("0 of 9 rows visible")
	}
	return wd.KPI == nil
}

func (m *Model) pick(small, large int) int {
	if m.roomy() {
		return large
	}
	return small
}

// series draws the lines on one chart, then a legend line per series with a sparkline
// and the last value, which tells the lines apart without colour.
func (m *Model) series(s *api.SeriesData, w int) []string {
	st := m.ctx.Styles
	if len(s.Lines) == 0 {
		return []string{st.Muted.Apply("no data")}
	}
	values := make([][]float64, len(s.Lines))
	var first, last string
	for i, l := range s.Lines {
		values[i] = make([]float64, len(l.Points))
		for j, p := range l.Points {
			values[i][j] = p.V
		}
		if n := len(l.Points); n > 0 && first == "" {
			first, last = l.Points[0].T.UTC().Format("Jan 2"), l.Points[n-1].T.UTC().Format("Jan 2")
		}
	}
	out := chart.Lines(st, values, first, last, w, m.pick(5, 8))
	unit := safetext.Clean(s.Unit)
	nameW := 0
	for _, l := range s.Lines {
		nameW = max(nameW, min(16, safetext.Width(l.Name)))
	}
	for i, l := range s.Lines {
		if i == 4 {
			out = append(out, st.Muted.Apply(fmt.Sprintf("+%d more lines", len(s.Lines)-4)))
			break
		}
		lastV := ""
		if n := len(values[i]); n > 0 {
			// The figures, not only the shape: the last value, and the range when it fits.
			lastV = "last " + chart.WithUnit(chart.Number(values[i][n-1]), unit)
			if lo, hi, ok := chart.Range(values[i]); ok && w >= 60 {
				lastV += " · low " + chart.Number(lo) + " · high " + chart.Number(hi)
			}
		}
		mark := "━━"
		if st.ASCII {
			mark = "--"
		}
		mark = st.Series[i%len(st.Series)].Apply(mark)
		out = append(out, mark+" "+safetext.Pad(l.Name, nameW)+" "+chart.Sparkline(st, values[i], min(24, max(4, w/4)))+" "+lastV)
	}
	return out
}

// tableTile shows the first rows of a table and its row scope; enter zooms it.
func (m *Model) tableTile(i int, t *api.TableData, w int) []string {
	st := m.ctx.Styles
	g := m.tables[i]
	rows := min(len(t.Rows), m.pick(5, 8))
	g.NoCursor = true
	g.SetSize(w, rows+1)
	out := common.Fill(g.Lines(), w, rows+1)
	hint := ""
	if m.focused(i) {
		hint = " · enter to zoom"
	}
	return append(out, st.Muted.Apply(safetext.Fit(scopeText(t)+hint, w)))
}

// scopeText says how many rows the user sees of how many there are.
func scopeText(t *api.TableData) string {
	total := max(t.TotalRows, len(t.Rows))
	rows := words.Plural(total, "row", "rows")
	switch {
	case total == 1 && len(t.Rows) == 1:
		return "1 row, visible to this user"
	case total == len(t.Rows):
		return fmt.Sprintf("all %s %s visible to this user", chart.Number(float64(total)), rows)
	}
	return fmt.Sprintf("%s of %s %s visible to this user", chart.Number(float64(len(t.Rows))), chart.Number(float64(total)), rows)
}

// zoomView is the focused table alone, scrollable in both directions.
func (m *Model) zoomView(w, h int) []string {
	st := m.ctx.Styles
	g := m.tables[m.widget]
	wd := m.current.Widgets[m.widget]
	g.NoCursor = false
	g.SetSize(w, max(1, h-2))
	row, _ := g.Cursor()
	lines := []string{
		common.FitLine(st.Bold.Apply(safetext.Fit(m.title(wd, w), w)), w),
		common.FitLine(st.Muted.Apply(fmt.Sprintf("row %d of %d · %s · enter whole row · esc back", row+1, g.Len(), scopeText(wd.Table))), w),
	}
	return append(lines, common.Fill(g.Lines(), w, max(1, h-2))...)
}

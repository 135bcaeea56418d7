// Package chart draws small charts as lines of text: horizontal bar charts with
// eighth-cell resolution, sparklines, and line charts on a braille dot canvas (2×4 dots
// per cell), plus the number formats they and the dashboards share.
//
// The charts are drawn here rather than with a charting package: what a dashboard needs
// is static, read-only figures inside a tile, and drawing them as plain lines keeps every
// line exactly its width (the banner's guarantee depends on that), costs one allocation
// per line, reads the same under NO_COLOR, and adds no module. Labels are untrusted and
// go through safetext. This package must never hold state between draws.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package chart

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Number formats a value for people: thousands separated, at most two decimals, no
// trailing zeros ("1,234", "93.4", "-0.5").
func Number(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if math.Abs(v) >= 1e15 {
		return huge(v) // 16 digits and more are no figure anyone reads (and 1e308 has 309)
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && s != "0" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// Compact formats a value in at most six cells for axes: "950", "12.5k", "3.4M".
func Compact(v float64) string {
	a := math.Abs(v)
	switch {
	case !finite(v):
		return "–"
	case a >= 1e12:
		return huge(v)
	case a >= 1e9:
		return trimFloat(v/1e9, 1) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6, 1) + "M"
	case a >= 1e4:
		return trimFloat(v/1e3, 1) + "k"
	case a >= 100 || a == math.Trunc(a):
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return trimFloat(v, 1)
}

// huge is a value too large for digits, in scientific notation of three significant
// figures at most ("1.23e+20", "-1e+308"): never more than nine cells.
func huge(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// WithUnit joins a formatted number and a unit: "93.4%", "128 vehicles".
func WithUnit(num, unit string) string {
	switch unit {
	case "":
		return num
	case "%":
		return num + "%"
	}
	return num + " " + unit
}

// Bar is one labelled value.
type Bar struct {
	Label string
	Value float64
}

var eighths = []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

// asciiEighths is eighths for terminals without block characters: whole cells only.
var asciiEighths = []string{"", "", "", "", "", "", "", ""}

// Bars draws one bar per line, label left and value right, scaled to the largest value.
// When there are more bars than lines, the last line says how many are left out.
func Bars(st *common.Styles, bars []Bar, unit string, width, height int) []string {
	if width < 1 || height < 1 {
		return nil
	}
	shown := bars
	if len(bars) > height {
		shown = bars[:height-1]
	}
	labelW, valueW, top := 0, 0, 0.0
	values := make([]string, len(shown))
	for i, b := range shown {
		labelW = max(labelW, safetext.Width(b.Label))
		values[i] = WithUnit(Number(b.Value), unit)
		valueW = max(valueW, ansi.StringWidth(values[i]))
		if finite(b.Value) {
			top = math.Max(top, b.Value)
		}
	}
	labelW = min(labelW, width/3)
	barW := width - labelW - valueW - 2
	out := make([]string, 0, height)
	for i, b := range shown {
		line := safetext.Pad(b.Label, labelW) + " "
		if barW > 0 {
			line += st.Series[0].Apply(barOf(b.Value, top, barW, st.ASCII)) + " "
		}
		line += safetext.PadLeft(values[i], valueW)
		out = append(out, common.FitLine(line, width))
	}
	if len(shown) < len(bars) {
		out = append(out, common.FitLine(st.Muted.Apply("+"+strconv.Itoa(len(bars)-len(shown))+" more"), width))
	}
	return out
}

// barOf is a bar of v/top × width cells, padded to width, in eighths of a cell.
func barOf(v, top float64, width int, ascii bool) string {
	n := 0
	if top > 0 && v > 0 && finite(v) {
		n = int(math.Round(v / top * float64(width*8)))
	}
	n = min(n, width*8)
	s := strings.Repeat("█", n/8) + eighths[n%8]
	if ascii {
		s = strings.Repeat("#", n/8) + asciiEighths[n%8]
	}
	return s + common.Spaces(width-ansi.StringWidth(s))
}

var levels = []rune("▁▂▃▄▅▆▇█")

// asciiLevels are levels for terminals without block characters.
var asciiLevels = []rune("_.-:=+*#")

// Sparkline draws values in at most width cells, one level per cell (values are
// averaged into buckets when there are more than cells); in ASCII under st.ASCII.
func Sparkline(st *common.Styles, values []float64, width int) string {
	levels := levels
	if st.ASCII {
		levels = asciiLevels
	}
	if width < 1 || len(values) == 0 {
		return ""
	}
	vs := resample(values, width)
	lo, hi := bounds(vs)
	out := make([]rune, len(vs))
	for i, v := range vs {
		l := 0
		if hi > lo && finite(v) {
			l = int(math.Round(frac(v, lo, hi) * float64(len(levels)-1)))
		}
		out[i] = levels[l]
	}
	return string(out)
}

func resample(values []float64, n int) []float64 {
	if len(values) <= n {
		return values
	}
	out := make([]float64, n)
	for i := range out {
		a, b := i*len(values)/n, (i+1)*len(values)/n
		sum := 0.0
		for _, v := range values[a:b] {
			sum += v
		}
		out[i] = sum / float64(b-a)
	}
	return out
}

// Range is the least and greatest finite value of vs; ok is false when there is none.
func Range(vs []float64) (lo, hi float64, ok bool) {
	lo, hi = bounds(vs)
	for _, v := range vs {
		if finite(v) {
			return lo, hi, true
		}
	}
	return 0, 0, false
}

// bounds is the least and greatest finite value (0, 0 when there is none).
func bounds(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// frac is where v lies between lo and hi, from 0 to 1 (0 when it cannot be said). It
// works on halves so that hi-lo cannot overflow (1e308 - -1e308 is +Inf), and clamps, so
// no value a server sends can put a dot, a level or a line off the canvas.
func frac(v, lo, hi float64) float64 {
	span := hi/2 - lo/2
	if !(span > 0) || !finite(v) {
		return 0
	}
	f := (v/2 - lo/2) / span
	switch {
	case !(f >= 0): // NaN too
		return 0
	case f > 1:
		return 1
	}
	return f
}

// braille dot bits, by column (0, 1) and row (0–3) within a cell.
var dotBit = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// Lines draws series (all sampled at the same x positions) as a line chart: a y axis
// with the top and bottom values, a braille plot where each series has its own colour,
// and a last line with the first and last x labels. It takes exactly height lines of
// width cells (height ≥ 3; less gives nothing).
func Lines(st *common.Styles, series [][]float64, xFirst, xLast string, width, height int) []string {
	if width < 8 || height < 3 {
		return nil
	}
	var all []float64
	for _, s := range series {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return nil
	}
	lo, hi := bounds(all)
	if hi == lo {
		// A flat line sits mid-chart; d is at least 1 and large enough to move 1e308.
		d := math.Max(1, math.Abs(lo)/4)
		lo, hi = lo-d, hi+d
	}
	top, bottom := Compact(hi), Compact(lo)
	// The axis never takes more than half the width, so the plot always has room.
	axisW := min(width/2, max(ansi.StringWidth(top), ansi.StringWidth(bottom)))
	top, bottom = safetext.Fit(top, axisW), safetext.Fit(bottom, axisW)
	plotW, plotH := width-axisW-1, height-1
	dotsW, dotsH := plotW*2, plotH*4
	cells := make([]rune, plotW*plotH)
	owner := make([]int, plotW*plotH)
	for i := range owner {
		owner[i] = -1
	}
	set := func(x, y, s int) {
		if x < 0 || y < 0 || x >= dotsW || y >= dotsH {
			return
		}
		c := (y/4)*plotW + x/2
		cells[c] |= dotBit[x%2][y%4]
		owner[c] = s
	}
	for si, s := range series {
		px, py := -1, -1
		for i, v := range s {
			if !finite(v) {
				px, py = -1, -1 // a gap in the line
				continue
			}
			x := 0
			if len(s) > 1 {
				x = int(math.Round(float64(i) / float64(len(s)-1) * float64(dotsW-1)))
			}
			y := int(math.Round((1 - frac(v, lo, hi)) * float64(dotsH-1)))
			if px >= 0 {
				segment(px, py, x, y, si, set)
			} else {
				set(x, y, si)
			}
			px, py = x, y
		}
	}
	out := make([]string, 0, height)
	var b strings.Builder
	for row := 0; row < plotH; row++ {
		b.Reset()
		tick, axis := "┤", "│"
		if st.ASCII {
			tick, axis = "|", "|"
		}
		switch row {
		case 0:
			b.WriteString(safetext.PadLeft(top, axisW) + tick)
		case plotH - 1:
			b.WriteString(safetext.PadLeft(bottom, axisW) + tick)
		default:
			b.WriteString(common.Spaces(axisW) + axis)
		}
		for x := 0; x < plotW; x++ {
			c := row*plotW + x
			if owner[c] < 0 {
				b.WriteByte(' ')
				continue
			}
			dot := string(0x2800 + cells[c])
			if st.ASCII {
				dot = "*" // no braille: a cell with any dot of the line
			}
			b.WriteString(st.Series[owner[c]%len(st.Series)].Apply(dot))
		}
		out = append(out, b.String())
	}
	first, last := safetext.Fit(xFirst, plotW/2), safetext.Fit(xLast, plotW/2)
	gap := plotW - ansi.StringWidth(first) - ansi.StringWidth(last)
	corner := "└"
	if st.ASCII {
		corner = "+"
	}
	out = append(out, common.Spaces(axisW)+corner+first+common.Spaces(gap)+last)
	return common.FitLines(out, width, height)
}

// segment plots the dots from (x0, y0) to (x1, y1) (Bresenham).
func segment(x0, y0, x1, y1, s int, set func(x, y, s int)) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for {
		set(x0, y0, s)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

package chart_test

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

func TestNumberFormats(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 128: "128", 1234: "1,234", 1234567.891: "1,234,567.89", -4200.5: "-4,200.5",
		93.4: "93.4", 0.126: "0.13", -0.001: "0", math.NaN(): "–", math.Inf(1): "–",
	} {
		if got := chart.Number(v); got != want {
			t.Errorf("Number(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{950: "950", 12500: "12.5k", 3400000: "3.4M", 2.5: "2.5", 7: "7", 2e9: "2G"} {
		if got := chart.Compact(v); got != want {
			t.Errorf("Compact(%v) = %q, want %q", v, got, want)
		}
	}
	if chart.WithUnit("93.4", "%") != "93.4%" || chart.WithUnit("5", "EUR") != "5 EUR" || chart.WithUnit("5", "") != "5" {
		t.Error("WithUnit")
	}
}

func TestBarsScaleToTheLargest(t *testing.T) {
	st := uitest.Context(uitest.Profiles[0].Profile, 0, 0).Styles
	bars := []chart.Bar{{"Depot 1", 40}, {"Depot 2 \x1b[31m", 20}, {"陳大文", 10}, {"NaN", math.NaN()}, {"neg", -5}}
	lines := chart.Bars(st, bars, "vehicles", 50, 10)
	if len(lines) != 5 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 50 {
			t.Fatalf("line %q is not 50 cells", l)
		}
	}
	full := strings.Count(lines[0], "█")
	half := strings.Count(lines[1], "█")
	if full == 0 || half != full/2 {
		t.Fatalf("bars not proportional: %d and %d cells\n%s", full, half, strings.Join(lines, "\n"))
	}
	if !strings.HasSuffix(lines[0], "40 vehicles") || strings.Contains(lines[1], "\x1b") {
		t.Fatalf("value or label wrong:\n%s", strings.Join(lines, "\n"))
	}
	lines = chart.Bars(st, bars, "", 30, 3)
	if len(lines) != 3 || !strings.Contains(lines[2], "+3 more") {
		t.Fatalf("overflow not reported: %q", lines)
	}
}

func TestSparkline(t *testing.T) {
	st := uitest.Context(uitest.Profiles[0].Profile, 0, 0).Styles
	if got := chart.Sparkline(st, []float64{1, 2, 3, 4, 5, 6, 7, 8}, 20); got != "▁▂▃▄▅▆▇█" {
		t.Errorf("Sparkline = %q", got)
	}
	if got := chart.Sparkline(st, []float64{1, 1, 8, 8}, 2); got != "▁█" {
		t.Errorf("resampled Sparkline = %q", got)
	}
	if got := chart.Sparkline(st, []float64{3, 3, math.NaN()}, 5); got != "▁▁▁" {
		t.Errorf("flat Sparkline = %q", got)
	}
}

func TestLinesPlotsWithinItsBox(t *testing.T) {
	st := uitest.Context(uitest.Profiles[1].Profile, 0, 0).Styles
	up := []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	down := []float64{100, 90, 80, 70, math.NaN(), 50, 40, 30, 20, 10, 0}
	lines := chart.Lines(st, [][]float64{up, down}, "Mar 1", "Mar 14", 40, 8)
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 40 {
			t.Fatalf("line %q is %d cells", l, ansi.StringWidth(l))
		}
	}
	plain := uitest.Plain(strings.Join(lines, "\n"))
	if !strings.HasPrefix(plain, "100┤") || !strings.Contains(plain, "  0┤") || !strings.Contains(plain, "Mar 14") {
		t.Fatalf("axes:\n%s", plain)
	}
	// Both lines reach the top row: one at its left end, one at its right end.
	top := []rune(strings.TrimPrefix(strings.Split(plain, "\n")[0], "100┤"))
	if top[0] == ' ' || top[len(top)-1] == ' ' {
		t.Fatalf("top row %q should have dots at both ends", string(top))
	}
	if chart.Lines(st, nil, "", "", 40, 8) != nil || chart.Lines(st, [][]float64{up}, "", "", 5, 8) != nil {
		t.Fatal("nothing to draw, or no room, should give no lines")
	}
}

// extremes are the values a server may send that once broke the charts: the largest
// and smallest finite floats, subnormals, ±0, and the non-finite ones JSON cannot carry
// but a decoder of another kind might hand over.
var extremes = []float64{1e308, -1e308, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
	-math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 0, math.Copysign(0, -1), 1e15, -1e15,
	math.NaN(), math.Inf(1), math.Inf(-1)}

// Huge figures are said in a few cells, never as 309 digits.
func TestNumbersOfAnySizeStayShort(t *testing.T) {
	for _, v := range extremes {
		if n, c := chart.Number(v), chart.Compact(v); ansi.StringWidth(n) > 26 || ansi.StringWidth(c) > 9 {
			t.Errorf("Number(%g) = %q, Compact = %q", v, n, c)
		}
	}
	if got := chart.Number(1e308); got != "1e+308" {
		t.Errorf("Number(1e308) = %q", got)
	}
	if got := chart.Number(999999999999999); got != "999,999,999,999,999" {
		t.Errorf("Number(999999999999999) = %q", got)
	}
}

// FuzzCharts draws every chart from any values, of any count, with any label, at any
// size: each must come back without a panic and every line within its width (the
// banner's guarantee rests on it). The seeds are the extremes; `go test -fuzz
// FuzzCharts ./ui/chart` searches further.
func FuzzCharts(f *testing.F) {
	for i, v := range extremes {
		f.Add(v, extremes[(i+1)%len(extremes)], extremes[(i+5)%len(extremes)], uint16(i*37), "label", uint8(8+i), uint8(3+i%6))
	}
	f.Add(1e308, 1e308, 1e308, uint16(1), "", uint8(8), uint8(3))                // one flat point at the top
	f.Add(-1e308, 1e308, 0.0, uint16(60000), "陳大文\x1b[31m", uint8(80), uint8(8)) // a huge series
	f.Add(5e-324, -5e-324, 0.0, uint16(0), strings.Repeat("W", 500), uint8(200), uint8(1))
	st := uitest.Context(uitest.Profiles[0].Profile, 0, 0).Styles
	f.Fuzz(func(t *testing.T, a, b, c float64, n uint16, label string, w, h uint8) {
		width, height := int(w), int(h)
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = [3]float64{a, b, c}[i%3]
		}
		check := func(what string, lines []string, exact bool) {
			if len(lines) > max(height, 1) {
				t.Fatalf("%s: %d lines for %d", what, len(lines), height)
			}
			for _, l := range lines {
				if cw := ansi.StringWidth(l); cw > width || (exact && cw != width) {
					t.Fatalf("%s: a line %d cells wide for %d: %q", what, cw, width, l)
				}
			}
		}
		check("Lines", chart.Lines(st, [][]float64{vs, {c, b, a}}, label, label, width, height), true)
		bars := make([]chart.Bar, min(len(vs), 50))
		for i := range bars {
			bars[i] = chart.Bar{Label: label, Value: vs[i]}
		}
		check("Bars", chart.Bars(st, bars, label, width, height), true)
		if s := chart.Sparkline(st, vs, width); ansi.StringWidth(s) > width {
			t.Fatalf("Sparkline: %d cells for %d", ansi.StringWidth(s), width)
		}
	})
}

// On a terminal without line drawing (Styles.ASCII) every chart is drawn in ASCII: no
// braille, no blocks, no box drawing.
func TestChartsInASCII(t *testing.T) {
	st := common.NewStyles(colorprofile.ASCII)
	st.ASCII = true
	vs := []float64{3, 9, 1, 7, 12, 4, 8}
	var lines []string
	lines = append(lines, chart.Lines(st, [][]float64{vs, {2, 2, 5, 9}}, "Mar 1", "Mar 7", 40, 6)...)
	lines = append(lines, chart.Bars(st, []chart.Bar{{"a", 3}, {"b", 9.3}}, "km", 40, 3)...)
	lines = append(lines, chart.Sparkline(st, vs, 10))
	lines = append(lines, st.Box("Title", []string{"x"}, 20, 3, true)...)
	lines = append(lines, st.Box("Title", []string{"x"}, 20, 3, false)...)
	for _, l := range lines {
		for _, r := range l {
			if r > 0x7e {
				t.Fatalf("%q is not ASCII in %q", r, l)
			}
		}
	}
	if !strings.Contains(strings.Join(lines, "\n"), "*") || !strings.Contains(strings.Join(lines, "\n"), "#") {
		t.Fatalf("the ASCII charts draw nothing:\n%s", strings.Join(lines, "\n"))
	}
}

package safetext

import (
	"testing"

	"github.com/shadowview/shadow/internal/hostile"
)

func TestFitPathKeepsTheLastPart(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"North / North-East", 20, "North / North-East"}, // fits: whole
		{"North / North-East", 12, "…/North-East"},       // the team, its parents elided
		{"North / North-East", 8, "North-E…"},            // not even the team fits: cut at its end
		{"Region A / Crew 1", 8, "…/Crew 1"},             // a generated org's crews stay apart
		{"Head Office", 8, "Head Of…"},                   // no path: cut at the end, as Fit
		{"A / B / Customer Care", 15, "…/Customer Care"}, // only the last part is kept
		{"North / \x1b[31mEast\x1b[0m", 7, "…/East"},     // escapes go before anything is measured
	} {
		if got := FitPath(c.in, c.width); got != c.want {
			t.Errorf("FitPath(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
	// Whatever the text, the result is clean and fits.
	for _, s := range hostile.List() {
		for w := 1; w <= 24; w++ {
			got := FitPath(s+" / "+s, w)
			if Width(got) > w || Clean(got) != got {
				t.Fatalf("FitPath(%q, %d) = %q: %d cells, or not clean", s, w, got, Width(got))
			}
		}
	}
}

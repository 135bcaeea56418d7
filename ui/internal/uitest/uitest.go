package uitest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/shadowview/shadow/ui/common"
)

// Now is the fixed clock of every test.
var Now = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// Size is a terminal size.
type Size struct{ W, H int }

// Sizes are the terminal sizes every component is drawn at in golden tests.
var Sizes = []Size{{80, 24}, {120, 40}}

// Profile is a named colour profile.
type Profile struct {
	Name    string
	Profile colorprofile.Profile
}

// Profiles are the colour profiles golden tests fix: none (as under NO_COLOR) and 256
// colours.
var Profiles = []Profile{{"nocolor", colorprofile.ASCII}, {"ansi256", colorprofile.ANSI256}}

// Context is a program context for a profile and size with the clock fixed at Now.
func Context(profile colorprofile.Profile, w, h int) *common.Context {
	ctx := common.NewContext(profile)
	ctx.Width, ctx.Height = w, h
	ctx.Now = func() time.Time { return Now }
	ctx.Session = "sess-1"
	return ctx
}

// Golden compares out with testdata/<test name>.golden; `go test -update` rewrites it.
// Escape sequences are shown quoted in a failing diff.
func Golden(t *testing.T, out string) {
	t.Helper()
	golden.RequireEqualEscape(t, []byte(out+"\n"), true)
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// AssertFrame checks the invariants of anything drawn: at most h lines, each at most w
// cells, valid UTF-8, and no escape sequence but our own colour (SGR) — no cursor
// movement, no OSC, no C0/C1 control, no bidi or other invisible format character.
// It returns the lines with colour stripped.
func AssertFrame(t *testing.T, view string, w, h int) []string {
	t.Helper()
	plain, err := FrameProblem(view, w, h)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// FrameProblem is AssertFrame for callers that cannot stop the test where they are (a
// program's View, on its own goroutine): the first broken invariant, or the lines with
// colour stripped.
func FrameProblem(view string, w, h int) ([]string, error) {
	if !utf8.ValidString(view) {
		return nil, fmt.Errorf("frame is not valid UTF-8:\n%q", view)
	}
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		return nil, fmt.Errorf("frame has %d lines for a %d-line terminal:\n%s", len(lines), h, view)
	}
	plain := make([]string, len(lines))
	for i, l := range lines {
		if cw := ansi.StringWidth(l); cw > w {
			return nil, fmt.Errorf("line %d is %d cells wide for a %d-cell terminal: %q", i+1, cw, w, l)
		}
		bare := sgr.ReplaceAllString(l, "")
		for _, r := range bare {
			switch {
			case r == 0x1b:
				return nil, fmt.Errorf("line %d holds an escape sequence that is not colour: %q", i+1, l)
			case r < 0x20 || (r >= 0x7f && r <= 0x9f):
				return nil, fmt.Errorf("line %d holds control %U: %q", i+1, r, l)
			case unicode.Is(unicode.Cf, r):
				return nil, fmt.Errorf("line %d holds format character %U: %q", i+1, r, l)
			}
		}
		plain[i] = bare
	}
	return plain, nil
}

// Plain strips colour from a view.
func Plain(view string) string { return sgr.ReplaceAllString(view, "") }

package common

import (
	"charm.land/bubbles/v2/textinput"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

type reply struct {
	Tag
	body string
}

func TestLatestDropsStaleReplies(t *testing.T) {
	var search Latest
	if search.Current(reply{}) {
		t.Fatal("a zero Latest accepted the zero tag")
	}
	first := search.Issue("s1")
	if !search.Current(reply{Tag: first}) {
		t.Fatal("the newest tag is not current")
	}
	second := search.Issue("s1")
	if search.Current(reply{Tag: first}) {
		t.Fatal("a superseded tag is still current")
	}
	if !search.Current(reply{Tag: second}) || search.Tag() != second {
		t.Fatal("the newest tag is not current")
	}
	if search.Current(reply{Tag: Tag{Session: "s2", Seq: second.Seq}}) {
		t.Fatal("a tag from another session was accepted")
	}
	var other Latest
	if other.Issue("s1") == second {
		t.Fatal("two streams issued the same tag")
	}
	search.Forget()
	if search.Current(reply{Tag: second}) {
		t.Fatal("Forget left a tag current")
	}
	if !StaleFor("s2", reply{Tag: second}) || StaleFor("s1", reply{Tag: second}) {
		t.Fatal("StaleFor compares sessions wrongly")
	}
}

func TestPaintsWithoutColourAreEmpty(t *testing.T) {
	plain := NewStyles(colorprofile.ASCII)
	if !plain.NoColor() {
		t.Fatal("Ascii styles claim colour")
	}
	for name, p := range map[string]Paint{"banner": plain.Banner, "deny": plain.Deny, "selected": plain.Selected, "cursor": plain.CursorCell} {
		if !p.IsZero() || p.Apply("x") != "x" {
			t.Errorf("%s paints under no colour: %q", name, p.Apply("x"))
		}
	}
	colour := NewStyles(colorprofile.ANSI256)
	got := colour.Banner.Apply("IMPERSONATING")
	if !strings.HasPrefix(got, "\x1b[") || !strings.HasSuffix(got, "\x1b[m") || ansi.Strip(got) != "IMPERSONATING" {
		t.Fatalf("banner paint = %q", got)
	}
}

func TestFitLineAndBlock(t *testing.T) {
	st := NewStyles(colorprofile.ANSI256)
	line := st.Deny.Apply("denied everywhere") + " tail"
	got := FitLine(line, 6)
	if ansi.StringWidth(got) != 6 || ansi.Strip(got) != "denied" || !strings.HasSuffix(got, "\x1b[m") {
		t.Fatalf("FitLine kept %q; the reset after the cut must survive", got)
	}
	if FitLine("ab", 4) != "ab  " || FitLine("x", 0) != "" {
		t.Fatal("FitLine padding")
	}
	b := Block("one\ntwo\nthree", 3, 2)
	if len(b) != 2 || b[0] != "one" || b[1] != "two" {
		t.Fatalf("Block = %q", b)
	}
	j := JoinColumns("|", []string{"ab", "cd"}, []string{"x"})
	if j[0] != "ab|x" || j[1] != "cd| " {
		t.Fatalf("JoinColumns = %q", j)
	}
}

func TestBoxIsExactlyItsSize(t *testing.T) {
	for _, profile := range []colorprofile.Profile{colorprofile.ASCII, colorprofile.ANSI256} {
		st := NewStyles(profile)
		for _, focused := range []bool{false, true} {
			for w := 0; w < 30; w++ {
				for h := 0; h < 5; h++ {
					box := st.Box("Title \x1b[2J陳大文 that is long", []string{"content line that is long", "two"}, w, h, focused)
					if len(box) != h {
						t.Fatalf("%dx%d box has %d lines", w, h, len(box))
					}
					for _, l := range box {
						if ansi.StringWidth(l) != w {
							t.Fatalf("%dx%d box line %q is %d cells", w, h, l, ansi.StringWidth(l))
						}
						if strings.Contains(ansi.Strip(l), "\x1b") || strings.Contains(l, "[2J") {
							t.Fatalf("title escape leaked: %q", l)
						}
					}
				}
			}
		}
	}
	plain := NewStyles(colorprofile.ASCII)
	if got := plain.Box("T", []string{"x"}, 8, 3, true); got[0] != "┏━ T ━━┓" || got[1] != "┃ x    ┃" {
		t.Fatalf("focused box = %q", got)
	}
}

func TestKeyMapsJoin(t *testing.T) {
	g := DefaultGlobalKeys()
	km := KeyMaps{g, g}
	if len(km.ShortHelp()) != 2*len(g.ShortHelp()) || len(km.FullHelp()) != 2*len(g.FullHelp()) {
		t.Fatal("KeyMaps did not join")
	}
}

func TestDetectProfileHonoursNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	t.Setenv("CLICOLOR_FORCE", "1")
	if p := DetectProfile(); p != colorprofile.ASCII {
		t.Fatalf("NO_COLOR gave profile %v", p)
	}
}

// TestInputViewShowsTheCursorWithoutColour checks a focused input keeps a visible
// cursor when styles carry no attributes (NO_COLOR), scrolls to keep it in view, and
// never shows a hidden field's length.
func TestInputViewShowsTheCursorWithoutColour(t *testing.T) {
	st := NewStyles(colorprofile.ASCII)
	in := textinput.New()
	in.Prompt = "> "
	in.SetWidth(10)
	st.StyleInput(&in)
	in.Focus()
	in.SetValue("hello")
	if got := st.InputView(in); got != "> hello"+NoColorCursor+"     " {
		t.Fatalf("cursor at the end: %q", got)
	}
	in.SetCursor(2)
	if got := st.InputView(in); !strings.HasPrefix(got, "> he"+NoColorCursor+"llo") {
		t.Fatalf("cursor inside: %q", got)
	}
	in.SetValue("abcdefghijklmnopqrstuvwxyz")
	in.CursorEnd()
	got := st.InputView(in)
	if !strings.Contains(got, "rstuvwxyz"+NoColorCursor) || ansi.StringWidth(got) > 2+in.Width()+1 {
		t.Fatalf("long value not scrolled to the cursor: %q", got)
	}
	in.SetValue("")
	in.Placeholder = "search"
	if got := st.InputView(in); !strings.HasPrefix(got, "> "+NoColorCursor+"search") {
		t.Fatalf("placeholder: %q", got)
	}
	in.EchoMode = textinput.EchoNone
	in.SetValue("secret-password")
	if got := st.InputView(in); strings.TrimRight(got, " ") != "> "+NoColorCursor {
		t.Fatalf("a hidden field shows more than its cursor: %q", got)
	}
	in.Blur()
	if strings.Contains(st.InputView(in), NoColorCursor) {
		t.Fatal("a blurred input shows a cursor")
	}
	colour := NewStyles(colorprofile.ANSI256)
	in.Focus()
	if colour.InputView(in) != in.View() {
		t.Fatal("with colour the input draws itself")
	}
}

// TestWidthMatchesAnsi checks the fast Width against ansi.StringWidth: every rune it
// counts as one cell on its own, and lines mixing colour, ASCII, those runes and
// anything else (wide, combining, joined, controls, other escapes).
func TestWidthMatchesAnsi(t *testing.T) {
	for r := rune(0); r < 0x30000; r++ {
		if oneCell(r) {
			if w := ansi.StringWidth(string(r)); w != 1 {
				t.Fatalf("%U counted as one cell, ansi says %d", r, w)
			}
			for _, next := range []rune{0x0301, 0xfe0f, 0x200d, 'a', 0x2500} {
				pair := string(r) + string(next)
				if Width(pair) != ansi.StringWidth(pair) {
					t.Fatalf("%q: %d, ansi says %d", pair, Width(pair), ansi.StringWidth(pair))
				}
			}
		}
	}
	st := NewStyles(colorprofile.ANSI256)
	for _, line := range []string{
		"", "plain ascii", st.Allow.Apply("✓") + " allow " + st.Deny.Apply("✗"), "┏━ Keys ━┓ ❯ ⋅ ⊘ … ⢀⡠⠔ ▁▃▅█",
		"Chloé García · Tomás", "陳大文 wide", "e\u0301 combining", "👩‍💻 joined", "❤️ selector", "a\x1b]0;t\x07b",
		"tab\there", "\x1b[1;38;5;38mTitle\x1b[0m", "\x1b[?25l", "🇳🇱", "x\u200by", "◽◾ emoji shapes",
	} {
		if got, want := Width(line), ansi.StringWidth(line); got != want {
			t.Errorf("%q: %d, ansi says %d", line, got, want)
		}
	}
}

// GNU screen's own TERM gets the 16-colour red, which it shows; its 256-colour TERM and
// tmux keep 256 colours. The banner's paint then carries red screen understands (41).
func TestScreenGetsARedItCanShow(t *testing.T) {
	for term, want := range map[string]colorprofile.Profile{
		"screen": colorprofile.ANSI, "screen.linux": colorprofile.ANSI, "screen.xterm-new": colorprofile.ANSI,
		"screen-256color": colorprofile.ANSI256, "screen.xterm-256color": colorprofile.ANSI256, "tmux-256color": colorprofile.ANSI256,
	} {
		p := RemoteProfile([]string{"TERM=" + term})
		if p != want {
			t.Errorf("TERM=%s: profile %v, want %v", term, p, want)
		}
		if b := NewStyles(p).Banner.Apply("X"); p == colorprofile.ANSI && !strings.Contains(b, "41") {
			t.Errorf("TERM=%s: the banner is %q, no red screen shows", term, b)
		}
	}
}

// VT100s and the Linux console get ASCII frames and charts; others keep line drawing.
func TestNoLineDrawing(t *testing.T) {
	for term, want := range map[string]bool{"vt100": true, "vt220": true, "vt102": true, "linux": true,
		"xterm-256color": false, "screen": false, "tmux-256color": false, "": false} {
		if got := NoLineDrawing([]string{"TERM=" + term}); got != want {
			t.Errorf("TERM=%q: %v, want %v", term, got, want)
		}
	}
}

package banner_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

var info = banner.Info{User: "Alice Andersen", Admin: "Sam Support", ExpiresAt: uitest.Now.Add(29*time.Minute + 59*time.Second)}

func body(n int) string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("body line %02d %s", i+1, strings.Repeat("=", 150))
	}
	return strings.Join(lines, "\n")
}

// TestBannerGolden draws a composed frame at the four sizes the banner is promised at,
// with and without colour.
func TestBannerGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range []uitest.Size{{W: 120, H: 40}, {W: 80, H: 24}, {W: 40, H: 12}, {W: 20, H: 6}} {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				ctx := uitest.Context(p.Profile, sz.W, sz.H)
				frame := banner.Compose(ctx, &info, body(100))
				lines := uitest.AssertFrame(t, frame, sz.W, sz.H)
				if len(lines) != sz.H {
					t.Fatalf("frame has %d lines, want the full %d", len(lines), sz.H)
				}
				if !strings.Contains(lines[0], "IMPERSONATING") {
					t.Fatalf("line 1 is not the banner: %q", lines[0])
				}
				uitest.Golden(t, frame)
			})
		}
	}
}

// TestBannerSurvivesEverySize checks the banner's promises at every width from 1 to
// 140 and heights from 1 to 8, with a long name, a hostile name and a wide one.
func TestBannerSurvivesEverySize(t *testing.T) {
	names := []string{
		"Maximiliana Alexandra von Hohenzollern-Sigmaringen",
		hostile.Strings["csi cursor home"] + hostile.Strings["bidi override"],
		"陳大文陳大文陳大文陳大文",
		"",
	}
	page := body(50)
	for _, p := range uitest.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			surviveEverySize(t, p, names, page)
		})
	}
}

func surviveEverySize(t *testing.T, p uitest.Profile, names []string, page string) {
	for _, name := range names {
		in := banner.Info{User: name, Admin: hostile.Strings["osc title"] + "Sam", ExpiresAt: info.ExpiresAt}
		for w := 1; w <= 140; w++ {
			for _, h := range []int{1, 2, 3, 5, 8} {
				ctx := uitest.Context(p.Profile, w, h)
				lines := uitest.AssertFrame(t, banner.Compose(ctx, &in, page), w, h)
				if len(lines) != h {
					t.Fatalf("%s %dx%d: %d lines", p.Name, w, h, len(lines))
				}
				words := banner.Lines(ctx.Styles, in, uitest.Now, w)
				text := uitest.Plain(strings.Join(lines[:min(h, len(words))], "\n"))
				if w >= banner.MinWidth && h >= len(words) {
					for _, must := range []string{"IMPERSONATING", "READ-ONLY"} {
						if !strings.Contains(text, must) {
							t.Fatalf("%s %dx%d name %q: %q lost from\n%s", p.Name, w, h, name, must, text)
						}
					}
				}
				if !strings.HasPrefix(strings.TrimLeft(lines[0], "┃ "), "IMPERSON") && w >= 12 {
					t.Fatalf("%s %dx%d: line 1 does not start the banner: %q", p.Name, w, h, lines[0])
				}
				wordLines := len(words)
				if p.Profile == uitest.Profiles[0].Profile {
					wordLines-- // the rule under the words
				}
				if w >= banner.OneLineWidth && wordLines != 1 {
					t.Fatalf("%s %dx%d: %d lines of words at %d columns", p.Name, w, h, wordLines, w)
				}
				if wordLines > 2 {
					t.Fatalf("%s %dx%d: %d lines of words", p.Name, w, h, wordLines)
				}
				for _, l := range words {
					if ansi.StringWidth(l) != w {
						t.Fatalf("%s %dx%d: banner line %q is not %d cells", p.Name, w, h, l, w)
					}
				}
			}
		}
	}
}

func TestBannerShortensInOrder(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[1].Profile, 0, 0)
	words := func(w int) string {
		var out []string
		for _, l := range banner.Lines(ctx.Styles, info, uitest.Now, w) {
			out = append(out, strings.TrimSpace(uitest.Plain(l)))
		}
		return strings.Join(out, " | ")
	}
	cases := map[int]string{
		120: "IMPERSONATING Alice Andersen · READ-ONLY · as Sam Support · 29:59 left",
		70:  "IMPERSONATING Alice Andersen · READ-ONLY · as Sam Supp… · 29:59 left",
		60:  "IMPERSONATING Alice Andersen · READ-ONLY · 29:59 left",
		50:  "IMPERSONATING Alice An… · READ-ONLY · 29:59 left",
		40:  "IMPERSONATING Ali… · READ-ONLY · 29:59",
		30:  "IMPERSONATING Alice Andersen | READ-ONLY · 29:59 left",
		20:  "IMPERSONATING Ali… | READ-ONLY · 29:59",
		14:  "IMPERSONATING | READ-ONLY",
		9:   "IMPERSON… | READ-ONLY",
	}
	for w, want := range cases {
		if got := words(w); got != want {
			t.Errorf("width %d: %q, want %q", w, got, want)
		}
	}
}

func TestComposeWithoutSession(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 30, 4)
	lines := uitest.AssertFrame(t, banner.Compose(ctx, nil, body(10)+"\x1b[H\x1b]0;x\x07"), 30, 4)
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "body line 01") {
		t.Fatalf("body not clipped to the terminal: %q", lines)
	}
	ctx.Width, ctx.Height = 0, 0
	if got := banner.Compose(ctx, &info, "body"); !strings.Contains(got, "IMPERSONATING") || strings.Contains(got, "body") {
		t.Fatalf("before the size is known the frame must be the banner alone: %q", got)
	}
}

func TestComposeStripsCursorMovesFromBody(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[1].Profile, 60, 5)
	frame := banner.Compose(ctx, &info, "ok\x1b[1;1H\x1b[2KFAKE\x1b]0;t\x07\r\x08\nnext")
	lines := uitest.AssertFrame(t, frame, 60, 5)
	if lines[1] != "okFAKE " || lines[2] != "next" { // CR became a space, BS went
		t.Fatalf("body = %q", lines[1:])
	}
}

func TestRemainingAndTitle(t *testing.T) {
	if got := banner.Remaining(uitest.Now.Add(90*time.Second+400*time.Millisecond), uitest.Now); got != "01:30" {
		t.Errorf("Remaining = %s", got)
	}
	if got := banner.Remaining(uitest.Now.Add(-time.Minute), uitest.Now); got != "00:00" {
		t.Errorf("Remaining after expiry = %s", got)
	}
	if banner.Title(nil) != "shadow" {
		t.Error("title without a session")
	}
	got := banner.Title(&banner.Info{User: "Eve\x07\x1b]0;owned\x07\u202E"})
	if got != "shadow · IMPERSONATING Eve · READ-ONLY" {
		t.Errorf("Title = %q", got)
	}
}

// Without line drawing (a VT100, the Linux console) the banner's frame is ASCII and
// keeps its words at every width.
func TestBannerInASCII(t *testing.T) {
	st := common.NewStyles(colorprofile.ASCII)
	st.ASCII = true
	info := banner.Info{User: "Nora Lindqvist", Admin: "Sam Rivera", ExpiresAt: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)}
	for w := banner.MinWidth; w <= 120; w++ {
		lines := banner.Lines(st, info, info.ExpiresAt.Add(-10*time.Minute), w)
		all := strings.Join(lines, "\n")
		for _, r := range all {
			if r > 0x7e && r != '\n' && r != '·' && r != '…' {
				t.Fatalf("at %d columns %q is not ASCII: %q", w, r, all)
			}
		}
		if !strings.Contains(all, "IMPERSONATING") || !strings.Contains(all, "READ-ONLY") || !strings.Contains(lines[len(lines)-1], "===") {
			t.Fatalf("at %d columns: %q", w, all)
		}
	}
}

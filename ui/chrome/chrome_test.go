package chrome_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/ui/chrome"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

func TestSyncWords(t *testing.T) {
	for s, want := range map[chrome.Sync]string{
		{}:                          "synced",
		{Pending: 3}:                "3 pending",
		{Pending: 2, Offline: true}: "offline · 2 pending",
		{Offline: true}:             "offline · synced",
		{NotOpen: true, Pending: 1}: "not open yet",
	} {
		if s.String() != want {
			t.Errorf("%+v: %q, want %q", s, s.String(), want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	for _, p := range uitest.Profiles {
		ctx := uitest.Context(p.Profile, 80, 24)
		s := chrome.NewStatus(ctx)
		keys := common.KeyMaps{loadedMatrix(ctx), ctx.Keys}
		s.SetSync(chrome.Sync{Pending: 3})
		s.SetError(errors.New("unavailable: \x1b]52;c;eA==\x07server \u202Edown"))
		for w := 1; w <= 140; w++ {
			line := s.View(w, keys)
			uitest.AssertFrame(t, line, w, 1)
			if ansi.StringWidth(line) != w {
				t.Fatalf("%s width %d: %d cells", p.Name, w, ansi.StringWidth(line))
			}
		}
		plain := uitest.Plain(s.View(120, keys))
		for _, want := range []string{"journal: 3 pending", "error: unavailable: server down", "enter explain cell", "? help"} {
			if !strings.Contains(plain, want) {
				t.Errorf("%s: %q missing from %q", p.Name, want, plain)
			}
		}
		s.SetError(errors.New(strings.Repeat("the server failed (HTTP 503) ", 6)))
		for w := 50; w <= 140; w++ {
			plain := uitest.Plain(s.View(w, keys))
			if !strings.HasSuffix(plain, "│ ? help") || !strings.Contains(plain, "error: the s") {
				t.Fatalf("%s width %d: a long error crowds out the help key or itself: %q", p.Name, w, plain)
			}
		}
		s.SetNote("throwaway demo: nothing of it is kept")
		if plain := uitest.Plain(s.View(120, keys)); !strings.Contains(plain, "│ note: throwaway demo") || strings.Contains(plain, "error") {
			t.Errorf("%s: a note is not told as one: %q", p.Name, plain)
		}
		s.SetError(nil)
		s.SetSync(chrome.Sync{})
		if plain := uitest.Plain(s.View(80, ctx.Keys)); !strings.HasSuffix(plain, "│ ? help") {
			t.Errorf("keys offering help do not pin it: %q", plain)
		}
		// Keys without the help key (a text input, a dialog) leave it out: ? would be
		// typed, or do nothing.
		if plain := uitest.Plain(s.View(80, nil)); strings.Join(strings.Fields(plain), " ") != "journal: synced" {
			t.Errorf("no keys, yet %q", plain)
		}
		if plain := uitest.Plain(s.View(80, bindings{ctx.Keys.End})); strings.Contains(plain, "? help") || !strings.Contains(plain, "q end session") {
			t.Errorf("%q", plain)
		}
	}
}

// loadedMatrix is a permissions page with its matrix in: one loading offers none of its
// keys.
func loadedMatrix(ctx *common.Context) *matrix.Model {
	m := matrix.New(ctx)
	m.SetSize(ctx.Width, ctx.Height)
	for _, msg := range uitest.Msgs(m.Init()) {
		if req, ok := msg.(matrix.Requested); ok {
			m.Update(matrix.Loaded{Tag: req.Tag, Matrix: uitest.Matrix(3, 2)})
		}
	}
	return m
}

// What is loading is never cut by a hint: the words win over the first hint when they
// fit alone (at 120 columns "… 0 s · esc can…" was cut for "enter explain cell").
func TestBusyWordsAreNotCutForAHint(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 120, 40)
	s := chrome.NewStatus(ctx)
	s.SetSync(chrome.Sync{Pending: 3})
	busy := "loading the permission matrix of Alice Andersen… 0 s · esc cancels"
	s.SetBusy(busy)
	keys := common.KeyMaps{bindings{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "explain the cell under the cursor"))}, ctx.Keys}
	for _, w := range []int{80, 100, 120, 140} {
		plain := uitest.Plain(s.View(w, keys))
		if len(busy)+len("journal: 3 pending │  │ ? help") <= w && !strings.Contains(plain, busy) {
			t.Errorf("width %d: the busy words are cut: %q", w, plain)
		}
		if !strings.HasSuffix(plain, "│ ? help") {
			t.Errorf("width %d: the help key is crowded out: %q", w, plain)
		}
	}
}

// bindings is a key map of a few bindings.
type bindings []key.Binding

func (b bindings) ShortHelp() []key.Binding  { return b }
func (b bindings) FullHelp() [][]key.Binding { return [][]key.Binding{b} }

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("help/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				ctx := uitest.Context(p.Profile, sz.W, sz.H)
				view := chrome.HelpView(ctx, common.KeyMaps{loadedMatrix(ctx), ctx.Keys}, sz.W, sz.H)
				uitest.AssertFrame(t, view, sz.W, sz.H)
				for _, want := range []string{"explain cell", "deny rows only", "end session", "end & quit"} {
					if !strings.Contains(view, want) {
						t.Errorf("help lacks %q", want)
					}
				}
				uitest.Golden(t, view)
			})
			t.Run(fmt.Sprintf("dialog/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				ctx := uitest.Context(p.Profile, sz.W, sz.H)
				view := chrome.Dialog(ctx, "End the session?", []string{"Stop shadowing Alice Andersen and return to the picker?", "", "y end · n keep going"}, sz.W, sz.H)
				uitest.AssertFrame(t, view, sz.W, sz.H)
				uitest.Golden(t, view)
			})
		}
	}
}

func TestTabsShowTheActiveOneWithoutColour(t *testing.T) {
	st := uitest.Context(uitest.Profiles[0].Profile, 0, 0).Styles
	got := chrome.Tabs(st, []string{"Dashboards", "Permissions", "Journal"}, 1, 60)
	if got != " 1 Dashboards  [2 Permissions]  3 Journal                   " {
		t.Fatalf("%q", got)
	}
	for w := 1; w < 50; w++ {
		if ansi.StringWidth(chrome.Tabs(st, []string{"a\x1b[2J", "b"}, 0, w)) != w {
			t.Fatalf("tabs at %d", w)
		}
	}
	ctx := uitest.Context(uitest.Profiles[0].Profile, 20, 6)
	uitest.AssertFrame(t, chrome.HelpView(ctx, ctx.Keys, 20, 6), 20, 6)
	uitest.AssertFrame(t, chrome.Dialog(ctx, "x", []string{strings.Repeat("long ", 30)}, 20, 6), 20, 6)
}

// TestTabsNeverHideTheActiveOne narrows the bar: the other tabs shrink to their
// numbers, then go, but the active one stays whole.
func TestTabsNeverHideTheActiveOne(t *testing.T) {
	st := uitest.Context(uitest.Profiles[0].Profile, 0, 0).Styles
	titles := []string{"Dashboards", "Permissions", "Journal"}
	for active, label := range []string{"[1 Dashboards]", "[2 Permissions]", "[3 Journal]"} {
		for w := len(label); w <= 80; w++ {
			bar := chrome.Tabs(st, titles, active, w)
			if ansi.StringWidth(bar) != w || !strings.Contains(bar, label) {
				t.Fatalf("width %d: %q lacks %s", w, bar, label)
			}
		}
	}
	if got := strings.TrimRight(chrome.Tabs(st, titles, 2, 20), " "); got != "1 2 [3 Journal]" {
		t.Fatalf("at 20 cells: %q", got)
	}
}

// TestOverlaysOnTinyTerminals: where a dialog's or the help's frame does not fit, the
// words do, the dialog's last line (how to answer) first of all.
func TestOverlaysOnTinyTerminals(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 20, 6)
	for h := 1; h <= 4; h++ {
		view := chrome.Dialog(ctx, "End the session?", []string{"Stop shadowing Alice Andersen and return to the picker?", "", "y end · n keep going"}, 20, h)
		lines := uitest.AssertFrame(t, view, 20, h)
		if !strings.Contains(lines[len(lines)-1], "y end · n keep going") {
			t.Fatalf("height %d: how to answer is not shown:\n%s", h, view)
		}
		if h > 1 && !strings.Contains(lines[0], "End the session?") {
			t.Fatalf("height %d: the question is not shown:\n%s", h, view)
		}
		help := uitest.AssertFrame(t, chrome.HelpView(ctx, common.KeyMaps{loadedMatrix(ctx), ctx.Keys}, 20, h), 20, h)
		if !strings.Contains(help[len(help)-1], "esc to close") || (h > 1 && !strings.Contains(help[0], "up")) {
			t.Fatalf("height %d: the help shows no keys:\n%s", h, strings.Join(help, "\n"))
		}
	}
}

// TestCutHintsLeaveNoSeparator: at any width, hints cut short end with a whole hint or
// its ellipsis, never a separator left dangling before the help key
// ("i cell details • │ ? help", seen at 80 columns).
func TestCutHintsLeaveNoSeparator(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	s := chrome.NewStatus(ctx)
	keys := common.KeyMaps{matrix.New(ctx), ctx.Keys}
	for _, note := range []string{"", "1 journal of another sign-in kept for its owner"} {
		s.SetNote(note)
		for w := 30; w <= 160; w++ {
			plain := strings.TrimRight(uitest.Plain(s.View(w, keys)), " ")
			if strings.Contains(plain, "• │") || strings.Contains(plain, "•  ") || strings.HasSuffix(plain, "•") {
				t.Fatalf("width %d: a dangling separator: %q", w, plain)
			}
		}
	}
}

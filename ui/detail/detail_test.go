package detail_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

const long = "Alice is a member of team North-East, which is a sub-team of North, whose role Fleet Manager grants share on every vehicle of the company, except those an explicit deny on the Finance group takes back"

func fields() []detail.Field {
	return []detail.Field{
		{Label: "Name", Value: "Ava Eriksen 000417"},
		{Label: "User id", Value: "usr_000417_7f3a9e0c1d2e", Copy: true},
		{Label: "Email", Value: "ava.eriksen.000417@generated-company-0042.example.com", Copy: true},
		{Label: "Team", Value: ""},
		{Label: "Why", Value: long},
		{Label: "Chain", Draw: func(w int) []string {
			var out []string
			for i := 1; i <= 12; i++ {
				out = append(out, fmt.Sprintf("%d. step %d", i, i))
			}
			return out
		}},
	}
}

func open(p uitest.Profile, w, h int) *detail.Model {
	m := detail.New(uitest.Context(p.Profile, w, h), "User Ava Eriksen 000417", fields())
	m.SetSize(w, h)
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := open(p, sz.W, sz.H)
				uitest.Press(m, "down")
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				uitest.Golden(t, view)
			})
		}
	}
}

// TestValuesAreWholeNeverCut: every word of a long value is on screen at every width,
// the label stacked over it when narrow.
func TestValuesAreWholeNeverCut(t *testing.T) {
	for _, w := range []int{120, 80, 39, 20} {
		m := open(uitest.Profiles[0], w, 200)
		lines := uitest.AssertFrame(t, m.View(), w, 200)
		text := strings.Join(lines, " ")
		// Lines may break at a hyphen: without the spaces the value reads through.
		if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(long, " ", "")) {
			t.Fatalf("at %d columns the value is not whole:\n%s", w, strings.Join(lines, "\n"))
		}
		if strings.Contains(strings.Join(lines[1:], " "), "…") { // the title may be cut; a value never
			t.Fatalf("at %d columns a value was cut:\n%s", w, strings.Join(lines, "\n"))
		}
		if !strings.Contains(text, "(none)") {
			t.Fatalf("an empty value is not said as such:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// TestScrollsToEveryLine: at a short height, moving down reaches the last line of the
// last field, and the title says which lines are shown.
func TestScrollsToEveryLine(t *testing.T) {
	m := open(uitest.Profiles[0], 80, 8)
	if v := uitest.Plain(m.View()); !strings.Contains(v, "lines 1–7 of") {
		t.Fatalf("no position in the title:\n%s", v)
	}
	for i := 0; i < 40; i++ {
		uitest.Press(m, "down")
	}
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "12. step 12") {
		t.Fatalf("the last line is not reached:\n%s", v)
	}
	uitest.Press(m, "g")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "❯ Name") {
		t.Fatalf("g does not go back to the first field:\n%s", v)
	}
	uitest.Press(m, "G")
	if f, _ := m.Focused(); f.Label != "Chain" {
		t.Fatalf("G is on %q", f.Label)
	}
	uitest.Press(m, "pgup", "pgup", "pgup")
	if f, _ := m.Focused(); f.Label != "Name" {
		t.Fatalf("pgup to the top is on %q", f.Label)
	}
}

// clipboard is the text of the set-clipboard messages among msgs (Bubble Tea's type is
// unexported: the program writes it to the terminal as OSC 52).
func clipboard(msgs []tea.Msg) []string {
	var out []string
	for _, msg := range msgs {
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
			out = append(out, reflect.ValueOf(msg).String())
		}
	}
	return out
}

// TestCopySendsTheFocusedValue: with copying on, Y on an id sends it, cleaned, and the
// view says it was sent (not that it landed); on a field that is not copied it says so
// and sends nothing; with copying off it sends nothing and says how to turn it on.
func TestCopySendsTheFocusedValue(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	ctx.Clipboard.On = true
	m := detail.New(ctx, "User", fields())
	m.SetSize(80, 24)
	if sent := clipboard(uitest.Press(m, "Y")); len(sent) != 0 {
		t.Fatalf("the name is not copyable, yet Y sent %q", sent)
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Name is not one to copy") {
		t.Fatalf("Y on the name says nothing:\n%s", v)
	}
	if sent := clipboard(uitest.Press(m, "down", "Y")); len(sent) != 1 || sent[0] != "usr_000417_7f3a9e0c1d2e" {
		t.Fatalf("Y on the id sent %q", sent)
	}
	v := m.View()
	if !strings.Contains(uitest.Plain(v), "sent the user id by OSC 52; the terminal decides if it takes it") {
		t.Fatalf("the view does not say what was sent:\n%s", v)
	}
	uitest.AssertFrame(t, v, 80, 24) // no OSC in the frame: the program writes it
	if top := strings.SplitN(uitest.Plain(v), "\n", 2)[0]; !strings.HasSuffix(strings.TrimRight(top, " "), "esc close") {
		t.Fatalf("the word on the copy does not fit 80 columns with the way out: %q", top)
	}
	uitest.Press(m, "down")
	if strings.Contains(uitest.Plain(m.View()), "sent the") {
		t.Fatal("the word on the copy outlives the next key")
	}

	h := hostile.List()
	m = detail.New(ctx, "x", []detail.Field{{Label: "Id", Value: "usr_1" + h[0] + "\n; rm -rf ~", Copy: true}})
	m.SetSize(80, 24)
	sent := clipboard(uitest.Press(m, "Y"))
	if len(sent) != 1 || strings.ContainsAny(sent[0], "\x1b\n\r\a") {
		t.Fatalf("the copied text carries a control: %q", sent)
	}

	off := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	off.Clipboard.TurnOn = "start shadow with --osc52"
	m = detail.New(off, "User", fields())
	m.SetSize(80, 24)
	if sent := clipboard(uitest.Press(m, "down", "Y")); len(sent) != 0 {
		t.Fatalf("copying is off, yet Y sent %q", sent)
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, "copying is off: start shadow with --osc52") {
		t.Fatalf("Y with copying off says nothing:\n%s", v)
	}
}

func TestEscCloses(t *testing.T) {
	m := open(uitest.Profiles[0], 80, 24)
	if m.Done() {
		t.Fatal("done before esc")
	}
	uitest.Press(m, "esc")
	if !m.Done() {
		t.Fatal("esc does not close")
	}
}

// TestTinyAndHostile: the smallest terminals and the hostile corpus in every value draw
// a valid frame without a panic.
func TestTinyAndHostile(t *testing.T) {
	var fs []detail.Field
	for i, h := range hostile.List() {
		fs = append(fs, detail.Field{Label: h, Value: h + hostile.List()[(i+3)%len(hostile.List())], Copy: i%2 == 0})
	}
	for _, sz := range []uitest.Size{{W: 20, H: 6}, {W: 15, H: 4}, {W: 1, H: 1}, {W: 120, H: 40}} {
		for _, p := range uitest.Profiles {
			m := detail.New(uitest.Context(p.Profile, sz.W, sz.H), hostile.List()[0], fs)
			m.SetSize(sz.W, sz.H)
			for _, k := range []string{"down", "down", "pgdown", "Y", "G", "up", "pgup", "g", "Y"} {
				uitest.Press(m, k)
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
			}
		}
	}
}

package compare_test

import (
	"fmt"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// long is a chain of n membership steps before the decisive one, each a few lines at
// 80 columns: too long for its box on a small terminal.
func long(subject, decisive string, n int) *api.Explanation {
	e := &api.Explanation{Subject: api.UserRef{Name: subject}, Action: "list", Effect: api.EffectNameNone,
		Resource: api.Resource{Name: "Route 00002"}}
	for i := range n {
		e.Steps = append(e.Steps, api.ExplainStep{Kind: "membership",
			Text: fmt.Sprintf("%s is a member of team T%d, which is a member of the group of teams that covers the northern depots and their routes", subject, i)})
	}
	e.Steps = append(e.Steps, api.ExplainStep{Kind: "default", Text: decisive, Decisive: true})
	return e
}

// At 80×24 chains too long for their boxes show each one's decisive step whole (and
// say what is cut and how to read it); i opens both whole, scrollable, and esc goes
// back to the list.
func TestCutChainsShowWhatDecidedAndOpenWhole(t *testing.T) {
	a, b := pair(50, 6, []int{1, 2, 3}, nil, 0)
	x := long("Alice Andersen", "Role Fleet Manager held directly allows list on Route 00002, which decides it: ALICE-END.", 4)
	y := long("Bob Berg", "Nothing grants list on Route 00002 to Bob Berg, so it is not allowed: BOB-END.", 5)
	x.Effect = api.EffectNameAllow
	x.Steps[len(x.Steps)-1].Effect = api.EffectNameAllow
	m := shown(t, 0, 80, 24, a, b, x, y)
	v := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	for _, want := range []string{"ALICE-END.", "BOB-END.", "more steps · i shows both whole", "(decisive)"} {
		if !strings.Contains(v, want) {
			t.Fatalf("a cut chain does not show %q:\n%s", want, v)
		}
	}
	if strings.Count(v, "more steps · i shows both whole") != 2 {
		t.Fatalf("each cut chain does not say it is cut:\n%s", v)
	}
	if !offers(m.ShortHelp(), "i") {
		t.Fatalf("the hints do not offer i: %v", m.ShortHelp())
	}
	uitest.Press(m, "i")
	whole := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	if !strings.Contains(whole, "Compare: list on Route 00002") || !strings.Contains(whole, "lines 1–") {
		t.Fatalf("i does not open the row whole, scrollable:\n%s", whole)
	}
	// Scrolled through, every step of both chains is there, whole.
	seen := whole
	for range 20 {
		uitest.Press(m, "pgdown")
		seen += "\n" + m.View()
	}
	plain := uitest.Plain(seen)
	for _, want := range []string{"ALICE-END.", "BOB-END.", "team T3", "T4, which is", "Why, for Alice Andersen", "Why, for Bob Berg"} {
		if !strings.Contains(plain, want) {
			t.Fatalf("the whole view lacks %q:\n%s", want, plain)
		}
	}
	uitest.Press(m, "esc")
	if back := m.View(); !strings.Contains(back, "i shows both whole") || strings.Contains(back, "Why, for") {
		t.Fatalf("esc does not go back to the list:\n%s", back)
	}
	if m.Picking() {
		t.Fatal("esc over the whole view closed more than it")
	}
	uitest.Press(m, "enter")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Why, for Alice Andersen") {
		t.Fatalf("enter does not open the row whole:\n%s", v)
	}
}

// At 120×40 chains that need few lines leave the list the rest: no blank lines below.
func TestTheListTakesWhatTheChainsDoNotNeed(t *testing.T) {
	var changed []int
	for i := 1; i < 90; i++ {
		changed = append(changed, i)
	}
	a, b := pair(100, 6, changed, nil, 0)
	x := explanation("Alice Andersen", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	y := explanation("Bob Berg", "default", "Nothing grants share", api.EffectNameNone)
	m := shown(t, 0, 120, 40, a, b, x, y)
	lines := uitest.AssertFrame(t, m.View(), 120, 40)
	if last := strings.TrimSpace(uitest.Plain(lines[len(lines)-1])); last == "" {
		t.Fatalf("the frame ends in blank lines the list could have used:\n%s", strings.Join(lines, "\n"))
	}
	rows := 0
	for _, l := range lines {
		if strings.Contains(l, " list ") {
			rows++
		}
	}
	if rows <= 40*2/5 {
		t.Fatalf("the list shows %d rows at 120×40 with short chains:\n%s", rows, strings.Join(lines, "\n"))
	}
}

// offers reports whether hints hold a binding whose help key is k.
func offers(hints []key.Binding, k string) bool {
	for _, b := range hints {
		if b.Help().Key == k {
			return true
		}
	}
	return false
}

// The summary says how many cells differ in what they may do and how many only in why
// not (a deny against nothing granted); s puts the ones they may do first, and back.
func TestSummarySaysWhatTheyMayDoAndSSortsThemFirst(t *testing.T) {
	a, b := pair(40, 6, []int{2, 30}, nil, 0)
	why := -1
	for i := 3; i < 30; i++ {
		if a.Rows[i].Effects[3] == api.EffectDeny {
			why = i
			break
		}
	}
	e := []byte(b.Rows[why].Effects)
	e[3] = api.EffectNone
	b.Rows[why].Effects = string(e)
	x := explanation("Alice Andersen", "role", "Role A allows share", api.EffectNameAllow)
	m := shown(t, 0, 120, 40, a, b, x, x)
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "3 cells differ: 2 in what they may do, 1 only in why not") {
		t.Fatalf("the summary does not split the differences:\n%s", v)
	}
	if !offers(m.ShortHelp(), "s") {
		t.Fatalf("s is not offered: %v", m.ShortHelp())
	}
	uitest.Press(m, "j") // on the cell only why not differs (row 2 of 3)
	uitest.Press(m, "s")
	v = uitest.Plain(m.View())
	lines := strings.Split(v, "\n")
	if !strings.Contains(v, "may-do first") || !strings.Contains(lines[1], "row 3 of 3") {
		t.Fatalf("s does not sort the list (the cursor on its row):\n%s", v)
	}
	for i, want := range []string{a.Rows[2].Resource.Name, a.Rows[30].Resource.Name, a.Rows[why].Resource.Name} {
		if !strings.Contains(lines[3+i], want) {
			t.Fatalf("row %d is not %s once sorted:\n%s", i+1, want, v)
		}
	}
	uitest.Press(m, "s")
	if v := uitest.Plain(m.View()); strings.Contains(v, "may-do first") || !strings.Contains(v, "row 2 of 3") {
		t.Fatalf("s again does not give the list's order back:\n%s", v)
	}
}

// The hints say the keys that work where the cursor is: no down on the last row, no up
// on the first, and the first/last and page keys.
func TestHintsSayTheKeysThatWork(t *testing.T) {
	var changed []int
	for i := 1; i < 60; i++ {
		changed = append(changed, i)
	}
	a, b := pair(60, 6, changed, nil, 0)
	x := explanation("Alice Andersen", "role", "Role A allows share", api.EffectNameAllow)
	m := shown(t, 0, 80, 24, a, b, x, x)
	h := m.ShortHelp()
	if !offers(h, "↓/j") || offers(h, "↑/k") || offers(h, "j/k") || !offers(h, "g/G") || !offers(h, "pgup/pgdn") || !offers(h, "esc") {
		t.Fatalf("first row: %v", keysOf(h))
	}
	uitest.Press(m, "G")
	if h := m.ShortHelp(); offers(h, "↓/j") || !offers(h, "↑/k") || !offers(h, "g/G") {
		t.Fatalf("last row: %v", keysOf(h))
	}
}

func keysOf(hints []key.Binding) []string {
	var out []string
	for _, b := range hints {
		out = append(out, b.Help().Key)
	}
	return out
}

// The picker under the compare is titled for what it does.
func TestThePickerIsTitledForTheCompare(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	m := compare.New(ctx, api.Resource{Name: "Fuel"}, "share", "Nora Lindqvist")
	m.SetSize(80, 24)
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Compare Nora Lindqvist with…") || strings.Contains(v, "to shadow") {
		t.Fatalf("the compare's picker is not titled for it:\n%s", v)
	}
}

// Between the first and the last row both ways are offered, in one hint.
func TestHintsBetweenTheEnds(t *testing.T) {
	a, b := pair(60, 6, []int{1, 2, 3}, nil, 0)
	x := explanation("Alice Andersen", "role", "Role A allows share", api.EffectNameAllow)
	m := shown(t, 0, 80, 24, a, b, x, x)
	uitest.Press(m, "j")
	if h := m.ShortHelp(); !offers(h, "j/k") || offers(h, "↓/j") || offers(h, "pgup/pgdn") {
		t.Fatalf("middle row of a list that fits: %v", keysOf(h))
	}
}

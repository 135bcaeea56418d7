package compare_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

func explanation(subject, kind, text, effect string) *api.Explanation {
	return &api.Explanation{Subject: api.UserRef{Name: subject}, Action: "share", Effect: effect,
		Resource: api.Resource{Name: "Fuel"},
		Steps: []api.ExplainStep{
			{Kind: "membership", Text: subject + " is a member of team North"},
			{Kind: kind, Text: text, Effect: effect, Decisive: true},
		}}
}

func TestFirstDifference(t *testing.T) {
	a := explanation("Nora", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	b := explanation("Tomás", "default", "Nothing grants share", "")
	if got := compare.FirstDifference(a, b); got != 1 {
		t.Fatalf("first difference %d, want 1 (the same membership, named for each user, is alike)", got)
	}
	c := explanation("Tomás", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	if got := compare.FirstDifference(a, c); got != -1 {
		t.Fatalf("alike chains differ at %d", got)
	}
	short := &api.Explanation{Subject: api.UserRef{Name: "Tomás"}, Steps: b.Steps[:1]}
	if got := compare.FirstDifference(a, short); got != 1 {
		t.Fatalf("a missing step: %d, want 1", got)
	}
	if compare.FirstDifference(nil, a) != -1 {
		t.Fatal("nothing to compare is no difference")
	}
}

// pair is a matrix and a second user's: b is a copy of a with cells changed at rows
// changed (one action each), the rows at dropA missing from b, and rows added to b.
func pair(rows, actions int, changed, dropA []int, added int) (a, b *api.PermissionMatrix) {
	a = uitest.Matrix(rows, actions)
	b = uitest.Matrix(rows, actions)
	b.Subject = api.UserRef{ID: "u-2", Name: "Bob Berg"}
	for _, i := range changed {
		e := []byte(b.Rows[i].Effects)
		if e[1] == api.EffectAllow {
			e[1] = api.EffectNone
		} else {
			e[1] = api.EffectAllow
		}
		b.Rows[i].Effects = string(e)
	}
	drop := map[int]bool{}
	for _, i := range dropA {
		drop[i] = true
	}
	kept := b.Rows[:0]
	for i, r := range b.Rows {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	b.Rows = kept
	for i := range added {
		b.Rows = append(b.Rows, api.PermissionRow{Resource: api.Resource{ID: fmt.Sprintf("extra:%d", i), Name: fmt.Sprintf("Extra %d", i)},
			Effects: strings.Repeat(string(api.EffectAllow), actions)})
	}
	return a, b
}

func TestComputeListsOnlyWhatDiffers(t *testing.T) {
	a, b := pair(200, 6, []int{3, 50, 199}, []int{10}, 2)
	// One cell neither may do, for different reasons: a deny against nothing granted.
	whyNot := -1
	for i := 100; i < 190; i++ {
		if a.Rows[i].Effects[3] == api.EffectDeny {
			whyNot = i
			break
		}
	}
	e := []byte(b.Rows[whyNot-1].Effects) // b lacks row 10: its rows are one behind
	e[3] = api.EffectNone
	b.Rows[whyNot-1].Effects = string(e)
	d := compare.Compute(a, b)
	if d.Differing != 4 || d.MayDiffer != 3 || d.WhyNotOnly != 1 {
		t.Fatalf("diff: %d differing, %d in what they may do, %d only in why not", d.Differing, d.MayDiffer, d.WhyNotOnly)
	}
	order := d.MayFirst()
	for i, at := range order {
		if r := d.Rows[at]; (i < 3) != (r.Kind == compare.Differs && r.MayDiffer()) || (i > 0 && i != 3 && order[i-1] > at) {
			t.Fatalf("MayFirst does not put the 3 cells one may do first, each part in the list's order: %v", order)
		}
	}
	if len(order) != len(d.Rows) {
		t.Fatalf("MayFirst: %v", order)
	}
	if d.Differing != 4 || d.OnlyFirst != 1 || d.OnlySecond != 2 || len(d.Rows) != 7 || d.Both != 199 || d.Cells != 199*6 {
		t.Fatalf("diff: %d differing, %d only first, %d only second, %d rows, %d both, %d cells", d.Differing, d.OnlyFirst, d.OnlySecond, len(d.Rows), d.Both, d.Cells)
	}
	for _, r := range d.Rows {
		switch r.Kind {
		case compare.Differs:
			if r.A == r.B || (r.Action != a.Actions[1] && r.Resource.ID != a.Rows[whyNot].Resource.ID) {
				t.Errorf("a row that does not differ: %+v", r)
			}
		case compare.OnlyFirst:
			if r.Resource.ID != a.Rows[10].Resource.ID || r.Effects != a.Rows[10].Effects {
				t.Errorf("only first: %+v", r)
			}
		case compare.OnlySecond:
			if !strings.HasPrefix(r.Resource.ID, "extra:") {
				t.Errorf("only second: %+v", r)
			}
		}
	}
	if i := d.Index(a.Rows[50].Resource.ID, a.Actions[1]); i != 2 { // after row 3 and the row only a lists
		t.Fatalf("Index of the second changed cell: %d", i)
	}
	// The same matrix against itself: nothing differs, and the count of what both may do.
	same := compare.Compute(a, a)
	allowed := strings.Count(strings.Join(func() []string {
		var out []string
		for _, r := range a.Rows {
			out = append(out, r.Effects)
		}
		return out
	}(), ""), string(api.EffectAllow))
	if !same.Same() || same.Allowed != allowed {
		t.Fatalf("a matrix against itself: %d rows, %d allowed (want %d)", len(same.Rows), same.Allowed, allowed)
	}
}

// An action only one matrix has is not compared; actions in another order still are.
func TestComputeMatchesActionsByName(t *testing.T) {
	a, b := pair(20, 4, nil, nil, 0)
	for i := range b.Rows { // b's actions reversed, its cells with them
		e := []byte(b.Rows[i].Effects)
		for x, y := 0, len(e)-1; x < y; x, y = x+1, y-1 {
			e[x], e[y] = e[y], e[x]
		}
		b.Rows[i].Effects = string(e)
	}
	b.Actions = []string{a.Actions[3], a.Actions[2], a.Actions[1], a.Actions[0]}
	if d := compare.Compute(a, b); !d.Same() || len(d.Actions) != 4 {
		t.Fatalf("the same cells in another action order differ: %+v", d.Rows)
	}
	b.Actions[0] = "teleport"
	if d := compare.Compute(a, b); len(d.Actions) != 3 {
		t.Fatalf("an action one matrix lacks was compared: %v", d.Actions)
	}
}

// shown is a compare view showing the diff of a and b at w×h, in profile p, with the
// chains of the row under the cursor answered by x and y.
func shown(t testing.TB, p int, w, h int, a, b *api.PermissionMatrix, x, y *api.Explanation) *compare.Model {
	t.Helper()
	ctx := uitest.Context(uitest.Profiles[p].Profile, w, h)
	m := compare.New(ctx, api.Resource{ID: "none"}, "share", a.Subject.Name)
	m.Follow = time.Millisecond
	m.SetSize(w, h)
	tag := m.Starting(api.User{ID: b.Subject.ID, Name: b.Subject.Name})
	_, cmd := m.Update(compare.Loaded{Tag: tag, User: api.User{ID: b.Subject.ID, Name: b.Subject.Name}, Diff: compare.Compute(a, b)})
	if req, ok := uitest.Find[compare.ExplainRequested](uitest.Msgs(cmd)); ok {
		m.Update(compare.ExplainLoaded{Tag: req.Tag, First: x, Second: y})
	}
	return m
}

func TestGolden(t *testing.T) {
	a, b := pair(500, 6, []int{1, 2, 3, 40, 41, 300, 499}, []int{7}, 1)
	x := explanation("Alice Andersen", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	y := explanation("Bob Berg", "default", "Nothing grants share", api.EffectNameNone)
	for _, e := range []*api.Explanation{x, y} { // the chains of the first row
		e.Resource, e.Action = a.Rows[1].Resource, a.Actions[1]
	}
	for p, prof := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("differs/%s/%dx%d", prof.Name, sz.W, sz.H), func(t *testing.T) {
				m := shown(t, p, sz.W, sz.H, a, b, x, y)
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				uitest.Golden(t, m.View())
			})
			t.Run(fmt.Sprintf("same/%s/%dx%d", prof.Name, sz.W, sz.H), func(t *testing.T) {
				alike, _ := pair(500, 6, nil, nil, 0)
				_, bob := pair(500, 6, nil, nil, 0)
				m := shown(t, p, sz.W, sz.H, alike, bob, nil, nil)
				v := uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				if !strings.Contains(strings.Join(v, "\n"), "No cell differs: both may do the same") {
					t.Fatalf("nothing differing is not said in words:\n%s", strings.Join(v, "\n"))
				}
				uitest.Golden(t, m.View())
			})
		}
	}
}

// A resource one of them does not see reads as such: never "deny" or "denied" for
// the one who does not see it, and nothing is asked of the server for it.
func TestAResourceOnlyOneSeesIsNotADeny(t *testing.T) {
	a, b := pair(30, 6, nil, []int{4}, 0)
	m := shown(t, 0, 100, 30, a, b, nil, nil)
	v := uitest.Plain(m.View())
	if !strings.Contains(v, compare.NotListed) || !strings.Contains(v, "1 resource only Alice Andersen sees") ||
		!strings.Contains(v, "in Alice Andersen's matrix only") || strings.Contains(v, "Bob Berg: ") {
		t.Fatalf("the resource only one sees is not said as such:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "not a deny") {
			continue
		}
		if strings.Contains(l, "Bob") && strings.Contains(l, "den") {
			t.Fatalf("Bob is said to be denied what he does not see: %q", l)
		}
	}
	if m.Busy() {
		t.Fatal("the view waits for chains of a resource one of them does not see")
	}
}

// The chains follow the cursor: once it moves, the old row's chains are gone, the new
// row's are asked for only when the cursor rests (the newest pause), and a late reply
// for the row left is dropped.
func TestChainsFollowTheCursorOnce(t *testing.T) {
	a, b := pair(100, 6, []int{1, 2, 3, 4}, nil, 0)
	x := explanation("Alice Andersen", "role", "Role A allows share", api.EffectNameAllow)
	ctx := uitest.Context(uitest.Profiles[0].Profile, 120, 40)
	m := compare.New(ctx, api.Resource{}, "", "Alice Andersen")
	m.Follow = time.Millisecond
	m.SetSize(120, 40)
	tag := m.Starting(api.User{Name: "Bob Berg"})
	_, cmd := m.Update(compare.Loaded{Tag: tag, User: api.User{Name: "Bob Berg"}, Diff: compare.Compute(a, b)})
	first, ok := uitest.Find[compare.ExplainRequested](uitest.Msgs(cmd))
	if !ok {
		t.Fatal("the first row's chains are not asked for at once")
	}
	var dues []tea.Msg
	for range 3 { // a held key: three moves before any pause ends
		dues = append(dues, uitest.Press(m, "j")...)
	}
	var asked []compare.ExplainRequested
	for _, due := range dues {
		_, cmd := m.Update(due)
		if req, ok := uitest.Find[compare.ExplainRequested](uitest.Msgs(cmd)); ok {
			asked = append(asked, req)
		}
	}
	if len(asked) != 1 || asked[0].Resource.ID != a.Rows[4].Resource.ID {
		t.Fatalf("a held key asked %d times (%+v), want once for the row it rests on", len(asked), asked)
	}
	m.Update(compare.ExplainLoaded{Tag: first.Tag, First: x, Second: x}) // late, for the first row
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Asking the server why") || !strings.Contains(v, "row 4 of 4") {
		t.Fatalf("the chains of the row left are drawn for the new one:\n%s", v)
	}
	uitest.Press(m, "g")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 1 of 4") {
		t.Fatalf("g does not go to the first row:\n%s", v)
	}
	uitest.Press(m, "G")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 4 of 4") {
		t.Fatalf("G does not go to the last row:\n%s", v)
	}
}

func TestHostileTextIsCleaned(t *testing.T) {
	for name, s := range hostile.Strings {
		t.Run(name, func(t *testing.T) {
			a, b := pair(20, 6, []int{1}, []int{2}, 1)
			for i := range a.Rows {
				a.Rows[i].Resource.Name = s
			}
			for i := range b.Rows {
				b.Rows[i].Resource.Name = s
			}
			a.Subject.Name, b.Subject.Name = s, s
			a.Actions[1], b.Actions[1] = s, s
			x := explanation(s, "role", s, api.EffectNameAllow)
			x.Resource.Name = s
			y := explanation(s, s, s, "")
			for _, sz := range [][2]int{{80, 24}, {120, 40}, {20, 6}} {
				m := shown(t, 1, sz[0], sz[1], a, b, x, y)
				for _, key := range []string{"", "j", "j", "i", "pgdown", "esc", "s", "j", "i"} {
					if key != "" {
						uitest.Press(m, key)
					}
					uitest.AssertFrame(t, m.View(), sz[0], sz[1])
					if v := uitest.Plain(m.View()); strings.ContainsFunc(v, func(r rune) bool { return r == 0x1b || r == 0x07 || r == 0x9b || r == '\r' }) {
						t.Fatalf("%dx%d: a control character reached the frame: %q", sz[0], sz[1], v)
					}
				}
			}
		})
	}
}

func TestTinySizesDoNotPanic(t *testing.T) {
	a, b := pair(50, 6, []int{1, 2}, []int{3}, 0)
	x := explanation("Alice", "role", "Role A allows share", api.EffectNameAllow)
	for _, sz := range [][2]int{{20, 6}, {15, 4}, {1, 1}, {0, 0}} {
		m := shown(t, 0, sz[0], sz[1], a, b, x, x)
		uitest.Press(m, "j", "G", "pgup")
		if sz[0] > 0 {
			uitest.AssertFrame(t, m.View(), sz[0], sz[1])
		}
	}
}

func TestStartingIgnoresEscAndAStaleReplyIsDropped(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	m := compare.New(ctx, api.Resource{Name: "Fuel"}, "share", "Nora")
	m.SetSize(80, 24)
	old := m.Starting(api.User{Name: "A"})
	if _, cmd := m.Update(uitest.Key("esc")); cmd != nil {
		t.Fatal("esc closes the view while its session is being started (it would be left behind)")
	}
	m.Update(compare.Loaded{Tag: old, Err: errRefused{}})
	m.Starting(api.User{Name: "B"})
	a, b := pair(10, 6, []int{1}, nil, 0)
	m.Update(compare.Loaded{Tag: old, Diff: compare.Compute(a, b)})
	if !m.Busy() || m.Picking() {
		t.Fatal("a reply to an older start was taken")
	}
	var _ tea.Msg = compare.Closed{}
}

type errRefused struct{}

func (errRefused) Error() string { return "not allowed" }

// BenchmarkDiffFirstFrame is what the compare costs once both matrices are read:
// setting them side by side (Compute) and drawing the first frame of the list, at 5,000
// resources (and 50,000 with SHADOW_BENCH_LARGE), 6 actions, 120×40, one cell in fifty
// differing. Its baseline, in the same run, is the matrix page taking one of the same
// matrices and drawing its first frame.
func BenchmarkDiffFirstFrame(b *testing.B) {
	for _, n := range benchSizes() {
		changed := make([]int, 0, n/50)
		for i := 0; i < n; i += 50 {
			changed = append(changed, i)
		}
		x, y := pair(n, 6, changed, nil, 0)
		b.Run(fmt.Sprintf("compare/%d", n), func(b *testing.B) {
			ctx := uitest.Context(uitest.Profiles[1].Profile, 120, 40)
			for b.Loop() {
				m := compare.New(ctx, api.Resource{}, "", x.Subject.Name)
				m.SetSize(120, 40)
				tag := m.Starting(api.User{Name: y.Subject.Name})
				m.Update(compare.Loaded{Tag: tag, User: api.User{Name: y.Subject.Name}, Diff: compare.Compute(x, y)})
				_ = m.View()
			}
		})
		b.Run(fmt.Sprintf("baseline-matrix-page/%d", n), func(b *testing.B) { matrixFirstFrame(b, x) })
	}
}

package matrix_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
	"golang.org/x/text/width"
)

// loaded makes a page, answers its first request with pm and returns the page.
func loaded(t testing.TB, p uitest.Profile, w, h int, pm *api.PermissionMatrix) *matrix.Model {
	ctx := uitest.Context(p.Profile, w, h)
	m := matrix.New(ctx)
	m.Follow = time.Millisecond
	m.SetSize(w, h)
	req, ok := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	if !ok {
		t.Fatal("Init did not ask for the matrix")
	}
	m.Update(matrix.Loaded{Tag: req.Tag, Matrix: pm})
	return m
}

func TestGlyphsAreSingleCellAndUnambiguous(t *testing.T) {
	for _, g := range []string{matrix.GlyphAllow, matrix.GlyphDeny, matrix.GlyphNone} {
		r := []rune(g)
		if len(r) != 1 || ansi.StringWidth(g) != 1 {
			t.Errorf("%q is not one single-cell rune", g)
		}
		if k := width.LookupRune(r[0]).Kind(); k == width.EastAsianAmbiguous || k == width.EastAsianWide || k == width.EastAsianFullwidth {
			t.Errorf("%q is %v: it may take two cells in some terminals", g, k)
		}
	}
}

func TestGolden(t *testing.T) {
	pm := uitest.Matrix(5000, 20)
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := loaded(t, p, sz.W, sz.H, pm)
				uitest.Press(m, "down", "down", "right", "right", "right")
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				uitest.Golden(t, m.View())
			})
			t.Run(fmt.Sprintf("explain/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := loaded(t, p, sz.W, sz.H, pm)
				req, ok := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "right", "right", "right", "enter"))
				if !ok {
					t.Fatal("enter did not ask for an explanation")
				}
				m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: uitest.Explanation()})
				view := m.View()
				lines := uitest.AssertFrame(t, view, sz.W, sz.H)
				if !strings.Contains(uitest.Plain(view), "▶ 3. role") || !strings.Contains(uitest.Plain(view), "(decisive)") {
					t.Fatalf("decisive step not marked:\n%s", strings.Join(lines, "\n"))
				}
				uitest.Golden(t, view)
			})
		}
	}
}

func TestStaleRepliesAreDropped(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	m := matrix.New(ctx)
	m.SetSize(80, 24)
	first, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	second, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Reload()))
	if first.Tag == second.Tag || second.Session != "sess-1" {
		t.Fatalf("tags %v %v", first.Tag, second.Tag)
	}
	m.Update(matrix.Loaded{Tag: first.Tag, Matrix: uitest.Matrix(3, 2)})
	if !strings.Contains(m.View(), "Loading") {
		t.Fatal("a superseded reply was drawn")
	}
	m.Update(matrix.Loaded{Tag: second.Tag, Matrix: uitest.Matrix(7, 4)})
	if !strings.Contains(m.View(), "7 resources × 4 actions") {
		t.Fatalf("the current reply was not drawn:\n%s", m.View())
	}

	// Explanations: esc closes the panel, so its reply must not reopen anything; a
	// second enter supersedes the first.
	r1, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
	uitest.Press(m, "esc")
	m.Update(matrix.ExplainLoaded{Tag: r1.Tag, Explanation: uitest.Explanation()})
	if strings.Contains(m.View(), "Why?") {
		t.Fatal("a reply for a closed panel opened it")
	}
	r2, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
	r3, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "down", "enter"))
	m.Update(matrix.ExplainLoaded{Tag: r2.Tag, Explanation: uitest.Explanation()})
	if !strings.Contains(m.View(), "Asking the server") {
		t.Fatal("a superseded explanation was drawn")
	}
	m.Update(matrix.ExplainLoaded{Tag: r3.Tag, Err: errors.New("boom \x1b[2J")})
	if v := uitest.Plain(m.View()); !strings.Contains(v, "Could not explain: boom") || strings.Contains(v, "\x1b[2J") {
		t.Fatalf("error not shown cleanly:\n%s", v)
	}
	if r3.Resource.ID != "vehicle:00001" && r3.Resource.ID != "route:00002" {
		t.Fatalf("explained %v", r3.Resource)
	}
}

func TestEnterExplainsTheCellUnderTheCursor(t *testing.T) {
	m := loaded(t, uitest.Profiles[0], 80, 24, uitest.Matrix(50, 20))
	req, ok := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "down", "down", "right", "right", "enter"))
	if !ok || req.Resource.ID != "driver:00003" || req.Action != "create" {
		t.Fatalf("explain request %+v", req)
	}
	// Scrolling right past the screen edge keeps the cursor visible and the name frozen.
	msgs := uitest.Press(m, "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "enter")
	req, _ = uitest.Find[matrix.ExplainRequested](msgs)
	if req.Action != "transfer" {
		t.Fatalf("after scrolling right, explained %q", req.Action)
	}
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	if !strings.Contains(lines[2], "‹ Resource") || !strings.Contains(lines[2], "transfer") {
		t.Fatalf("header after scrolling: %q", lines[2])
	}
}

func TestFilterAndDenyOnly(t *testing.T) {
	m := loaded(t, uitest.Profiles[0], 80, 24, uitest.Matrix(5000, 20))
	uitest.Press(m, "/")
	if !m.Capturing() {
		t.Fatal("/ did not focus the filter")
	}
	uitest.Press(m, "q", "0", "1", "2")
	if !m.Capturing() || !strings.Contains(m.View(), "Filter: q012") {
		t.Fatalf("keys did not reach the filter:\n%s", m.View())
	}
	uitest.Press(m, "backspace", "backspace", "backspace", "backspace", "0", "4", "9", "9")
	uitest.Press(m, "enter")
	view := uitest.Plain(m.View())
	if m.Capturing() || !strings.Contains(view, "11 of 5,000 resources") || !strings.Contains(view, `filter "0499"`) {
		t.Fatalf("filter by id digits:\n%s", view)
	}
	uitest.Press(m, "/", "esc")
	if !strings.Contains(uitest.Plain(m.View()), "5,000 resources × 20 actions") {
		t.Fatal("esc did not clear the filter")
	}
	uitest.Press(m, "/")
	for _, r := range "vehicle" {
		uitest.Press(m, string(r))
	}
	uitest.Press(m, "enter", "d")
	want := 0
	for _, r := range uitest.Matrix(5000, 20).Rows {
		if r.Resource.Type == "vehicle" && strings.Contains(r.Effects, "D") {
			want++
		}
	}
	view = uitest.Plain(m.View())
	if !strings.Contains(view, "deny rows only") || !strings.Contains(view, fmt.Sprintf("%d of 5,000 resources", want)) {
		t.Fatalf("deny only should leave the %d vehicles with a deny:\n%s", want, view)
	}
}

func TestMalformedMatrixDoesNotPanic(t *testing.T) {
	pm := &api.PermissionMatrix{
		Subject: api.UserRef{Name: hostile.Strings["osc title"] + hostile.Strings["bidi override"]},
		Actions: []string{"read", "\x1b[31mdelete\x1b[0m", "x"},
		Sources: []api.PermissionSource{{Kind: "weird\x07", Name: hostile.Strings["osc 8 link"]}},
		Rows: []api.PermissionRow{
			{Resource: api.Resource{ID: "a", Name: hostile.Strings["csi cursor home"]}, Effects: "A", Sources: []int{7}},
			{Resource: api.Resource{ID: "b", Name: hostile.Strings["wide cjk"]}, Effects: "DZ\xff", Sources: []int{0, 0, 0, 0}},
		},
	}
	m := loaded(t, uitest.Profiles[1], 60, 16, pm)
	for _, keys := range [][]string{{}, {"right"}, {"down"}, {"down", "right"}, {"down", "right", "right"}} {
		uitest.Press(m, keys...)
		lines := uitest.AssertFrame(t, m.View(), 60, 16)
		if len(lines) != 16 {
			t.Fatalf("%d lines", len(lines))
		}
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, "unknown effect") {
		t.Fatalf("unknown effect byte not said:\n%s", v)
	}
}

func TestLoadErrorAndTinySizes(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	m := matrix.New(ctx)
	req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	m.SetSize(80, 24)
	m.Update(matrix.Loaded{Tag: req.Tag, Err: errors.New("unavailable: try later")})
	if v := m.View(); !strings.Contains(v, "Could not load the permissions: unavailable") {
		t.Fatalf("error view: %q", v)
	}
	if _, ok := uitest.Find[matrix.Requested](uitest.Press(m, "r")); !ok {
		t.Fatal("r did not reload")
	}
	m2 := loaded(t, uitest.Profiles[0], 80, 24, uitest.Matrix(100, 20))
	uitest.Press(m2, "enter")
	for _, sz := range [][2]int{{1, 1}, {10, 3}, {20, 5}, {30, 8}} {
		m2.SetSize(sz[0], sz[1])
		uitest.AssertFrame(t, m2.View(), sz[0], sz[1])
	}
}

var sink string

// BenchmarkMatrixView draws the page over a 5,000 × 20 matrix.
func BenchmarkMatrixView(b *testing.B) {
	for _, sz := range uitest.Sizes {
		b.Run(fmt.Sprintf("%dx%d", sz.W, sz.H), func(b *testing.B) {
			m := loaded(b, uitest.Profiles[1], sz.W, sz.H, uitest.Matrix(5000, 20))
			uitest.Press(m, "pgdown", "right", "right")
			b.ReportAllocs()
			for b.Loop() {
				sink = m.View()
			}
		})
	}
}

// BenchmarkMatrixScroll is one keystroke: move down a row and redraw.
func BenchmarkMatrixScroll(b *testing.B) {
	m := loaded(b, uitest.Profiles[1], 120, 40, uitest.Matrix(5000, 20))
	down := uitest.Key("down")
	b.ReportAllocs()
	for b.Loop() {
		m.Update(down)
		sink = m.View()
	}
}

// BenchmarkMatrixFilterKeystroke is one key typed into the filter over 5,000 rows.
func BenchmarkMatrixFilterKeystroke(b *testing.B) {
	m := loaded(b, uitest.Profiles[1], 120, 40, uitest.Matrix(5000, 20))
	uitest.Press(m, "/", "0", "1")
	keys := []tea.KeyMsg{uitest.Key("2"), uitest.Key("backspace")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(keys[i%2])
		sink = m.View()
		i++
	}
}

// BenchmarkKeystrokeVsBubblesTable compares, in one run and without colour for both,
// one keystroke (down, then redraw) over the same 5,000 × 20 matrix at 120×40: the
// matrix page against bubbles/table holding the same cells as glyphs.
func BenchmarkKeystrokeVsBubblesTable(b *testing.B) {
	pm := uitest.Matrix(5000, 20)
	b.Run("matrix", func(b *testing.B) {
		m := loaded(b, uitest.Profiles[0], 120, 40, pm)
		down := uitest.Key("down")
		b.ReportAllocs()
		for b.Loop() {
			m.Update(down)
			sink = m.View()
		}
	})
	b.Run("bubbles-table", func(b *testing.B) {
		cols := []table.Column{{Title: "Resource", Width: 14}}
		for _, a := range pm.Actions {
			cols = append(cols, table.Column{Title: a, Width: 9})
		}
		glyph := map[byte]string{api.EffectAllow: matrix.GlyphAllow, api.EffectDeny: matrix.GlyphDeny, api.EffectNone: matrix.GlyphNone}
		rows := make([]table.Row, len(pm.Rows))
		for i, r := range pm.Rows {
			row := table.Row{r.Resource.Name}
			for j := range pm.Actions {
				row = append(row, glyph[r.Effects[j]])
			}
			rows[i] = row
		}
		t := table.New(table.WithColumns(cols), table.WithRows(rows), table.WithHeight(30), table.WithWidth(120), table.WithFocused(true))
		b.ReportAllocs()
		for b.Loop() {
			t.MoveDown(1)
			sink = t.View()
		}
	})
}

// demoLike is a matrix shaped like the demo's: six actions, a few resource types, and
// the longest name far down the list.
func demoLike(rows int) *api.PermissionMatrix {
	pm := uitest.Matrix(rows, 6)
	pm.Actions = []string{"view", "create", "edit", "delete", "share", "export"}
	pm.Rows[rows-10].Resource.Name = "North at a glance, all depots"
	return pm
}

// TestColumnsUseTheWidth checks the matrix's layout: a type column, a name column as
// wide as the longest name anywhere in the list, action titles that never touch, and a
// wide terminal used rather than left blank.
func TestColumnsUseTheWidth(t *testing.T) {
	pm := demoLike(3000)
	longest := pm.Rows[2990].Resource.Name
	titles := regexp.MustCompile(`view {2,}create {2,}edit {2,}delete {2,}share {2,}export`)
	for _, w := range []int{80, 120, 200} {
		m := loaded(t, uitest.Profiles[0], w, 24, pm)
		lines := uitest.AssertFrame(t, m.View(), w, 24)
		header := lines[2]
		if !strings.HasPrefix(header, "  Resource") || !strings.Contains(header, "Type") || !titles.MatchString(header) {
			t.Fatalf("%d cells: header %q", w, header)
		}
		if strings.HasSuffix(strings.TrimRight(header, " "), "›") {
			t.Fatalf("%d cells: six actions do not all fit: %q", w, header)
		}
		if row := lines[3]; !strings.Contains(row, "vehicle") {
			t.Fatalf("%d cells: the first row has no type: %q", w, row)
		}
		if used := len([]rune(strings.TrimRight(header, " "))); w == 120 && used < w*3/4 {
			t.Fatalf("%d cells: the matrix uses %d of them:\n%s", w, used, strings.Join(lines, "\n"))
		}
		uitest.Press(m, "G")
		for range 9 {
			uitest.Press(m, "up")
		}
		if v := uitest.Plain(m.View()); !strings.Contains(v, longest+" ") {
			t.Fatalf("%d cells: the longest name, far down the list, is cut:\n%s", w, v)
		}
	}
	m := loaded(t, uitest.Profiles[0], 40, 12, pm)
	if header := uitest.AssertFrame(t, m.View(), 40, 12)[2]; strings.Contains(header, "Type") {
		t.Fatalf("at 40 cells the type column takes room the actions need: %q", header)
	}
}

// TestResizeKeepsTheCursorsAction crosses the width at which the type column comes and
// goes: the cursor stays on the same action.
func TestResizeKeepsTheCursorsAction(t *testing.T) {
	m := loaded(t, uitest.Profiles[0], 120, 24, demoLike(50))
	uitest.Press(m, "right", "right", "right")
	ask := func() string {
		req, ok := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter", "esc"))
		if !ok {
			t.Fatal("enter did not ask")
		}
		return req.Action
	}
	if a := ask(); a != "delete" {
		t.Fatalf("explained %q", a)
	}
	for _, w := range []int{40, 120, 63, 64} {
		m.SetSize(w, 24)
		if a := ask(); a != "delete" {
			t.Fatalf("after resizing to %d cells the cursor is on %q", w, a)
		}
	}
}

// TestExplainShowsTheWholeChain gives steps too long for two lines: each is shown
// whole, the decisive one marked in words where no cut can lose it, and where the
// terminal is too short the panel says it is cut.
func TestExplainShowsTheWholeChain(t *testing.T) {
	e := uitest.Explanation()
	long := " because the grant was made for the whole depot, which covers every vehicle parked there overnight, including the ones on loan from another team"
	for i := range e.Steps {
		e.Steps[i].Text += long + fmt.Sprintf(" (end of step %d)", i+1)
	}
	explained := func(h int) string {
		m := loaded(t, uitest.Profiles[0], 80, h, uitest.Matrix(50, 6))
		req, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
		m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: e})
		lines := uitest.AssertFrame(t, m.View(), 80, h)
		return strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(lines, " "), "┃", "")), " ")
	}
	view := explained(30)
	for i := range e.Steps {
		if !strings.Contains(view, fmt.Sprintf("(end of step %d)", i+1)) {
			t.Fatalf("step %d is cut:\n%s", i+1, view)
		}
	}
	if !strings.Contains(view, "[allow] (decisive) Team North holds role Fleet Manager") {
		t.Fatalf("the decisive step is not marked first:\n%s", view)
	}
	if view := explained(14); !strings.Contains(view, "(decisive)") || !strings.Contains(view, "…") {
		t.Fatalf("a cut panel does not say so, or lost the decisive mark:\n%s", view)
	}
}

// TestLoadErrorIsWrapped: a long error is shown whole, over lines, with the way to try
// again.
func TestLoadErrorIsWrapped(t *testing.T) {
	m := matrix.New(uitest.Context(uitest.Profiles[0].Profile, 80, 24))
	req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	m.SetSize(80, 24)
	m.Update(matrix.Loaded{Tag: req.Tag, Err: errors.New("read the permissions: cannot reach the server at 127.0.0.1:18080 (connect: connection refused); check the address and the network")})
	view := strings.Join(strings.Fields(strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), " ")), " ")
	if !strings.Contains(view, "check the address and the network r to try again") {
		t.Fatalf("the error is cut:\n%s", m.View())
	}
}

// TestShortTerminalsShowTheCursor: at any height the grid's cursor row is shown, with
// the explain panel open too, and what is typed into the filter is seen.
func TestShortTerminalsShowTheCursor(t *testing.T) {
	for h := 2; h <= 14; h++ {
		m := loaded(t, uitest.Profiles[0], 40, h, uitest.Matrix(50, 6))
		if v := strings.Join(uitest.AssertFrame(t, m.View(), 40, h), "\n"); !strings.Contains(v, "❯") {
			t.Fatalf("height %d: no cursor row:\n%s", h, v)
		}
		req, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
		m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: uitest.Explanation()})
		v := strings.Join(uitest.AssertFrame(t, m.View(), 40, h), "\n")
		if !strings.Contains(v, "❯") || (h >= 9 && !strings.Contains(v, "Why?")) {
			t.Fatalf("height %d: with the panel open:\n%s", h, v)
		}
		uitest.Press(m, "esc", "/", "z")
		if v := strings.Join(uitest.AssertFrame(t, m.View(), 40, h), "\n"); !strings.Contains(v, "Filter: z") {
			t.Fatalf("height %d: the filter typed is not seen:\n%s", h, v)
		}
	}
}

// The open explain panel follows the cursor: once it moves, the panel names the new
// cell (never the chain of the one it left) and asks why for it once the cursor rests.
func TestExplainPanelFollowsTheCursor(t *testing.T) {
	m := loaded(t, uitest.Profiles[0], 80, 30, uitest.Matrix(50, 20))
	first, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
	m.Update(matrix.ExplainLoaded{Tag: first.Tag, Explanation: uitest.Explanation()})
	var msgs []tea.Msg
	for _, msg := range uitest.Press(m, "down") { // the pause's tick, fed back
		_, cmd := m.Update(msg)
		msgs = append(msgs, uitest.Msgs(cmd)...)
	}
	next, ok := uitest.Find[matrix.ExplainRequested](msgs)
	if !ok || next.Resource.ID == first.Resource.ID {
		t.Fatalf("the panel did not ask for the new cell: %+v", next)
	}
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "on "+next.Resource.Name) || strings.Contains(v, "on "+first.Resource.Name) || !strings.Contains(v, "Asking the server") {
		t.Fatalf("the panel still describes the cell the cursor left:\n%s", v)
	}
	m.Update(matrix.ExplainLoaded{Tag: first.Tag, Explanation: uitest.Explanation()}) // late, for the old cell
	if !strings.Contains(uitest.Plain(m.View()), "Asking the server") {
		t.Fatal("the old cell's chain was drawn for the new one")
	}
}

// A filter or `d` that moves the cursor to another cell moves the open panel with it, and
// one that leaves no cell closes it: the panel never describes a cell not under the
// cursor (a tester saw "Why? share on Fuel & distance" over Pickup N3 after d).
func TestExplainPanelFollowsAFilter(t *testing.T) {
	pm := uitest.Matrix(50, 20)
	m := loaded(t, uitest.Profiles[0], 100, 40, pm)
	for _, r := range pm.Rows { // onto the first row with no deny, which d hides
		if !strings.Contains(r.Effects, "D") {
			break
		}
		uitest.Press(m, "down")
	}
	first, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
	m.Update(matrix.ExplainLoaded{Tag: first.Tag, Explanation: uitest.Explanation()})
	settle := func(msgs []tea.Msg) (matrix.ExplainRequested, bool) {
		var out []tea.Msg
		for _, msg := range msgs { // the pause's tick, fed back
			_, cmd := m.Update(msg)
			out = append(out, uitest.Msgs(cmd)...)
		}
		return uitest.Find[matrix.ExplainRequested](out)
	}
	panelOn := func(name string) bool { return strings.Contains(uitest.Plain(m.View()), " on "+name+" ") }
	if !panelOn(first.Resource.Name) {
		t.Fatalf("no panel on %s:\n%s", first.Resource.Name, uitest.Plain(m.View()))
	}
	next, ok := settle(uitest.Press(m, "d"))
	if !ok || next.Resource.ID == first.Resource.ID || !panelOn(next.Resource.Name) || panelOn(first.Resource.Name) {
		t.Fatalf("after d the panel did not follow the cursor to another cell (asked %+v):\n%s", next, uitest.Plain(m.View()))
	}
	uitest.Press(m, "d") // back to every row
	other := pm.Rows[len(pm.Rows)-1].Resource
	uitest.Press(m, "/")
	for _, r := range other.ID {
		uitest.Press(m, string(r))
	}
	if !panelOn(other.Name) {
		t.Fatalf("typing a filter left the panel on another cell than %s:\n%s", other.Name, uitest.Plain(m.View()))
	}
	uitest.Press(m, "z", "z", "z")
	if v := uitest.Plain(m.View()); strings.Contains(v, "Why?") {
		t.Fatalf("a filter that leaves no cell kept a panel open:\n%s", v)
	}
}

// A source too long for the detail line is cut with an ellipsis, not mid-word.
func TestDetailCutsTheSourceWithAnEllipsis(t *testing.T) {
	pm := uitest.Matrix(50, 6)
	for i := range pm.Sources {
		pm.Sources[i].Name = "a very long source name that cannot fit in forty cells"
	}
	m := loaded(t, uitest.Profiles[0], 40, 12, pm)
	found := false
	for _, line := range uitest.AssertFrame(t, m.View(), 40, 12) {
		plain := strings.TrimRight(ansi.Strip(line), " ")
		if strings.Contains(plain, " by ") {
			found = true
			if !strings.HasSuffix(plain, "…") {
				t.Fatalf("the detail line is cut without an ellipsis: %q", plain)
			}
		}
	}
	if !found {
		t.Fatal("no detail line saying what decided the cell")
	}
}

package matrix_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// TestInfoShowsTheCellWhole: i on a cell asks why (once) and shows the resource, its
// id, the action, the decision and, when it comes, the whole chain; esc goes back to the
// matrix with the explain panel on the same cell.
func TestInfoShowsTheCellWhole(t *testing.T) {
	pm := uitest.Matrix(50, 8)
	pm.Rows[1].Resource.Name = "Vehicle with a name far too long for any column of the matrix, even at 120 columns wide"
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := loaded(t, p, sz.W, sz.H, pm)
				req, ok := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "down", "right", "i"))
				if !ok || req.Resource.ID != pm.Rows[1].Resource.ID {
					t.Fatalf("i asked %+v (%v)", req, ok)
				}
				view := strings.Join(uitest.AssertFrame(t, m.View(), sz.W, sz.H), "\n")
				for _, want := range []string{"Resource id", pm.Rows[1].Resource.ID, "Asking the server…", "Decision"} {
					if !strings.Contains(view, want) {
						t.Fatalf("%q missing:\n%s", want, view)
					}
				}
				m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: uitest.Explanation()})
				view = m.View()
				lines := uitest.AssertFrame(t, view, sz.W, sz.H)
				uitest.Golden(t, view)
				flat := strings.ReplaceAll(strings.Join(lines, ""), " ", "")
				for _, want := range []string{pm.Rows[1].Resource.Name, "(decisive)", "TeamNorthholdsroleFleetManager,whichallowsupdateonvehicles", "Withoutagrant,nothingisallowed"} {
					if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
						t.Fatalf("%q is not whole:\n%s", want, uitest.Plain(view))
					}
				}
				if _, again := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "esc", "i")); again {
					t.Fatal("i on the cell the panel explains asked again")
				}
				uitest.Press(m, "esc")
				if v := uitest.Plain(m.View()); !strings.Contains(v, "Why?") {
					t.Fatalf("esc does not go back to the matrix and its panel:\n%s", v)
				}
			})
		}
	}
}

// TestInfoAtTinySizes: the cell's details draw at the smallest sizes without a panic.
func TestInfoAtTinySizes(t *testing.T) {
	for _, sz := range []uitest.Size{{W: 20, H: 6}, {W: 15, H: 4}, {W: 1, H: 1}} {
		m := loaded(t, uitest.Profiles[1], sz.W, sz.H, uitest.Matrix(20, 6))
		req, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "i"))
		m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: uitest.Explanation()})
		for _, k := range []string{"down", "down", "G", "Y", "pgup"} {
			uitest.Press(m, k)
			uitest.AssertFrame(t, m.View(), sz.W, sz.H)
		}
	}
}

// TestLongNamesAreCutInTheMiddle: a resource name too long for its column keeps its end,
// where resources are told apart.
func TestLongNamesAreCutInTheMiddle(t *testing.T) {
	pm := uitest.Matrix(20, 6)
	pm.Rows[0].Resource.Name = "Refrigerated articulated delivery vehicle of the northern depot 000417"
	m := loaded(t, uitest.Profiles[0], 80, 24, pm)
	view := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	if !strings.Contains(view, "Refrigerated …depot 000417 ") {
		t.Fatalf("the name's end is lost:\n%s", view)
	}
}

// TestEscWordsFollowWhatIsOpen: while later pages load, the placeholder row says esc
// stops them, unless the explain panel is open, which esc closes first (and the page
// says it takes esc, so the root gives it the key); with the detail view open the page
// takes esc too.
func TestEscWordsFollowWhatIsOpen(t *testing.T) {
	m, _ := firstPage(t, uitest.Profiles[0], 140, 30, pages(uitest.Matrix(12_000, 6), 100, 5_000))
	if m.TakesEsc() {
		t.Fatal("with nothing open the page takes esc from the load")
	}
	uitest.Press(m, "enter", "G")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "(esc closes the explanation, then stops)") || !m.TakesEsc() {
		t.Fatalf("with the explain panel open the placeholder row does not say esc closes it first (takes esc: %v):\n%s", m.TakesEsc(), v)
	}
	uitest.Press(m, "esc")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "(esc stops)") || m.TakesEsc() {
		t.Fatalf("once the panel is closed the placeholder row does not say esc stops the load:\n%s", v)
	}
	uitest.Press(m, "up", "i")
	if !m.TakesEsc() {
		t.Fatal("with the detail view open the page does not take esc")
	}
}

package dashboards_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// zoomedRow opens the dashboard's table (the last widget), zooms it and opens the row
// under the cursor.
func zoomedRow(t *testing.T, p uitest.Profile, w, h int, d *api.Dashboard, keys ...string) *dashboards.Model {
	m := opened(t, p, w, h, d)
	uitest.Press(m, "enter", "G", "enter")
	uitest.Press(m, keys...)
	return m
}

// TestRowShowsEveryColumnWhole: enter (or i) on a zoomed table's row shows every column
// under its title, a long value whole and a withheld one said as such; esc goes back to
// the zoomed table.
func TestRowShowsEveryColumnWhole(t *testing.T) {
	d := uitest.Dashboard()
	table := d.Widgets[len(d.Widgets)-1].Table
	table.Rows[1].Cells[1].Value = "Maria-Magdalena Oyelaran-Featherstonehaugh, relief driver for the North-East depot on weekends"
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := zoomedRow(t, p, sz.W, sz.H, d, "down", "enter")
				view := m.View()
				lines := uitest.AssertFrame(t, view, sz.W, sz.H)
				uitest.Golden(t, view)
				flat := strings.ReplaceAll(strings.Join(lines, ""), " ", "")
				for _, want := range []string{"row 2 of 12", "Driver phone", "[redacted] withheld while impersonating", table.Rows[1].Cells[1].Value, "T-1201"} {
					if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
						t.Fatalf("%q is not whole:\n%s", want, strings.Join(lines, "\n"))
					}
				}
				uitest.Press(m, "esc")
				if v := uitest.Plain(m.View()); !strings.Contains(v, "enter whole row · esc back") {
					t.Fatalf("esc does not go back to the zoomed table:\n%s", v)
				}
			})
		}
	}
	m := zoomedRow(t, uitest.Profiles[0], 80, 24, d, "i")
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 1 of 12") {
		t.Fatalf("i does not open the row:\n%s", v)
	}
}

// TestRowAtTinySizes: a row's details draw at the smallest sizes, ragged rows included,
// without a panic.
func TestRowAtTinySizes(t *testing.T) {
	d := uitest.Dashboard()
	table := d.Widgets[len(d.Widgets)-1].Table
	table.Rows[0].Cells = table.Rows[0].Cells[:2] // fewer cells than columns
	for _, sz := range []uitest.Size{{W: 20, H: 6}, {W: 15, H: 4}, {W: 1, H: 1}} {
		m := zoomedRow(t, uitest.Profiles[1], sz.W, sz.H, d, "enter")
		for _, k := range []string{"down", "G", "Y", "pgup", "esc", "down", "i"} {
			uitest.Press(m, k)
			uitest.AssertFrame(t, m.View(), sz.W, sz.H)
		}
	}
}

// TestKeyColumnIsCutInTheMiddle: a zoomed table's key column keeps a long id's end.
func TestKeyColumnIsCutInTheMiddle(t *testing.T) {
	d := uitest.Dashboard()
	table := d.Widgets[len(d.Widgets)-1].Table
	table.Rows[0].Cells[0].Value = "TRIP-2025-03-14-NORTH-EAST-DEPOT-000417"
	m := zoomedRow(t, uitest.Profiles[0], 80, 24, d)
	view := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	if !strings.Contains(view, "…-DEPOT-000417 ") || !strings.Contains(view, "TRIP-2025") {
		t.Fatalf("the id's end is lost:\n%s", view)
	}
}

// TestZoomedColumnsFollowTheRowsOnScreen: a zoomed table's columns are sized from the
// rows on screen, not from a sample of the first rows: a long driver's name far down the
// table (row 300) shows whole once the cursor is on it, as the picker's names do.
func TestZoomedColumnsFollowTheRowsOnScreen(t *testing.T) {
	d := uitest.Dashboard()
	table := d.Widgets[len(d.Widgets)-1].Table
	for len(table.Rows) < 300 {
		r := table.Rows[len(table.Rows)%12]
		r.Cells = append([]api.Cell(nil), r.Cells...)
		r.Cells[0].Value = fmt.Sprintf("T-%d", 1200+len(table.Rows))
		table.Rows = append(table.Rows, r)
	}
	const long = "Maximiliana Wolfeschlegelsteinhausen"
	table.Rows[299].Cells[1].Value = long
	m := opened(t, uitest.Profiles[0], 100, 24, d)
	uitest.Press(m, "enter", "G", "enter", "G") // the table zoomed, its last row
	if v := uitest.Plain(m.View()); !strings.Contains(v, long+" ") {
		t.Fatalf("the name on the last row is cut:\n%s", v)
	}
}

package dashboards_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// A zoomed table takes the height it has: with more rows than lines, every line below
// its header is a row, none left blank.
func TestZoomedTableFillsItsHeight(t *testing.T) {
	for _, n := range []int{10, 60} {
		d := uitest.Dashboard()
		rows := make([]api.TableRow, n)
		for i := range rows {
			rows[i] = api.TableRow{Cells: []api.Cell{{Value: fmt.Sprintf("R-%03d", i)}}}
		}
		d.Widgets = []api.Widget{{ID: "t", Kind: api.WidgetTable, Title: "Rows", Table: &api.TableData{Columns: []api.TableColumn{{Key: "a", Title: "A"}}, Rows: rows}}}
		for _, sz := range uitest.Sizes {
			m := opened(t, uitest.Profiles[0], sz.W, sz.H, d)
			uitest.Press(m, "enter", "enter")
			v := uitest.Plain(m.View())
			want := min(n, sz.H-5) // title, scope, widget title, row line, header
			if got := strings.Count(v, "R-"); got != want {
				t.Errorf("%d rows at %dx%d: %d drawn, want %d:\n%s", n, sz.W, sz.H, got, want, v)
			}
		}
	}
}

package grid_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/grid"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

type counter struct{ calls int }

func numbered(st *common.Styles, ncols int, c *counter) *grid.Model[int] {
	cols := make([]grid.Column, ncols)
	cols[0] = grid.Column{Title: "Row", Width: 9}
	for i := 1; i < ncols; i++ {
		cols[i] = grid.Column{Title: fmt.Sprintf("C%d", i), Width: 7, Align: grid.Right}
	}
	return grid.New(st, cols, func(r, col int) grid.Cell {
		c.calls++
		if col == 0 {
			return grid.Cell{Text: fmt.Sprintf("row %d", r)}
		}
		return grid.Cell{Text: fmt.Sprintf("%d", r*100+col)}
	})
}

func TestDrawsOnlyVisibleRowsAndColumns(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 40, 10)
	var c counter
	g := numbered(ctx.Styles, 20, &c)
	g.SetFrozen(1)
	g.SetMode(grid.CellCursor)
	rows := make([]int, 100_000)
	for i := range rows {
		rows[i] = i
	}
	g.SetRows(rows)
	g.SetSize(40, 10)
	lines := uitest.AssertFrame(t, g.View(), 40, 10)
	if len(lines) != 10 {
		t.Fatalf("%d lines", len(lines))
	}
	visCols := len(g.VisibleColumns())
	if c.calls != 9*visCols {
		t.Fatalf("drew %d cells for 9 visible rows × %d visible columns", c.calls, visCols)
	}
	if !strings.HasSuffix(lines[0], "›") || strings.HasPrefix(lines[0], "‹") {
		t.Fatalf("header should say columns are hidden on the right only: %q", lines[0])
	}
	// The cursor starts on the first scrolling column, bracketed.
	if !strings.Contains(lines[1], "❯ row 0") || !strings.Contains(lines[1], "[  1  ]") {
		t.Fatalf("cursor row: %q", lines[1])
	}
	for i := 0; i < 15; i++ {
		g.Update(uitest.Key("right"))
	}
	_, col := g.Cursor()
	if col != 16 {
		t.Fatalf("cursor column %d after 15 rights", col)
	}
	lines = uitest.AssertFrame(t, g.View(), 40, 10)
	if !strings.HasPrefix(lines[0], "‹ Row") || !strings.Contains(lines[1], "[ 16  ]") {
		t.Fatalf("after scrolling right the frozen column stays and the cursor shows:\n%s", strings.Join(lines, "\n"))
	}
	g.Update(uitest.Key("G"))
	if row, _ := g.Cursor(); row != 99_999 {
		t.Fatalf("G went to row %d", row)
	}
	lines = uitest.AssertFrame(t, g.View(), 40, 10)
	if !strings.Contains(lines[9], "row 99999") {
		t.Fatalf("last row not at the bottom: %q", lines[9])
	}
	first, end := g.VisibleRows()
	if first != 99_991 || end != 100_000 {
		t.Fatalf("visible rows %d..%d", first, end)
	}
}

func TestRowCursorMovesAndScrolls(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 30, 6)
	var c counter
	g := numbered(ctx.Styles, 3, &c)
	g.SetRows([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	g.SetSize(30, 6)
	for _, k := range []string{"down", "down", "down", "down", "down", "down"} {
		if !g.Update(uitest.Key(k)) {
			t.Fatalf("%s not handled", k)
		}
	}
	if row, _ := g.Cursor(); row != 6 {
		t.Fatalf("row %d", row)
	}
	if first, _ := g.VisibleRows(); first != 2 {
		t.Fatalf("first visible %d, want 2 (cursor kept on the last line)", first)
	}
	g.Update(uitest.Key("pgup"))
	g.Update(uitest.Key("home"))
	if row, _ := g.Cursor(); row != 0 {
		t.Fatalf("home: row %d", row)
	}
	g.Update(uitest.Key("up"))
	if row, _ := g.Cursor(); row != 0 {
		t.Fatal("moved above the first row")
	}
	if g.Update(uitest.Key("x")) {
		t.Fatal("x is not a grid key")
	}
	g.SetRows([]int{0, 1})
	g.Update(uitest.Key("end"))
	if sel, ok := g.Selected(); !ok || sel != 1 {
		t.Fatalf("selected %v %v", sel, ok)
	}
	g.SetRows(nil)
	if _, ok := g.Selected(); ok {
		t.Fatal("selected a row of an empty grid")
	}
	g.Empty = "no rows \x1b[2J"
	lines := uitest.AssertFrame(t, g.View(), 30, 6)
	if strings.TrimSpace(lines[1]) != "no rows" {
		t.Fatalf("empty text: %q", lines[1])
	}
}

func TestFlexColumnsFillTheWidth(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 50, 4)
	g := grid.New(ctx.Styles, []grid.Column{{Title: "Name", Width: 6, Flex: 2}, {Title: "Email", Width: 6, Flex: 1}, {Title: "N", Width: 3}},
		func(s string, col int) grid.Cell { return grid.Cell{Text: s} })
	g.SetRows([]string{"陳大文\u202Eevil"})
	g.SetSize(50, 4)
	lines := uitest.AssertFrame(t, g.View(), 50, 4)
	if lines[0] != "  Name                       Email             N  " { // 26 and 17 cells: the spare 31 split 2:1
		t.Fatalf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "❯ 陳大文evil") {
		t.Fatalf("row %q", lines[1])
	}
}

// TestCellsByKey draws the same rows with the columns in two orders and one column
// fewer: a cell function that reads Column(col).Key puts every value under its own
// title whatever the order.
func TestCellsByKey(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 40, 4)
	type person struct{ name, team string }
	draw := func(cols []grid.Column) string {
		var g *grid.Model[person]
		g = grid.New(ctx.Styles, cols, func(p person, col int) grid.Cell {
			switch g.Column(col).Key {
			case "name":
				return grid.Cell{Text: p.name}
			case "team":
				return grid.Cell{Text: p.team}
			}
			return grid.Cell{Text: "?"}
		})
		g.SetSize(40, 4)
		g.SetRows([]person{{"Ada", "North"}})
		return uitest.Plain(g.View())
	}
	name := grid.Column{Key: "name", Title: "Name", Width: 8}
	team := grid.Column{Key: "team", Title: "Team", Width: 8}
	for _, cols := range [][]grid.Column{{name, team}, {team, name}, {team}} {
		out := draw(cols)
		lines := strings.Split(out, "\n")
		if len(lines) < 2 {
			t.Fatalf("%q", out)
		}
		for _, c := range cols {
			// In cells (runes here: the cursor's ❯ is one cell, three bytes).
			head, row := []rune(lines[0]), []rune(lines[1])
			at := strings.Index(lines[0], c.Title)
			at = len([]rune(lines[0][:max(at, 0)]))
			want := map[string]string{"name": "Ada", "team": "North"}[c.Key]
			if !strings.Contains(string(head), c.Title) || at >= len(row) || !strings.HasPrefix(string(row[at:]), want) {
				t.Errorf("columns %v: %q is not under %q:\n%s", cols, want, c.Title, out)
			}
		}
		if strings.Contains(out, "?") || (len(cols) == 1 && strings.Contains(out, "Ada")) {
			t.Errorf("columns %v: a cell by position:\n%s", cols, out)
		}
	}
}

// TestFitColumnsFollowTheRowsOnScreen: fitted columns are as wide as the rows on screen
// need, a short column is never cut for a long one, ids and names are cut in the middle,
// and the widths follow the rows as the list scrolls.
func TestFitColumnsFollowTheRowsOnScreen(t *testing.T) {
	type row struct{ name, company string }
	ctx := uitest.Context(uitest.Profiles[0].Profile, 40, 4)
	cols := []grid.Column{{Key: "name", Title: "Name", Width: 4, Fit: true, Middle: true}, {Key: "company", Title: "Company", Width: 4, Fit: true, Flex: 1}}
	var g *grid.Model[row]
	g = grid.New(ctx.Styles, cols, func(r row, col int) grid.Cell {
		if g.Column(col).Key == "name" {
			return grid.Cell{Text: r.name}
		}
		return grid.Cell{Text: r.company}
	})
	rows := []row{{"Ava Eriksen 000417", "Generated Company 42"}, {"Bo", "Acme"}, {"Cy", "Polar"},
		{"Ava Eriksen 000418", "Nordwind"}, {"Ava Eriksen 000419 and then a much longer name", "Nordwind"}}
	g.SetRows(rows)
	g.SetSize(60, 4) // a header and three rows
	lines := uitest.AssertFrame(t, g.View(), 60, 4)
	if !strings.Contains(lines[1], "Ava Eriksen 000417 Generated Company 42") {
		t.Fatalf("the rows on screen are cut with room to spare:\n%s", strings.Join(lines, "\n"))
	}
	g.SetSize(30, 4)
	lines = uitest.AssertFrame(t, g.View(), 30, 4)
	// 27 cells for both: the company's 20 and the name's 18 are capped alike at 13 and 14.
	if !strings.Contains(lines[1], "Ava Eri…000417") || !strings.Contains(lines[1], "Generated Co…") {
		t.Fatalf("not cut in the middle and alike:\n%s", strings.Join(lines, "\n"))
	}
	g.SetSize(60, 4)
	g.SetCursor(4, 0) // the long name comes on screen: the name column grows to hold it
	lines = uitest.AssertFrame(t, g.View(), 60, 4)
	if !strings.Contains(lines[3], "Ava Eriksen 000419 and then a much longer name Nordwind") {
		t.Fatalf("after scrolling:\n%s", strings.Join(lines, "\n"))
	}
}

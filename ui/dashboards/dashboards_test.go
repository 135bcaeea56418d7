package dashboards_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// opened makes the page, answers the list request and the first dashboard's request.
func opened(t testing.TB, p uitest.Profile, w, h int, d *api.Dashboard) *dashboards.Model {
	m := dashboards.New(uitest.Context(p.Profile, w, h))
	m.SetSize(w, h)
	lr, ok := uitest.Find[dashboards.ListRequested](uitest.Msgs(m.Init()))
	if !ok {
		t.Fatal("Init did not ask for the list")
	}
	_, cmd := m.Update(dashboards.ListLoaded{Tag: lr.Tag, List: uitest.DashboardList()})
	req, ok := uitest.Find[dashboards.Requested](uitest.Msgs(cmd))
	if !ok || req.ID != "d-fleet" {
		t.Fatalf("the first dashboard was not opened: %+v", req)
	}
	m.Update(dashboards.Loaded{Tag: req.Tag, Dashboard: d})
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := opened(t, p, sz.W, sz.H, uitest.Dashboard())
				uitest.Press(m, "enter")
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				plain := uitest.Plain(view)
				for _, want := range []string{"Fleet overview", "Active vehicles", "128 vehicles", "▲ +6.7%", dashboards.Redacted, "team North and its sub-teams"} {
					if !strings.Contains(plain, want) {
						t.Errorf("%q missing", want)
					}
				}
				uitest.Golden(t, view)
			})
			t.Run(fmt.Sprintf("table/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := opened(t, p, sz.W, sz.H, uitest.Dashboard())
				uitest.Press(m, "enter", "G")
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				if !strings.Contains(uitest.Plain(view), "12 of 40 rows visible to this user") {
					t.Fatalf("row scope missing:\n%s", view)
				}
				uitest.Golden(t, view)
				uitest.Press(m, "enter", "down", "down")
				zoom := m.View()
				uitest.AssertFrame(t, zoom, sz.W, sz.H)
				if !strings.Contains(uitest.Plain(zoom), "row 3 of 12 · 12 of 40 rows") || !strings.Contains(zoom, dashboards.Redacted) {
					t.Fatalf("zoomed table:\n%s", zoom)
				}
			})
		}
	}
}

// A table's row scope reads right with its numbers: "1 row", "0 of 1 row".
func TestRowScopeAgreesWithItsNumber(t *testing.T) {
	for _, c := range []struct {
		rows, total int
		want        string
	}{
		{1, 1, "1 row, visible to this user"},
		{0, 1, "0 of 1 row visible to this user"},
		{2, 2, "all 2 rows visible to this user"},
	} {
		d := uitest.Dashboard()
		for i, w := range d.Widgets {
			if w.Table != nil {
				tbl := *w.Table
				tbl.Rows, tbl.TotalRows = tbl.Rows[:c.rows], c.total
				d.Widgets[i].Table = &tbl
			}
		}
		m := opened(t, uitest.Profiles[0], 120, 40, d)
		uitest.Press(m, "enter", "G")
		if view := uitest.Plain(m.View()); !strings.Contains(view, c.want) {
			t.Errorf("%d of %d rows: %q missing:\n%s", c.rows, c.total, c.want, view)
		}
	}
}

func TestStaleDashboardRepliesAreDropped(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 120, 40, uitest.Dashboard())
	uitest.Press(m, "down")
	r1, _ := uitest.Find[dashboards.Requested](uitest.Press(m, "enter"))
	uitest.Press(m, "esc", "down")
	r2, _ := uitest.Find[dashboards.Requested](uitest.Press(m, "enter"))
	if r1.ID != "d-ontime" || r2.ID != "d-costs" {
		t.Fatalf("requests %q %q", r1.ID, r2.ID)
	}
	late := uitest.Dashboard()
	late.Title = "On-time delivery (late reply)"
	m.Update(dashboards.Loaded{Tag: r1.Tag, Dashboard: late})
	if strings.Contains(m.View(), "late reply") {
		t.Fatal("a superseded dashboard was drawn")
	}
	costs := uitest.Dashboard()
	costs.ID, costs.Title = "d-costs", "Fuel and maintenance costs"
	m.Update(dashboards.Loaded{Tag: r2.Tag, Dashboard: costs})
	if !strings.Contains(m.View(), "Fuel and maintenance costs ") {
		t.Fatalf("the current dashboard was not drawn:\n%s", m.View())
	}
	// A list reply to an old request is dropped too.
	lr, _ := uitest.Find[dashboards.ListRequested](uitest.Press(m, "esc", "r"))
	m.Update(dashboards.ListLoaded{Tag: lr.Tag, Err: errors.New("unavailable")})
	if !strings.Contains(m.View(), "Could not load the list") {
		t.Fatal("list error not shown")
	}
	m.Update(dashboards.ListLoaded{Tag: r1.Tag, List: uitest.DashboardList()})
	if !strings.Contains(m.View(), "Could not load the list") {
		t.Fatal("a reply tagged for another request replaced the list")
	}
}

func TestWidgetFocusScrollsThePane(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 80, 24, uitest.Dashboard())
	uitest.Press(m, "enter")
	top := uitest.Plain(m.View())
	if !strings.Contains(top, "┏━ Active vehicles") {
		t.Fatalf("first widget not focused:\n%s", top)
	}
	uitest.Press(m, "down", "down", "down", "down", "down")
	view := uitest.Plain(m.View())
	if !strings.Contains(view, "┏━ Recent trips") || strings.Contains(view, "Active vehicles") {
		t.Fatalf("the last widget is not scrolled into view:\n%s", view)
	}
	uitest.Press(m, "g")
	if !strings.Contains(uitest.Plain(m.View()), "┏━ Active vehicles") {
		t.Fatal("g did not return to the first widget")
	}
}

func TestMalformedAndHostileWidgets(t *testing.T) {
	nan := math.NaN()
	d := &api.Dashboard{
		DashboardSummary: api.DashboardSummary{ID: "d-x", Title: hostile.Strings["csi cursor home"] + hostile.Strings["bidi override"]},
		Scope:            hostile.Strings["osc 8 link"],
		Widgets: []api.Widget{
			{Kind: api.WidgetKPI, Title: hostile.Strings["osc title"]},
			{Kind: api.WidgetKPI, Title: "NaN", KPI: &api.KPIData{Value: nan, Previous: &nan}},
			{Kind: api.WidgetTable, Title: "no table"},
			{Kind: "pie", Title: "unknown kind"},
			{Kind: api.WidgetSeries, Title: "empty", Series: &api.SeriesData{}},
			{Kind: api.WidgetBar, Title: "bars", Bar: &api.BarData{Bars: []api.BarItem{{Label: hostile.Strings["c1 controls"], Value: nan}}}},
			{Kind: api.WidgetTable, Title: "ragged", Table: &api.TableData{
				Columns: []api.TableColumn{{Title: hostile.Strings["wide cjk"]}, {Title: "b"}},
				Rows:    []api.TableRow{{Cells: []api.Cell{{Value: hostile.Strings["zalgo"]}}}, {}},
			}},
		},
	}
	for _, sz := range []uitest.Size{{W: 80, H: 24}, {W: 120, H: 40}, {W: 50, H: 12}, {W: 20, H: 6}} {
		m := opened(t, uitest.Profiles[1], sz.W, sz.H, d)
		for _, keys := range [][]string{{}, {"enter"}, {"down", "down"}, {"G", "enter"}, {"esc", "esc"}} {
			uitest.Press(m, keys...)
			uitest.AssertFrame(t, m.View(), sz.W, sz.H)
		}
	}
	m := opened(t, uitest.Profiles[0], 120, 40, d)
	uitest.Press(m, "enter")
	if v := uitest.Plain(m.View()); !strings.Contains(v, `This "pie" widget has nothing to draw.`) || !strings.Contains(v, "no figure sent") {
		t.Fatalf("malformed widgets are not said:\n%s", v)
	}
}

// TestScopeLineReadsRight checks the line under the title: the server's scope as a
// labelled value (it may start with a capital), who it is shared with, and an ellipsis
// where it does not fit.
func TestScopeLineReadsRight(t *testing.T) {
	d := uitest.Dashboard()
	d.Scope = "Rows of team North and its sub-teams"
	m := opened(t, uitest.Profiles[0], 120, 30, d)
	lines := uitest.AssertFrame(t, m.View(), 120, 30)
	if !strings.Contains(lines[1], "Data scope: Rows of team North and its sub-teams · Shared with: North") {
		t.Fatalf("scope line %q", lines[1])
	}
	m = opened(t, uitest.Profiles[0], 80, 24, d)
	if line := strings.TrimRight(uitest.AssertFrame(t, m.View(), 80, 24)[1], " "); !strings.HasSuffix(line, "…") {
		t.Fatalf("a scope line cut without an ellipsis: %q", line)
	}
}

// TestZoomedTableTakesTheWidth: a zoomed table hides the list, so its columns get the
// whole width.
func TestZoomedTableTakesTheWidth(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 80, 24, uitest.Dashboard())
	uitest.Press(m, "enter", "G", "enter")
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	if strings.Contains(strings.Join(lines, "\n"), "On-time delivery") || !strings.Contains(lines[4], "Driver phone") {
		t.Fatalf("the zoomed table shares the width with the list:\n%s", strings.Join(lines, "\n"))
	}
	uitest.Press(m, "esc")
	if lines := uitest.AssertFrame(t, m.View(), 80, 24); !strings.Contains(lines[2], "On-time delivery") {
		t.Fatalf("esc does not bring the list back:\n%s", strings.Join(lines, "\n"))
	}
}

// FuzzWidgets draws a dashboard of every widget kind from any numbers (±1e308,
// subnormals, NaN and ±Inf, which a decoder of another kind might hand over), any label,
// series of any length (none at all too), tables whose rows have more or fewer cells
// than columns, at any size, in the list, the pane and the zoomed table: never a panic,
// every frame within its size. The seeds are the cases that once crashed or nearly did;
// `go test -fuzz FuzzWidgets ./ui/dashboards` searches further.
func FuzzWidgets(f *testing.F) {
	f.Add(1e308, -1e308, math.NaN(), uint16(65535), uint8(11), strings.Repeat("陳", 300), uint8(255), uint8(255))
	f.Add(1e308, 1e308, -1e308, uint16(14), uint8(5), "Depot", uint8(80), uint8(24))
	f.Add(-1e308, math.SmallestNonzeroFloat64, 1e308, uint16(5000), uint8(0), "", uint8(120), uint8(40))
	f.Add(math.NaN(), math.Inf(1), math.Inf(-1), uint16(1), uint8(40), strings.Repeat("陳", 300)+"\x1b]0;x\a", uint8(15), uint8(4))
	f.Add(0.0, 0.0, 5e-324, uint16(0), uint8(1), "\u202egnol", uint8(40), uint8(12))
	f.Fuzz(func(t *testing.T, a, b, c float64, n uint16, cells uint8, label string, w, h uint8) {
		width, height := max(int(w), 1), max(int(h), 1)
		d := uitest.Dashboard()
		start := d.Widgets[3].Series.Lines[0].Points[0].T
		pts := make([]api.SeriesPoint, n)
		for i := range pts {
			pts[i] = api.SeriesPoint{T: start.AddDate(0, 0, i), V: [3]float64{a, b, c}[i%3]}
		}
		prev := b
		row := make([]api.Cell, int(cells)%12)
		for i := range row {
			row[i] = api.Cell{Value: label + fmt.Sprint(a), Redacted: i%3 == 2}
		}
		d.Widgets = []api.Widget{
			{ID: "k1", Kind: api.WidgetKPI, Title: label, KPI: &api.KPIData{Value: a, Unit: label, Previous: &prev}},
			{ID: "k2", Kind: api.WidgetKPI, Title: label, KPI: &api.KPIData{Value: c}},
			{ID: "k3", Kind: api.WidgetKPI, Title: label},
			{ID: "s1", Kind: api.WidgetSeries, Title: label, Series: &api.SeriesData{Unit: label, Lines: []api.SeriesLine{{Name: label, Points: pts}, {Name: "x"}}}},
			{ID: "s2", Kind: api.WidgetSeries, Title: label, Series: &api.SeriesData{}, Redacted: true},
			{ID: "b1", Kind: api.WidgetBar, Title: label, Bar: &api.BarData{Unit: label, Bars: []api.BarItem{{Label: label, Value: a}, {Label: label, Value: b}, {Label: "c", Value: c}}}},
			{ID: "t1", Kind: api.WidgetTable, Title: label, Table: &api.TableData{
				Columns:   []api.TableColumn{{Key: "k", Title: label}, {Key: "n", Title: "n", Numeric: true}, {Key: "p", Title: label, Sensitive: true}},
				Rows:      []api.TableRow{{Cells: row}, {}, {Cells: row}},
				TotalRows: int(n) - 7,
			}},
			{ID: "x1", Kind: label, Title: label},
		}
		m := opened(t, uitest.Profiles[0], width, height, d)
		for _, keys := range [][]string{{}, {"enter"}, {"down", "down", "down"}, {"G"}, {"enter", "right", "right", "G", "end"}, {"esc", "up", "home"}} {
			uitest.Press(m, keys...)
			if _, err := uitest.FrameProblem(m.View(), width, height); err != nil {
				t.Fatalf("after %v: %v", keys, err)
			}
		}
	})
}

// A widget the server withheld whole (Billing's "Monthly spend" to an impersonation
// token: no lines, redacted) reads as redacted, never as "no data" or a blank; so do
// bars withheld whole. A redacted table with no rows says its row scope.
func TestWithheldWidgetsReadAsRedacted(t *testing.T) {
	d := uitest.Dashboard()
	d.Widgets = []api.Widget{
		{ID: "s", Kind: api.WidgetSeries, Title: "Monthly spend", Series: &api.SeriesData{Unit: "EUR", Lines: []api.SeriesLine{}}, Redacted: true},
		{ID: "b", Kind: api.WidgetBar, Title: "Running cost", Bar: &api.BarData{Bars: []api.BarItem{}}, Redacted: true},
		{ID: "t", Kind: api.WidgetTable, Title: "Invoices", Table: &api.TableData{Columns: []api.TableColumn{{Key: "a", Title: "A"}}, TotalRows: 9}, Redacted: true},
		{ID: "e", Kind: api.WidgetSeries, Title: "Nothing yet", Series: &api.SeriesData{}},
	}
	for _, sz := range uitest.Sizes {
		m := opened(t, uitest.Profiles[0], sz.W, sz.H, d)
		uitest.Press(m, "enter")
		v := uitest.Plain(m.View())
		if n := strings.Count(v, dashboards.Redacted+" withheld while impersonating"); n < 2 && sz.H >= 40 || n < 1 {
			t.Fatalf("%dx%d: %d withheld widgets say so:\n%s", sz.W, sz.H, n, v)
		}
		if strings.Count(v, "no data") > 1 || (sz.H >= 40 && !strings.Contains(v, "0 of 9 rows")) { // only the series that really is empty
			t.Fatalf("%dx%d: a withheld widget reads as no data:\n%s", sz.W, sz.H, v)
		}
	}
}

// The pane names what is loading, never the dashboard shown before, and never shows a
// dashboard the cursor is not on.
func TestPaneFollowsTheCursor(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 120, 40, uitest.Dashboard())
	second := uitest.DashboardList().Dashboards[1].Title
	uitest.Press(m, "down")
	v := uitest.Plain(m.View())
	if strings.Contains(v, "Active vehicles") || !strings.Contains(v, "enter to open it") || strings.Count(v, second) < 2 {
		t.Fatalf("the pane shows a dashboard the cursor is not on:\n%s", v)
	}
	msgs := uitest.Press(m, "enter")
	if _, ok := uitest.Find[dashboards.Requested](msgs); !ok {
		t.Fatal("enter did not open the dashboard under the cursor")
	}
	v = uitest.Plain(m.View())
	if strings.Contains(v, "Fleet overview ·") || strings.Contains(v, "Active vehicles") || !strings.Contains(v, "Loading the dashboard") || strings.Count(v, second) < 2 {
		t.Fatalf("the pane does not name what loads:\n%s", v)
	}
}

// A zoomed table scrolled sideways keeps its key column (the first).
func TestZoomedTableKeepsItsKeyColumn(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 40, 20, uitest.Dashboard())
	uitest.Press(m, "enter", "G", "enter")
	for i := 0; i < 6; i++ {
		uitest.Press(m, "right")
	}
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "Trip") || !strings.Contains(v, "T-1200") || !strings.Contains(v, "Driver phone") {
		t.Fatalf("the key column is gone after scrolling right:\n%s", v)
	}
}

// A line chart says its figures, not only its shape: each line's last value and, when
// there is room, its low and high.
func TestChartsSayTheirValues(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 120, 40, uitest.Dashboard())
	uitest.Press(m, "enter")
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "North") || !strings.Contains(v, "· low ") || !strings.Contains(v, "· high ") || !strings.Contains(v, "last ") {
		t.Fatalf("the chart's values are not said:\n%s", v)
	}
}

// A withheld chart says why in whole sentences, wrapped into the tile (which grows),
// never cut; the hints offer enter only where enter does something (a table).
func TestWithheldChartWrapsAndHintsTell(t *testing.T) {
	d := uitest.Dashboard()
	d.Widgets = []api.Widget{
		{ID: "s", Kind: api.WidgetSeries, Title: "Monthly spend", Series: &api.SeriesData{Unit: "EUR", Lines: []api.SeriesLine{}}, Redacted: true},
		{ID: "t", Kind: api.WidgetTable, Title: "Invoices", Table: &api.TableData{Columns: []api.TableColumn{{Key: "a", Title: "A"}}, Rows: []api.TableRow{{Cells: []api.Cell{{Value: "x"}}}}}},
	}
	for _, sz := range uitest.Sizes {
		m := opened(t, uitest.Profiles[0], sz.W, sz.H, d)
		uitest.Press(m, "enter")
		v := uitest.Plain(m.View())
		var inside []string // the focused box's lines, between its heavy sides
		for _, l := range strings.Split(v, "\n") {
			if i, j := strings.Index(l, "┃"), strings.LastIndex(l, "┃"); i >= 0 && j > i {
				inside = append(inside, l[i+len("┃"):j])
			}
		}
		flat := strings.Join(strings.Fields(strings.Join(inside, " ")), " ")
		if !strings.Contains(flat, "withheld while impersonating: the user sees these values, this session may not.") {
			t.Errorf("%dx%d: the withheld text is cut:\n%s", sz.W, sz.H, v)
		}
		if help := helpKeys(m); strings.Contains(help, "enter") {
			t.Errorf("%dx%d: a chart's hints offer %q, but enter does nothing there", sz.W, sz.H, help)
		}
		uitest.Press(m, "down")
		if help := helpKeys(m); !strings.Contains(help, "enter") {
			t.Errorf("%dx%d: a table's hints do not offer enter: %q", sz.W, sz.H, help)
		}
	}
}

func helpKeys(m *dashboards.Model) string {
	var out []string
	for _, b := range m.ShortHelp() {
		out = append(out, b.Help().Key)
	}
	return strings.Join(out, " ")
}

// A redacted widget's title drops its mark to "· redacted", then to nothing (the body
// says [redacted]), never cutting the mark mid-word.
func TestRedactedTitleMarkFits(t *testing.T) {
	d := uitest.Dashboard()
	d.Widgets = []api.Widget{{ID: "k", Kind: api.WidgetKPI, Title: "Spend this month", KPI: &api.KPIData{Redacted: true}, Redacted: true}}
	for _, sz := range uitest.Sizes {
		for _, w := range []int{sz.W, 40, 30, 24} {
			m := opened(t, uitest.Profiles[0], w, sz.H, d)
			uitest.Press(m, "enter")
			v := uitest.Plain(m.View())
			if !strings.Contains(v, "Spend this month") || strings.Contains(v, "· some v…") || strings.Contains(v, "· red…") || !strings.Contains(v, dashboards.Redacted) {
				t.Errorf("%dx%d: the title's redacted mark is cut:\n%s", w, sz.H, v)
			}
		}
	}
}

// A zoomed table offers ←/→ only when columns are off screen that way.
func TestZoomedTableOffersScrollOnlyWhenItScrolls(t *testing.T) {
	m := opened(t, uitest.Profiles[0], 120, 40, uitest.Dashboard())
	uitest.Press(m, "enter", "G", "enter")
	m.View()
	if help := helpKeys(m); strings.Contains(help, "→") || strings.Contains(help, "←") {
		t.Errorf("120 columns, every column on screen, yet the hints offer %q", help)
	}
	m = opened(t, uitest.Profiles[0], 40, 24, uitest.Dashboard())
	uitest.Press(m, "enter", "G", "enter")
	m.View()
	if help := helpKeys(m); !strings.Contains(help, "→") || strings.Contains(help, "←") {
		t.Fatalf("40 columns, columns off to the right: hints %q", help)
	}
	uitest.Press(m, "right")
	m.View()
	if help := helpKeys(m); !strings.Contains(help, "←") {
		t.Errorf("scrolled right: hints %q do not offer the way back", help)
	}
}

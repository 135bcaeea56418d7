package client

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/cache"
)

// A copy from the memo shares nothing with the memo's value: a caller changing what it
// was given cannot change what the next caller gets.
func TestCloneIntoSharesNothing(t *testing.T) {
	t.Parallel()
	prev := 3.5
	ended := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	orig := api.Dashboard{
		DashboardSummary: api.DashboardSummary{ID: "d1", Title: "T", Owner: api.UserRef{ID: "u"}, UpdatedAt: ended},
		Widgets: []api.Widget{
			{ID: "w1", Kind: api.WidgetKPI, KPI: &api.KPIData{Value: 1, Previous: &prev}},
			{ID: "w2", Kind: api.WidgetTable, Table: &api.TableData{Columns: []api.TableColumn{{Key: "k"}},
				Rows: []api.TableRow{{Cells: []api.Cell{{Value: "a"}, {Value: "b", Redacted: true}}}}}},
			{ID: "w3", Kind: api.WidgetSeries, Series: &api.SeriesData{Lines: []api.SeriesLine{{Name: "l", Points: []api.SeriesPoint{{T: ended, V: 2}}}}}},
		},
		SharedWith: []api.DashboardShareRef{{Kind: api.ShareUser, ID: "u2"}},
	}
	before, _ := json.Marshal(orig)

	var cp api.Dashboard
	cloneInto(reflect.ValueOf(&cp).Elem(), reflect.ValueOf(orig))
	if !reflect.DeepEqual(orig, cp) {
		t.Fatal("the copy differs")
	}
	*cp.Widgets[0].KPI.Previous = 99
	cp.Widgets[0].KPI.Value = 99
	cp.Widgets[1].Table.Rows[0].Cells[0].Value = "changed"
	cp.Widgets[2].Series.Lines[0].Points[0].V = 99
	cp.SharedWith[0].ID = "changed"
	cp.Widgets = append(cp.Widgets[:1], cp.Widgets[2:]...)
	if after, _ := json.Marshal(orig); string(after) != string(before) {
		t.Fatalf("changing the copy changed the original:\n%s\n%s", before, after)
	}

	// Maps and interfaces too, though the contract has none today.
	type odd struct {
		M map[string][]int
		I any
	}
	o := odd{M: map[string][]int{"a": {1}}, I: []string{"x"}}
	var oc odd
	cloneInto(reflect.ValueOf(&oc).Elem(), reflect.ValueOf(o))
	oc.M["a"][0] = 2
	oc.I.([]string)[0] = "y"
	if o.M["a"][0] != 1 || o.I.([]string)[0] != "x" {
		t.Fatal("map or interface contents shared")
	}
}

func TestMemoServesOnlyTheEntryItWasDecodedFrom(t *testing.T) {
	t.Parallel()
	m := newMemo()
	at := time.Now()
	entry := cache.Entry{ETag: `"a"`, StoredAt: at}
	m.remember("/k", entry, &api.DashboardList{Dashboards: []api.DashboardSummary{{ID: "d1"}}})

	var out api.DashboardList
	if !m.load("/k", entry, &out) || out.Dashboards[0].ID != "d1" {
		t.Fatal("memo miss on the same entry")
	}
	for _, other := range []cache.Entry{{ETag: `"b"`, StoredAt: at}, {ETag: `"a"`, StoredAt: at.Add(time.Nanosecond)}} {
		if m.load("/k", other, &out) {
			t.Fatalf("memo served a value for a different entry %+v", other)
		}
	}
	var wrongType api.Dashboard
	if m.load("/k", entry, &wrongType) {
		t.Fatal("memo served a value of another type")
	}
	m.clear()
	m.remember("/k", entry, &out)
	if m.load("/k", entry, &out) {
		t.Fatal("a cleared memo took new values")
	}
	big := newMemo()
	for i := range memoSize * 2 {
		big.remember(time.Duration(i).String(), entry, &out)
	}
	if len(big.entries) > memoSize {
		t.Fatalf("memo grew to %d entries", len(big.entries))
	}
}

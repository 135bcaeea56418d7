package matrix_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// pages cuts pm into a first page of first rows and pages of size after it, as the
// server sends them: each page with its own Sources table (here reversed, and holding
// only what its rows use, so an index of one page means another source in the next),
// NextCursor and TotalRows.
func pages(pm *api.PermissionMatrix, first, size int) []*api.PermissionMatrix {
	var out []*api.PermissionMatrix
	for from := 0; from < len(pm.Rows); {
		n := size
		if from == 0 {
			n = first
		}
		end := min(len(pm.Rows), from+n)
		page := &api.PermissionMatrix{Subject: pm.Subject, Actions: pm.Actions, TotalRows: len(pm.Rows)}
		at := map[int]int{}
		for _, r := range pm.Rows[from:end] {
			row := api.PermissionRow{Resource: r.Resource, Effects: r.Effects, Sources: make([]int, len(r.Sources))}
			for a, i := range r.Sources {
				row.Sources[a] = -1
				if i < 0 {
					continue
				}
				j, ok := at[i]
				if !ok {
					j = len(at)
					at[i] = j
				}
				row.Sources[a] = j
			}
			page.Rows = append(page.Rows, row)
		}
		page.Sources = make([]api.PermissionSource, len(at))
		for i, j := range at {
			page.Sources[j] = pm.Sources[i]
		}
		if end < len(pm.Rows) {
			page.NextCursor = fmt.Sprintf("after-%d", end)
		}
		out = append(out, page)
		from = end
	}
	return out
}

// firstPage makes a page and answers its first request with the first of ps; the
// request for the second, if any, is returned.
func firstPage(t *testing.T, p uitest.Profile, w, h int, ps []*api.PermissionMatrix) (*matrix.Model, matrix.MoreRequested) {
	t.Helper()
	ctx := uitest.Context(p.Profile, w, h)
	m := matrix.New(ctx)
	m.SetSize(w, h)
	req, ok := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	if !ok || req.First < matrix.MinFirstPage {
		t.Fatalf("Init did not ask for a first page of at least %d rows: %+v", matrix.MinFirstPage, req)
	}
	_, cmd := m.Update(matrix.Loaded{Tag: req.Tag, Matrix: ps[0]})
	more, _ := uitest.Find[matrix.MoreRequested](uitest.Msgs(cmd))
	return m, more
}

// Pages merged: every cell of every page says the source the whole matrix names,
// though each page's table differs; the request for each page names the rows it
// brings; once all are in, the summary is the whole matrix's.
func TestPagesMergeIntoOneSourceTable(t *testing.T) {
	whole := uitest.Matrix(260, 6)
	whole.Sources = append(whole.Sources, api.PermissionSource{Kind: api.SourceRole, Name: "Auditor"})
	whole.Rows[250].Sources[0], whole.Rows[250].Effects = 4, "A"+whole.Rows[250].Effects[1:]
	ps := pages(whole, 100, 80)
	m, more := firstPage(t, uitest.Profiles[0], 100, 30, ps)
	for i, page := range ps[1:] {
		if more.Cursor != ps[i].NextCursor || more.From != 100+80*i || more.Total != 260 || more.Limit != matrix.MorePage {
			t.Fatalf("request for page %d: %+v", i+2, more)
		}
		_, cmd := m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: page})
		more, _ = uitest.Find[matrix.MoreRequested](uitest.Msgs(cmd))
	}
	if more.Cursor != "" {
		t.Fatalf("asked for more after the last page: %+v", more)
	}
	v := uitest.Plain(m.View())
	if !strings.Contains(v, "row 1 of 260 resources × 6 actions") || strings.Contains(v, "loading") {
		t.Fatalf("the whole matrix is not said:\n%s", v)
	}
	say := func(s api.PermissionSource) string {
		switch s.Kind {
		case api.SourceRole:
			return "by role " + s.Name
		case api.SourceTeam:
			return "by team role " + s.Name + " via " + s.Via
		case api.SourceDirect:
			return "by direct grant " + s.Name
		}
		return "by explicit deny " + s.Name + " via " + s.Via
	}
	checked := 0
	for row := range whole.Rows {
		if row > 0 {
			uitest.Press(m, "down")
		}
		if row%13 != 0 && row != 250 {
			continue
		}
		if i := whole.Rows[row].Sources[0]; i >= 0 {
			if v := uitest.Plain(m.View()); !strings.Contains(v, say(whole.Sources[i])) {
				t.Fatalf("row %d says the wrong source, want %q:\n%s", row+1, say(whole.Sources[i]), v)
			}
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("only %d cells checked", checked)
	}
}

// The first page alone, at 80×24 and 120×40: the rows loaded said of the server's total,
// then, past them, the placeholder row saying what loads; and after a failed page, what
// did not load and why.
func TestPagedGolden(t *testing.T) {
	ps := pages(uitest.Matrix(12_000, 6), 100, matrix.MorePage)
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m, _ := firstPage(t, p, sz.W, sz.H, ps)
				v := uitest.Plain(m.View())
				if !strings.Contains(v, "rows 1–100 of 12,000") {
					t.Fatalf("the first page is not said as such:\n%s", v)
				}
				uitest.Press(m, "G")
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				if v := uitest.Plain(m.View()); !strings.Contains(v, "loading rows 101–5,100 of 12,000") {
					t.Fatalf("the placeholder row does not say what loads:\n%s", v)
				}
				uitest.Golden(t, m.View())
			})
			t.Run(fmt.Sprintf("failed/%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m, more := firstPage(t, p, sz.W, sz.H, ps)
				m.Update(matrix.MoreLoaded{Tag: more.Tag, Err: errors.New("the server did not answer in 45 s")})
				uitest.Press(m, "G")
				uitest.AssertFrame(t, m.View(), sz.W, sz.H)
				if v := uitest.Plain(m.View()); !strings.Contains(v, "not loaded · r reloads") || !strings.Contains(v, "did not answer in 45 s") {
					t.Fatalf("the failed page is not said:\n%s", v)
				}
				uitest.Golden(t, m.View())
			})
		}
	}
}

// A page's source index outside its own table is said as unknown, never another
// page's source.
func TestPageSourceOutsideItsTableIsUnknown(t *testing.T) {
	ps := pages(uitest.Matrix(150, 6), 100, 50)
	ps[1].Rows[0].Sources[0], ps[1].Rows[0].Effects = len(ps[1].Sources)+2, "A"+ps[1].Rows[0].Effects[1:]
	m, more := firstPage(t, uitest.Profiles[0], 100, 30, ps)
	m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: ps[1]})
	uitest.Press(m, "G")
	uitest.Press(m, strings.Fields(strings.Repeat("up ", 49))...) // to row 101, the second page's first
	if v := uitest.Plain(m.View()); !strings.Contains(v, "row 101 of 150") || !strings.Contains(v, "allowed by an unknown source") {
		t.Fatalf("an index outside the page's table is not said as unknown:\n%s", v)
	}
}

// Rows added between pages, beyond the server's first count: the page says "more",
// never a total it does not know; once the last page is in, the rows held are not the
// server's count, so it says the rows loaded and that they changed while loading.
func TestMorePagesThanCountedClaimNoTotal(t *testing.T) {
	ps := pages(uitest.Matrix(300, 6), 100, 100)
	for _, p := range ps {
		p.TotalRows = 150 // counted before 150 rows more were added
	}
	m, more := firstPage(t, uitest.Profiles[0], 120, 30, ps)
	_, cmd := m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: ps[1]})
	more, _ = uitest.Find[matrix.MoreRequested](uitest.Msgs(cmd))
	uitest.Press(m, "G")
	v := uitest.Plain(m.View())
	if !contains(v, "rows 1–200 of more resources", "loading more…", "loading rows after 200") || strings.Contains(v, "of 150") {
		t.Fatalf("a total the server's count is behind is claimed:\n%s", v)
	}
	m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: ps[2]})
	if v := uitest.Plain(m.View()); !contains(v, "300 rows loaded × 6 actions", "rows changed while loading · r reloads") || strings.Contains(v, "resources") {
		t.Fatalf("the rows loaded, other than the count, are not said so:\n%s", v)
	}
}

func contains(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

package authz

import (
	"reflect"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
)

// walkPages follows a subject's matrix pages from the first to the last.
func walkPages(t *testing.T, s *Subject, limit int) []api.PermissionRow {
	t.Helper()
	sources := s.Matrix().Sources
	var rows []api.PermissionRow
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.MatrixPage(cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) > limit || pages > 10_000 {
			t.Fatalf("page of %d rows, limit %d", len(p.Rows), limit)
		}
		if p.TotalRows != len(s.org.Resources(s.user.CompanyID)) {
			t.Fatalf("total rows %d", p.TotalRows)
		}
		if !reflect.DeepEqual(p.Sources, sources) || !reflect.DeepEqual(p.Actions, org.MatrixActions) {
			t.Fatal("a page's sources or actions differ from the whole matrix's")
		}
		rows = append(rows, p.Rows...)
		if p.NextCursor == "" {
			return rows
		}
		if len(p.Rows) != limit {
			t.Fatalf("a short page (%d rows) before the last", len(p.Rows))
		}
		cursor = p.NextCursor
	}
}

// TestMatrixPages: the pages of a matrix, walked with their cursors, are exactly its
// rows in order, for page sizes that divide the row count and sizes that do not.
func TestMatrixPages(t *testing.T) {
	o := withAssets(t, 1000)
	for _, id := range []string{"u-acme-nora", org.DemoTechnicianID, org.DemoCompanyAdminID} {
		s := subject(t, o, id)
		whole := s.Matrix()
		if whole.NextCursor != "" || whole.TotalRows != 0 {
			t.Fatalf("%s: the whole matrix carries paging fields", id)
		}
		for _, limit := range []int{1, 7, 211, len(whole.Rows), 5000} {
			if got := walkPages(t, s, limit); !reflect.DeepEqual(got, whole.Rows) {
				t.Fatalf("%s limit %d: pages hold %d rows, unlike the matrix's %d", id, limit, len(got), len(whole.Rows))
			}
		}
	}
	for _, bad := range []string{"!!", "bm9wZQ", "YQBi"} { // not base64; "nope"; "a\x00b" (two parts)
		if _, err := subject(t, o, "u-acme-nora").MatrixPage(bad, 10); err != ErrBadCursor {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

// TestMatrixPageCursorSurvivesChange: a cursor names a place in the order, so a
// resource added before it or the cursor's own resource removed between two requests
// neither repeats nor skips a row that was there all along.
func TestMatrixPageCursorSurvivesChange(t *testing.T) {
	o := demo(t)
	s := subject(t, o, "u-acme-nora")
	first, err := s.MatrixPage("", 5)
	if err != nil {
		t.Fatal(err)
	}
	last := first.Rows[len(first.Rows)-1].Resource
	rest := s.Matrix().Rows[5:]
	// Remove the cursor's own resource (a dashboard) and add one that sorts first.
	var removed bool
	for _, r := range first.Rows {
		if r.Resource.ID == last.ID && r.Resource.Type == org.TypeDashboard {
			removed = o.DeleteDashboard(last.ID[len(org.TypeDashboard)+1:])
		}
	}
	if err := o.SetDashboard(&org.Dashboard{ID: "d-aaa", CompanyID: "c-acme", OwnerID: "u-acme-nora", Title: "AAA first"}); err != nil {
		t.Fatal(err)
	}
	next, err := Compile(o, o.User("u-acme-nora")).MatrixPage(first.NextCursor, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rest {
		want = append(want, r.Resource.ID)
	}
	var got []string
	for _, r := range next.Rows {
		got = append(got, r.Resource.ID)
	}
	if !removed {
		t.Fatalf("the cursor's resource %s was not a dashboard to remove", last.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after the change the next page is %v, want %v", got, want)
	}
}

// TestMatrixRowsSharedByTeamAgreeWithDecide: at scale most rows are decided by their
// type and team alone and copied from the first such row (matrix); every cell of a
// matrix over 1,000 generated assets still says what Decide says of it.
func TestMatrixRowsSharedByTeamAgreeWithDecide(t *testing.T) {
	o := withAssets(t, 1000)
	for _, id := range []string{"u-acme-nora", org.DemoTechnicianID, org.DemoCompanyAdminID} {
		s := subject(t, o, id)
		m := s.Matrix()
		for _, row := range m.Rows {
			r := o.Resource(row.Resource.ID)
			for a, action := range m.Actions {
				e, src := s.Decide(r, action)
				if row.Effects[a] != e || (row.Sources[a] < 0) != (src == nil) || (src != nil && m.Sources[row.Sources[a]] != *src) {
					t.Fatalf("%s %s %s: matrix %c/%d, Decide %c/%v", id, action, r.ID, row.Effects[a], row.Sources[a], e, src)
				}
			}
		}
	}
}

// withAssets is the demo org with n generated assets at Acme.
func withAssets(t *testing.T, n int) *org.Org {
	t.Helper()
	o, err := org.Build(org.Seed{Demo: true, GenerateResources: n}, epoch, []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

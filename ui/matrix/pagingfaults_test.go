package matrix_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// follow answers each page request with the page reply gives for it, up to 50 times,
// and says how many were asked for after the first.
func follow(m *matrix.Model, more matrix.MoreRequested, reply func(matrix.MoreRequested) *api.PermissionMatrix) int {
	asked := 0
	for range 50 {
		_, cmd := m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: reply(more)})
		next, ok := uitest.Find[matrix.MoreRequested](uitest.Msgs(cmd))
		if !ok {
			break
		}
		asked++
		more = next
	}
	return asked
}

// A broken server's paging is not followed for ever: a page that hands out again a
// cursor already followed, a page of no rows that says more follow, and rows past the
// server's own count by more than a page each stop the load, said in words; the rows
// held never grow without bound.
func TestABrokenServersPagingIsNotFollowedForEver(t *testing.T) {
	whole := uitest.Matrix(300, 6)
	for _, c := range []struct {
		name  string
		reply func(ps []*api.PermissionMatrix) func(matrix.MoreRequested) *api.PermissionMatrix
		says  string
	}{
		{"a repeated cursor", func(ps []*api.PermissionMatrix) func(matrix.MoreRequested) *api.PermissionMatrix {
			return func(more matrix.MoreRequested) *api.PermissionMatrix {
				stuck := *ps[1]
				stuck.NextCursor = more.Cursor // the next page is the one just asked for
				return &stuck
			}
		}, "a cursor it gave before"},
		{"an empty page", func(ps []*api.PermissionMatrix) func(matrix.MoreRequested) *api.PermissionMatrix {
			return func(more matrix.MoreRequested) *api.PermissionMatrix {
				empty := *ps[1]
				empty.Rows, empty.NextCursor = nil, more.Cursor+"x"
				return &empty
			}
		}, "no rows that says more follow"},
		{"rows without end", func(ps []*api.PermissionMatrix) func(matrix.MoreRequested) *api.PermissionMatrix {
			n := 0
			return func(more matrix.MoreRequested) *api.PermissionMatrix {
				n++
				fresh := *uitest.Matrix(matrix.MorePage, 6) // new ids each time, counted 300
				for i := range fresh.Rows {
					fresh.Rows[i].Resource.ID += "-" + strings.Repeat("n", n)
				}
				fresh.TotalRows, fresh.NextCursor = 300, more.Cursor+"y"
				return &fresh
			}
		}, "more rows than the 300 it counted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := pages(whole, 100, 100)
			m, more := firstPage(t, uitest.Profiles[0], 120, 30, ps)
			asked := follow(m, more, c.reply(ps))
			m.Update(uitest.Key("G"))
			v := uitest.Plain(m.View())
			if asked > 2 || !strings.Contains(v, c.says) || !strings.Contains(v, "stopped") || strings.Contains(v, "loading") {
				t.Errorf("asked %d more times; the view:\n%s", asked, v)
			}
		})
	}
}

// A page that repeats a row already held (a resource renamed between pages moves past
// the cursor) is not held twice, and the matrix, once in, says the rows changed while
// loading rather than a total: here one row came twice and one never.
func TestARepeatedRowIsDroppedAndTheChangeIsSaid(t *testing.T) {
	whole := uitest.Matrix(250, 6)
	ps := pages(whole, 100, 100)
	m, more := firstPage(t, uitest.Profiles[0], 120, 30, ps)
	dup := *ps[1]
	dup.Rows = append([]api.PermissionRow{ps[0].Rows[0]}, dup.Rows[:len(dup.Rows)-1]...) // row 1 again; one row skipped
	dup.Rows[0].Sources = append([]int(nil), dup.Rows[0].Sources...)
	for i := range dup.Rows[0].Sources {
		dup.Rows[0].Sources[i] = -1
	}
	_, cmd := m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: &dup})
	more, _ = uitest.Find[matrix.MoreRequested](uitest.Msgs(cmd))
	m.Update(matrix.MoreLoaded{Tag: more.Tag, Page: ps[2]})
	head := strings.SplitN(uitest.Plain(m.View()), "\n", 2)[0]
	if !strings.Contains(head, "249 rows loaded") || !strings.Contains(head, "rows changed while loading · r reloads") || strings.Contains(head, "250") {
		t.Errorf("the summary once all pages are in: %s", head)
	}
	m.Update(uitest.Key("/"))
	for _, r := range whole.Rows[0].Resource.ID {
		m.Update(uitest.Key(string(r)))
	}
	m.Update(uitest.Key("enter"))
	if filtered := strings.SplitN(uitest.Plain(m.View()), "\n", 2)[0]; strings.Contains(filtered, "of 2 shown") {
		t.Errorf("the repeated row is held twice: %s", filtered)
	}
}

// r while a later page is on its way, and the reload fails: nothing is on its way any
// more, so nothing says loading; the rows shown stay and the view says the reload failed.
func TestAFailedReloadSaysSoAndNothingLoads(t *testing.T) {
	whole := uitest.Matrix(300, 6)
	ps := pages(whole, 100, 100)
	m, old := firstPage(t, uitest.Profiles[0], 120, 30, ps)
	req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Reload()))
	m.Update(matrix.MoreLoaded{Tag: old.Tag, Page: ps[1]})                       // the old view's page: stale, dropped
	m.Update(matrix.Loaded{Tag: req.Tag, Err: errors.New("the server is down")}) // the reload fails
	m.Update(uitest.Key("G"))
	v := uitest.Plain(m.View())
	head := strings.SplitN(v, "\n", 2)[0]
	if strings.Contains(v, "loading") || !strings.Contains(head, "the reload failed") || !strings.Contains(v, "the reload failed: the server is down") ||
		!strings.Contains(head, "rows 1–100 of 300") {
		t.Errorf("after a failed reload:\n%s", v)
	}
}

package client

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

// The matrix read in pages through the View, against the real server with a real
// cache: the pages hold the whole matrix's rows in its order, each cell's source
// resolved through its own page's table is the whole matrix's; no page is cached (the
// server sends them no-store: each is counted to its view by the server, so a page
// shown again is read again, never taken from the cache unasked) nor memoised, so the
// caller's rows are the only decoded copy.
func TestMatrixPagesAreNeitherCachedNorMemoised(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clk := newTestClock()
	c := cachedStaff(t, ts, openCache(t, t.TempDir(), clk))
	v, _ := startNora(t, c)
	ctx := ctxT(t)
	whole, err := v.Permissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 20
	if len(whole.Rows) <= 2*limit {
		t.Fatalf("the demo matrix has %d rows: too few for three pages", len(whole.Rows))
	}
	type cell struct {
		effect byte
		source api.PermissionSource
	}
	resolve := func(pm api.PermissionMatrix, r api.PermissionRow) []cell {
		out := make([]cell, len(pm.Actions))
		for a := range pm.Actions {
			out[a].effect = r.Effects[a]
			if i := r.Sources[a]; i >= 0 {
				out[a].source = pm.Sources[i]
			}
		}
		return out
	}
	var cursors []string
	row := 0
	for cursor := ""; ; {
		page, err := v.PermissionsPage(ctx, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		cursors = append(cursors, cursor)
		if page.TotalRows != len(whole.Rows) || len(page.Rows) > limit {
			t.Fatalf("page %d: %d rows of %d (whole: %d)", len(cursors), len(page.Rows), page.TotalRows, len(whole.Rows))
		}
		for _, r := range page.Rows {
			w := whole.Rows[row]
			if r.Resource != w.Resource || !reflect.DeepEqual(resolve(page, r), resolve(whole, w)) {
				t.Fatalf("row %d differs: page %+v, whole %+v", row, r, w)
			}
			row++
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if row != len(whole.Rows) || len(cursors) != 3 {
		t.Fatalf("%d rows in %d pages, want %d in 3", row, len(cursors), len(whole.Rows))
	}

	v.mu.RLock()
	for key := range v.memo.entries {
		if strings.Contains(key, "limit=") {
			t.Errorf("a page of the matrix is memoised: %s", key)
		}
	}
	v.mu.RUnlock()

	before := ts.reached.Load()
	second, err := v.PermissionsPage(ctx, cursors[1], limit)
	if err != nil || ts.reached.Load() != before+1 || len(second.Rows) != limit {
		t.Fatalf("a revisit of page 2 did not go to the server, or came back short: %v", err)
	}
	clk.Advance(2 * time.Hour)
	again, err := v.PermissionsPage(ctx, cursors[1], limit)
	if err != nil || !reflect.DeepEqual(second.Rows, again.Rows) {
		t.Fatalf("page 2 read again differs: %v", err)
	}
	reqs := ts.requests()
	last := reqs[len(reqs)-1]
	if ts.reached.Load() != before+2 || last.IfNoneMatch != "" || last.Status != 200 {
		t.Fatalf("want page 2 read again unconditionally, got %+v", last)
	}
}

// The whole matrix (the compare reads one per user) is a bulk read too: once read, the
// View keeps no decoded copy of it in its memo for the session's life, beside the
// caller's copy and the matrix tab's paged rows; a revisit is still served by the cache.
func TestWholeMatrixIsNotMemoised(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clk := newTestClock()
	c := cachedStaff(t, ts, openCache(t, t.TempDir(), clk))
	v, _ := startNora(t, c)
	first, err := v.Permissions(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	v.mu.RLock()
	n := len(v.memo.entries)
	v.mu.RUnlock()
	if n != 0 {
		t.Errorf("the whole matrix is kept decoded in the View's memo (%d entries)", n)
	}
	before := ts.reached.Load()
	again, err := v.Permissions(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if ts.reached.Load() != before || !reflect.DeepEqual(first, again) {
		t.Fatalf("a fresh revisit of the whole matrix asked the server again (%d requests) or differs", ts.reached.Load()-before)
	}
}

package server

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/shadowview/shadow/api"
)

// TestPermissionPages: GET /permissions?limit=&cursor= through the real handler pages
// the matrix — the pages, walked with their cursors, are the whole matrix's rows —
// and refuses a bad limit or a cursor it did not issue. Without either parameter the
// reply is the whole matrix, as before.
func TestPermissionPages(t *testing.T) {
	e := newEnv(t)
	nora := e.login(DemoFleetManagerEmail)
	var whole api.PermissionMatrix
	if err := json.Unmarshal(e.do("GET", "/api/v1/permissions", nora, nil).body, &whole); err != nil {
		t.Fatal(err)
	}
	if whole.NextCursor != "" || whole.TotalRows != 0 || len(whole.Rows) < 20 {
		t.Fatalf("whole matrix: %d rows, next %q, total %d", len(whole.Rows), whole.NextCursor, whole.TotalRows)
	}
	var rows []api.PermissionRow
	path := "/api/v1/permissions?limit=8"
	for pages := 0; pages < 100; pages++ {
		r := e.do("GET", path, nora, nil)
		var p api.PermissionMatrix
		if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		if p.TotalRows != len(whole.Rows) || len(p.Rows) > 8 {
			t.Fatalf("page of %d rows, total %d", len(p.Rows), p.TotalRows)
		}
		rows = append(rows, p.Rows...)
		if p.NextCursor == "" {
			break
		}
		path = "/api/v1/permissions?limit=8&cursor=" + url.QueryEscape(p.NextCursor)
	}
	if !reflect.DeepEqual(rows, whole.Rows) {
		t.Fatalf("pages hold %d rows, the matrix %d", len(rows), len(whole.Rows))
	}
	var first api.PermissionMatrix
	json.Unmarshal(e.do("GET", "/api/v1/permissions?cursor=", nora, nil).body, &first)
	if len(first.Rows) != min(len(whole.Rows), api.DefaultMatrixPage) || first.TotalRows != len(whole.Rows) {
		t.Fatalf("an empty cursor is the first page of the default size: %d rows", len(first.Rows))
	}
	var capped api.PermissionMatrix
	json.Unmarshal(e.do("GET", "/api/v1/permissions?limit=99999999999999999999", nora, nil).body, &capped)
	if len(capped.Rows) != len(whole.Rows) || capped.NextCursor != "" {
		t.Fatalf("an absurdly large limit should be capped, not refused: %d rows", len(capped.Rows))
	}
	for _, bad := range []string{"limit=0", "limit=-99999999999999999999", "limit=-3", "limit=ten", "cursor=bm9wZQ", "cursor=%21%21"} {
		e.do("GET", "/api/v1/permissions?"+bad, nora, nil).wantErr(t, api.CodeBadRequest)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
)

// marshalled is what writeJSON sends for v: the reference appendMatrix must equal.
func marshalled(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append(escapeUnsafe(raw), '\n')
}

// sameAsMarshal fails unless appendMatrix(m) is byte for byte writeJSON's encoding of
// m, and both decode to the same matrix.
func sameAsMarshal(t *testing.T, what string, m *api.PermissionMatrix) {
	t.Helper()
	want := marshalled(t, m)
	got, err := appendMatrix(nil, m)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var a, b api.PermissionMatrix
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: appendMatrix wrote invalid JSON: %v\n%.300s", what, err, got)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: decodes to another matrix", what)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: bytes differ at %d:\n got %.120q\nwant %.120q", what, i, got[max(0, i-40):], want[max(0, i-40):])
	}
}

// sameCells: what the handler sends for c (encodeMatrix, from the cells) is writeJSON's
// encoding of c's matrix, and so is appendMatrix of that matrix.
func sameCells(t *testing.T, what string, c *authz.Cells) {
	t.Helper()
	m := c.Matrix()
	sameAsMarshal(t, what, &m)
	buf, err := encodeMatrix(c)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseReply(buf)
	if !bytes.Equal(*buf, marshalled(t, &m)) {
		t.Errorf("%s: the encoding of the cells differs from the matrix's", what)
	}
}

// TestMatrixEncodingIsMarshal: the matrix encoder writes exactly the bytes writeJSON
// wrote with encoding/json, for every user of the demo and hostile orgs (whole
// matrices and pages of 7 rows), for a generated org of 2,000 more resources, and for
// matrices whose every string is hostile (controls, bidi, zero-width, U+2028/9,
// HTML characters, invalid UTF-8, beyond the BMP) or whose slices are nil or empty.
func TestMatrixEncodingIsMarshal(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, seed := range []org.Seed{{Demo: true, Hostile: true}, {Demo: true, GenerateResources: 2000}} {
		o, err := org.Build(seed, epoch, []byte("h"))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range o.Users() {
			if seed.GenerateResources > 0 && u.CompanyID != org.CompanyAcme {
				continue
			}
			s := authz.Compile(o, u)
			sameCells(t, u.ID+" whole", s.Cells())
			for cursor, pages := "", 0; pages == 0 || (cursor != "" && pages < 20); pages++ {
				c, err := s.PageCells(cursor, 7)
				if err != nil {
					t.Fatal(err)
				}
				sameCells(t, fmt.Sprintf("%s page %d", u.ID, pages), c)
				cursor = c.Head.NextCursor
			}
		}
	}
	hostile := append([]string{"", "plain", `quote " back \ slash`, "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1b\x1f\x7f",
		"\u0085\u009b c1", "\u200b\u200d\u2066\u202e\ufeff", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\U000e0041 tag \U0001f600",
		"\ufffd literal", "é ü 中文"}, org.HostileStrings...)
	for i, h := range hostile {
		m := api.PermissionMatrix{
			Subject: api.UserRef{ID: h, Name: h, Email: h, Company: h},
			Actions: []string{h, "view"},
			Sources: []api.PermissionSource{{Kind: h, Name: h, Via: h}, {Kind: "role", Name: "x"}},
			Rows: []api.PermissionRow{
				{Resource: api.Resource{ID: h, Type: h, Name: h}, Effects: h, Sources: []int{-1, 0, 12345}},
				{Resource: api.Resource{ID: "b", Type: h, Name: h}, Effects: h, Sources: []int{-1, 0, 12345}},
				{Resource: api.Resource{ID: "c"}, Effects: "A.", Sources: nil},
				{Resource: api.Resource{ID: "d"}, Effects: "A.", Sources: []int{}},
				{Resource: api.Resource{ID: "e"}, Effects: "A.", Sources: nil},
			},
			NextCursor: h,
			TotalRows:  i - 3,
		}
		sameAsMarshal(t, fmt.Sprintf("hostile %d %q", i, h), &m)
	}
	sameAsMarshal(t, "zero", &api.PermissionMatrix{})
	sameAsMarshal(t, "empty", &api.PermissionMatrix{Actions: []string{}, Sources: []api.PermissionSource{}, Rows: []api.PermissionRow{}})
}

// TestMatrixReplyIsMarshal: through the real handler, GET /permissions (whole, and a
// page with its cursor) sends writeJSON's bytes of the matrix it holds, and its
// ETag and 304 are as before.
func TestMatrixReplyIsMarshal(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Seed = Seed{Demo: true, Hostile: true, GenerateResources: 300} })
	for _, email := range []string{DemoFleetManagerEmail, DemoTechnicianEmail} {
		tok := e.login(email)
		for _, path := range []string{"/api/v1/permissions", "/api/v1/permissions?limit=50"} {
			r := e.do("GET", path, tok, nil)
			var m api.PermissionMatrix
			r.decode(t, 200, &m)
			if want := marshalled(t, &m); !bytes.Equal(r.body, want) {
				t.Errorf("%s %s: the reply is not writeJSON's encoding", email, path)
			}
			if strings.HasSuffix(path, "50") && m.NextCursor == "" {
				t.Errorf("%s: a page of 50 of %d rows has no cursor", path, m.TotalRows)
			}
			tag := r.header.Get("ETag")
			paged := strings.Contains(path, "limit=")
			if (tag == "") != paged || r.header.Get("Content-Type") != "application/json; charset=utf-8" ||
				paged && r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: headers %v", path, r.header)
			}
			again := e.do("GET", path, tok, nil, "If-None-Match", tag)
			switch {
			case !paged && (again.status != 304 || len(again.body) != 0):
				t.Errorf("%s: revalidation %d with %d bytes", path, again.status, len(again.body))
			case paged && again.status != 200:
				// a first page opens a view of its own (matrixcursor.go): always served
				t.Errorf("%s: a page revalidated %d, want 200 (a new view)", path, again.status)
			}
		}
	}
}

// FuzzAppendString: appendString is escapeUnsafe(json.Marshal(s)) for any string.
func FuzzAppendString(f *testing.F) {
	for _, s := range append([]string{"", "a\"b\\c", "<>&", "\x00\x7f\u0080\u009f", "\u2028\u202e\u200b\U000e0001", "\xff\xc3("}, org.HostileStrings...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, _ := json.Marshal(s)
		if got, want := appendString(nil, s), escapeUnsafe(raw); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

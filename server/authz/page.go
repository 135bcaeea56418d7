package authz

import (
	"encoding/base64"
	"errors"
	"sort"
	"strings"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
)

// ErrBadCursor is returned for a matrix cursor this server did not issue.
var ErrBadCursor = errors.New("cursor is not one this server issued")

// MatrixPage is a page of Matrix: up to limit rows after the cursor (empty for the
// first page), with NextCursor for the following page (empty on the last) and
// TotalRows, the rows of the whole matrix. Its cost is the page's rows, not the
// company's: at 50,000 resources a whole matrix is tens of milliseconds and megabytes
// of JSON, a page of a few hundred rows well under one.
//
// A cursor names the last row's place in the matrix's order (type, name, id), not
// its position, so a resource added or removed between two requests moves no row
// to another page twice or never.
func (s *Subject) MatrixPage(cursor string, limit int) (api.PermissionMatrix, error) {
	c, err := s.PageCells(cursor, limit)
	if err != nil {
		return api.PermissionMatrix{}, err
	}
	return c.Matrix(), nil
}

// PageCells is MatrixPage before its wire rows are built (Cells).
func (s *Subject) PageCells(cursor string, limit int) (*Cells, error) {
	res := s.org.Resources(s.user.CompanyID)
	from := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		key := strings.Split(string(raw), "\x00")
		if err != nil || len(key) != 3 {
			return nil, ErrBadCursor
		}
		after := &org.Resource{Type: key[0], Name: key[1], ID: key[2]}
		from = sort.Search(len(res), func(i int) bool { return org.ResourceLess(after, res[i]) })
	}
	limit = max(limit, 1)
	to := min(from+limit, len(res))
	c := s.cells(res[from:to])
	c.Head.TotalRows = len(res)
	if to < len(res) {
		last := res[to-1]
		c.Head.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last.Type + "\x00" + last.Name + "\x00" + last.ID))
	}
	return c, nil
}

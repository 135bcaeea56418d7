package server

import (
	"errors"
	"net/http"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
)

// permissions is GET /permissions: the caller's whole matrix, or with ?limit= or
// ?cursor= one page of it (authz.MatrixPage), which costs its rows, not the company's.
func (s *Server) permissions(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	q := r.URL.Query()
	if !q.Has("limit") && !q.Has("cursor") {
		s.mu.RLock()
		c := authz.Compile(s.org, id.user).Cells()
		s.mu.RUnlock()
		return writeMatrix(w, r, c)
	}
	limit, lerr := limitParam(r, api.DefaultMatrixPage, api.MaxMatrixPage)
	if lerr != nil {
		return lerr
	}
	// The cursor is the server's own (matrixcursor.go): signed, bound to the caller and
	// to the view its first page opened. The first page opens a new view.
	scope := id.cacheScope()
	cur := matrixCursor{scope: scope, view: newViewID()}
	if raw := q.Get("cursor"); raw != "" {
		var err error
		if cur, err = s.decodeCursor(raw, scope); err != nil {
			return errorf(api.CodeBadRequest, "%s: pass next_cursor from a reply to this session as it came, or start again without a cursor", err).field("cursor")
		}
	}
	s.mu.RLock()
	c, err := authz.Compile(s.org, id.user).PageCells(cur.place, limit)
	s.mu.RUnlock()
	if errors.Is(err, authz.ErrBadCursor) {
		return errorf(api.CodeBadRequest, "cursor is not one this server issued").field("cursor")
	}
	rows := c.Len()
	infoOf(r).page = pageOf(cur, rows, c.Head.TotalRows, c.Head.NextCursor == "")
	infoOf(r).noStore = true // every page is served anew (a first page opens a view), so none is worth keeping
	if place := c.Head.NextCursor; place != "" {
		c.Head.NextCursor = s.encodeCursor(matrixCursor{scope: scope, view: cur.view, index: cur.index + 1, from: cur.from + rows, place: place})
	}
	return writeMatrix(w, r, c)
}

// writeMatrix sends a whole matrix or a page with appendMatrix (the bytes writeJSON
// would send, without its reflection), in a pooled buffer.
func writeMatrix(w http.ResponseWriter, r *http.Request, c *authz.Cells) *apiError {
	buf, err := encodeMatrix(c)
	if err != nil {
		return errorf(api.CodeInternal, "could not encode the reply")
	}
	writeEncoded(w, r, http.StatusOK, *buf)
	releaseReply(buf) // the writer has copied or sent it: Write keeps no reference
	return nil
}

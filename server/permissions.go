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
	s.mu.RLock()
	c, err := authz.Compile(s.org, id.user).PageCells(q.Get("cursor"), limit)
	s.mu.RUnlock()
	if errors.Is(err, authz.ErrBadCursor) {
		return errorf(api.CodeBadRequest, "cursor is not one this server issued").field("cursor")
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

package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
)

// permissions is GET /permissions: the caller's whole matrix, or with ?limit= or
// ?cursor= one page of it (authz.MatrixPage), which costs its rows, not the company's.
func (s *Server) permissions(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	q := r.URL.Query()
	if !q.Has("limit") && !q.Has("cursor") {
		s.mu.RLock()
		m := authz.Compile(s.org, id.user).Matrix()
		s.mu.RUnlock()
		writeJSON(w, r, http.StatusOK, m)
		return nil
	}
	limit := api.DefaultMatrixPage
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if errors.Is(err, strconv.ErrRange) && raw[0] != '-' {
			n, err = api.MaxMatrixPage, nil // absurdly large: capped like any other large value
		}
		if err != nil || n < 1 {
			return errorf(api.CodeBadRequest, "limit must be a positive integer of rows (got %q)", truncate(raw, 30)).field("limit")
		}
		limit = min(n, api.MaxMatrixPage)
	}
	s.mu.RLock()
	m, err := authz.Compile(s.org, id.user).MatrixPage(q.Get("cursor"), limit)
	s.mu.RUnlock()
	if errors.Is(err, authz.ErrBadCursor) {
		return errorf(api.CodeBadRequest, "cursor is not one this server issued").field("cursor")
	}
	writeJSON(w, r, http.StatusOK, m)
	return nil
}

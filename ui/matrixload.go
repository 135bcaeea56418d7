package ui

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/matrix"
)

// matrixload.go: the permission matrix read in pages. The Permissions tab asks for a
// first page of a few screens' rows (matrix.Requested), shows it as soon as it comes,
// and asks for the rest in the background, a page of matrix.MorePage rows at a time
// (matrix.MoreRequested). Every page is an ordinary read-only GET through the View.
//
// Journal: one record per view of the matrix, not per page. It is written when the
// first page has come and before it is shown, and names the whole view: the matrix's
// rows and actions and how many pages it comes in ("permissions: 50000 resources × 20
// actions in 11 pages (100 rows shown first, then up to 5000 a page)"). The pages after
// the first are part of that view: they are journaled only when one fails or is
// cancelled (an error record naming the rows that did not come). The words are
// api.MatrixViewDetails, which the server reads the count back with. Which requests
// are the view's pages is the server's word: each cursor it issues is bound to the view
// its first page opened, so the reconciliation (GET /audit/sessions/{id}, package
// server/reconcile) counts the pages of that view to its record, each once, and sets
// the count the record names against them.
//
// r (Reload) starts a new view: the old view's page still on its way is cancelled, as
// esc cancels it, and journaled as such (an error record naming its rows).

// matrixView reads the matrix's first page and journals the view before it is shown.
func (m *Model) matrixView(req matrix.Requested) tea.Cmd {
	if s := m.sess; s != nil {
		s.cancelLoad(s.matrixPage, errReloaded) // the old view's page, if one is on its way
	}
	return view(m, TabPermissions, req.Tag,
		func(ctx context.Context, v *client.View) (api.PermissionMatrix, error) {
			return v.PermissionsPage(ctx, "", req.First)
		},
		func(p api.PermissionMatrix) string { return describeMatrix(p, matrix.MorePage) },
		"permissions", "the permission matrix",
		func(p *api.PermissionMatrix, err error) tea.Msg {
			return matrix.Loaded{Tag: req.Tag, Matrix: p, Err: err}
		})
}

// matrixPage reads a later page of the matrix: no record of its own unless it fails.
func (m *Model) matrixPage(req matrix.MoreRequested) tea.Cmd {
	if s := m.sess; s != nil && req.Tag.Session == s.id {
		s.matrixPage = req.Tag.Seq // a reload cancels it (matrixView)
	}
	rows := "rows " + chart.Number(float64(req.From+1)) + "–" + chart.Number(float64(max(req.From+1, min(req.Total, req.From+req.Limit)))) +
		" of " + chart.Number(float64(req.Total))
	return view(m, TabPermissions, req.Tag,
		func(ctx context.Context, v *client.View) (api.PermissionMatrix, error) {
			return v.PermissionsPage(ctx, req.Cursor, req.Limit)
		},
		nil,
		fmt.Sprintf("permissions: rows %d–%d of %d did not load", req.From+1, max(req.From+1, min(req.Total, req.From+req.Limit)), req.Total),
		rows+" of the permission matrix",
		func(p *api.PermissionMatrix, err error) tea.Msg {
			return matrix.MoreLoaded{Tag: req.Tag, Page: p, Err: err}
		})
}

// errReloaded is a later page cancelled because the matrix was read again (r).
var errReloaded = errors.New("cancelled: the matrix was reloaded (r); nothing of it was shown")

// describeMatrix is the view record's details for a matrix whose first page is p and
// whose later pages hold up to more rows: the whole matrix's size and, when it comes in
// more than one page, how many (the reconciliation counts on that number).
func describeMatrix(p api.PermissionMatrix, more int) string {
	rows := max(p.TotalRows, len(p.Rows))
	pages := 1
	if p.NextCursor != "" {
		rest := rows - len(p.Rows)
		pages = 1 + max(1, (rest+more-1)/max(1, more))
	}
	return api.MatrixViewDetails(rows, len(p.Actions), pages, len(p.Rows), more)
}

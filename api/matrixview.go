package api

import (
	"fmt"
	"strconv"
	"strings"
)

// The journal record of a permission matrix read in pages names the whole view once:
// "permissions: 50000 resources × 20 actions in 11 pages (100 rows shown first, then
// up to 5000 a page)". MatrixViewDetails writes it (shadow's UI) and MatrixViewPages
// reads its page count back (the server's reconciliation), so the words live here once.

// MatrixViewDetails is a matrix view record's details: the whole matrix's rows and
// actions and, when pages > 1, how many pages it comes in, how many rows were shown
// first and how many a later page holds at most.
func MatrixViewDetails(rows, actions, pages, first, more int) string {
	s := fmt.Sprintf("permissions: %d resources × %d actions", rows, actions)
	if pages <= 1 {
		return s
	}
	return s + fmt.Sprintf(" in %d pages (%d rows shown first, then up to %d a page)", pages, first, more)
}

// MatrixViewPages is the page count a matrix view record's details name: N when they
// begin as MatrixViewDetails writes them with "in N pages" right after the actions,
// else 1 (a record of one page, or of anything else: "in 99 pages" elsewhere in some
// other record's details is words for people, not a page count).
func MatrixViewPages(details string) int {
	rest, ok := strings.CutPrefix(details, "permissions: ")
	if !ok {
		return 1
	}
	f := strings.Fields(rest)
	// {rows} resources × {actions} actions in {N} pages
	if len(f) < 8 || f[1] != "resources" || f[2] != "×" || f[4] != "actions" || f[5] != "in" || strings.TrimRight(f[7], ",;:.") != "pages" {
		return 1
	}
	for _, i := range []int{0, 3} {
		if _, err := strconv.Atoi(f[i]); err != nil {
			return 1
		}
	}
	n, err := strconv.Atoi(f[6])
	if err != nil || n < 2 {
		return 1
	}
	return n
}

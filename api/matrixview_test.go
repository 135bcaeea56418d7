package api

import "testing"

// The page count is read back only from where MatrixViewDetails writes it: right
// after a matrix view's actions, never from anywhere else in some record's details.
func TestMatrixViewPagesReadsOnlyWhatMatrixViewDetailsWrites(t *testing.T) {
	for details, want := range map[string]int{
		MatrixViewDetails(9000, 6, 3, 100, 5000):                     3,
		MatrixViewDetails(55, 6, 1, 55, 5000):                        1,
		"permissions: 55 resources × 6 actions":                      1,
		"dashboard d-acme-fleet: Fleet overview in 99 pages":         1,
		"explain edit on vehicle:acme-n1 (Truck N1) in 99 pages: ok": 1,
		"permissions: rows 1–5 of 9 did not load in 12 pages":        1,
		"permissions: x resources × 6 actions in 12 pages":           1,
		"permissions: 5 resources × 6 actions in 0 pages":            1,
		"permissions: 5 resources × 6 actions in 12 pages, hm":       12,
		"in 12 pages": 1,
	} {
		if got := MatrixViewPages(details); got != want {
			t.Errorf("MatrixViewPages(%q) = %d, want %d", details, got, want)
		}
	}
}

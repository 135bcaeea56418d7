// Package words holds the small rules for writing counts in English that both the
// terminal UI and the journal commands follow, so "1 record" reads the same everywhere.
// It must stay free of terminal and styling concerns.
package words

import "fmt"

// Integer is any count.
type Integer interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// Plural is one or many, as n says: "record" for 1, "records" for 0 or 2.
func Plural[N Integer](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count is n followed by the fitting noun: "1 record", "0 records", "2 records".
func Count[N Integer](n N, one, many string) string {
	return fmt.Sprintf("%d %s", n, Plural(n, one, many))
}

package journalview

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shadowview/shadow/internal/safetext"
)

// search finds records by text: a case-insensitive substring of any field a record
// holds — seq, time, action, the admin, the user, the details (which carry the viewed
// kind, resource and reason) — as drawn, so after safetext.Clean. A journal can hold
// tens of thousands of records, so each record's searchable text is built once (the
// first time a search runs, then for records as they arrive) and a keystroke that
// extends the query only narrows the matches it already has. Nothing here draws: the
// grid still renders only its visible window.
type search struct {
	query   string // lower case, as typed (trimmed)
	hay     []string
	hayOf   []uint64 // the seq each hay was built from: rebuilt where it differs
	matches []int    // rows matching query, in order
}

// haystack is what one record is searched by.
func haystack(e Entry) string {
	var b strings.Builder
	b.Grow(len(e.Action) + len(e.Actor) + len(e.User) + len(e.Details) + 48)
	fmt.Fprintf(&b, "%d\x00%s\x00", e.Seq, e.Time.UTC().Format(time.RFC3339Nano))
	for _, f := range [...]string{e.Action, e.Actor, e.User, e.Details} {
		b.WriteString(strings.ToLower(safetext.Clean(f)))
		b.WriteByte(0) // no query spans two fields: a query holds no NUL
	}
	return b.String()
}

// refresh brings the haystacks and the matches up to entries, searching only the rows
// that changed.
func (s *search) refresh(entries []Entry) {
	from := s.index(entries)
	if s.query == "" {
		return
	}
	i := sort.SearchInts(s.matches, from)
	s.matches = s.matches[:i]
	for r := from; r < len(s.hay); r++ {
		if strings.Contains(s.hay[r], s.query) {
			s.matches = append(s.matches, r)
		}
	}
}

// stale reports whether index would build a haystack for more than a few records: a
// journal of tens of thousands is then indexed off the UI's goroutine (Indexed).
func (s *search) stale(entries []Entry) bool {
	todo := 0
	for i := len(entries) - 1; i >= 0; i-- {
		if i < len(s.hay) && s.hayOf[i] == entries[i].Seq && s.hay[i] != "" {
			break // rows only ever change at the end: the rest are built
		}
		if todo++; todo > syncIndexMax {
			return true
		}
	}
	return false
}

// syncIndexMax is the most records whose haystacks are built on the UI's goroutine (a
// few milliseconds' worth); more are built by a command.
const syncIndexMax = 2000

// build is the haystacks of entries, for Indexed; it runs off the UI's goroutine and
// only reads entries (a slice the page never changes in place).
func build(entries []Entry) (hay []string, of []uint64) {
	hay, of = make([]string, len(entries)), make([]uint64, len(entries))
	for i, e := range entries {
		hay[i], of[i] = haystack(e), e.Seq
	}
	return hay, of
}

// index brings the haystacks up to entries, building only those of records not seen
// at that row before, and returns the first row it built (len(entries) if none).
func (s *search) index(entries []Entry) int {
	if cap(s.hay) < len(entries) {
		hay, of := make([]string, len(entries), len(entries)+len(entries)/4), make([]uint64, len(entries), len(entries)+len(entries)/4)
		copy(hay, s.hay)
		copy(of, s.hayOf)
		s.hay, s.hayOf = hay, of
	}
	n := len(s.hay)
	s.hay, s.hayOf = s.hay[:len(entries)], s.hayOf[:len(entries)]
	first := len(entries)
	for i, e := range entries {
		if i >= n || s.hayOf[i] != e.Seq || s.hay[i] == "" {
			s.hay[i], s.hayOf[i] = haystack(e), e.Seq
			first = min(first, i)
		}
	}
	return first
}

// set searches for q; narrow is set when the rows matching the old query still hold
// every row that can match q (q extends it, and the rows are the same).
func (s *search) set(q string, narrow bool) {
	q = strings.ToLower(strings.TrimSpace(safetext.Clean(q)))
	if q == "" {
		s.query, s.matches = "", nil
		return
	}
	if narrow && s.query != "" && strings.HasPrefix(q, s.query) {
		kept := s.matches[:0]
		for _, r := range s.matches {
			if strings.Contains(s.hay[r], q) {
				kept = append(kept, r)
			}
		}
		s.query, s.matches = q, kept
		return
	}
	s.query, s.matches = q, s.matches[:0]
	for r, h := range s.hay {
		if strings.Contains(h, q) {
			s.matches = append(s.matches, r)
		}
	}
}

// at is the match index of row (its K-1 in "match K of N"), or -1 if row is no match.
func (s *search) at(row int) int {
	i := sort.SearchInts(s.matches, row)
	if i < len(s.matches) && s.matches[i] == row {
		return i
	}
	return -1
}

// next is the first match after row (before it when back), wrapping around; -1 if none.
func (s *search) next(row int, back bool) int {
	n := len(s.matches)
	if n == 0 {
		return -1
	}
	if back {
		i := sort.SearchInts(s.matches, row) - 1
		if i < 0 {
			i = n - 1
		}
		return s.matches[i]
	}
	i := sort.SearchInts(s.matches, row+1)
	if i == n {
		i = 0
	}
	return s.matches[i]
}

// from is the first match at or after row, wrapping around; -1 if none.
func (s *search) from(row int) int {
	if s.at(row) >= 0 {
		return row
	}
	return s.next(row, false)
}

package org

import (
	"encoding/base64"
	"sort"
	"strings"
)

// legacyDirectory is the directory index as it was before the bulk-built one (issue
// 10): per directory, a bigram map of int32 posting lists and a sort-key string per
// entry. It stays here, for tests only, as the reference the new index must agree with
// page for page, and as the benchmarks' side-by-side baseline.
type legacyDirectory struct {
	users   []*User
	keys    []string // sort keys: lower(name) \x00 id; cursors hold one
	hay     string
	starts  []int              // starts[i] is entry i's offset in hay; starts[len(users)] == len(hay)
	bigrams map[uint16][]int32 // byte pair -> entries holding it, ascending
}

func buildLegacyDirectory(users []*User, companyName func(string) string) *legacyDirectory {
	d := &legacyDirectory{users: append([]*User(nil), users...)}
	d.keys = make([]string, len(d.users))
	lowered := make([]string, len(d.users))
	for i, u := range d.users {
		lowered[i] = searchText(u.Name)
	}
	idx := make([]int, len(d.users))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		ua, ub := d.users[idx[a]], d.users[idx[b]]
		if lowered[idx[a]] != lowered[idx[b]] {
			return lowered[idx[a]] < lowered[idx[b]]
		}
		return ua.ID < ub.ID
	})
	sorted := make([]*User, len(idx))
	var hay strings.Builder
	d.starts = make([]int, 0, len(idx)+1)
	for i, j := range idx {
		u := d.users[j]
		sorted[i] = u
		d.keys[i] = lowered[j] + "\x00" + u.ID
		d.starts = append(d.starts, hay.Len())
		hay.WriteString(lowered[j])
		hay.WriteString(fieldSep)
		hay.WriteString(searchText(u.Email))
		hay.WriteString(fieldSep)
		hay.WriteString(searchText(companyName(u.CompanyID)))
		hay.WriteString(entrySep)
	}
	d.starts = append(d.starts, hay.Len())
	d.users = sorted
	d.hay = hay.String()
	d.indexBigrams()
	return d
}

// indexBigrams builds the posting lists. Pairs holding a separator are left out: a
// query never contains one.
func (d *legacyDirectory) indexBigrams() {
	d.bigrams = map[uint16][]int32{}
	seen := make([]int32, 1<<16) // entry+1 that last added each pair: dedupes per entry
	for i := range d.users {
		text := d.hay[d.starts[i]:d.starts[i+1]]
		for j := 0; j+1 < len(text); j++ {
			a, b := text[j], text[j+1]
			if a < 0x20 || b < 0x20 {
				continue
			}
			k := uint16(a)<<8 | uint16(b)
			if seen[k] != int32(i+1) {
				seen[k] = int32(i + 1)
				d.bigrams[k] = append(d.bigrams[k], int32(i))
			}
		}
	}
}

// candidates returns the shortest posting list among the words' byte pairs, and
// false when some word is a single byte (no pair to look up) — unless another word
// has pairs, whose list then serves. An absent pair means no entry can match: an
// empty list with true.
func (d *legacyDirectory) candidates(terms []string) ([]int32, bool) {
	var best []int32
	found := false
	for _, t := range terms {
		for j := 0; j+1 < len(t); j++ {
			list := d.bigrams[uint16(t[j])<<8|uint16(t[j+1])]
			if !found || len(list) < len(best) {
				best, found = list, true
			}
			if len(list) == 0 {
				return nil, true
			}
		}
	}
	return best, found
}

// Search returns up to limit users matching every word of q (in name, email or
// company), after the cursor (empty for the first page).
func (d *legacyDirectory) Search(q, cursor string, limit int) (Page, error) {
	start := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.Contains(string(raw), "\x00") {
			return Page{}, ErrBadCursor
		}
		key := string(raw)
		start = sort.SearchStrings(d.keys, key)
		if start < len(d.keys) && d.keys[start] == key {
			start++
		}
	}
	if limit < 1 {
		limit = 1
	}
	terms := strings.Fields(searchText(q))
	var page Page
	if len(terms) == 0 {
		end := min(start+limit, len(d.users))
		page.Users = d.users[start:end:end]
		page.Total = len(d.users)
		if end < len(d.users) {
			page.Next = d.cursorAt(end - 1)
		}
		return page, nil
	}
	matched, last := 0, 0
	add := func(entry int) bool { // false once the page is full and one more match exists
		if matched == limit {
			page.Next = d.cursorAt(last)
			page.Total = -1
			return false
		}
		page.Users = append(page.Users, d.users[entry])
		matched, last = matched+1, entry
		return true
	}
	if list, ok := d.candidates(terms); ok {
		from := sort.Search(len(list), func(k int) bool { return int(list[k]) >= start })
		for _, e := range list[from:] {
			entry := int(e)
			if legacyContainsAll(d.hay[d.starts[entry]:d.starts[entry+1]], terms, -1) && !add(entry) {
				return page, nil
			}
		}
	} else {
		// Every word is one byte: scan for it; single bytes are found fast.
		pos := d.starts[start]
		for {
			i := strings.Index(d.hay[pos:], terms[0])
			if i < 0 {
				break
			}
			abs := pos + i
			entry := sort.Search(len(d.users), func(k int) bool { return d.starts[k+1] > abs })
			pos = d.starts[entry+1]
			if legacyContainsAll(d.hay[d.starts[entry]:d.starts[entry+1]], terms, 0) && !add(entry) {
				return page, nil
			}
		}
	}
	page.Total = -1
	if start == 0 {
		page.Total = matched
	}
	return page, nil
}

func (d *legacyDirectory) cursorAt(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(d.keys[i]))
}

func legacyContainsAll(text string, terms []string, skip int) bool {
	for i, t := range terms {
		if i != skip && !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

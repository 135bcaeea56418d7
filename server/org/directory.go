package org

import (
	"cmp"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
)

// Directory is a search index over users: sorted by name, searchable by name, email
// and company, case-insensitively, a page at a time. It is either the whole index or
// a view of it scoped to some companies (Within): the org builds one index, in bulk,
// and every company's directory is that index seen through the company's entries.
//
// Every entry's lower-cased text lives in one string (hay). For each byte and each
// pair of adjacent bytes, a compressed bitmap (roaring) holds the entries containing
// it. A query intersects the bitmaps of its words' bytes (one-byte words) or byte
// pairs (longer ones) with the view's scope, so a word no entry holds, or a letter
// nobody's name has, answers at once; the intersection is walked in directory order
// from the cursor, each candidate checked for every word, until the page is full.
// Roaring (a well-kept library) over hand-made posting lists: the lists of 1,000,000
// users took 4 bytes an entry per directory and were built twice (the all-users
// directory and each company's); bitmaps take at most 2, intersect fast, and one set
// serves every scope.
type Directory struct {
	ix *index
	// scope is the entries this view lists; nil for the whole index.
	scope *roaring.Bitmap
}

// index is what every view of one build shares.
type index struct {
	users  []*User
	hay    string
	starts []uint32 // starts[i] is entry i's offset in hay; starts[len(users)] == len(hay)
	// grams[b] (b one byte, >= 0x20) and grams[a<<8|b] (a pair, a >= 0x20, so never
	// below 0x2000) are the entries whose text holds it; nil when none does.
	grams     []*roaring.Bitmap
	card      []uint32                   // card[k] is grams[k]'s number of entries
	companies map[string]*roaring.Bitmap // company id ("" for staff) -> its entries
}

var emptyDirectory = buildDirectory(nil, nil)

// Field and entry separators in hay; stripped from the text itself so a query can
// never match across a boundary.
const (
	fieldSep = "\x1f"
	entrySep = "\x00"
)

// maxIntersect bounds how many bitmaps one query intersects (the rarest ones): a long
// query's further pairs would barely narrow the candidates, and each is checked
// against the text anyway.
const maxIntersect = 8

// gramBlock is how many entries the build gathers before adding them to the bitmaps:
// one roaring container's range, so each block appends whole containers in order.
const gramBlock = 1 << 16

// buildDirectory indexes users, in one pass over them whatever the number of
// companies.
func buildDirectory(users []*User, companyName func(string) string) *Directory {
	type entry struct {
		name string // lower-cased
		u    *User
	}
	entries := make([]entry, len(users))
	for i, u := range users {
		entries[i] = entry{searchText(u.Name), u}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.u.ID, b.u.ID)
	})
	ix := &index{users: make([]*User, len(entries)), starts: make([]uint32, 0, len(entries)+1),
		grams: make([]*roaring.Bitmap, 1<<16), companies: map[string]*roaring.Bitmap{}}
	companyText := map[string]string{}
	members := map[string][]uint32{}
	var hay strings.Builder
	hay.Grow(len(entries) * 64)
	for i, e := range entries {
		u := e.u
		ix.users[i] = u
		ix.starts = append(ix.starts, uint32(hay.Len()))
		ct, ok := companyText[u.CompanyID]
		if !ok {
			ct = searchText(companyName(u.CompanyID))
			companyText[u.CompanyID] = ct
		}
		hay.WriteString(e.name)
		hay.WriteString(fieldSep)
		writeSearchText(&hay, u.Email)
		hay.WriteString(fieldSep)
		hay.WriteString(ct)
		hay.WriteString(entrySep)
		members[u.CompanyID] = append(members[u.CompanyID], uint32(i))
	}
	ix.starts = append(ix.starts, uint32(hay.Len()))
	ix.hay = hay.String()
	for cid, list := range members {
		ix.companies[cid] = roaring.BitmapOf(list...)
	}
	ix.indexGrams(gramBlock)
	return &Directory{ix: ix}
}

// indexGrams fills grams, block entries at a time: per block, one pass counts each
// gram's entries and a second writes them into one flat buffer at the gram's offset,
// so the build keeps one buffer for the block instead of a growing list per gram
// (at a million users those lists were most of the build's garbage). Bytes below 0x20
// (the separators) are left out: a query never holds one.
func (ix *index) indexGrams(block int) {
	count := make([]uint32, 1<<16)
	off := make([]uint32, 1<<16)
	seen := make([]int32, 1<<16) // marks the entry that last noted each gram: dedupes per entry
	var touched []uint16
	var flat []uint32
	grams := func(i int, note func(k uint16)) {
		text := ix.hay[ix.starts[i]:ix.starts[i+1]]
		for j := 0; j < len(text); j++ {
			a := text[j]
			if a < 0x20 {
				continue
			}
			note(uint16(a))
			if j+1 < len(text) && text[j+1] >= 0x20 {
				note(uint16(a)<<8 | uint16(text[j+1]))
			}
		}
	}
	for lo := 0; lo < len(ix.users); lo += block {
		hi := min(lo+block, len(ix.users))
		total := uint32(0)
		for i := lo; i < hi; i++ {
			grams(i, func(k uint16) {
				if seen[k] == int32(i+1) {
					return
				}
				seen[k] = int32(i + 1)
				if count[k] == 0 {
					touched = append(touched, k)
				}
				count[k]++
				total++
			})
		}
		if cap(flat) < int(total) {
			flat = make([]uint32, total)
		}
		flat = flat[:total]
		next := uint32(0)
		for _, k := range touched {
			off[k], next = next, next+count[k]
			count[k] = 0 // refilled below as the fill level
		}
		for i := lo; i < hi; i++ {
			grams(i, func(k uint16) {
				if seen[k] == -int32(i+1) {
					return
				}
				seen[k] = -int32(i + 1)
				flat[off[k]+count[k]] = uint32(i)
				count[k]++
			})
		}
		for _, k := range touched {
			if ix.grams[k] == nil {
				ix.grams[k] = roaring.New()
			}
			ix.grams[k].AddMany(flat[off[k] : off[k]+count[k]])
			count[k] = 0
		}
		touched = touched[:0]
	}
	ix.card = make([]uint32, len(ix.grams))
	for k, b := range ix.grams {
		if b != nil {
			b.RunOptimize() // names sort together, so a first name's pairs are long runs
			ix.card[k] = uint32(b.GetCardinality())
		}
	}
}

// searchText lower-cases s and drops control characters (including the separators).
func searchText(s string) string {
	var b strings.Builder
	writeSearchText(&b, s)
	return b.String()
}

// writeSearchText writes searchText(s) to b without an intermediate string: the
// build writes 1,000,000 emails this way.
func writeSearchText(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch {
			case c < 0x20 || c == 0x7f:
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !unicode.IsControl(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
}

// Len is the number of users in the directory.
func (d *Directory) Len() int {
	if d.scope != nil {
		return int(d.scope.GetCardinality())
	}
	return len(d.ix.users)
}

// Within is the view of d listing only the users of those companies (the company id
// "" stands for staff accounts). It costs the union of their entry sets, not a build.
func (d *Directory) Within(companyIDs ...string) *Directory {
	sets := make([]*roaring.Bitmap, 0, len(companyIDs))
	for _, cid := range companyIDs {
		if b := d.ix.companies[cid]; b != nil {
			sets = append(sets, b)
		}
	}
	scope := roaring.FastOr(sets...)
	if d.scope != nil {
		scope.And(d.scope)
	}
	return &Directory{ix: d.ix, scope: scope}
}

// ErrBadCursor is returned for a cursor this server did not issue.
var ErrBadCursor = errors.New("cursor is not one this server issued")

// Page is one page of search results.
type Page struct {
	Users []*User
	// Next is the cursor for the following page, empty on the last one.
	Next string
	// Total counts every match when it was cheap to know (an empty query, or a search
	// that reached the end from the first page); otherwise -1.
	Total int
}

// Search returns up to limit users matching every word of q (in name, email or
// company), after the cursor (empty for the first page).
func (d *Directory) Search(q, cursor string, limit int) (Page, error) {
	ix := d.ix
	start := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.Contains(string(raw), "\x00") {
			return Page{}, ErrBadCursor
		}
		start = ix.after(string(raw))
	}
	if limit < 1 {
		limit = 1
	}
	terms := strings.Fields(searchText(q))
	var page Page
	if len(terms) == 0 && d.scope == nil {
		end := min(start+limit, len(ix.users))
		page.Users = ix.users[start:end:end]
		page.Total = len(ix.users)
		if end < len(ix.users) {
			page.Next = ix.cursorAt(end - 1)
		}
		return page, nil
	}
	cand, exact := d.candidates(terms)
	matched, last := 0, 0
	it := cand.Iterator()
	it.AdvanceIfNeeded(uint32(start))
	for it.HasNext() {
		entry := int(it.Next())
		if !exact && !containsAll(ix.hay[ix.starts[entry]:ix.starts[entry+1]], terms) {
			continue
		}
		if matched == limit { // the page is full and one more match exists
			page.Next = ix.cursorAt(last)
			page.Total = -1
			if len(terms) == 0 {
				page.Total = d.Len() // an empty query lists the whole view
			}
			return page, nil
		}
		page.Users = append(page.Users, ix.users[entry])
		matched, last = matched+1, entry
	}
	page.Total = -1
	if start == 0 || len(terms) == 0 {
		page.Total = matched
		if len(terms) == 0 {
			page.Total = d.Len() // an empty query lists the whole view
		}
	}
	return page, nil
}

// candidates intersects the view's scope with the bitmaps of the words' bytes (a
// one-byte word) or byte pairs (longer words): the rarest first, at most maxIntersect,
// and none that most entries hold — ANDing "ge" or ".demo"'s pairs, which every
// generated user has, costs more than it narrows; the text check after does that.
// exact reports that every candidate matches: each word is at most a pair and no
// bitmap was left out, so holding its bitmaps is holding the word.
func (d *Directory) candidates(terms []string) (cand *roaring.Bitmap, exact bool) {
	type set struct {
		b *roaring.Bitmap
		n uint64
	}
	var sets []set
	add := func(k uint16) bool {
		b := d.ix.grams[k]
		if b != nil {
			sets = append(sets, set{b, uint64(d.ix.card[k])})
		}
		return b != nil
	}
	exact = true
	for _, t := range terms {
		if len(t) == 1 {
			if !add(uint16(t[0])) {
				return roaring.New(), true // nobody holds this byte: no match
			}
			continue
		}
		exact = exact && len(t) == 2
		for j := 0; j+1 < len(t); j++ {
			if !add(uint16(t[j])<<8 | uint16(t[j+1])) {
				return roaring.New(), true // nobody holds this pair: no match
			}
		}
	}
	if d.scope != nil {
		sets = append(sets, set{d.scope, d.scope.GetCardinality()})
	}
	slices.SortFunc(sets, func(a, b set) int { return cmp.Compare(a.n, b.n) })
	sets = slices.CompactFunc(sets, func(a, b set) bool { return a.b == b.b })
	use := []*roaring.Bitmap{sets[0].b}
	for _, s := range sets[1:] {
		if len(use) == maxIntersect || s.n > uint64(len(d.ix.users))/2 {
			if s.b != d.scope {
				exact = false
				continue
			}
		}
		use = append(use, s.b)
	}
	if len(use) == 1 {
		return use[0], exact // read only: iterating needs no copy
	}
	return roaring.FastAnd(use...), exact
}

func containsAll(text string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

// name is entry i's lower-cased name, the first field of its text.
func (ix *index) name(i int) string {
	text := ix.hay[ix.starts[i]:ix.starts[i+1]]
	return text[:strings.IndexByte(text, fieldSep[0])]
}

// key is entry i's sort key, lower(name) \x00 id, which a cursor holds.
func (ix *index) key(i int) string { return ix.name(i) + "\x00" + ix.users[i].ID }

// after is the first entry whose key sorts after key.
func (ix *index) after(key string) int {
	lo, hi := 0, len(ix.users)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ix.key(m) <= key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (ix *index) cursorAt(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(ix.key(i)))
}

// reindexDirectories rebuilds the directory after a user's name or email changed;
// every company's view follows it (CompanyDirectory).
func (o *Org) reindexDirectories() {
	o.directory = buildDirectory(o.users, o.CompanyName)
}

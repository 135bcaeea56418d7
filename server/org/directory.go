package org

import (
	"cmp"
	"encoding/base64"
	"errors"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
)

// Directory is a search index over users: sorted by name, searchable by name, email
// and company, case-insensitively, a page at a time. It is either the whole index or
// a view of it scoped to some companies (Within): the org builds one index, in bulk,
// and every company's directory is that index seen through the company's entries. A
// user changed later (Org.SetUser) is re-filed in place (index.edit), not rebuilt.
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

	// A user's edit after the build (edit) is filed in place, under the org's write
	// lock: the old entry leaves every bitmap, and the new one is an extra entry
	// (id len(users)+i) in them; extra entries are walked in key order beside the
	// base's and merged with them. Enough extras and the org builds afresh.
	all   *roaring.Bitmap // every live entry; nil while no edit was filed (all of users)
	extra []extraEntry
	order []uint32 // the live extra entries' ids, sorted by key
}

// extraEntry is an entry filed after the build. Filed again, its id leaves every
// bitmap and the order; the slot stays, unused, until the next build.
type extraEntry struct {
	u    *User
	text string // as in hay: name, email, company, separated
}

// maxExtra bounds the extra entries: a query's walk of them costs up to this many
// steps, and the rebuild it takes to fold them in (seconds at a million users) is
// paid once per this many edits.
const maxExtra = 4096

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
		writeEntry(&hay, e.name, u, ct)
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

// writeEntry writes an entry's text: its lower-cased name, e-mail and company.
func writeEntry(b *strings.Builder, name string, u *User, companyText string) {
	b.WriteString(name)
	b.WriteString(fieldSep)
	writeSearchText(b, u.Email)
	b.WriteString(fieldSep)
	b.WriteString(companyText)
	b.WriteString(entrySep)
}

// eachGram calls note with every byte and byte pair of an entry's text that the
// bitmaps index (none below 0x20, the separators), repeats included.
func eachGram(text string, note func(k uint16)) {
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
	grams := func(i int, note func(k uint16)) { eachGram(ix.hay[ix.starts[i]:ix.starts[i+1]], note) }
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
	return d.ix.live()
}

// live is the number of live entries.
func (ix *index) live() int {
	if ix.all == nil {
		return len(ix.users)
	}
	return int(ix.all.GetCardinality())
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
	start, xstart := 0, 0 // the first base entry and extra (in order) after the cursor
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.Contains(string(raw), "\x00") {
			return Page{}, ErrBadCursor
		}
		start, xstart = ix.after(string(raw)), ix.extraAfter(string(raw))
	}
	if limit < 1 {
		limit = 1
	}
	terms := strings.Fields(searchText(q))
	var page Page
	if len(terms) == 0 && d.scope == nil && ix.all == nil {
		end := min(start+limit, len(ix.users))
		page.Users = ix.users[start:end:end]
		page.Total = len(ix.users)
		if end < len(ix.users) {
			page.Next = ix.cursorAt(end - 1)
		}
		return page, nil
	}
	// Whether no live entry sorts at or before the cursor: the first page, as far
	// as Total is concerned, whatever the edits since the build.
	fromStart := xstart == 0 && (start == 0 || (ix.all != nil && ix.all.Rank(uint32(start-1)) == 0))
	cand, exact := d.candidates(terms)
	match := func(entry int) bool { return exact || containsAll(ix.text(entry), terms) }
	it := cand.Iterator()
	it.AdvanceIfNeeded(uint32(start))
	nextBase := func() int { // the next matching base entry, not consumed; -1 for none
		for it.HasNext() {
			entry := int(it.PeekNext())
			if entry >= len(ix.users) {
				return -1
			}
			if match(entry) {
				return entry
			}
			it.Next()
		}
		return -1
	}
	extras := ix.extraMatches(cand, xstart, limit+1, match)
	matched, last := 0, 0
	for {
		entry := nextBase()
		if len(extras) > 0 && (entry < 0 || ix.less(int(extras[0]), entry)) {
			entry, extras = int(extras[0]), extras[1:]
		} else if entry >= 0 {
			it.Next()
		} else {
			break
		}
		if matched == limit { // the page is full and one more match exists
			page.Next = ix.cursorAt(last)
			page.Total = -1
			if len(terms) == 0 {
				page.Total = d.Len() // an empty query lists the whole view
			}
			return page, nil
		}
		page.Users = append(page.Users, ix.user(entry))
		matched, last = matched+1, entry
	}
	page.Total = -1
	if fromStart || len(terms) == 0 {
		page.Total = matched
		if len(terms) == 0 {
			page.Total = d.Len() // an empty query lists the whole view
		}
	}
	return page, nil
}

// extraMatches is up to n extra entries of cand after the from-th in key order that
// match, in key order: at most maxExtra steps, none when cand holds no extra entry.
func (ix *index) extraMatches(cand *roaring.Bitmap, from, n int, match func(int) bool) []uint32 {
	if from >= len(ix.order) || cand.IsEmpty() || int(cand.Maximum()) < len(ix.users) {
		return nil
	}
	var out []uint32
	for _, entry := range ix.order[from:] {
		if cand.Contains(entry) && match(int(entry)) {
			if out = append(out, entry); len(out) == n {
				break
			}
		}
	}
	return out
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
	if len(terms) == 0 && d.scope == nil {
		return d.ix.all, true // every live entry (Search lists the built index itself)
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
		if len(use) == maxIntersect || s.n > uint64(d.ix.live())/2 {
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

// text is entry i's text: name, email and company, separated.
func (ix *index) text(i int) string {
	if i < len(ix.users) {
		return ix.hay[ix.starts[i]:ix.starts[i+1]]
	}
	return ix.extra[i-len(ix.users)].text
}

func (ix *index) user(i int) *User {
	if i < len(ix.users) {
		return ix.users[i]
	}
	return ix.extra[i-len(ix.users)].u
}

// name is entry i's lower-cased name, the first field of its text.
func (ix *index) name(i int) string {
	text := ix.text(i)
	return text[:strings.IndexByte(text, fieldSep[0])]
}

// key is entry i's sort key, lower(name) \x00 id, which a cursor holds.
func (ix *index) key(i int) string { return ix.name(i) + "\x00" + ix.user(i).ID }

// less orders entries by key without building the keys (a name holds no \x00).
func (ix *index) less(i, j int) bool {
	if c := strings.Compare(ix.name(i), ix.name(j)); c != 0 {
		return c < 0
	}
	return ix.user(i).ID < ix.user(j).ID
}

// after is the first base entry whose key sorts after key. Entries re-filed since
// the build keep their place (their text is unchanged in hay), so the base stays
// sorted.
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

// extraAfter is the position in order of the first live extra entry whose key sorts
// after key.
func (ix *index) extraAfter(key string) int {
	return sort.Search(len(ix.order), func(p int) bool { return ix.key(int(ix.order[p])) > key })
}

func (ix *index) cursorAt(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(ix.key(i)))
}

// edit files u, the new version of old (whose entry this index holds), in place of
// old's entry, costing the grams of the two texts rather than a build: a changed
// text leaves every bitmap it was in and joins those of the new text as an extra
// entry; an unchanged one only points at u. It reports false when the extra entries
// are full (or old's entry is not found): the caller builds afresh.
func (ix *index) edit(old, u *User, companyName func(string) string) bool {
	id, ok := ix.find(old)
	if !ok {
		return false
	}
	var b strings.Builder
	writeEntry(&b, searchText(u.Name), u, searchText(companyName(u.CompanyID)))
	text := b.String()
	if text == ix.text(id) && u.CompanyID == old.CompanyID && u.ID == old.ID {
		if id < len(ix.users) {
			ix.users[id] = u
		} else {
			ix.extra[id-len(ix.users)].u = u
		}
		return true
	}
	if len(ix.extra) == maxExtra || len(ix.users)+len(ix.extra) >= 1<<32-1 {
		return false
	}
	if ix.all == nil {
		ix.all = roaring.New()
		ix.all.AddRange(0, uint64(len(ix.users)))
	}
	ix.unfile(id, old)
	next := len(ix.users) + len(ix.extra)
	ix.extra = append(ix.extra, extraEntry{u: u, text: text})
	ix.file(next, u)
	return true
}

// find is the id of old's live entry.
func (ix *index) find(old *User) (int, bool) {
	key := searchText(old.Name) + "\x00" + old.ID
	live := func(i int) bool { return ix.all == nil || ix.all.Contains(uint32(i)) }
	if i := ix.after(key) - 1; i >= 0 && ix.users[i].ID == old.ID && live(i) {
		return i, true
	}
	if p := ix.extraAfter(key) - 1; p >= 0 && ix.user(int(ix.order[p])).ID == old.ID {
		return int(ix.order[p]), true
	}
	return 0, false
}

// unfile takes entry id (old's) out of every bitmap and of the extras' order.
func (ix *index) unfile(id int, old *User) {
	for _, k := range gramsOf(ix.text(id)) {
		ix.grams[k].Remove(uint32(id))
		if ix.card[k]--; ix.card[k] == 0 {
			ix.grams[k] = nil // as a build leaves a gram nobody holds
		}
	}
	if c := ix.companies[old.CompanyID]; c != nil {
		if c.Remove(uint32(id)); c.IsEmpty() {
			delete(ix.companies, old.CompanyID)
		}
	}
	ix.all.Remove(uint32(id))
	if id >= len(ix.users) {
		p := ix.extraAfter(ix.key(id)) - 1
		ix.order = slices.Delete(ix.order, p, p+1)
	}
}

// file adds entry id (u's, an extra entry) to the bitmaps of its text and company
// and to the extras' order.
func (ix *index) file(id int, u *User) {
	for _, k := range gramsOf(ix.text(id)) {
		if ix.grams[k] == nil {
			ix.grams[k] = roaring.New()
		}
		ix.grams[k].Add(uint32(id))
		ix.card[k]++
	}
	c := ix.companies[u.CompanyID]
	if c == nil {
		c = roaring.New()
		ix.companies[u.CompanyID] = c
	}
	c.Add(uint32(id))
	ix.all.Add(uint32(id))
	p := ix.extraAfter(ix.key(id))
	ix.order = slices.Insert(ix.order, p, uint32(id))
}

// gramsOf is the distinct grams of one text.
func gramsOf(text string) []uint16 {
	var ks []uint16
	eachGram(text, func(k uint16) { ks = append(ks, k) })
	slices.Sort(ks)
	return slices.Compact(ks)
}

// reindexDirectories builds the directory afresh from every user; every company's
// view follows it (CompanyDirectory).
func (o *Org) reindexDirectories() {
	o.directory = buildDirectory(o.users, o.CompanyName)
}

package org

import (
	"encoding/base64"
	"errors"
	"sort"
	"strings"
	"unicode"
)

// Directory is a search index over users: sorted by name, searchable by name, email
// and company, case-insensitively, a page at a time.
//
// Every entry's lower-cased text lives in one string (hay), so a query is a few
// strings.Index calls over contiguous memory rather than a loop over 100,000 users.
type Directory struct {
	users  []*User
	keys   []string // sort keys: lower(name) \x00 id; cursors hold one
	hay    string
	starts []int // starts[i] is entry i's offset in hay; starts[len(users)] == len(hay)
}

var emptyDirectory = &Directory{starts: []int{0}}

// Field and entry separators in hay; stripped from the text itself so a query can
// never match across a boundary.
const (
	fieldSep = "\x1f"
	entrySep = "\x00"
)

func buildDirectory(users []*User, companyName func(string) string) *Directory {
	d := &Directory{users: append([]*User(nil), users...)}
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
	return d
}

// searchText lower-cases s and drops control characters (including the separators).
func searchText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// Len is the number of users in the directory.
func (d *Directory) Len() int { return len(d.users) }

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
	// Scan for the longest term (rarest, usually); check the others per candidate.
	pivot := 0
	for i, t := range terms {
		if len(t) > len(terms[pivot]) {
			pivot = i
		}
	}
	needle := terms[pivot]
	pos := d.starts[start]
	matched, last := 0, 0
	for {
		i := strings.Index(d.hay[pos:], needle)
		if i < 0 {
			break
		}
		abs := pos + i
		entry := sort.Search(len(d.users), func(k int) bool { return d.starts[k+1] > abs })
		text := d.hay[d.starts[entry]:d.starts[entry+1]]
		pos = d.starts[entry+1]
		if !containsAll(text, terms, pivot) {
			continue
		}
		if matched == limit {
			// One more match exists: the cursor names the last user returned.
			page.Next = d.cursorAt(last)
			page.Total = -1
			return page, nil
		}
		page.Users = append(page.Users, d.users[entry])
		matched, last = matched+1, entry
	}
	page.Total = -1
	if start == 0 {
		page.Total = matched
	}
	return page, nil
}

func containsAll(text string, terms []string, skip int) bool {
	for i, t := range terms {
		if i != skip && !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

func (d *Directory) cursorAt(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(d.keys[i]))
}

// reindexDirectories rebuilds the all-users directory and one company's (staff have
// no company and appear only in the first).
func (o *Org) reindexDirectories(companyID string) {
	o.directory = buildDirectory(o.users, o.CompanyName)
	if companyID == "" {
		return
	}
	var members []*User
	for _, u := range o.users {
		if u.CompanyID == companyID {
			members = append(members, u)
		}
	}
	o.dirsByCompany[companyID] = buildDirectory(members, o.CompanyName)
}

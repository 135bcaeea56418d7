package org

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shadowview/shadow/api"
)

// searcher is a directory to compare pages with: the legacy index, or a fresh build.
type searcher interface {
	Search(q, cursor string, limit int) (Page, error)
}

// samePages walks every page of q in both directories, limit at a time, and fails
// at the first difference in users, cursor or total.
func samePages(t *testing.T, what, q string, limit int, got *Directory, want searcher) {
	t.Helper()
	gc, wc := "", ""
	for pages := 0; ; pages++ {
		gp, gerr := got.Search(q, gc, limit)
		wp, werr := want.Search(q, wc, limit)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%s q=%q page %d: error %v, legacy %v", what, q, pages, gerr, werr)
		}
		if gp.Next != wp.Next || gp.Total != wp.Total || !slices.Equal(gp.Users, wp.Users) {
			t.Fatalf("%s q=%q limit %d page %d: %d users next %q total %d; legacy %d users next %q total %d",
				what, q, limit, pages, len(gp.Users), gp.Next, gp.Total, len(wp.Users), wp.Next, wp.Total)
		}
		if gp.Next == "" {
			return
		}
		gc, wc = gp.Next, wp.Next
	}
}

// TestDirectoryMatchesLegacy: on a generated org (with the hostile company's escape
// sequences, bidi and wide text), the bulk-built index gives exactly the pages the
// legacy one gave — users, cursors and totals — for the all-users directory and for
// each company's view, against a legacy directory built of that company alone.
func TestDirectoryMatchesLegacy(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 6_000, Hostile: true})
	legacy := buildLegacyDirectory(o.Users(), o.CompanyName)
	queries := []string{"", "a", "e", "q", "~", "ee", "an", "nora", "zoe", "ava adler", "gen002", "co 001", "generated co 002",
		"@", ".demo", "全角", "evil", "zzz", "a zzz", "01 02", "ó", "TOMÁS", "u000", "000001", "  ", "x\x1fy"}
	for _, q := range queries {
		for _, limit := range []int{7, 200} {
			samePages(t, "all", q, limit, o.Directory(), legacy)
		}
	}
	for _, c := range o.Companies() {
		var members []*User
		for _, u := range o.Users() {
			if u.CompanyID == c.ID {
				members = append(members, u)
			}
		}
		want := buildLegacyDirectory(members, o.CompanyName)
		if got := o.CompanyDirectory(c.ID); got.Len() != len(members) {
			t.Fatalf("%s: %d users, want %d", c.ID, got.Len(), len(members))
		}
		for _, q := range queries {
			samePages(t, c.ID, q, 50, o.CompanyDirectory(c.ID), want)
		}
	}
	if d := o.CompanyDirectory(""); d.Len() != 0 {
		t.Fatalf("staff have no company directory, got %d users", d.Len())
	}
}

// TestDirectoryMatchesLegacyRandom is a property test: for random queries — pieces of
// real entries' text, random letters and digits, mixed case, several words, unicode —
// and random page sizes, both indexes give the same pages, in the whole directory
// and in a company's view. The seed is fixed so a failure reproduces.
func TestDirectoryMatchesLegacyRandom(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 5_500, Hostile: true})
	legacy := buildLegacyDirectory(o.Users(), o.CompanyName)
	var gen002 []*User
	for _, u := range o.Users() {
		if u.CompanyID == "c-gen002" {
			gen002 = append(gen002, u)
		}
	}
	legacy002 := buildLegacyDirectory(gen002, o.CompanyName)
	users := o.Users()
	rng := rand.New(rand.NewPCG(10, 10))
	alphabet := []rune("abcdeilmnoqrstuvyz0123456789 .@-~ÁóöÜ全")
	piece := func() string {
		u := users[rng.IntN(len(users))]
		text := []rune(u.Name + " " + u.Email + " " + o.CompanyName(u.CompanyID))
		i := rng.IntN(len(text))
		return string(text[i:min(len(text), i+1+rng.IntN(6))])
	}
	randomWord := func() string {
		w := make([]rune, 1+rng.IntN(4))
		for i := range w {
			w[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(w)
	}
	for i := range 300 {
		var words []string
		for range 1 + rng.IntN(3) {
			if rng.IntN(3) == 0 {
				words = append(words, randomWord())
			} else {
				words = append(words, piece())
			}
		}
		q := strings.Join(words, " ")
		if rng.IntN(4) == 0 {
			q = strings.ToUpper(q)
		}
		limit := []int{1, 7, 50, 400}[rng.IntN(4)]
		samePages(t, fmt.Sprintf("all #%d", i), q, limit, o.Directory(), legacy)
		samePages(t, fmt.Sprintf("c-gen002 #%d", i), q, limit, o.CompanyDirectory("c-gen002"), legacy002)
	}
}

// TestDirectoryWithin: a view of several companies lists exactly their users, in
// directory order, and a view of a view narrows it.
func TestDirectoryWithin(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 11_000})
	in := map[string]bool{"": true, "c-gen001": true, "c-acme": true}
	var want []*User
	all, _ := o.Directory().Search("", "", o.Directory().Len())
	for _, u := range all.Users {
		if in[u.CompanyID] {
			want = append(want, u)
		}
	}
	v := o.Directory().Within("", "c-gen001", "c-acme", "c-no-such")
	got, _ := v.Search("", "", v.Len()+1)
	if !slices.Equal(got.Users, want) || got.Total != len(want) || got.Next != "" {
		t.Fatalf("within: %d users (total %d), want %d", len(got.Users), got.Total, len(want))
	}
	if n := v.Within("c-acme").Len(); n != o.CompanyDirectory("c-acme").Len() || n == 0 {
		t.Fatalf("view of a view: %d users", n)
	}
	if n := o.CompanyDirectory("c-gen001").Within("c-acme").Len(); n != 0 {
		t.Fatalf("a company's view widened to another company: %d users", n)
	}
}

// TestDirectoryBlocks: gathering entries in small blocks (the build's flush to the
// bitmaps, every 65,536 entries at scale) gives the same bitmaps as one block.
func TestDirectoryBlocks(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 3_000})
	one := o.Directory().ix
	small := &index{users: one.users, hay: one.hay, starts: one.starts, grams: make([]*roaring.Bitmap, 1<<16)}
	small.indexGrams(97)
	n := 0
	for k := range one.grams {
		a, b := one.grams[k], small.grams[k]
		if (a == nil) != (b == nil) || (a != nil && !a.Equals(b)) {
			t.Fatalf("gram %#04x differs", k)
		}
		if a != nil {
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d grams indexed", n)
	}
}

// TestStaffDirectoryIsAScopedView: a staff member with a listed support scope searches
// the staff accounts and those companies' users — exactly the pages of a legacy
// directory built of them — and vendor-wide staff search everyone.
func TestStaffDirectoryIsAScopedView(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 6_000})
	scoped := &User{ID: "u-test-staff", Kind: api.KindStaff, SupportScope: []string{"c-gen002", "c-acme"}}
	var members []*User
	for _, u := range o.Users() {
		if u.Staff() || u.CompanyID == "c-gen002" || u.CompanyID == "c-acme" {
			members = append(members, u)
		}
	}
	want := buildLegacyDirectory(members, o.CompanyName)
	for _, q := range []string{"", "a", "nora", "gen002", "gen001", "shadow.demo", "zzz"} {
		samePages(t, "scoped staff", q, 50, o.StaffDirectory(scoped), want)
	}
	if d := o.StaffDirectory(&User{Kind: api.KindStaff}); d != o.Directory() {
		t.Fatal("vendor-wide staff should search the whole directory")
	}
}

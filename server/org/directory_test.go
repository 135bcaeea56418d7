package org

import (
	"fmt"
	"strings"
	"testing"
)

func TestDirectorySearch(t *testing.T) {
	o := build(t, DemoSeed)
	d := o.Directory()
	names := func(p Page) []string {
		var out []string
		for _, u := range p.Users {
			out = append(out, u.Name)
		}
		return out
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"nora", []string{"Nora Lindqvist"}},
		{"NORA", []string{"Nora Lindqvist"}},
		{"tomás", []string{"Tomás Ortega"}},
		{"TOMÁS", []string{"Tomás Ortega"}},
		{"orbit freight", []string{"Odette Blanc", "Olga Petrova", "Orla Quinn", "Oscar Reyes", "Otto Klein"}},
		{"polar per", []string{"Per Olsen", "Pernille Holm"}},
		{"@shadow.demo", []string{"Alex Kim", "Jordan Lee", "Sam Rivera"}},
		{"zzz", nil},
		{"nora zzz", nil},
	} {
		p, err := d.Search(c.q, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("q=%q: %v, want %v", c.q, got, c.want)
		}
		if p.Total != len(c.want) || p.Next != "" {
			t.Errorf("q=%q: total %d next %q", c.q, p.Total, p.Next)
		}
	}
	// A field separator in the query cannot match across fields.
	if p, _ := d.Search("lindqvist\x1fnora", "", 10); len(p.Users) != 0 {
		t.Fatalf("query matched across fields: %v", names(p))
	}
}

// TestDirectoryPagination walks every page, with and without a query: every match
// exactly once, in order.
func TestDirectoryPagination(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 3000})
	d := o.Directory()
	for _, q := range []string{"", "ava", "gen002", "a"} {
		full, _ := d.Search(q, "", 100000)
		seen := map[string]bool{}
		var order []string
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := d.Search(q, cursor, 37)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Users) > 37 || pages > 1000 {
				t.Fatalf("q=%q: page of %d", q, len(p.Users))
			}
			for _, u := range p.Users {
				if seen[u.ID] {
					t.Fatalf("q=%q: %s twice", q, u.ID)
				}
				seen[u.ID] = true
				order = append(order, u.ID)
			}
			if p.Next == "" {
				break
			}
			if len(p.Users) != 37 {
				t.Fatalf("q=%q: a short page before the last", q)
			}
			cursor = p.Next
		}
		if len(order) != len(full.Users) {
			t.Fatalf("q=%q: paged %d, one page %d", q, len(order), len(full.Users))
		}
		for i, u := range full.Users {
			if order[i] != u.ID {
				t.Fatalf("q=%q: order differs at %d", q, i)
			}
		}
		if q == "" && full.Total != d.Len() {
			t.Fatalf("total %d", full.Total)
		}
	}
	for _, bad := range []string{"!!!", "bm9wZQ"} {
		if _, err := d.Search("", bad, 10); err != ErrBadCursor {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
	// Total is -1 once it would cost a full scan to know.
	p, _ := d.Search("a", "", 5)
	if p.Total != -1 || p.Next == "" {
		t.Fatalf("partial page total %d", p.Total)
	}
	if p, _ := d.Search("nora", "", 0); len(p.Users) != 1 {
		t.Fatal("a limit below 1 should mean 1")
	}
}

// TestDirectoryMatchesNaiveSearch: the index finds exactly what a plain scan of every
// user's name, email and company finds, for many queries (one-byte words take the
// scan path, longer ones the bigram index).
func TestDirectoryMatchesNaiveSearch(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 2000, Hostile: true})
	d := o.Directory()
	queries := []string{"a", "e", "z", "ee", "an", "nora", "tomás", "ava adler", "gen001", "co 001", "x y", "@", ".demo",
		"全角", "evil", "zzz", "a zzz", "mallory corp", "01 02", "q", "ó"}
	for _, q := range queries {
		terms := strings.Fields(searchText(q))
		want := 0
		for _, u := range d.users {
			text := searchText(u.Name) + "\x1f" + searchText(u.Email) + "\x1f" + searchText(o.CompanyName(u.CompanyID))
			if containsAll(text, terms, -1) {
				want++
			}
		}
		got := 0
		cursor := ""
		for {
			p, err := d.Search(q, cursor, 50)
			if err != nil {
				t.Fatal(err)
			}
			got += len(p.Users)
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if got != want {
			t.Errorf("q=%q: index finds %d, a scan finds %d", q, got, want)
		}
	}
}

func BenchmarkDirectorySearch100k(b *testing.B) {
	o, err := Build(Seed{Demo: true, GenerateUsers: 100_000}, epoch, []byte("hash"))
	if err != nil {
		b.Fatal(err)
	}
	d := o.Directory()
	for _, q := range []string{"", "nora", "zoe", "no such person", "ee", "an", "e"} {
		b.Run(fmt.Sprintf("q=%q", q), func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Search(q, "", 50); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The baseline: the same page found by checking every entry's lower-cased
		// text in turn (what a server without an index does, at best).
		b.Run(fmt.Sprintf("scan q=%q", q), func(b *testing.B) {
			terms := strings.Fields(searchText(q))
			for b.Loop() {
				found := 0
				for i := 0; i < len(d.users) && found <= 50; i++ {
					if containsAll(d.hay[d.starts[i]:d.starts[i+1]], terms, -1) {
						found++
					}
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, s := range []Seed{DemoSeed, {Demo: true, GenerateUsers: 100_000, GenerateResources: 5_000}} {
		b.Run(fmt.Sprintf("users=%d", s.GenerateUsers), func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(s, epoch, []byte("hash")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

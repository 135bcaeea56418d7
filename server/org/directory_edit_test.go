package org

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/internal/benchlat"
)

// TestDirectoryEditsMatchBuild is a property test of SetUser's in-place re-filing:
// after random edits of random users — a new name made of other entries' text, random
// letters, hostile text, the name of before, the same name (only the user changes),
// a new e-mail — the edited directory gives exactly the pages of a directory built
// afresh from the users (users, cursors, totals), for the whole directory, company
// views and a staff scope, with random queries and page sizes. It runs past maxExtra
// edits, so the fold into a fresh build is crossed too. The seed is fixed.
func TestDirectoryEditsMatchBuild(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 2_500, Hostile: true})
	rng := rand.New(rand.NewPCG(11, 12))
	users := o.Users()
	original := map[string]string{}
	for _, u := range users {
		original[u.ID] = u.Name
	}
	piece := func() string {
		u := users[rng.IntN(len(users))]
		text := []rune(u.Name + " " + u.Email)
		i := rng.IntN(len(text))
		return string(text[i:min(len(text), i+1+rng.IntN(8))])
	}
	hostile := append([]string{"Zoë \u202eevil", "a\x00b\x1fc", "", "   ", "AAA", "zzz last"}, HostileStrings...)
	queries := func() []string {
		qs := []string{"", "a", "e", "~", "zoe", "nora", "gen002", "acme", "zzz", "evil"}
		for range 12 {
			qs = append(qs, piece(), piece()+" "+piece())
		}
		return qs
	}
	check := func(round int) {
		t.Helper()
		fresh := buildDirectory(o.Users(), o.CompanyName)
		d := o.Directory()
		if d.Len() != fresh.Len() {
			t.Fatalf("round %d: %d users, a build has %d", round, d.Len(), fresh.Len())
		}
		for _, q := range queries() {
			limit := []int{1, 7, 50, 300}[rng.IntN(4)]
			samePages(t, fmt.Sprintf("round %d all", round), q, limit, d, fresh)
			for _, c := range []string{"c-acme", "c-gen001", "c-hostile", ""} {
				samePages(t, fmt.Sprintf("round %d %q", round, c), q, 50, d.Within(c), fresh.Within(c))
			}
			samePages(t, fmt.Sprintf("round %d staff scope", round), q, 20, d.Within("", "c-gen002", "c-acme"), fresh.Within("", "c-gen002", "c-acme"))
		}
	}
	edits := 0
	for round, n := range []int{1, 5, 40, 300, maxExtra + 200} {
		for range n {
			old := users[rng.IntN(len(users))]
			next := *old
			switch rng.IntN(7) {
			case 0:
				next.Name = piece() + piece()
			case 1:
				next.Name = strings.ToUpper(piece()) + " " + fmt.Sprint(rng.IntN(100))
			case 2:
				next.Name = hostile[rng.IntN(len(hostile))]
			case 3:
				next.Name = original[old.ID]
			case 4:
				next.Phone = fmt.Sprint(rng.IntN(1e6)) // same text: the entry must point at the new user
			case 5:
				next.Email = fmt.Sprintf("edited-%d-%s", edits, old.Email)
			default:
				next.Name = users[rng.IntN(len(users))].Name // a name someone else has
			}
			if err := o.SetUser(&next); err != nil {
				t.Fatal(err)
			}
			edits++
			users = o.Users()
		}
		check(round)
	}
	if len(o.Directory().ix.extra) >= maxExtra {
		t.Fatalf("%d extra entries: the directory was never built afresh", len(o.Directory().ix.extra))
	}
	for _, u := range o.Users() {
		p, err := o.Directory().Search(u.Email, "", 5)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range p.Users {
			found = found || x == u
		}
		if !found {
			t.Fatalf("%s (%q) is not found by its e-mail as it is now", u.ID, u.Email)
		}
	}
}

// TestDirectoryEditKeepsTotalsOfAnOldCursor: a cursor issued before an edit, naming
// the place of an entry since re-filed (here the first one, renamed to sort last),
// still counts as the first page when no live entry sorts before it, as in a build.
func TestDirectoryEditKeepsTotalsOfAnOldCursor(t *testing.T) {
	o := build(t, DemoSeed)
	first, _ := o.Directory().Search("", "", 1)
	u := first.Users[0]
	cursor := o.Directory().ix.cursorAt(0)
	next := *u
	next.Name = "Zz " + u.Name
	if err := o.SetUser(&next); err != nil {
		t.Fatal(err)
	}
	fresh := buildDirectory(o.Users(), o.CompanyName)
	for _, q := range []string{"a", "e", "demo"} {
		got, err := o.Directory().Search(q, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fresh.Search(q, cursor, 1000)
		if got.Total != want.Total || got.Total < 1 || len(got.Users) != len(want.Users) {
			t.Errorf("q=%q after an old cursor: %d users, total %d; a build: %d users, total %d", q, len(got.Users), got.Total, len(want.Users), want.Total)
		}
	}
}

// BenchmarkSetUser: one SetUser (what a profile change holds the org's write lock
// for) at 100k and 1M users (1M with benchlat.LargeEnv set): a rename, which re-files
// the user's entry in the bitmaps of the old and new text, and a change that leaves
// the text as it was (the entry only points at the new user); beside them, in the
// same run, the whole directory build every SetUser of a name or e-mail did before.
// Each op of the edits is 200 edits, timed one by one (p50/p99/max per edit).
//
//	SHADOW_BENCH_LARGE=1 go test -run '^$' -bench SetUser -benchtime 5x -benchmem ./server/org/
func BenchmarkSetUser(b *testing.B) {
	for _, n := range benchlat.Sizes(10_000, 100_000, 1_000_000)[1:] {
		o, err := Build(Seed{Demo: true, GenerateUsers: n}, epoch, []byte("hash"))
		if err != nil {
			b.Fatal(err)
		}
		users := o.Users()
		rng := rand.New(rand.NewPCG(1, 2))
		edit := func(b *testing.B, change func(u *User, i int)) {
			var ds []time.Duration
			i := 0
			for b.Loop() {
				for range 200 {
					next := *users[rng.IntN(len(users))]
					change(&next, i)
					i++
					t0 := time.Now()
					if err := o.SetUser(&next); err != nil {
						b.Fatal(err)
					}
					ds = append(ds, time.Since(t0))
				}
			}
			benchlat.Report(b, ds)
		}
		b.Run(fmt.Sprintf("users=%d/rename", n), func(b *testing.B) {
			edit(b, func(u *User, i int) { u.Name = fmt.Sprintf("Renamed %d %s", i, u.Name) })
		})
		b.Run(fmt.Sprintf("users=%d/same text", n), func(b *testing.B) {
			edit(b, func(u *User, i int) { u.Phone = fmt.Sprint(i) })
		})
		b.Run(fmt.Sprintf("users=%d/rebuild (before)", n), func(b *testing.B) {
			benchlat.Loop(b, o.reindexDirectories)
		})
	}
}

package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// walkAll lists every event f matches, following cursors; pages counts the requests.
func walkAll(t *testing.T, s *Store, f EventFilter) (ids []string, pages int) {
	t.Helper()
	for f.Cursor = ""; ; pages++ {
		page, next, err := s.Events(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if next == "" {
			return ids, pages + 1
		}
		if pages > 100_000 {
			t.Fatal("the cursors do not end")
		}
		f.Cursor = next
	}
}

// randomEvents appends n events whose filtered fields take few values each, so every
// filter and reader matches some and not others; values include a 0x00 and one that is
// a prefix of another, which a posting run must not mix up.
func randomEvents(t *testing.T, s *Store, rng *rand.Rand, n int) {
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	var evs []Event
	for range n {
		ev := Event{AuditEvent: api.AuditEvent{
			Time:      t0.Add(time.Duration(rng.IntN(50)) * time.Second),
			Kind:      pick(api.EventRequest, api.EventJournalRecord, api.EventSessionStart),
			SessionID: pick("", "s1", "s1\x00", "s2"),
			Actor:     api.UserRef{ID: pick("u-sam", "u-ada", "u-sam\x00x")},
		}}
		if u := pick("", "u-nora", "u-tom"); u != "" {
			ev.User = &api.UserRef{ID: u}
		}
		for _, c := range []string{"c-acme", "c-blue", "c-acme"} {
			if rng.IntN(3) == 0 {
				ev.Companies = append(ev.Companies, c)
			}
		}
		ev.Realm = pick("", "", "", RealmStaff, CompanyRealm("c-acme"))
		evs = append(evs, ev)
	}
	if err := s.AppendEvents(evs...); err != nil {
		t.Fatal(err)
	}
}

var indexReaders = []*Reader{nil, {Staff: true}, {Staff: true, Scope: []string{"c-acme"}}, {Staff: true, Scope: []string{}},
	{Staff: true, Scope: []string{"c-blue", "c-acme"}}, {Company: "c-acme"}, {Company: "c-blue"}, {}}

// agree checks that every filter lists through the index exactly what the walk of the
// whole log lists (each event by EventFilter.matches and Reader.May), in the same order.
func agree(t *testing.T, s *Store, rng *rand.Rand) {
	t.Helper()
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	for i := range 120 {
		f := EventFilter{SessionID: pick("", "", "s1", "s1\x00", "s2", "s9"), ActorID: pick("", "", "u-sam", "u-sam\x00x", "u-ada"),
			UserID: pick("", "", "u-nora", "u-tom", "u-none"), Kind: pick("", "", api.EventRequest, api.EventSessionStart),
			Reader: indexReaders[rng.IntN(len(indexReaders))], Limit: 1 + rng.IntN(7)}
		if rng.IntN(3) == 0 {
			f.Since = t0.Add(time.Duration(rng.IntN(50)) * time.Second)
		}
		if rng.IntN(3) == 0 {
			f.Until = t0.Add(time.Duration(rng.IntN(50)) * time.Second)
		}
		got, _ := walkAll(t, s, f)
		f.noIndex, f.Limit = true, 1_000_000
		want, _ := walkAll(t, s, f)
		if !slices.Equal(got, want) {
			t.Fatalf("filter %d %+v (reader %+v): the index lists %v, the log %v", i, f, f.Reader, got, want)
		}
	}
}

// TestIndexAgreesWithScan: the event index lists what walking the log lists, for every
// filter, reader and time bound; after a migration rewrote events; and when a page's
// budget of steps ends it early (its cursor resumes where it stopped, nothing skipped).
func TestIndexAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := open(t, t.TempDir())
	randomEvents(t, s, rng, 400)
	agree(t, s, rng)

	// A migration moves events between readers, actors and sessions.
	if err := s.Migrate("shuffle", func(ev *Event) bool {
		if rng.IntN(2) == 0 {
			return false
		}
		ev.Realm, ev.Companies = "", []string{"c-blue"}
		ev.Actor.ID, ev.SessionID = "u-ada", "s2"
		return true
	}); err != nil {
		t.Fatal(err)
	}
	agree(t, s, rng)

	defer func(n int) { maxScan = n }(maxScan)
	maxScan = 3
	agree(t, s, rng)
}

// TestNoMatchIsOneRequest: over a log many budgets long, a filter that matches nothing
// is answered in one request with no cursor, and one that matches a few lists them all
// in one; walking the log instead takes a request per budget.
func TestNoMatchIsOneRequest(t *testing.T) {
	defer func(n int) { maxScan = n }(maxScan)
	maxScan = 20
	s := open(t, t.TempDir())
	var evs []Event
	for i := range 1000 {
		ev := Event{AuditEvent: api.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Kind: api.EventRequest,
			Actor: api.UserRef{ID: "u-sam"}, User: &api.UserRef{ID: "u-nora"}, SessionID: fmt.Sprint("s", i%7)}, Companies: []string{"c-acme"}}
		switch i {
		case 100, 500, 900: // the rare actor's events, none of them on the rare user
			ev.Actor.ID = "u-rare"
		case 200, 600, 950:
			ev.User.ID = "u-rare-user"
		case 700, 999:
			ev.Companies = []string{"c-rare"}
		}
		evs = append(evs, ev)
	}
	if err := s.AppendEvents(evs...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    EventFilter
		want int
	}{
		{"actor and user that never meet", EventFilter{ActorID: "u-rare", UserID: "u-rare-user"}, 0},
		{"no such session", EventFilter{SessionID: "s-none", Reader: &Reader{Staff: true}}, 0},
		{"a session outside the reader's company", EventFilter{SessionID: "s3", Reader: &Reader{Company: "c-blue"}}, 0},
		{"a company's two events", EventFilter{Reader: &Reader{Company: "c-rare"}}, 2},
		{"a rare actor in a window", EventFilter{ActorID: "u-rare", Since: t0.Add(400 * time.Second)}, 2},
	} {
		c.f.Limit = 50
		ids, pages := walkAll(t, s, c.f)
		if len(ids) != c.want || pages != 1 {
			t.Errorf("%s: %d events in %d requests, want %d in 1", c.name, len(ids), pages, c.want)
		}
		c.f.noIndex = true
		if _, pages := walkAll(t, s, c.f); pages < 1000/maxScan {
			t.Errorf("%s: walking the log took only %d requests: the test proves nothing", c.name, pages)
		}
	}
}

// TestIndexRebuiltWhenMissing: a file whose index is gone (or of another layout) gets
// it back when opened, whole.
func TestIndexRebuiltWhenMissing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	rng := rand.New(rand.NewPCG(3, 4))
	randomEvents(t, s, rng, 200)
	count := func(s *Store) (n int) {
		s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketIndex).Stats().KeyN; return nil })
		return n
	}
	want := count(s)
	s.update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketIndex) })
	s.Close()
	s = open(t, dir)
	if got := count(s); got != want || want < 200 {
		t.Fatalf("%d postings after the rebuild, %d before", got, want)
	}
	agree(t, s, rng)
}

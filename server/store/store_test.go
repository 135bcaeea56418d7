package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

var (
	t0  = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	sam = Uploader{ID: "u-sam", Realm: RealmStaff}
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func records(t testing.TB, jid string, from uint64, n int, prev api.Hash, tag string) []api.WireRecord {
	var out []api.WireRecord
	for i := range n {
		seq := from + uint64(i)
		body, _ := json.Marshal(api.RecordBody{EventID: fmt.Sprint(seq), Action: api.ActionView, Time: t0, Details: tag})
		h := api.RecordHash(jid, seq, prev, body)
		out = append(out, api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: body})
		prev = h
	}
	return out
}

func TestJournalAppend(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	recs := records(t, "j", 1, 6, api.ZeroHash, "a")
	events := 0
	ev := func(r api.WireRecord) Event {
		events++
		return Event{AuditEvent: api.AuditEvent{Time: t0, Kind: api.EventJournalRecord, JournalID: "j", Seq: r.Seq}}
	}
	head, err := s.JournalHead("j")
	if err != nil || head.Seq != 0 || head.Hash != api.ZeroHash.String() {
		t.Fatalf("empty head %+v %v", head, err)
	}
	out, err := s.AppendJournal("j", sam, recs[:3], ev)
	if err != nil || out.Code != "" || out.Accepted != 3 || out.Head.Seq != 3 || out.Head.Hash != recs[2].Hash {
		t.Fatalf("append: %+v %v", out, err)
	}
	out, _ = s.AppendJournal("j", sam, recs[:3], ev)
	if out.Code != "" || out.Accepted != 0 || out.Duplicates != 3 {
		t.Fatalf("duplicates: %+v", out)
	}
	out, _ = s.AppendJournal("j", sam, recs[2:6], ev)
	if out.Accepted != 3 || out.Duplicates != 1 || out.Head.Seq != 6 {
		t.Fatalf("overlap: %+v", out)
	}
	if events != 6 {
		t.Fatalf("%d events for 6 new records", events)
	}
	other := records(t, "j", 1, 2, api.ZeroHash, "b")
	if out, _ = s.AppendJournal("j", sam, other, ev); out.Code != api.CodeJournalConflict || out.Head.Seq != 6 || out.Accepted != 0 {
		t.Fatalf("conflict: %+v", out)
	}
	last, _ := api.ParseHash(recs[5].Hash)
	if out, _ = s.AppendJournal("j", sam, records(t, "j", 8, 1, last, "a"), ev); out.Code != api.CodeJournalGap || out.Head.Seq != 6 {
		t.Fatalf("gap: %+v", out)
	}
	if out, _ = s.AppendJournal("j", sam, records(t, "j", 7, 1, sha256.Sum256([]byte("x")), "a"), ev); out.Code != api.CodeJournalConflict {
		t.Fatalf("fork after head: %+v", out)
	}
	// Journals are independent.
	if out, _ = s.AppendJournal("k", sam, records(t, "k", 1, 1, api.ZeroHash, "a"), ev); out.Accepted != 1 {
		t.Fatalf("second journal %+v", out)
	}
	s.Close()
	s2 := open(t, dir)
	head, _ = s2.JournalHead("j")
	if head.Seq != 6 || head.Hash != recs[5].Hash {
		t.Fatalf("head after reopen %+v", head)
	}
	evs, _, _ := s2.Events(EventFilter{Kind: api.EventJournalRecord, Limit: 100})
	if len(evs) != 7 {
		t.Fatalf("%d journal events after reopen", len(evs))
	}
}

func TestEvents(t *testing.T) {
	s := open(t, t.TempDir())
	var evs []Event
	for i := range 25 {
		evs = append(evs, Event{AuditEvent: api.AuditEvent{
			Time: t0.Add(time.Duration(25-i) * time.Minute), Kind: []string{api.EventRequest, api.EventSessionStart}[i%2],
			Actor: api.UserRef{ID: fmt.Sprintf("a%d", i%3)}, User: &api.UserRef{ID: fmt.Sprintf("u%d", i%5)}, SessionID: fmt.Sprintf("s%d", i%4),
		}, Companies: []string{fmt.Sprintf("c%d", i%2)}})
	}
	if err := s.AppendEvents(evs...); err != nil {
		t.Fatal(err)
	}
	all, next, err := s.Events(EventFilter{Limit: 100})
	if err != nil || len(all) != 25 || next != "" {
		t.Fatalf("%d events, next %q, %v", len(all), next, err)
	}
	ids := map[string]bool{}
	for i, ev := range all {
		if i > 0 && ev.Time.Before(all[i-1].Time) {
			t.Fatal("not in time order")
		}
		if ids[ev.ID] || ev.ID == "" {
			t.Fatalf("id %q repeated or empty", ev.ID)
		}
		ids[ev.ID] = true
	}
	// Pages of 7 cover everything once.
	var paged []api.AuditEvent
	cursor := ""
	for {
		page, nc, err := s.Events(EventFilter{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if nc == "" {
			break
		}
		cursor = nc
	}
	if len(paged) != 25 || paged[24].ID != all[24].ID {
		t.Fatalf("paged %d", len(paged))
	}
	count := func(f EventFilter) int {
		f.Limit = 100
		got, _, err := s.Events(f)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(EventFilter{Kind: api.EventSessionStart}); n != 12 {
		t.Errorf("kind: %d", n)
	}
	if n := count(EventFilter{ActorID: "a1"}); n != 8 {
		t.Errorf("actor: %d", n)
	}
	if n := count(EventFilter{UserID: "u0"}); n != 5 {
		t.Errorf("user: %d", n)
	}
	if n := count(EventFilter{SessionID: "s3"}); n != 6 {
		t.Errorf("session: %d", n)
	}
	if n := count(EventFilter{Reader: &Reader{Company: "c1"}}); n != 12 {
		t.Errorf("company: %d", n)
	}
	if n := count(EventFilter{Reader: &Reader{Staff: true, Scope: []string{"c0"}}}); n != 13 {
		t.Errorf("staff scoped to c0: %d", n)
	}
	if n := count(EventFilter{Since: t0.Add(20 * time.Minute)}); n != 6 {
		t.Errorf("since: %d", n)
	}
	if n := count(EventFilter{Until: t0.Add(5 * time.Minute)}); n != 4 {
		t.Errorf("until: %d", n)
	}
	// Bounds outside what nanoseconds since 1970 can hold in an int64 (before 1678,
	// after 2262) still mean what they say, rather than wrapping round.
	farPast, farFuture := time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		f    EventFilter
		want int
	}{
		{"until the year 3000", EventFilter{Until: farFuture}, 25},
		{"since the year 1500", EventFilter{Since: farPast}, 25},
		{"since the year 3000", EventFilter{Since: farFuture}, 0},
		{"until the year 1500", EventFilter{Until: farPast}, 0},
	} {
		if n := count(c.f); n != c.want {
			t.Errorf("%s: %d events, want %d", c.name, n, c.want)
		}
	}
	for _, bad := range []string{"x", "c1", "czz", "c" + fmt.Sprintf("%040x", 1)} {
		if _, _, err := s.Events(EventFilter{Cursor: bad, Limit: 1}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

// TestGroupCommit: many writers at once all land, each with its own id.
func TestGroupCommit(t *testing.T) {
	s := open(t, t.TempDir())
	var wg sync.WaitGroup
	const writers, each = 16, 20
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.AppendEvents(Event{AuditEvent: api.AuditEvent{Time: t0, Kind: "k", Details: fmt.Sprint(w, i)}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, _, _ := s.Events(EventFilter{Limit: 1000})
	if len(got) != writers*each {
		t.Fatalf("%d events, want %d", len(got), writers*each)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(Event{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestSessionsAndDocs(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	sess := Session{Session: api.Session{ID: "ses_1", State: api.SessionActive, StartedAt: t0}, CompanyID: "c-acme"}
	if err := s.PutSession(sess, Event{AuditEvent: api.AuditEvent{Time: t0, Kind: api.EventSessionStart, SessionID: "ses_1"}}); err != nil {
		t.Fatal(err)
	}
	sess.State = api.SessionEnded
	if err := s.PutSession(sess); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDoc("user", "u1", map[string]string{"name": "A"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDoc("user", "u0", map[string]string{"name": "B"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	list, err := s.Sessions()
	if err != nil || len(list) != 1 || list[0].State != api.SessionEnded || list[0].CompanyID != "c-acme" {
		t.Fatalf("sessions %+v %v", list, err)
	}
	var ids []string
	s.Docs("user", func(id string, raw []byte) error { ids = append(ids, id); return nil })
	if fmt.Sprint(ids) != "[u0 u1]" {
		t.Fatalf("docs %v", ids)
	}
	if err := s.Docs("none", func(string, []byte) error { return errors.New("called") }); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(filepath.Join(dir, "state.db"))
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v", info.Mode().Perm())
	}
}

func TestOpenRefusesLockedAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	if _, err := Open(filepath.Join(dir, "state.db")); err == nil {
		t.Fatal("a second open of a locked file succeeded")
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("x"), 8192), 0o600)
	if _, err := Open(junk); err == nil {
		t.Fatal("a non-bbolt file was opened")
	}
}

func TestSigningKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", info.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !k1.Public.Equal(k2.Public) || k1.ID != k2.ID || len(k1.ID) != 16 {
		t.Fatalf("reloaded key differs: %v", err)
	}
	r := api.Receipt{JournalID: "j", Seq: 1, Hash: api.ZeroHash.String(), IssuedAt: t0, KeyID: k2.ID}
	r.Sign(k2.Private)
	if err := r.Verify(k1.Public); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("a world-readable key was trusted")
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("garbage accepted as a key")
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	s := open(b, b.TempDir())
	for b.Loop() {
		if err := s.AppendEvents(Event{AuditEvent: api.AuditEvent{Time: t0, Kind: api.EventRequest}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJournalOwnership: a journal is its first writer's; nobody else writes it, not
// even an empty range, and a journal stored before owners were kept is claimed by
// the first identity of its organisation that writes to it.
func TestJournalOwnership(t *testing.T) {
	s := open(t, t.TempDir())
	jordan := Uploader{ID: "u-jordan", Realm: RealmStaff}
	ada := Uploader{ID: "u-ada", Realm: CompanyRealm("c-acme")}
	recs := records(t, "j", 1, 3, api.ZeroHash, "a")
	if ok, _, _ := s.MayWriteJournal("j", jordan); !ok {
		t.Fatal("a journal nobody holds is refused")
	}
	if out, _ := s.AppendJournal("j", sam, nil, nil); out.Code != "" || out.Head.Seq != 0 {
		t.Fatalf("an empty range on a new journal: %+v", out)
	}
	if ok, _, _ := s.MayWriteJournal("j", jordan); !ok {
		t.Fatal("an empty range claimed the journal")
	}
	if out, _ := s.AppendJournal("j", sam, recs[:1], nil); out.Accepted != 1 {
		t.Fatalf("%+v", out)
	}
	for _, u := range []Uploader{jordan, ada} {
		for _, rs := range [][]api.WireRecord{nil, recs[1:]} {
			out, _ := s.AppendJournal("j", u, rs, nil)
			if out.Code != api.CodeForbidden || out.Head != (api.JournalHead{}) || out.Accepted != 0 {
				t.Fatalf("%s wrote Sam's journal: %+v", u.ID, out)
			}
		}
		if ok, _, _ := s.MayWriteJournal("j", u); ok {
			t.Fatalf("%s may write Sam's journal", u.ID)
		}
	}
	// A journal of before: a realm, no owner.
	legacy := records(t, "old", 1, 2, api.ZeroHash, "a")
	s.AppendJournal("old", sam, legacy[:1], nil)
	s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketJournals).Bucket([]byte("old")).Delete(keyOwner) })
	if ok, _, _ := s.MayWriteJournal("old", ada); ok {
		t.Fatal("another organisation may write a legacy journal")
	}
	if out, _ := s.AppendJournal("old", jordan, legacy[1:], nil); out.Accepted != 1 {
		t.Fatalf("the legacy journal's organisation cannot claim it: %+v", out)
	}
	if ok, _, _ := s.MayWriteJournal("old", sam); ok {
		t.Fatal("a claimed legacy journal is still open to its organisation")
	}
}

// TestJournalRecordsListInSeqOrder: records whose clocks run backwards (concurrent
// appends, a skewed clock) are still listed in seq order, interleaved by time with the
// rest of the log.
func TestJournalRecordsListInSeqOrder(t *testing.T) {
	s := open(t, t.TempDir())
	recs := records(t, "j", 1, 6, api.ZeroHash, "a")
	times := []time.Duration{5, 3, 9, 1, 9, 2} // seconds after t0
	ev := func(r api.WireRecord) Event {
		return Event{AuditEvent: api.AuditEvent{Time: t0.Add(times[r.Seq-1] * time.Second), Kind: api.EventJournalRecord, JournalID: "j", Seq: r.Seq,
			Verification: api.RecordVerified}}
	}
	s.AppendJournal("j", sam, recs[:3], ev)
	s.AppendJournal("j", sam, recs[3:], ev)
	s.AppendEvents(Event{AuditEvent: api.AuditEvent{Time: t0.Add(4 * time.Second), Kind: api.EventRequest}},
		Event{AuditEvent: api.AuditEvent{Time: t0.Add(20 * time.Second), Kind: api.EventRequest}})
	all, _, _ := s.Events(EventFilter{Limit: 100})
	var order []string
	for _, e := range all {
		if e.Kind == api.EventJournalRecord {
			order = append(order, fmt.Sprint(e.Seq))
			if !e.Time.Equal(t0.Add(times[e.Seq-1] * time.Second)) {
				t.Errorf("record %d lists time %v: the client's time must be kept", e.Seq, e.Time)
			}
		} else {
			order = append(order, "r")
		}
	}
	if got := strings.Join(order, " "); got != "r 1 2 3 4 5 6 r" {
		t.Fatalf("listed %s, want r 1 2 3 4 5 6 r", got)
	}

	// An unverified record's time carries over to no later record: one dated 2999
	// cannot push the verified record after it out of a window around its own time.
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	s.AppendJournal("k", sam, records(t, "k", 1, 2, api.ZeroHash, "b"), func(r api.WireRecord) Event {
		e := Event{AuditEvent: api.AuditEvent{Time: far, Kind: api.EventJournalRecord, JournalID: "k", Seq: r.Seq, Verification: api.RecordUnverified}}
		if r.Seq == 2 {
			e.Time, e.Verification = t0.Add(3*time.Second), api.RecordVerified
		}
		return e
	})
	window, _, _ := s.Events(EventFilter{Kind: api.EventJournalRecord, Since: t0, Until: t0.Add(10 * time.Second), Limit: 100})
	found := false
	for _, e := range window {
		found = found || (e.JournalID == "k" && e.Seq == 2)
	}
	if !found {
		t.Fatal("a far-future unverified record hides the verified record after it from a since/until window")
	}
}

// TestSessionIndex: a session's events come from the index, page by page, and a state
// file written before the index existed (schema 1) gets one when it is opened.
func TestSessionIndex(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for i := range 40 {
		s.AppendEvents(Event{AuditEvent: api.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Kind: api.EventRequest,
			SessionID: fmt.Sprintf("s%d", i%3)}})
	}
	walk := func(s *Store) (n int) {
		for cursor := ""; ; {
			page, next, err := s.Events(EventFilter{SessionID: "s1", Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				if e.SessionID != "s1" {
					t.Fatalf("session s1 lists %+v", e)
				}
			}
			n += len(page)
			if cursor = next; cursor == "" {
				return n
			}
		}
	}
	if n := walk(s); n != 13 {
		t.Fatalf("%d events of s1, want 13", n)
	}
	evs, complete, err := s.SessionEvents("s1", 5)
	if err != nil || len(evs) != 5 || complete {
		t.Fatalf("SessionEvents(5): %d, complete %v, %v", len(evs), complete, err)
	}
	if evs, complete, _ = s.SessionEvents("s1", 100); len(evs) != 13 || !complete {
		t.Fatalf("SessionEvents(100): %d, complete %v", len(evs), complete)
	}
	// A file of schema 1: no event index, maybe the session index of before.
	s.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketIndex); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketIndex); err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("by_session")); err != nil {
			return err
		}
		tx.Bucket(bucketMeta).Put([]byte("schema"), []byte("1"))
		return tx.Bucket(bucketMeta).Delete(keyIndexVersion)
	})
	if n := walk(s); n != 0 {
		t.Fatal("the index was not removed")
	}
	s.Close()
	s = open(t, dir)
	if n := walk(s); n != 13 {
		t.Fatalf("after reopening an index-less file: %d events of s1", n)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("by_session")) != nil || string(tx.Bucket(bucketMeta).Get([]byte("schema"))) != schemaVersion {
			t.Error("the file was not brought to this schema")
		}
		return nil
	})
}

// TestEventsAreBounded: every string of an event is cut to its bound when stored.
func TestEventsAreBounded(t *testing.T) {
	s := open(t, t.TempDir())
	long := strings.Repeat("é", 10_000)
	s.AppendEvents(Event{AuditEvent: api.AuditEvent{Time: t0, Kind: long, Actor: api.UserRef{ID: long, Name: long, Email: long},
		User: &api.UserRef{ID: long}, SessionID: long, Method: long, Path: long, Code: api.Code(long), Reason: long,
		Details: long, JournalID: long, Action: long, SyncedBy: &api.UserRef{Name: long}, VerificationNote: long}})
	s.Migrate("noop", func(*Event) bool { return false })
	raw, _ := json.Marshal(s.mustAll(t))
	if len(raw) > 12_000 {
		t.Fatalf("an event of 13 fields of 20 KB each is stored as %d bytes", len(raw))
	}
	evs := s.mustAll(t)
	if e := evs[0]; len(e.Details) != MaxDetails+len("…") || !utf8.ValidString(e.Details) || len(e.Actor.Email) > MaxEmail+len("…") {
		t.Fatalf("details %d bytes, email %d", len(e.Details), len(e.Actor.Email))
	}
}

func (s *Store) mustAll(t *testing.T) []api.AuditEvent {
	t.Helper()
	evs, _, err := s.Events(EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestReaderMay: who reads which event.
func TestReaderMay(t *testing.T) {
	acme, blue := &Reader{Company: "c-acme"}, &Reader{Company: "c-blue"}
	staff, narrow := &Reader{Staff: true}, &Reader{ID: "u-narrow", Staff: true, Scope: []string{"c-blue"}}
	for _, c := range []struct {
		ev   Event
		want [4]bool // acme, blue, staff, narrow
	}{
		{Event{Companies: []string{"c-acme"}}, [4]bool{true, false, true, false}},
		{Event{Companies: []string{"c-acme", "c-blue"}}, [4]bool{true, true, true, true}},
		{Event{}, [4]bool{false, false, true, true}},
		{Event{Realm: CompanyRealm("c-acme"), Companies: []string{"c-blue"}}, [4]bool{true, false, false, false}},
		{Event{Realm: RealmStaff, Companies: []string{"c-acme"}}, [4]bool{false, false, true, false}},
		{Event{Realm: RealmStaff, Companies: []string{"c-blue"}}, [4]bool{false, false, true, true}},
		{Event{Realm: RealmStaff}, [4]bool{false, false, true, false}},
		{Event{Realm: RealmStaff, Companies: []string{"c-acme"}, AuditEvent: api.AuditEvent{SyncedBy: &api.UserRef{ID: "u-narrow"}}}, [4]bool{false, false, true, true}},
	} {
		for i, r := range []*Reader{acme, blue, staff, narrow} {
			if got := r.May(&c.ev); got != c.want[i] {
				t.Errorf("%+v reading %+v: %v", *r, c.ev, got)
			}
		}
	}
}

package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

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
	out, err := s.AppendJournal("j", "staff", recs[:3], ev)
	if err != nil || out.Code != "" || out.Accepted != 3 || out.Head.Seq != 3 || out.Head.Hash != recs[2].Hash {
		t.Fatalf("append: %+v %v", out, err)
	}
	out, _ = s.AppendJournal("j", "staff", recs[:3], ev)
	if out.Code != "" || out.Accepted != 0 || out.Duplicates != 3 {
		t.Fatalf("duplicates: %+v", out)
	}
	out, _ = s.AppendJournal("j", "staff", recs[2:6], ev)
	if out.Accepted != 3 || out.Duplicates != 1 || out.Head.Seq != 6 {
		t.Fatalf("overlap: %+v", out)
	}
	if events != 6 {
		t.Fatalf("%d events for 6 new records", events)
	}
	other := records(t, "j", 1, 2, api.ZeroHash, "b")
	if out, _ = s.AppendJournal("j", "staff", other, ev); out.Code != api.CodeJournalConflict || out.Head.Seq != 6 || out.Accepted != 0 {
		t.Fatalf("conflict: %+v", out)
	}
	last, _ := api.ParseHash(recs[5].Hash)
	if out, _ = s.AppendJournal("j", "staff", records(t, "j", 8, 1, last, "a"), ev); out.Code != api.CodeJournalGap || out.Head.Seq != 6 {
		t.Fatalf("gap: %+v", out)
	}
	if out, _ = s.AppendJournal("j", "staff", records(t, "j", 7, 1, sha256.Sum256([]byte("x")), "a"), ev); out.Code != api.CodeJournalConflict {
		t.Fatalf("fork after head: %+v", out)
	}
	// Journals are independent.
	if out, _ = s.AppendJournal("k", "staff", records(t, "k", 1, 1, api.ZeroHash, "a"), ev); out.Accepted != 1 {
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
	if n := count(EventFilter{Company: "c1"}); n != 12 {
		t.Errorf("company: %d", n)
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

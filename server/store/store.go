// Package store is the reference server's durable state in one bbolt file: sessions,
// the server audit log, ingested client journals, and the documents that record what
// users changed (profiles, dashboards, shares) on top of the seeded organisation. It
// also keeps the audit signing key file.
//
// Every write is committed (fsync) before the call returns; concurrent writes are
// grouped into one transaction so they share the commit. It never stores a token or a
// password (password hashes only) and never imports net/http.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

var (
	bucketSessions = []byte("sessions")
	bucketEvents   = []byte("events")
	bucketJournals = []byte("journals")
	bucketDocs     = []byte("docs")
	bucketMeta     = []byte("meta")
)

// schemaVersion is written once; a file from a different schema is refused rather
// than misread.
const schemaVersion = "1"

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// Store is an open state file.
type Store struct {
	db     *bolt.DB
	writes chan *write
	mu     sync.RWMutex // guards closed against writes racing Close
	closed bool
	done   chan struct{}
}

type write struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// Open opens (or creates, mode 0600) the state file at path. A second process opening
// the same file waits a second for its lock, then fails.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSessions, bucketEvents, bucketJournals, bucketDocs, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get([]byte("schema")); {
		case v == nil:
			return meta.Put([]byte("schema"), []byte(schemaVersion))
		case string(v) != schemaVersion:
			return fmt.Errorf("schema %q, this server reads %q", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	s := &Store{db: db, writes: make(chan *write, 256), done: make(chan struct{})}
	go s.writer()
	return s, nil
}

// Close waits for queued writes, then closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.writes)
	s.mu.Unlock()
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	return nil
}

// update runs fn in a write transaction and returns once it is committed. Writes that
// arrive together share one transaction (group commit); fn must therefore decide
// refusals by recording them, not by returning an error, and must reset any state it
// records when it starts, since a failed group is retried one write at a time.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	w := &write{fn: fn, err: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.writes <- w
	s.mu.RUnlock()
	return <-w.err
}

func (s *Store) writer() {
	defer close(s.done)
	for w := range s.writes {
		group := []*write{w}
	drain:
		for len(group) < 128 {
			select {
			case next, ok := <-s.writes:
				if !ok {
					break drain
				}
				group = append(group, next)
			default:
				break drain
			}
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, g := range group {
				if err := g.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || len(group) == 1 {
			for _, g := range group {
				g.err <- err
			}
			continue
		}
		// One write spoiled the group: retry each alone so the others still commit.
		for _, g := range group {
			g.err <- s.db.Update(g.fn)
		}
	}
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// ---- sessions

// Session is a stored impersonation session: the api form plus the target's company,
// so a company's admins can be shown their sessions.
type Session struct {
	api.Session
	CompanyID string `json:"company_id"`
}

// PutSession stores a session and the audit events about it in one commit.
func (s *Store) PutSession(sess Session, events ...Event) error {
	raw, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("put session %s: %w", sess.ID, err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSessions).Put([]byte(sess.ID), raw); err != nil {
			return err
		}
		return appendEvents(tx, events)
	})
	if err != nil {
		return fmt.Errorf("put session %s: %w", sess.ID, err)
	}
	return nil
}

// Sessions lists every stored session.
func (s *Store) Sessions() ([]Session, error) {
	var out []Session
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var sess Session
			if err := json.Unmarshal(v, &sess); err != nil {
				return fmt.Errorf("session %s: %w", k, err)
			}
			out = append(out, sess)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// ---- documents: what users changed on top of the seed

// PutDoc stores v (as JSON) under kind/id, with audit events in the same commit.
func (s *Store) PutDoc(kind, id string, v any, events ...Event) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, id, err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketDocs).CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		if err := b.Put([]byte(id), raw); err != nil {
			return err
		}
		return appendEvents(tx, events)
	})
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, id, err)
	}
	return nil
}

// Docs calls fn with every document of a kind, in id order.
func (s *Store) Docs(kind string, fn func(id string, raw []byte) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocs).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
	if err != nil {
		return fmt.Errorf("read %s documents: %w", kind, err)
	}
	return nil
}

// ---- events

// Event is an audit event as stored: the api form plus the companies it concerns, so
// a company admin reads only their company's events.
type Event struct {
	api.AuditEvent
	Companies []string `json:"companies,omitempty"`
}

// AppendEvents stores events durably. Each gets its id here.
func (s *Store) AppendEvents(events ...Event) error {
	if err := s.update(func(tx *bolt.Tx) error { return appendEvents(tx, events) }); err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	return nil
}

// Times an event key can tell apart: unix nanoseconds in an int64, from 1970 (earlier
// times, and the zero time, sort first) to 2262 (later ones sort last).
var (
	firstKeyTime = time.Unix(0, 0)
	lastKeyTime  = time.Unix(0, math.MaxInt64)
)

// eventKey orders events by time, then by arrival: 8 bytes of unix nanoseconds and
// 8 of sequence, both big-endian. Times outside what the nanoseconds can hold are
// clamped (UnixNano would wrap them round), so a bound such as until=3000-01-01 still
// means "everything".
func eventKey(t time.Time, seq uint64) []byte {
	var ns int64
	switch {
	case t.Before(firstKeyTime):
		ns = 0
	case t.After(lastKeyTime):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(ns))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

func appendEvents(tx *bolt.Tx, events []Event) error {
	b := tx.Bucket(bucketEvents)
	for i := range events {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		ev := events[i]
		ev.ID = "ev-" + strconv.FormatUint(seq, 10)
		ev.Time = ev.Time.UTC()
		raw, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := b.Put(eventKey(ev.Time, seq), raw); err != nil {
			return err
		}
	}
	return nil
}

// EventFilter selects events. Empty fields match everything.
type EventFilter struct {
	SessionID string
	UserID    string // the impersonated user
	ActorID   string
	Kind      string
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	Company   string    // only events concerning this company
	Cursor    string    // from a previous page
	Limit     int
}

// maxScan bounds the events one page may read past, so a filter that matches little
// cannot make one request walk the whole log; the page then ends early with a cursor.
const maxScan = 50_000

// ErrBadCursor is returned for a cursor this store did not issue.
var ErrBadCursor = errors.New("cursor is not one this server issued")

// Events returns a page of events in time order and the cursor for the next page
// (empty at the end).
func (s *Store) Events(f EventFilter) ([]api.AuditEvent, string, error) {
	if f.Limit < 1 {
		f.Limit = 1
	}
	var start []byte
	if f.Cursor != "" {
		k, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		start = append(k, 0) // strictly after
	}
	if !f.Since.IsZero() {
		if since := eventKey(f.Since, 0); string(since) > string(start) {
			start = since
		}
	}
	var until []byte
	if !f.Until.IsZero() {
		until = eventKey(f.Until, 0)
	}
	out := []api.AuditEvent{}
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		var k, v []byte
		if start == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(start)
		}
		for scanned := 0; k != nil; k, v = c.Next() {
			if until != nil && string(k) >= string(until) {
				return nil
			}
			if len(out) == f.Limit || scanned == maxScan {
				next = encodeCursor(prevKey(c, k))
				return nil
			}
			scanned++
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			if f.matches(ev) {
				out = append(out, ev.AuditEvent)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	return out, next, nil
}

// prevKey is the key before k, which the next page starts strictly after. The cursor
// is positioned at k; step back to find it.
func prevKey(c *bolt.Cursor, k []byte) []byte {
	pk, _ := c.Prev()
	if pk == nil {
		// k is the first key: "strictly after" a key below every real one.
		return make([]byte, 0)
	}
	return append([]byte(nil), pk...)
}

func (f EventFilter) matches(ev Event) bool {
	if f.Kind != "" && ev.Kind != f.Kind {
		return false
	}
	if f.SessionID != "" && ev.SessionID != f.SessionID {
		return false
	}
	if f.ActorID != "" && ev.Actor.ID != f.ActorID {
		return false
	}
	if f.UserID != "" && (ev.User == nil || ev.User.ID != f.UserID) {
		return false
	}
	if f.Company != "" {
		for _, c := range ev.Companies {
			if c == f.Company {
				return true
			}
		}
		return false
	}
	return true
}

func encodeCursor(k []byte) string { return "c" + fmt.Sprintf("%x", k) }

func decodeCursor(s string) ([]byte, error) {
	if len(s) < 1 || s[0] != 'c' || len(s) > 1+32 || (len(s)-1)%2 != 0 {
		return nil, ErrBadCursor
	}
	k := make([]byte, (len(s)-1)/2)
	for i := range k {
		n, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return nil, ErrBadCursor
		}
		k[i] = byte(n)
	}
	return k, nil
}

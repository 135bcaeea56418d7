// Package store is the reference server's durable state in one bbolt file: sessions,
// the server audit log, ingested client journals, and the documents that record what
// users changed (profiles, dashboards, shares) on top of the seeded organisation. It
// also keeps the audit signing key file.
//
// Invariants, each enforced in one place:
//   - every write is committed (fsync) before the call returns; concurrent writes are
//     grouped into one transaction so they share the commit (update);
//   - every string of every audit event is bounded before it is stored (bound, in
//     appendEvents, the only writer of events);
//   - every event naming a session is in the session index (appendEvents);
//   - who may read an event is decided by Reader.May alone;
//   - a journal is written only by the identity that owns it (ownerAllows, inside
//     the append's own transaction), and its records are listed in seq order;
//   - it never stores a token or a password (password hashes only) and never imports
//     net/http.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	// bucketBySession indexes events by session: session id ‖ 0x00 ‖ event key → nil.
	bucketBySession = []byte("by_session")
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
		for _, b := range [][]byte{bucketSessions, bucketEvents, bucketJournals, bucketDocs, bucketMeta, bucketBySession} {
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
		if err := indexSessions(tx); err != nil {
			return err
		}
		return ownLegacyJournals(tx)
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

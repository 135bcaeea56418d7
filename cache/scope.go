package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Entry is one cached reply.
type Entry struct {
	ETag     string
	Body     []byte
	StoredAt time.Time // when stored, or last revalidated by a 304
	// Fresh is true while the entry is younger than the TTL: it may be served without
	// asking the server. A stale entry is only good for If-None-Match.
	Fresh bool
}

// Scope is the part of the cache one identity may read. Entries of one scope are never
// visible through another.
type Scope struct {
	c    *Cache
	name []byte

	// For ephemeral scopes: the keys that seal entries and hide URLs. They live only
	// in this struct; once it is purged (or the process dies) what is on disk cannot
	// be read by anyone.
	mu     sync.RWMutex
	aead   cipher.AEAD
	macKey []byte
	purged bool
}

// Persistent returns the scope of an identity whose replies may outlive the process
// (the staff member's own directory searches). identity names who is asking, e.g.
// server URL + user id; it is hashed, never stored. Nil when the cache is nil.
func (c *Cache) Persistent(identity string) *Scope {
	if c == nil {
		return nil
	}
	return &Scope{c: c, name: scopeName(persistentPrefix, identity)}
}

// Ephemeral returns a fresh scope for an impersonation session: its entries are sealed
// with a random key held only in memory, removed by Purge (call it when the session
// ends), by Close, and at the next Open if the process dies first. Opening the same
// identity again starts empty. Nil when the cache is nil.
func (c *Cache) Ephemeral(identity string) (*Scope, error) {
	if c == nil {
		return nil, nil
	}
	key := make([]byte, 32)
	macKey := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("session cache key: %w", err)
	}
	if _, err := rand.Read(macKey); err != nil {
		return nil, fmt.Errorf("session cache key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session cache cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session cache cipher: %w", err)
	}
	s := &Scope{c: c, name: scopeName(ephemeralPrefix, identity), aead: aead, macKey: macKey}
	// Anything already under this name was sealed with a key that is gone.
	if err := s.deleteBucket(); err != nil {
		return nil, err
	}
	c.scopesMu.Lock()
	c.ephemeral[string(s.name)] = s
	c.scopesMu.Unlock()
	return s, nil
}

// Ephemeral reports whether the scope's entries are purged with the session.
func (s *Scope) Ephemeral() bool { return s != nil && s.macKey != nil }

// Get returns the entry stored for url. ok is false on a miss, a disabled cache, a
// purged scope, or an entry that no longer opens (it is then dropped).
func (s *Scope) Get(url string) (e Entry, ok bool) {
	if s == nil {
		return Entry{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.purged {
		return Entry{}, false
	}
	key := s.key(url)
	var raw []byte
	s.c.do(false, func(tx *bolt.Tx) error {
		if b := tx.Bucket(s.name); b != nil {
			if v := b.Get(key); v != nil {
				raw = append([]byte(nil), v...) // v is only valid inside the transaction
			}
		}
		return nil
	})
	if raw == nil {
		return Entry{}, false
	}
	e, err := s.decode(key, raw)
	if err != nil {
		s.delete(key)
		return Entry{}, false
	}
	now := s.c.opts.Now()
	age := now.Sub(e.StoredAt)
	e.Fresh = age >= 0 && age < s.c.opts.TTL
	return e, true
}

// Put stores a reply for url and returns its stored-at time; false when it was not
// stored (a disabled cache, a purged scope, or a reply larger than a quarter of the cap).
func (s *Scope) Put(url, etag string, body []byte) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.purged {
		return time.Time{}, false
	}
	key := s.key(url)
	at := time.Unix(0, s.c.opts.Now().UnixNano())
	value, err := s.encode(key, at, etag, body)
	if err != nil || int64(len(key)+len(value)) > s.c.opts.MaxBytes/4 {
		return time.Time{}, false
	}
	stored := s.put(key, value)
	s.c.evictIfOver()
	return at, stored
}

// Refresh marks the entry for url as just revalidated (the server answered 304), so it
// is fresh for another TTL. It returns the entry's new stored-at time, or false when
// there was no entry to refresh.
func (s *Scope) Refresh(url string) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.purged {
		return time.Time{}, false
	}
	key := s.key(url)
	now := s.c.opts.Now()
	refreshed := false
	s.c.do(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(s.name)
		if b == nil {
			return nil
		}
		v := b.Get(key)
		if v == nil {
			return nil
		}
		if _, err := decodeStoredAt(v); err != nil {
			return b.Delete(key)
		}
		updated := append([]byte(nil), v...)
		binary.BigEndian.PutUint64(updated[1:entryHeaderSize], uint64(now.UnixNano()))
		if err := b.Put(key, updated); err != nil {
			return err
		}
		refreshed = true
		return nil
	})
	if !refreshed {
		return time.Time{}, false
	}
	return time.Unix(0, now.UnixNano()), true
}

// Purge removes every entry of the scope. For an ephemeral scope it also forgets the
// keys, so the scope stays empty afterwards.
func (s *Scope) Purge() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.deleteBucket()
	if s.Ephemeral() {
		s.purged = true
		s.aead = nil
		clear(s.macKey)
		s.c.scopesMu.Lock()
		if s.c.ephemeral[string(s.name)] == s {
			delete(s.c.ephemeral, string(s.name))
		}
		s.c.scopesMu.Unlock()
	}
	return err
}

func (s *Scope) deleteBucket() error {
	var freed int64
	var failed error
	s.c.do(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(s.name)
		if b == nil {
			return nil
		}
		err := b.ForEach(func(k, v []byte) error {
			freed += int64(len(k) + len(v))
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(s.name); err != nil {
			failed = fmt.Errorf("purge cache scope: %w", err)
			return failed
		}
		return nil
	})
	if failed == nil {
		s.c.size.Add(-freed)
	}
	return failed
}

func (s *Scope) put(key, value []byte) bool {
	var replaced int
	stored := s.c.do(true, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(s.name)
		if err != nil {
			return err
		}
		if old := b.Get(key); old != nil {
			replaced = len(key) + len(old)
		}
		return b.Put(key, value)
	})
	if stored {
		s.c.size.Add(int64(len(key)+len(value)) - int64(replaced))
	}
	return stored
}

func (s *Scope) delete(key []byte) {
	var freed int
	s.c.do(true, func(tx *bolt.Tx) error {
		b := tx.Bucket(s.name)
		if b == nil {
			return nil
		}
		if old := b.Get(key); old != nil {
			freed = len(key) + len(old)
		}
		return b.Delete(key)
	})
	s.c.size.Add(-int64(freed))
}

// key is the URL itself for a persistent scope, and an HMAC of it for an ephemeral one,
// so the file does not say which dashboards a session opened.
func (s *Scope) key(url string) []byte {
	if !s.Ephemeral() {
		return []byte(url)
	}
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(url))
	return m.Sum(nil)
}

// encode lays out an entry: header (version, stored-at), then ETag length, ETag and
// body — sealed with the scope's key for an ephemeral scope, bound to the entry's key
// so sealed values cannot be swapped between URLs.
func (s *Scope) encode(key []byte, at time.Time, etag string, body []byte) ([]byte, error) {
	payload := make([]byte, 0, binary.MaxVarintLen64+len(etag)+len(body))
	payload = binary.AppendUvarint(payload, uint64(len(etag)))
	payload = append(payload, etag...)
	payload = append(payload, body...)

	out := make([]byte, entryHeaderSize, entryHeaderSize+len(payload)+64)
	out[0] = entryVersion
	binary.BigEndian.PutUint64(out[1:], uint64(at.UnixNano()))
	if !s.Ephemeral() {
		return append(out, payload...), nil
	}
	if s.aead == nil {
		return nil, errors.New("session cache scope is purged")
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal cache entry: %w", err)
	}
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, payload, key), nil
}

func (s *Scope) decode(key, v []byte) (Entry, error) {
	at, err := decodeStoredAt(v)
	if err != nil {
		return Entry{}, err
	}
	payload := v[entryHeaderSize:]
	if s.Ephemeral() {
		if s.aead == nil {
			return Entry{}, errors.New("session cache scope is purged")
		}
		n := s.aead.NonceSize()
		if len(payload) < n {
			return Entry{}, errors.New("sealed cache entry is truncated")
		}
		payload, err = s.aead.Open(nil, payload[:n], payload[n:], key)
		if err != nil {
			return Entry{}, fmt.Errorf("open cache entry: %w", err)
		}
	}
	etagLen, n := binary.Uvarint(payload)
	if n <= 0 || etagLen > uint64(len(payload)-n) {
		return Entry{}, errors.New("cache entry is truncated")
	}
	rest := payload[n:]
	return Entry{
		ETag:     string(rest[:etagLen]),
		Body:     rest[etagLen:],
		StoredAt: time.Unix(0, at),
	}, nil
}

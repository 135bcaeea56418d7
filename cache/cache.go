// Package cache is shadow's on-disk response cache: a bbolt file of API replies keyed by
// identity scope and URL, revalidated with ETag / If-None-Match, fresh for a TTL, and
// held under a size cap by evicting the oldest entries.
//
// It owns the cache file and nothing else. It must never store a token or a password (a
// scope is named by a hash of an identity, never by a credential), never keep an
// impersonated user's data after the session (ephemeral scopes are encrypted with a key
// that lives only in memory, purged when the session ends, and purged again at start-up
// in case a crash left any), and never be the source of truth: a corrupt or locked file
// is set aside with a warning and every method then behaves as an empty cache, so the
// caller simply goes to the server.
package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/shadowview/shadow/internal/privdir"
)

// FileName is the cache file inside the cache directory.
const FileName = "responses.db"

// Defaults for Options.
const (
	DefaultMaxBytes    = 32 << 20
	DefaultTTL         = 15 * time.Second
	DefaultLockTimeout = 200 * time.Millisecond
)

// Options configures Open. Zero values take the defaults.
type Options struct {
	// Dir holds the cache file; DefaultDir() when empty. It is created 0700.
	Dir string
	// MaxBytes caps the bytes of all entries together (keys and values). When a put
	// goes over it, the oldest entries are evicted down to three quarters of the cap.
	MaxBytes int64
	// TTL is how long an entry is served without asking the server. After it, the
	// entry is only used to revalidate (If-None-Match → 304).
	TTL time.Duration
	// LockTimeout is how long Open waits for another process to release the file
	// before running without a cache.
	LockTimeout time.Duration
	// Now is the clock, for tests and benchmarks; time.Now when nil.
	Now func() time.Time
}

// DefaultDir is $XDG_CACHE_HOME/shadow (os.UserCacheDir()/shadow on other systems).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return filepath.Join(base, "shadow"), nil
}

// Cache is an open response cache. All methods are safe for concurrent use, and all
// are safe on a nil *Cache or a disabled one (they act as an empty cache).
type Cache struct {
	opts Options
	path string

	// mu guards db: operations hold it shared for the length of their transaction,
	// disabling the cache holds it exclusively so no transaction outlives the file.
	mu       sync.RWMutex
	db       *bolt.DB
	warnings []string // guarded by mu (written under the exclusive lock only)

	size    atomic.Int64 // bytes of keys and values stored
	evictMu sync.Mutex   // one eviction pass at a time

	scopesMu  sync.Mutex
	ephemeral map[string]*Scope // open ephemeral scopes, purged on Close
}

// Open opens (or creates) the cache file in opts.Dir. It never fails: when the file
// cannot be used, the returned cache is disabled and Warning says why. A file another
// process holds is left alone; a corrupt one is renamed aside and a fresh one started.
// Ephemeral scopes left by a crashed run are purged before Open returns.
func Open(opts Options) *Cache {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Cache{opts: opts, ephemeral: map[string]*Scope{}}
	dir := opts.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			c.warn("running without a response cache: %v", err)
			return c
		}
		dir = d
	}
	if err := privdir.Ensure(dir, cacheDirEntry); err != nil {
		c.warn("running without a response cache: %v", err)
		return c
	}
	c.path = filepath.Join(dir, FileName)

	db, size, err := openFile(c.path, opts.LockTimeout)
	switch {
	case err == nil:
	case errors.Is(err, bolterrors.ErrTimeout):
		c.warn("running without a response cache: %s is in use by another shadow process", c.path)
		return c
	default:
		aside, moveErr := setAside(c.path)
		if moveErr != nil {
			c.warn("running without a response cache: %s is unusable (%v) and could not be moved aside: %v", c.path, err, moveErr)
			return c
		}
		c.warn("the response cache was unusable (%v); moved it to %s and started a new one", err, aside)
		db, size, err = openFile(c.path, opts.LockTimeout)
		if err != nil {
			c.warn("running without a response cache: %v", err)
			return c
		}
	}
	c.db = db
	c.size.Store(size)
	return c
}

// Path is the cache file, or "" when no directory could be used.
func (c *Cache) Path() string {
	if c == nil {
		return ""
	}
	return c.path
}

// Enabled reports whether the cache is in use (false after a failure or when nil).
func (c *Cache) Enabled() bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.db != nil
}

// Warning says, for a person, why the cache is not (or no longer fully) in use, or ""
// when all is well. The CLI prints it at start.
func (c *Cache) Warning() string {
	if c == nil {
		return ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return strings.Join(c.warnings, "; ")
}

// Size is the number of bytes the entries take (keys and values).
func (c *Cache) Size() int64 {
	if c == nil {
		return 0
	}
	return c.size.Load()
}

// Close purges every ephemeral scope opened by this process and closes the file.
func (c *Cache) Close() error {
	if c == nil {
		return nil
	}
	c.scopesMu.Lock()
	open := make([]*Scope, 0, len(c.ephemeral))
	for _, s := range c.ephemeral {
		open = append(open, s)
	}
	c.scopesMu.Unlock()
	var errs []error
	for _, s := range open {
		if err := s.Purge(); err != nil {
			errs = append(errs, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db != nil {
		if err := c.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close cache: %w", err))
		}
		c.db = nil
	}
	return errors.Join(errs...)
}

func (c *Cache) warn(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// do runs fn against the open database, turning a bbolt panic (a corrupt page) into
// an error. It reports false when the cache is disabled. Any error disables the cache:
// it is never worth a wrong answer.
func (c *Cache) do(write bool, fn func(tx *bolt.Tx) error) (ok bool) {
	if c == nil {
		return false
	}
	err, ran := c.run(write, fn)
	if err != nil {
		c.fail(err)
		return false
	}
	return ran
}

func (c *Cache) run(write bool, fn func(tx *bolt.Tx) error) (err error, ran bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.db == nil {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			err = &corruptError{fmt.Sprint(r)}
		}
	}()
	if write {
		return c.db.Update(fn), true
	}
	return c.db.View(fn), true
}

// corruptError is a bbolt panic caught while reading or writing the file.
type corruptError struct{ what string }

func (e *corruptError) Error() string { return "cache file is corrupt: " + e.what }

// fail disables the cache after an error, moving a corrupt file aside so the next run
// starts clean.
func (c *Cache) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return
	}
	_ = c.db.Close() // the file is being abandoned; its close error adds nothing
	c.db = nil
	var corrupt *corruptError
	if errors.As(err, &corrupt) {
		if aside, moveErr := setAside(c.path); moveErr == nil {
			c.warn("stopped using the response cache: %v (moved to %s)", err, aside)
			return
		}
	}
	c.warn("stopped using the response cache: %v", err)
}

// openFile opens the bbolt file, reads every entry once (a corrupt page panics or
// errors here rather than mid-session), drops ephemeral scopes left by a crash, and
// returns the bytes stored.
func openFile(path string, lockTimeout time.Duration) (db *bolt.DB, size int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, size, err = nil, 0, &corruptError{fmt.Sprint(r)}
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, 0, err
	}
	// A cache is not the source of truth: skipping fsync keeps writes cheap, and a
	// file torn by a crash is caught by the read below and set aside.
	db.NoSync = true
	if err := os.Chmod(path, 0o600); err != nil {
		_ = db.Close()
		return nil, 0, fmt.Errorf("restrict cache file: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var leftovers [][]byte
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if isEphemeralName(name) {
				leftovers = append(leftovers, append([]byte(nil), name...))
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				if _, err := decodeStoredAt(v); err != nil {
					return err
				}
				size += int64(len(k) + len(v))
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, name := range leftovers {
			if err := tx.DeleteBucket(name); err != nil {
				return fmt.Errorf("purge leftover session entries: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, 0, &corruptError{err.Error()}
	}
	return db, size, nil
}

// cacheDirEntry reports what shadow keeps in a cache dir: the cache file, files set aside
// from it, and directories (the demo's cache).
func cacheDirEntry(e fs.DirEntry) bool { return e.IsDir() || strings.HasPrefix(e.Name(), FileName) }

// setAside renames a bad cache file out of the way and returns its new name.
func setAside(path string) (string, error) {
	aside := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000")
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, nil
}

// Scope names. The name is a hash of the identity so the file never holds a user id,
// session id or credential in the clear; the prefix tells ephemeral scopes apart so
// start-up can purge them without knowing whose they were.
const (
	persistentPrefix = "p:"
	ephemeralPrefix  = "e:"
	scopeDomain      = "shadow.cache.scope.v1\x00"
)

func scopeName(prefix, identity string) []byte {
	sum := sha256.Sum256([]byte(scopeDomain + identity))
	return []byte(prefix + hex.EncodeToString(sum[:16]))
}

func isEphemeralName(name []byte) bool {
	return strings.HasPrefix(string(name), ephemeralPrefix)
}

// evictIfOver removes the oldest entries (by when they were stored or last
// revalidated) until the cache is at three quarters of its cap.
func (c *Cache) evictIfOver() {
	if c.size.Load() <= c.opts.MaxBytes {
		return
	}
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	if c.size.Load() <= c.opts.MaxBytes {
		return
	}
	type victim struct {
		bucket, key []byte
		storedAt    int64
		size        int64
	}
	target := c.opts.MaxBytes * 3 / 4
	c.do(true, func(tx *bolt.Tx) error {
		var all []victim
		var total int64
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				at, err := decodeStoredAt(v)
				if err != nil {
					return err
				}
				n := int64(len(k) + len(v))
				total += n
				all = append(all, victim{append([]byte(nil), name...), append([]byte(nil), k...), at, n})
				return nil
			})
		})
		if err != nil {
			return err
		}
		sort.Slice(all, func(i, j int) bool { return all[i].storedAt < all[j].storedAt })
		for _, v := range all {
			if total <= target {
				break
			}
			if err := tx.Bucket(v.bucket).Delete(v.key); err != nil {
				return err
			}
			total -= v.size
		}
		c.size.Store(total)
		return nil
	})
}

// Stored entry layout: version byte, stored-at (unix nanoseconds, big-endian), then the
// payload (ETag and body; sealed for ephemeral scopes). The time stays outside the seal
// so eviction can order entries of every scope without their keys.
const (
	entryVersion    = 1
	entryHeaderSize = 1 + 8
)

func decodeStoredAt(v []byte) (int64, error) {
	if len(v) < entryHeaderSize || v[0] != entryVersion {
		return 0, errors.New("cache entry has an unknown layout")
	}
	return int64(binary.BigEndian.Uint64(v[1:entryHeaderSize])), nil
}

package cache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/internal/privdir/privdirtest"
)

// clock is a settable time source for TTL tests.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openTest(t *testing.T, dir string, opts Options) *Cache {
	t.Helper()
	opts.Dir = dir
	c := Open(opts)
	if !c.Enabled() {
		t.Fatalf("cache disabled: %s", c.Warning())
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPutGetFreshStaleRefresh(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := openTest(t, t.TempDir(), Options{TTL: 10 * time.Second, Now: clk.Now})
	s := c.Persistent("https://api.example|u-staff")

	if _, ok := s.Get("/api/v1/users?q=al"); ok {
		t.Fatal("hit on an empty cache")
	}
	at, stored := s.Put("/api/v1/users?q=al", `"v1"`, []byte(`{"users":[]}`))
	e, ok := s.Get("/api/v1/users?q=al")
	if !ok || !e.Fresh || e.ETag != `"v1"` || string(e.Body) != `{"users":[]}` {
		t.Fatalf("got %+v, %v", e, ok)
	}
	if !stored || !at.Equal(e.StoredAt) {
		t.Fatalf("Put said %v, %v; the entry was stored at %v", at, stored, e.StoredAt)
	}
	clk.Advance(11 * time.Second)
	e, ok = s.Get("/api/v1/users?q=al")
	if !ok || e.Fresh {
		t.Fatalf("after the TTL the entry must be stale but present: %+v, %v", e, ok)
	}
	refreshedAt, ok := s.Refresh("/api/v1/users?q=al")
	if e, _ = s.Get("/api/v1/users?q=al"); !ok || !e.Fresh || string(e.Body) != `{"users":[]}` || !refreshedAt.Equal(e.StoredAt) {
		t.Fatalf("a 304 refresh must make the entry fresh again with the same body: %+v", e)
	}
	if _, ok := s.Refresh("/api/v1/users?q=nothing-stored"); ok {
		t.Fatal("refreshed an entry that does not exist")
	}
	// A later store replaces the entry and the size does not double count it.
	before := c.Size()
	s.Put("/api/v1/users?q=al", `"v2"`, []byte(`{"users":[1]}`))
	if e, _ = s.Get("/api/v1/users?q=al"); e.ETag != `"v2"` {
		t.Fatalf("replace: %+v", e)
	}
	if got := c.Size(); got != before+1 {
		t.Fatalf("size %d after replacing with a body one byte longer, want %d", got, before+1)
	}
}

func TestScopesAreIsolated(t *testing.T) {
	t.Parallel()
	c := openTest(t, t.TempDir(), Options{})
	a := c.Persistent("srv|alice")
	b := c.Persistent("srv|bob")
	a.Put("/api/v1/me", "", []byte(`alice`))
	if _, ok := b.Get("/api/v1/me"); ok {
		t.Fatal("bob read alice's entry")
	}
	sess, err := c.Ephemeral("srv|session-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sess.Get("/api/v1/me"); ok {
		t.Fatal("the session scope read the staff scope's entry")
	}
	sess.Put("/api/v1/me", "", []byte(`impersonated`))
	if e, _ := a.Get("/api/v1/me"); string(e.Body) != "alice" {
		t.Fatalf("the session overwrote the staff entry: %q", e.Body)
	}
}

func TestFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shadow")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := openTest(t, dir, Options{})
	c.Persistent("x").Put("/a", "", []byte("b"))
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v, want 0700", di.Mode().Perm())
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestASharedCacheDirIsLeftAlone: --cache-dir pointed at a directory that holds other
// people's files must not have its permissions changed. If others may write to it (they
// could swap the cache file), shadow runs without a cache and says why; if they may only
// read it, the cache file's own 0600 keeps it private.
func TestASharedCacheDirIsLeftAlone(t *testing.T) {
	t.Parallel()
	tmpLike := privdirtest.Shared(t, privdirtest.TmpLike)
	c := Open(Options{Dir: tmpLike})
	defer c.Close()
	if c.Enabled() || !strings.Contains(c.Warning(), "writable by other users") {
		t.Fatalf("a world-writable shared dir: enabled %v, warning %q", c.Enabled(), c.Warning())
	}
	if got := privdirtest.Mode(t, tmpLike); got != privdirtest.TmpLike {
		t.Fatalf("the shared dir's mode became %v", got)
	}

	readable := privdirtest.Shared(t, 0o755)
	c2 := openTest(t, readable, Options{})
	c2.Persistent("x").Put("/a", "", []byte("b"))
	if got := privdirtest.Mode(t, readable); got != 0o755 {
		t.Fatalf("the shared dir's mode became %v", got)
	}
	if got := privdirtest.Mode(t, filepath.Join(readable, FileName)); got != 0o600 {
		t.Fatalf("cache file mode %v, want 0600", got)
	}
}

func TestDefaultDirFollowsXDG(t *testing.T) {
	// Not parallel: it sets an environment variable.
	base := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", base)
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(base, "shadow") {
		t.Fatalf("DefaultDir %q", dir)
	}
	c := Open(Options{})
	defer c.Close()
	if c.Path() != filepath.Join(base, "shadow", FileName) || !c.Enabled() {
		t.Fatalf("Open with no dir used %q (%s)", c.Path(), c.Warning())
	}
}

func TestPersistentScopeSurvivesReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := Open(Options{Dir: dir})
	c.Persistent("srv|staff").Put("/api/v1/users?q=a", `"e"`, []byte("page"))
	size := c.Size()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTest(t, dir, Options{})
	e, ok := c.Persistent("srv|staff").Get("/api/v1/users?q=a")
	if !ok || string(e.Body) != "page" {
		t.Fatalf("staff directory entry lost on reopen: %+v %v", e, ok)
	}
	if c.Size() != size {
		t.Fatalf("size %d after reopen, want %d", c.Size(), size)
	}
}

// rawFile reads the cache file's bytes as they are on disk.
func rawFile(t *testing.T, c *Cache) []byte {
	t.Helper()
	b, err := os.ReadFile(c.Path())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEphemeralScopeIsSealedAndPurged(t *testing.T) {
	t.Parallel()
	c := openTest(t, t.TempDir(), Options{})
	s, err := c.Ephemeral("srv|sess-42")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Ephemeral() {
		t.Fatal("Ephemeral scope does not say so")
	}
	secretURL := "/api/v1/dashboards/d-payroll-secret"
	secretBody := []byte(`{"title":"Payroll of Zorblax Quinterra"}`)
	s.Put(secretURL, `"etag-zq"`, secretBody)
	if e, ok := s.Get(secretURL); !ok || !bytes.Equal(e.Body, secretBody) || e.ETag != `"etag-zq"` {
		t.Fatalf("round trip through the sealed scope: %+v %v", e, ok)
	}
	for _, needle := range []string{"Zorblax", "d-payroll-secret", "etag-zq", "sess-42"} {
		if bytes.Contains(rawFile(t, c), []byte(needle)) {
			t.Errorf("the cache file holds %q in the clear while the session is open", needle)
		}
	}
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(secretURL); ok {
		t.Fatal("entry readable after purge")
	}
	s.Put(secretURL, "", secretBody)
	if _, ok := s.Get(secretURL); ok {
		t.Fatal("a purged scope accepted a new entry")
	}
	if c.Size() != 0 {
		t.Fatalf("size %d after purging the only scope", c.Size())
	}
	if names := bucketNames(t, c); len(names) != 0 {
		t.Fatalf("buckets %q survived the purge", names)
	}
}

func bucketNames(t *testing.T, c *Cache) []string {
	t.Helper()
	var names []string
	if !c.do(false, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	}) {
		t.Fatalf("cache disabled: %s", c.Warning())
	}
	return names
}

func TestEphemeralReopenStartsEmpty(t *testing.T) {
	t.Parallel()
	c := openTest(t, t.TempDir(), Options{})
	s1, _ := c.Ephemeral("srv|sess")
	s1.Put("/a", "", []byte("one"))
	s2, _ := c.Ephemeral("srv|sess")
	if _, ok := s2.Get("/a"); ok {
		t.Fatal("a new ephemeral scope saw entries sealed with an old key")
	}
	if c.Size() != 0 {
		t.Fatalf("old entries still counted: %d", c.Size())
	}
}

func TestCrashLeftoversArePurgedAtStartup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := Open(Options{Dir: dir})
	c.Persistent("srv|staff").Put("/api/v1/users", "", []byte("directory"))
	s, _ := c.Ephemeral("srv|sess-crash")
	s.Put("/api/v1/dashboards", "", []byte("session data"))
	// Simulate a crash: the file is closed without Close's purge.
	c.mu.Lock()
	_ = c.db.Close()
	c.db = nil
	c.mu.Unlock()

	c2 := openTest(t, dir, Options{})
	buckets := bucketNames(t, c2)
	if len(buckets) != 1 || !strings.HasPrefix(buckets[0], persistentPrefix) {
		t.Fatalf("after restart the buckets are %q; want only the staff scope", buckets)
	}
	if e, ok := c2.Persistent("srv|staff").Get("/api/v1/users"); !ok || string(e.Body) != "directory" {
		t.Fatal("the staff directory should persist across a crash")
	}
}

func TestClosePurgesOpenSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := Open(Options{Dir: dir})
	s, _ := c.Ephemeral("srv|sess")
	s.Put("/x", "", []byte("y"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			t.Errorf("bucket %q left after Close", name)
			return nil
		})
	})
}

func TestSizeCapEvictsOldestFirst(t *testing.T) {
	t.Parallel()
	clk := newClock()
	const maxBytes = 8 << 10
	c := openTest(t, t.TempDir(), Options{MaxBytes: maxBytes, Now: clk.Now})
	s := c.Persistent("srv|staff")
	body := bytes.Repeat([]byte("x"), 500)
	for i := range 60 {
		clk.Advance(time.Second)
		s.Put(fmt.Sprintf("/api/v1/users?cursor=%03d", i), "", body)
		if c.Size() > maxBytes {
			t.Fatalf("after put %d the cache holds %d bytes, over its cap of %d", i, c.Size(), maxBytes)
		}
	}
	if _, ok := s.Get("/api/v1/users?cursor=059"); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := s.Get("/api/v1/users?cursor=000"); ok {
		t.Error("the oldest entry survived eviction")
	}
	// The recorded size matches what is actually stored.
	var actual int64
	c.do(false, func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				actual += int64(len(k) + len(v))
				return nil
			})
		})
	})
	if actual != c.Size() {
		t.Fatalf("Size() %d, stored %d", c.Size(), actual)
	}
	// An entry bigger than a quarter of the cap is not stored at all.
	s.Put("/huge", "", bytes.Repeat([]byte("y"), maxBytes/4))
	if _, ok := s.Get("/huge"); ok {
		t.Error("an oversized entry was stored")
	}
}

func TestCorruptFileIsSetAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	garbage := bytes.Repeat([]byte("not a bbolt file "), 1000)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	c := Open(Options{Dir: dir})
	defer c.Close()
	if !c.Enabled() {
		t.Fatalf("a corrupt file should be replaced by a fresh cache: %s", c.Warning())
	}
	if w := c.Warning(); !strings.Contains(w, "moved it to") {
		t.Fatalf("warning %q does not say the file was set aside", w)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("set-aside files: %q", aside)
	}
	if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, garbage) {
		t.Fatal("the set-aside file is not the original bytes")
	}
	s := c.Persistent("x")
	s.Put("/a", "", []byte("b"))
	if _, ok := s.Get("/a"); !ok {
		t.Fatal("the fresh cache does not work")
	}
}

func TestLockedFileRunsWithoutCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	holder := openTest(t, dir, Options{})
	holder.Persistent("x").Put("/a", "", []byte("b"))

	c := Open(Options{Dir: dir, LockTimeout: 20 * time.Millisecond})
	defer c.Close()
	if c.Enabled() {
		t.Fatal("a second process got the locked file")
	}
	if w := c.Warning(); !strings.Contains(w, "in use by another shadow process") {
		t.Fatalf("warning %q", w)
	}
	// Every operation behaves as an empty cache.
	s := c.Persistent("x")
	if _, ok := s.Get("/a"); ok {
		t.Fatal("a disabled cache returned an entry")
	}
	s.Put("/b", "", []byte("c"))
	s.Refresh("/b")
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	e, err := c.Ephemeral("x")
	if err != nil {
		t.Fatal(err)
	}
	e.Put("/z", "", nil)
	// The holder's file was not touched.
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 1 {
		t.Fatalf("files in the cache dir: %q", files)
	}
}

func TestNilCacheIsAnEmptyCache(t *testing.T) {
	t.Parallel()
	var c *Cache
	if c.Enabled() || c.Warning() != "" || c.Size() != 0 || c.Path() != "" || c.Close() != nil {
		t.Fatal("nil cache misbehaves")
	}
	s := c.Persistent("x")
	s.Put("/a", "", []byte("b"))
	if _, ok := s.Get("/a"); ok {
		t.Fatal("nil scope hit")
	}
	s.Refresh("/a")
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	e, err := c.Ephemeral("x")
	if err != nil || e != nil {
		t.Fatal("nil cache made an ephemeral scope")
	}
}

// A page of the file overwritten while it is open (a disk fault, another program)
// makes bbolt panic or fail; the cache must turn that into a warning and a miss.
func TestCorruptionWhileOpenDisablesTheCache(t *testing.T) {
	t.Parallel()
	c := openTest(t, t.TempDir(), Options{})
	s := c.Persistent("srv|staff")
	for i := range 200 {
		s.Put(fmt.Sprintf("/api/v1/users?cursor=%03d", i), "", bytes.Repeat([]byte("v"), 300))
	}
	f, err := os.OpenFile(c.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	junk := bytes.Repeat([]byte{0xff}, int(info.Size())-2*4096)
	if _, err := f.WriteAt(junk, 2*4096); err != nil { // everything after the two meta pages
		t.Fatal(err)
	}
	_ = f.Close()

	for i := range 200 {
		s.Get(fmt.Sprintf("/api/v1/users?cursor=%03d", i))
	}
	s.Put("/api/v1/users?cursor=new", "", []byte("x"))
	if c.Enabled() {
		t.Fatal("the cache kept running on a corrupt file")
	}
	t.Log(c.Warning())
	if w := c.Warning(); !strings.Contains(w, "stopped using the response cache") {
		t.Fatalf("warning %q", w)
	}
	if _, ok := s.Get("/api/v1/users?cursor=001"); ok {
		t.Fatal("a disabled cache returned an entry")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := openTest(t, t.TempDir(), Options{MaxBytes: 64 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := c.Persistent(fmt.Sprint("id", g%2))
			e, _ := c.Ephemeral(fmt.Sprint("sess", g))
			for i := range 100 {
				url := fmt.Sprintf("/u/%d", i%17)
				s.Put(url, "", bytes.Repeat([]byte("a"), 200))
				e.Put(url, "", bytes.Repeat([]byte("b"), 200))
				s.Get(url)
				e.Get(url)
				s.Refresh(url)
			}
			if err := e.Purge(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if !c.Enabled() {
		t.Fatal(c.Warning())
	}
}

package client

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/cache"
	"github.com/shadowview/shadow/server"
)

// The client with a real bbolt cache, against the real server.

type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openCache(t testing.TB, dir string, clk *testClock) *cache.Cache {
	t.Helper()
	opts := cache.Options{Dir: dir, TTL: time.Hour}
	if clk != nil {
		opts.Now = clk.Now
	}
	ch := cache.Open(opts)
	if !ch.Enabled() {
		t.Fatalf("cache: %s", ch.Warning())
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

func cachedStaff(t testing.TB, ts *testServer, ch *cache.Cache) *Client {
	opts := testOptions(ts.URL)
	opts.Cache = ch
	return signIn(t, ts, opts, server.DemoSupportEmail)
}

func TestCachedRevisitFreshHitAnd304(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clk := newTestClock()
	c := cachedStaff(t, ts, openCache(t, t.TempDir(), clk))
	v, _ := startNora(t, c)
	ctx := ctxT(t)
	list, err := v.Dashboards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := list.Dashboards[0].ID

	// The memo must hold the value of exactly the entry on disk, or it is never used.
	key := api.Prefix + "/dashboards/" + id
	memoMatchesDisk := func(when string) {
		t.Helper()
		v.mu.RLock()
		defer v.mu.RUnlock()
		entry, ok := v.scope.Get(key)
		m, memoised := v.memo.entries[key]
		if !ok || !memoised || m.etag != entry.ETag || !m.storedAt.Equal(entry.StoredAt) {
			t.Fatalf("%s: memo %+v does not match the cached entry (ETag %q, stored %v)", when, m, entry.ETag, entry.StoredAt)
		}
	}

	before := ts.reached.Load()
	first, err := v.Dashboard(ctx, id)
	if err != nil || ts.reached.Load() != before+1 {
		t.Fatalf("first visit: %v", err)
	}
	memoMatchesDisk("after the first visit")
	again, err := v.Dashboard(ctx, id)
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Fatalf("fresh revisit differs: %v", err)
	}
	if ts.reached.Load() != before+1 {
		t.Fatal("a fresh revisit went to the server")
	}

	clk.Advance(2 * time.Hour) // past the TTL: revalidate
	revalidated, err := v.Dashboard(ctx, id)
	if err != nil || !reflect.DeepEqual(first, revalidated) {
		t.Fatalf("revalidated revisit differs: %v", err)
	}
	reqs := ts.requests()
	last := reqs[len(reqs)-1]
	if ts.reached.Load() != before+2 || last.IfNoneMatch == "" || last.Status != 304 {
		t.Fatalf("want one conditional request answered 304, got %+v", last)
	}
	memoMatchesDisk("after the 304")
	if _, err := v.Dashboard(ctx, id); err != nil || ts.reached.Load() != before+2 {
		t.Fatal("a 304 must make the entry fresh again")
	}

	// Session state and identity are always asked live.
	before = ts.reached.Load()
	for range 2 {
		if _, err := v.Me(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := v.GetSession(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := ts.reached.Load() - before; got != 4 {
		t.Fatalf("me and session were served from the cache (%d requests for 4 calls)", got)
	}
}

// After a session ends, nothing of it remains in the cache file: not its data, not
// its URLs, not its token — checked in the file's raw bytes.
func TestSessionLeavesNothingInTheCacheFile(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ch := openCache(t, t.TempDir(), nil)
	c := cachedStaff(t, ts, ch)
	ctx := ctxT(t)

	// The staff member's own directory search may persist, and does.
	if _, err := c.Users(ctx, UsersQuery{Query: "bluebird"}); err != nil {
		t.Fatal(err)
	}
	staffOnly := ch.Size()
	if staffOnly == 0 {
		t.Fatal("the directory search was not cached")
	}

	reason := "ticket ZX-81723: fleet widgets blank"
	v, sess, err := c.StartSession(ctx, server.DemoFleetManagerID, reason)
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string]bool{sess.ID: true, v.token: true, c.token: true, reason: true,
		sess.User.Name: true, sess.User.Email: true}
	list, err := v.Dashboards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.Dashboards {
		needles[d.Title] = true
		needles[api.Prefix+"/dashboards/"+d.ID] = true
		full, err := v.Dashboard(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range full.Widgets {
			needles[w.Title] = true
			if w.Table != nil {
				for _, row := range w.Table.Rows {
					for _, cell := range row.Cells {
						if len(cell.Value) >= 8 {
							needles[cell.Value] = true
						}
					}
				}
			}
		}
	}
	matrix, err := v.Permissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range matrix.Rows {
		needles[row.Resource.Name] = true
		if i < 5 {
			expl, err := v.Explain(ctx, row.Resource.ID, matrix.Actions[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range expl.Steps {
				needles[s.Text] = true
			}
		}
	}
	if ch.Size() <= staffOnly {
		t.Fatal("the session's reads were not cached, so this test proves nothing")
	}

	if err := c.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if ch.Size() != staffOnly {
		t.Fatalf("the cache holds %d bytes after the session, %d before it", ch.Size(), staffOnly)
	}
	raw, err := os.ReadFile(ch.Path())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for needle := range needles {
		if len(needle) < 6 || strings.Contains(strings.ToLower("bluebird couriers"), strings.ToLower(needle)) {
			continue // too short to mean anything, or part of the staff's own search
		}
		checked++
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the cache file still holds %q", needle)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d distinctive strings checked", checked)
	}
	// The staff scope is untouched.
	before := ts.reached.Load()
	if _, err := c.Users(ctx, UsersQuery{Query: "bluebird"}); err != nil || ts.reached.Load() != before {
		t.Fatalf("the staff directory entry did not survive the session: %v", err)
	}
}

// The server ending a session (here from another client) is noticed on the next live
// call; the view then closes and purges, and stops serving even cached pages.
func TestSessionEndedElsewhereClosesTheView(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ch := openCache(t, t.TempDir(), nil)
	c := cachedStaff(t, ts, ch)
	ctx := ctxT(t)
	v, id := startNora(t, c)
	list, err := v.Dashboards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := staff(t, ts)
	if err := other.EndSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = v.Me(ctx)
	var e *Error
	if !isKind(err, ErrSessionExpired, &e) || e.Local || e.Status != 401 {
		t.Fatalf("me after the session ended: %v", err)
	}
	if !v.Closed() || ch.Size() != 0 {
		t.Fatalf("closed %v, cache %d bytes", v.Closed(), ch.Size())
	}
	before := ts.arrived.Load()
	if _, err := v.Dashboards(ctx); !isKind(err, ErrSessionExpired, &e) || !e.Local || ts.arrived.Load() != before {
		t.Fatalf("a closed view served %v: %v", list.Dashboards[0].ID, err)
	}
}

// TestAFailedRevalidationReturnsNoCachedData: a stale entry is loaded to be offered
// with If-None-Match; when the server then refuses (here: the session was ended
// elsewhere), the call must return the error alone, not the session's cached data
// beside it — nothing the session showed may be handed out once the server says it is
// over.
func TestAFailedRevalidationReturnsNoCachedData(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	clk := newTestClock()
	c := cachedStaff(t, ts, openCache(t, t.TempDir(), clk))
	ctx := ctxT(t)
	v, id := startNora(t, c)
	if d, err := v.Dashboard(ctx, "d-acme-fleet"); err != nil || len(d.Widgets) == 0 {
		t.Fatalf("first read: %v", err)
	}
	if err := staff(t, ts).EndSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // stale: the next read revalidates
	d, err := v.Dashboard(ctx, "d-acme-fleet")
	var e *Error
	if !isKind(err, ErrSessionExpired, &e) || e.Local {
		t.Fatalf("revalidating after the end: %v", err)
	}
	if d.ID != "" || d.Widgets != nil {
		t.Fatalf("the error came with the session's cached dashboard %q (%d widgets)", d.ID, len(d.Widgets))
	}
}

func isKind(err, kind error, e **Error) bool {
	return err != nil && errors.As(err, e) && errors.Is(err, kind)
}

func TestDirectoryPersistsAcrossRunsPerIdentity(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	dir := t.TempDir()
	ch := cache.Open(cache.Options{Dir: dir, TTL: time.Hour})
	c := cachedStaff(t, ts, ch)
	first, err := c.Users(ctxT(t), UsersQuery{Query: "acme", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}

	// Next run: the same staff member gets the page without a request…
	ch2 := openCache(t, dir, nil)
	c2 := cachedStaff(t, ts, ch2)
	before := ts.reached.Load()
	again, err := c2.Users(ctxT(t), UsersQuery{Query: "acme", Limit: 3})
	if err != nil || !reflect.DeepEqual(first, again) || ts.reached.Load() != before {
		t.Fatalf("directory not served from the persisted cache: %v", err)
	}
	// …and another identity does not see it.
	opts := testOptions(ts.URL)
	opts.Cache = ch2
	agent := signIn(t, ts, opts, server.DemoAgentEmail)
	before = ts.reached.Load()
	if _, err := agent.Users(ctxT(t), UsersQuery{Query: "acme", Limit: 3}); err != nil || ts.reached.Load() != before+1 {
		t.Fatalf("another identity was served the support admin's cached page: %v", err)
	}
	raw, _ := os.ReadFile(ch2.Path())
	for _, tok := range []string{c.token, c2.token, agent.token} {
		if bytes.Contains(raw, []byte(tok)) {
			t.Fatal("a token is in the cache file")
		}
	}
}

func TestLockedCacheClientWorksWithout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	dir := t.TempDir()
	openCache(t, dir, nil) // another process holds it
	locked := cache.Open(cache.Options{Dir: dir, LockTimeout: 10 * time.Millisecond})
	defer locked.Close()
	if locked.Enabled() || locked.Warning() == "" {
		t.Fatal("the second open should run without a cache, with a warning")
	}
	c := cachedStaff(t, ts, locked)
	v, _ := startNora(t, c)
	for range 2 {
		if _, err := v.Dashboards(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Users(ctxT(t), UsersQuery{Query: "a"}); err != nil {
		t.Fatal(err)
	}
}

// The session's expiry is kept locally too: once it passes, the view refuses without
// asking, even for a page it has cached, and the cache is purged.
func TestExpiredSessionClosesTheViewLocally(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ch := openCache(t, t.TempDir(), nil)
	c := cachedStaff(t, ts, ch)
	ctx := ctxT(t)
	v, sess, err := c.StartSession(ctx, server.DemoFleetManagerID, "short look", WithTTL(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// The server truncates expiry to the second: 2s asked is 1–2s given.
	if got := sess.ExpiresAt.Sub(sess.StartedAt); got < time.Second || got > 2*time.Second {
		t.Fatalf("asked for 2s, the server gave %v", got)
	}
	if _, err := v.Dashboards(ctx); err != nil {
		t.Fatal(err)
	}
	if ch.Size() == 0 {
		t.Fatal("nothing cached")
	}
	time.Sleep(v.Remaining() + 10*time.Millisecond)
	before := ts.arrived.Load()
	_, err = v.Dashboards(ctx)
	var e *Error
	if !isKind(err, ErrSessionExpired, &e) || !e.Local || ts.arrived.Load() != before {
		t.Fatalf("after expiry: %v (%d requests)", err, ts.arrived.Load()-before)
	}
	if !v.Closed() || ch.Size() != 0 {
		t.Fatalf("closed %v, cache %d bytes", v.Closed(), ch.Size())
	}
	if got := WithTTL(300 * time.Millisecond); got != nil {
		var r api.StartSessionRequest
		got(&r)
		if r.TTLSeconds != 1 {
			t.Fatalf("a sub-second TTL became %d seconds (0 would mean the 30-minute default)", r.TTLSeconds)
		}
	}
}

// Reads racing the end of their session get a value or ErrSessionExpired, never a
// panic or a data race, and nothing is left cached.
func TestReadsRacingTheEndOfTheSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ch := openCache(t, t.TempDir(), nil)
	c := cachedStaff(t, ts, ch)
	ctx := ctxT(t)
	v, sess, err := c.StartSession(ctx, server.DemoFleetManagerID, "race")
	if err != nil {
		t.Fatal(err)
	}
	list, err := v.Dashboards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				var err error
				switch (g + i) % 3 {
				case 0:
					_, err = v.Dashboard(ctx, list.Dashboards[i%len(list.Dashboards)].ID)
				case 1:
					_, err = v.Permissions(ctx)
				default:
					_, err = v.Me(ctx)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := c.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrSessionExpired) {
			t.Errorf("a racing read failed with %v", err)
		}
	}
	if ch.Size() != 0 {
		t.Fatalf("%d bytes cached after the session ended", ch.Size())
	}
}

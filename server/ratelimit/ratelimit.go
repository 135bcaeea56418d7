// Package ratelimit holds the server's counters of "too much": failures per key (an
// email, a client address) in a sliding window, reserved before the work they guard
// so concurrent attempts cannot slip past the limit (Limiter); a token bucket per key
// for volumes (Bucket); and which of many like events deserve a record of their own
// (Suppressor).
//
// It owns counting only: no HTTP, no storage (limits reset on restart, which is fine
// for windows of minutes). Every type bounds its memory under a flood of distinct keys.
package ratelimit

import (
	"sync"
	"time"
)

// defaultMaxKeys bounds the keys each counter keeps.
const defaultMaxKeys = 100_000

// Limiter allows at most Max failures per key within Window. An attempt is reserved
// before it is checked (Reserve), counting as a failure until it is known to have
// succeeded (Cancel): so n concurrent attempts against a limit of k leave at most k to
// be checked, however they interleave.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time
	// maxKeys bounds memory under a flood of distinct keys: beyond it, keys with no
	// recent failure are dropped first, then arbitrary ones (the limiter then forgets
	// rather than refusing everyone).
	maxKeys int

	mu     sync.Mutex
	keys   map[string][]entry // failures and reservations, oldest first, at most max
	nextID uint64
}

type entry struct {
	at time.Time
	id uint64
}

// New returns a limiter; now is the clock (nil for time.Now).
func New(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, maxKeys: defaultMaxKeys, keys: map[string][]entry{}}
}

// Wait returns how long key must wait before its next attempt (0: it may go now).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(l.recent(key))
}

func (l *Limiter) wait(fails []entry) time.Duration {
	if len(fails) < l.max {
		return 0
	}
	return max(fails[0].at.Add(l.window).Sub(l.now()), time.Nanosecond)
}

// Reservation is an attempt counted against a key before its outcome is known.
type Reservation struct {
	l   *Limiter
	key string
	id  uint64
}

// Reserve counts an attempt for key now, as a failure, if the key may make one; else
// it returns how long the key must wait and a Reservation that does nothing.
func (l *Limiter) Reserve(key string) (Reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fails := l.recent(key)
	if wait := l.wait(fails); wait > 0 {
		return Reservation{}, wait
	}
	if _, ok := l.keys[key]; !ok && len(l.keys) >= l.maxKeys {
		l.evict()
	}
	l.nextID++
	l.keys[key] = append(fails, entry{at: l.now(), id: l.nextID})
	return Reservation{l: l, key: key, id: l.nextID}, 0
}

// Cancel withdraws the attempt: it succeeded, so it does not count.
func (r Reservation) Cancel() {
	if r.l == nil {
		return
	}
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	fails := r.l.keys[r.key]
	for i, e := range fails {
		if e.id == r.id {
			fails = append(fails[:i:i], fails[i+1:]...)
			break
		}
	}
	if len(fails) == 0 {
		delete(r.l.keys, r.key)
		return
	}
	r.l.keys[r.key] = fails
}

// Fail records a failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fails := l.recent(key)
	if len(fails) >= l.max {
		fails = fails[1:]
	}
	if _, ok := l.keys[key]; !ok && len(l.keys) >= l.maxKeys {
		l.evict()
	}
	l.nextID++
	l.keys[key] = append(fails, entry{at: l.now(), id: l.nextID})
}

// Reset forgets key's failures (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// recent drops failures older than the window and returns the rest.
func (l *Limiter) recent(key string) []entry {
	fails := l.keys[key]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(fails) && !fails[i].at.After(cut) {
		i++
	}
	if i == len(fails) {
		delete(l.keys, key)
		return nil
	}
	if i > 0 {
		fails = append([]entry(nil), fails[i:]...)
		l.keys[key] = fails
	}
	return fails
}

func (l *Limiter) evict() {
	cut := l.now().Add(-l.window)
	for k, fails := range l.keys {
		if len(fails) == 0 || !fails[len(fails)-1].at.After(cut) {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.maxKeys {
			return
		}
		delete(l.keys, k)
	}
}

// Bucket is a token bucket per key: each key holds up to Burst tokens, refilled at
// PerMinute a minute. A zero-value limit (PerMinute <= 0) never refuses.
type Bucket struct {
	perMinute, burst float64
	now              func() time.Time
	maxKeys          int

	mu   sync.Mutex
	keys map[string]*bucketState
}

type bucketState struct {
	tokens float64
	at     time.Time
}

// NewBucket returns a bucket limiter (burst <= 0: a minute's worth); now is the clock
// (nil for time.Now).
func NewBucket(perMinute, burst int, now func() time.Time) *Bucket {
	return NewBucketPer(perMinute, time.Minute, burst, now)
}

// NewBucketPer returns a bucket limiter refilled at n tokens per period (an hour, say;
// burst <= 0: a period's worth); now is the clock (nil for time.Now).
func NewBucketPer(n int, per time.Duration, burst int, now func() time.Time) *Bucket {
	if now == nil {
		now = time.Now
	}
	if burst <= 0 {
		burst = n
	}
	return &Bucket{perMinute: float64(n) * float64(time.Minute) / float64(per), burst: float64(burst), now: now,
		maxKeys: defaultMaxKeys, keys: map[string]*bucketState{}}
}

// Take takes n tokens from key's bucket, or none and says how long until n are there.
// n larger than the burst is measured against the burst (it could never be met).
func (b *Bucket) Take(key string, n int) time.Duration {
	if b == nil || b.perMinute <= 0 || n <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.refill(key)
	want := min(float64(n), b.burst)
	if st.tokens < want {
		missing := want - st.tokens
		return max(time.Duration(missing/b.perMinute*float64(time.Minute)), time.Second)
	}
	st.tokens -= float64(n)
	return 0
}

// Give returns n tokens to key's bucket (work that was taken for and not done).
func (b *Bucket) Give(key string, n int) {
	if b == nil || b.perMinute <= 0 || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.refill(key)
	st.tokens = min(st.tokens+float64(n), b.burst)
}

func (b *Bucket) refill(key string) *bucketState {
	now := b.now()
	st := b.keys[key]
	if st == nil {
		if len(b.keys) >= b.maxKeys {
			for k, s := range b.keys { // full buckets cost nothing to forget
				if s.tokens+now.Sub(s.at).Minutes()*b.perMinute >= b.burst {
					delete(b.keys, k)
				}
			}
			for k := range b.keys {
				if len(b.keys) < b.maxKeys {
					break
				}
				delete(b.keys, k)
			}
		}
		st = &bucketState{tokens: b.burst, at: now}
		b.keys[key] = st
		return st
	}
	if d := now.Sub(st.at); d > 0 {
		st.tokens = min(st.tokens+d.Minutes()*b.perMinute, b.burst)
		st.at = now
	}
	return st
}

// Suppressor decides which of many like events (a throttled sign-in, a refused write)
// get a record of their own: the first of each key in each window. The rest are
// counted, and when the window has closed Due hands back one Summary per key, so the
// record of a flood grows by two events per key and window, however large it is.
type Suppressor struct {
	window  time.Duration
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[string]*Summary
	due  []Summary // summaries of keys forgotten early, to hand out with the next Due
}

// Summary is what a Suppressor suppressed for one key in one window.
type Summary struct {
	Key         string
	First, Last time.Time // the first event (recorded) and the last suppressed one
	Suppressed  int
}

// NewSuppressor returns a suppressor with that window; now is the clock (nil for
// time.Now).
func NewSuppressor(window time.Duration, now func() time.Time) *Suppressor {
	if now == nil {
		now = time.Now
	}
	return &Suppressor{window: window, now: now, maxKeys: defaultMaxKeys, keys: map[string]*Summary{}}
}

// Note counts an event for key and reports whether it is the first of its window
// (record it) or one to suppress.
func (s *Suppressor) Note(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur := s.keys[key]
	if cur != nil && now.Sub(cur.First) >= s.window {
		if cur.Suppressed > 0 {
			s.due = append(s.due, *cur)
		}
		cur = nil
	}
	if cur == nil {
		if len(s.keys) >= s.maxKeys {
			s.forgetOne()
		}
		s.keys[key] = &Summary{Key: key, First: now, Last: now}
		return true
	}
	cur.Suppressed++
	cur.Last = now
	return false
}

// forgetOne drops a key to make room, keeping its summary due.
func (s *Suppressor) forgetOne() {
	for k, cur := range s.keys {
		if cur.Suppressed > 0 {
			s.due = append(s.due, *cur)
		}
		delete(s.keys, k)
		return
	}
}

// Due returns the summaries of windows that have closed with suppressed events, and
// forgets them. all hands back every open window too (the server is closing).
func (s *Suppressor) Due(all bool) []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.due
	s.due = nil
	now := s.now()
	for k, cur := range s.keys {
		if !all && now.Sub(cur.First) < s.window {
			continue
		}
		if cur.Suppressed > 0 {
			out = append(out, *cur)
		}
		delete(s.keys, k)
	}
	return out
}

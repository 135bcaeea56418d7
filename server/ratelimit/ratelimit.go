// Package ratelimit counts failures per key (an email, a client address) in a sliding
// window and says when a key must wait, for how long. The server uses it to slow
// password guessing: failures count, successes do not.
//
// It owns counting only: no HTTP, no storage (limits reset on restart, which is fine
// for a window of minutes).
package ratelimit

import (
	"sync"
	"time"
)

// Limiter allows at most Max failures per key within Window.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time
	// maxKeys bounds memory under a flood of distinct keys: beyond it, keys with no
	// recent failure are dropped first, then arbitrary ones (the limiter then forgets
	// rather than refusing everyone).
	maxKeys int

	mu   sync.Mutex
	keys map[string][]time.Time // failure times, oldest first, at most max
}

// New returns a limiter; now is the clock (nil for time.Now).
func New(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, maxKeys: 100_000, keys: map[string][]time.Time{}}
}

// Wait returns how long key must wait before its next attempt (0: it may go now).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	fails := l.recent(key)
	if len(fails) < l.max {
		return 0
	}
	return fails[0].Add(l.window).Sub(l.now())
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
	l.keys[key] = append(fails, l.now())
}

// Reset forgets key's failures (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// recent drops failures older than the window and returns the rest.
func (l *Limiter) recent(key string) []time.Time {
	fails := l.keys[key]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(fails) && !fails[i].After(cut) {
		i++
	}
	if i == len(fails) {
		delete(l.keys, key)
		return nil
	}
	if i > 0 {
		fails = append([]time.Time(nil), fails[i:]...)
		l.keys[key] = fails
	}
	return fails
}

func (l *Limiter) evict() {
	cut := l.now().Add(-l.window)
	for k, fails := range l.keys {
		if len(fails) == 0 || !fails[len(fails)-1].After(cut) {
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

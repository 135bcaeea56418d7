package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestWindow(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(3, time.Minute, c.now)
	for i := range 3 {
		if w := l.Wait("k"); w != 0 {
			t.Fatalf("attempt %d must wait %v", i, w)
		}
		l.Fail("k")
		c.t = c.t.Add(10 * time.Second)
	}
	// Failures at 0 s, 10 s, 20 s; now 30 s: the oldest leaves the window at 60 s.
	if w := l.Wait("k"); w != 30*time.Second {
		t.Fatalf("wait %v, want 30s", w)
	}
	if l.Wait("other") != 0 {
		t.Fatal("keys are not independent")
	}
	c.t = c.t.Add(30 * time.Second)
	if w := l.Wait("k"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	l.Fail("k")
	if w := l.Wait("k"); w == 0 {
		t.Fatal("three failures in the window again should block")
	}
	l.Reset("k")
	if l.Wait("k") != 0 {
		t.Fatal("reset did not clear")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(2, time.Minute, c.now)
	l.maxKeys = 100
	for i := range 1000 {
		l.Fail(fmt.Sprint(i))
	}
	if n := len(l.keys); n > 100 {
		t.Fatalf("%d keys kept", n)
	}
	c.t = c.t.Add(2 * time.Minute)
	l.Fail("fresh")
	if l.Wait("fresh") != 0 {
		t.Fatal("one failure should not block")
	}
}

// Reservations are what make the limit hold under concurrency: of many attempts at
// once, at most max are let through to be checked; a cancelled one (a success) frees
// its place.
func TestReserveHoldsUnderConcurrency(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(5, time.Minute, c.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var granted []Reservation
	for range 200 {
		wg.Go(func() {
			if r, wait := l.Reserve("k"); wait == 0 {
				mu.Lock()
				granted = append(granted, r)
				mu.Unlock()
			} else if wait > time.Minute {
				t.Errorf("wait %v beyond the window", wait)
			}
		})
	}
	wg.Wait()
	if len(granted) != 5 {
		t.Fatalf("%d of 200 concurrent attempts reserved, limit 5", len(granted))
	}
	granted[0].Cancel()
	if _, wait := l.Reserve("k"); wait != 0 {
		t.Fatal("a cancelled reservation still counts")
	}
	if _, wait := l.Reserve("k"); wait == 0 {
		t.Fatal("a sixth reservation went through")
	}
	Reservation{}.Cancel() // the refused attempt's reservation does nothing
}

func TestBucket(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := NewBucket(60, 100, c.now) // one a second, bursts of 100
	if w := b.Take("j", 100); w != 0 {
		t.Fatalf("a full burst must wait %v", w)
	}
	if w := b.Take("j", 10); w < 9*time.Second || w > 11*time.Second {
		t.Fatalf("10 more must wait about 10 s, got %v", w)
	}
	b.Give("j", 5)
	c.t = c.t.Add(5 * time.Second)
	if w := b.Take("j", 10); w != 0 {
		t.Fatalf("5 given back and 5 refilled, still waits %v", w)
	}
	if w := b.Take("other", 100); w != 0 {
		t.Fatal("keys are not independent")
	}
	if w := b.Take("j", 1000); w <= 0 {
		t.Fatal("more than the burst went through")
	}
	hourly := NewBucketPer(6, time.Hour, 0, c.now) // six an hour, bursts of six
	if hourly.Take("u", 6) != 0 {
		t.Fatal("an hour's worth must go at once")
	}
	if w := hourly.Take("u", 1); w < 9*time.Minute || w > 11*time.Minute {
		t.Fatalf("the next must wait about 10 min, got %v", w)
	}
	var off *Bucket
	if off.Take("j", 1<<30) != 0 || NewBucket(0, 0, c.now).Take("j", 1<<30) != 0 {
		t.Fatal("an unset bucket refused")
	}
	b.maxKeys = 10
	for i := range 100 {
		b.Take(fmt.Sprint(i), 1)
	}
	if len(b.keys) > 10 {
		t.Fatalf("%d keys kept", len(b.keys))
	}
}

func TestSuppressor(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewSuppressor(time.Minute, c.now)
	if !s.Note("a") || s.Note("a") || s.Note("a") || !s.Note("b") {
		t.Fatal("only the first of a key's window is to be recorded")
	}
	if d := s.Due(false); len(d) != 0 {
		t.Fatalf("due before the window closed: %+v", d)
	}
	c.t = c.t.Add(time.Minute)
	d := s.Due(false)
	if len(d) != 1 || d[0].Key != "a" || d[0].Suppressed != 2 {
		t.Fatalf("due %+v, want a with 2 (b suppressed nothing)", d)
	}
	if !s.Note("a") {
		t.Fatal("a new window records its first again")
	}
	s.Note("a")
	c.t = c.t.Add(2 * time.Minute)
	if !s.Note("a") {
		t.Fatal("a new window records its first again")
	}
	if d := s.Due(false); len(d) != 1 || d[0].Suppressed != 1 {
		t.Fatalf("the window closed by a new note is not due: %+v", d)
	}
	s.Note("a")
	if d := s.Due(true); len(d) != 1 || d[0].Suppressed != 1 {
		t.Fatalf("closing hands back open windows: %+v", d)
	}
	s.maxKeys = 10
	for i := range 100 {
		s.Note(fmt.Sprint(i))
		s.Note(fmt.Sprint(i))
	}
	if len(s.keys) > 10 {
		t.Fatalf("%d keys kept", len(s.keys))
	}
	if d := s.Due(true); len(d) != 100 {
		t.Fatalf("%d summaries, want one per key even for keys forgotten early", len(d))
	}
}

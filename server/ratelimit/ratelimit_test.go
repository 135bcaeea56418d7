package ratelimit

import (
	"fmt"
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

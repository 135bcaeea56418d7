package backoff

import (
	"testing"
	"time"
)

func TestFullJitterIsUniformAndBounded(t *testing.T) {
	t.Parallel()
	base, most := 100*time.Millisecond, time.Second
	for n, ceiling := range map[int]time.Duration{0: 100 * time.Millisecond, 1: 100 * time.Millisecond,
		2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second, 1000: time.Second} {
		var low, high int
		for range 2000 {
			d := FullJitter(n, base, most)
			if d < 0 || d > ceiling {
				t.Fatalf("after %d failures: wait %v outside [0, %v]", n, d, ceiling)
			}
			if d < ceiling/4 {
				low++
			}
			if d > ceiling*3/4 {
				high++
			}
		}
		// Full jitter spreads waits over the whole range, down to zero.
		if low < 300 || high < 300 {
			t.Errorf("after %d failures: %d waits in the lowest quarter, %d in the highest; not uniform", n, low, high)
		}
	}
	if d := FullJitter(3, 0, most); d != 0 {
		t.Fatalf("no base: %v", d)
	}
}

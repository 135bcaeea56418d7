// Package backoff is the one wait-before-retrying rule shadow uses, for the client's
// retries and the journal's sync loop alike: exponential backoff with full jitter.
//
// It owns the arithmetic only: no sleeping, no counting of attempts, no policy on what
// may be retried.
package backoff

import (
	"math/rand/v2"
	"time"
)

// FullJitter is the wait before attempt n+1 after n failed attempts (n ≥ 1): uniform in
// [0, min(most, base·2^(n-1))]. Spreading waits down to zero keeps many clients that
// failed together from retrying together. A non-positive base or most gives 0.
func FullJitter(n int, base, most time.Duration) time.Duration {
	if base <= 0 || most <= 0 {
		return 0
	}
	ceiling := most
	if n < 1 {
		n = 1
	}
	if n-1 < 62 {
		if d := base << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

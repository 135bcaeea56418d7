//go:build unix

package ui

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDemo takes the demo's lock without waiting. held is false when another process
// has it; unlock releases it.
func lockDemo(path string) (unlock func() error, held bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("demo lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("demo lock %s: %w", path, err)
	}
	return f.Close, true, nil // closing the file releases the lock
}

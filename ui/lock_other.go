//go:build !unix

package ui

// lockDemo has no advisory lock to take here; the demo server's own state file is
// locked, so a second demo fails to start its server and says why.
func lockDemo(string) (unlock func() error, held bool, err error) {
	return func() error { return nil }, true, nil
}

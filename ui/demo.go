package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DemoServer is how Run starts the embedded reference server for the demo. The ui
// package never imports the server; main hands it this.
type DemoServer struct {
	// Start runs the reference server with the demo organisation on a free loopback
	// port, keeping its state (and the audit key that signs journal receipts) in
	// dataDir, or in a throwaway directory when dataDir is "". It returns the base URL
	// and a function that stops the server.
	Start func(dataDir string) (baseURL string, stop func() error, err error)
	// Credentials are the demo's public support account.
	Credentials Credentials
}

// DemoStateDir is where the demo keeps its journals and its server's data, apart from
// real use: <state dir>/demo. `shadow journal … --demo` reads the journals there.
func DemoStateDir(stateDir string) string { return filepath.Join(stateDir, "demo") }

// demoLockFile is held (flock) by the demo process that owns the demo's data.
const demoLockFile = "demo.lock"

// demoRun is a started demo: where its server listens, where its journal and cache go,
// and what to undo when it ends.
type demoRun struct {
	url      string
	stateDir string
	cacheDir string
	notice   string
	undo     []func() error
}

func (d *demoRun) close() error {
	var errs []error
	for i := len(d.undo) - 1; i >= 0; i-- {
		errs = append(errs, d.undo[i]())
	}
	return errors.Join(errs...)
}

// startDemo starts the embedded demo server. The demo's journals and server data live
// under DemoStateDir, so each demo run syncs the earlier runs' journals to a server that
// holds the same receipt key, and none of it mixes with real use. Only one process can
// own that data: a second demo started meanwhile runs on a throwaway server with a
// throwaway journal and cache, and says so.
func startDemo(d DemoServer, stateDir, cacheDir string) (*demoRun, error) {
	if d.Start == nil {
		return nil, errors.New("the demo server is not available in this build; give --server")
	}
	dir := DemoStateDir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo state directory: %w", err)
	}
	run := &demoRun{}
	unlock, held, err := lockDemo(filepath.Join(dir, demoLockFile))
	if err != nil {
		return nil, fmt.Errorf("demo state directory: %w", err)
	}
	serverDir := "" // a throwaway store, unless this process owns the demo's data
	if held {
		run.undo = append(run.undo, unlock)
		serverDir = filepath.Join(dir, "server")
		run.stateDir, run.cacheDir = dir, filepath.Join(cacheDir, "demo")
	} else {
		tmp, err := os.MkdirTemp("", "shadow-demo-")
		if err != nil {
			return nil, fmt.Errorf("throwaway demo directory: %w", err)
		}
		run.undo = append(run.undo, func() error { return os.RemoveAll(tmp) })
		run.stateDir, run.cacheDir = tmp, filepath.Join(tmp, "cache")
		run.notice = "Another shadow demo holds the demo's data (" + dir + "), so this one " +
			"runs on a server of its own, and its journal is discarded when it ends."
	}
	url, stop, err := d.Start(serverDir)
	if err != nil {
		run.close()
		return nil, fmt.Errorf("start the demo server: %w", err)
	}
	run.undo = append(run.undo, stop)
	run.url = url
	return run, nil
}

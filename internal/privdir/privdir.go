// Package privdir makes the directories shadow keeps private files in (journals, the
// response cache): created 0700, and an existing one tightened to 0700 only when it is
// shadow's own.
//
// It must never change the permissions of a directory that holds anything of someone
// else's: pointing shadow at /tmp or a home directory (--state-dir, --cache-dir) must not
// chmod it. Such a directory is used as it is when others may only read it (shadow's files
// are 0600 and its subdirectories 0700), and refused when others may write to it, since
// they could swap a file in it for one of theirs.
package privdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrShared reports an existing directory that is not shadow's own and that users other
// than its owner may write to.
var ErrShared = errors.New("writable by other users")

// Ensure creates dir (and missing parents) with mode 0700. If dir exists with wider
// permissions, it is tightened to 0700 when ours reports every entry in it as shadow's
// (nil means every entry is); otherwise it is left unchanged, and the error wraps
// ErrShared when group or others may write to it.
func Ensure(dir string, ours func(fs.DirEntry) bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check permissions of %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	own, err := onlyOurs(dir, ours)
	if err != nil {
		return err
	}
	if own {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict %s to 0700: %w", dir, err)
		}
		return nil
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s (mode %v) holds other files and is %w; shadow leaves its permissions alone: use a private directory",
			dir, fi.Mode().Perm(), ErrShared)
	}
	return nil
}

func onlyOurs(dir string, ours func(fs.DirEntry) bool) (bool, error) {
	if ours == nil {
		return true, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !ours(e) {
			return false, nil
		}
	}
	return true, nil
}

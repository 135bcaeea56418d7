// Package privdirtest makes directories for tests of package privdir's users: a
// directory shaped like /tmp or a home directory, holding someone else's files.
// Nothing in the product imports it.
package privdirtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Dir is a new directory of the given mode (fs.ModeSticky honoured) holding the named
// empty files.
func Dir(t testing.TB, mode fs.FileMode, files ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, mode); err != nil { // after the files, and not narrowed by umask
		t.Fatal(err)
	}
	return dir
}

// Shared is a directory like /tmp (sticky, writable by all) or, with mode 0o755, like a
// home directory, holding a file of someone else's.
func Shared(t testing.TB, mode fs.FileMode) string {
	t.Helper()
	return Dir(t, mode, "someone-elses.txt")
}

// TmpLike is the mode of /tmp.
const TmpLike = fs.ModeSticky | 0o777

// Mode is path's permission and sticky bits.
func Mode(t testing.TB, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSticky)
}

package privdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/shadowview/shadow/internal/privdir/privdirtest"
)

func onlyDB(e fs.DirEntry) bool { return filepath.Ext(e.Name()) == ".db" }

func TestEnsure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		dir    func(t *testing.T) string
		ours   func(fs.DirEntry) bool
		want   fs.FileMode
		shared bool
	}{
		{"missing: created private", func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") }, onlyDB, 0o700, false},
		{"ours and too open: tightened", func(t *testing.T) string { return privdirtest.Dir(t, 0o755, "x.db") }, onlyDB, 0o700, false},
		{"ours, world-writable: tightened", func(t *testing.T) string { return privdirtest.Dir(t, privdirtest.TmpLike) }, onlyDB, 0o700, false},
		{"nil ours: always tightened", func(t *testing.T) string { return privdirtest.Dir(t, 0o755, "notes.txt") }, nil, 0o700, false},
		{"someone else's, readable: left alone", func(t *testing.T) string { return privdirtest.Dir(t, 0o755, "notes.txt") }, onlyDB, 0o755, false},
		{"someone else's, like /tmp: left alone, refused", func(t *testing.T) string { return privdirtest.Dir(t, privdirtest.TmpLike, "notes.txt", "x.db") }, onlyDB, privdirtest.TmpLike, true},
		{"someone else's, group-writable: refused", func(t *testing.T) string { return privdirtest.Dir(t, 0o770, "notes.txt") }, onlyDB, 0o770, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.dir(t)
			err := Ensure(dir, tc.ours)
			if tc.shared != errors.Is(err, ErrShared) || (!tc.shared && err != nil) {
				t.Fatalf("Ensure: %v", err)
			}
			if got := privdirtest.Mode(t, dir); got != tc.want {
				t.Fatalf("mode %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnsureRefusesAFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(f, nil); err == nil {
		t.Fatal("a file accepted as a directory")
	}
}

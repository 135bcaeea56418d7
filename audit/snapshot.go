package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Reading a journal another process holds open.
//
// bbolt's writer holds an exclusive lock, so a reader cannot take bbolt's shared one. It
// does not need it: bbolt never overwrites a page reachable from the committed meta page
// (every write goes to free pages), and a commit ends by writing one of the two meta
// pages at the start of the file. So a byte copy of the file whose first two pages
// (both metas) read the same before and after the copy is a consistent image of the
// last commit: nothing it references changed while it was copied. If a commit landed
// meanwhile, the copy is thrown away and taken again.

// fileView is a read-only view of a journal file.
type fileView struct {
	path string
	db   *bolt.DB
	// Live is true when the file was in use by another process and this view reads a
	// snapshot of it.
	Live bool
	// Damage is what checkPages found in the file read; its page tree is sound (a view
	// of a file whose tree is not is never handed out).
	Damage  pageDamage
	cleanup func()
}

func (v *fileView) close() {
	v.db.Close()
	if v.cleanup != nil {
		v.cleanup()
	}
}

// snapshotAttempts bounds how often a snapshot is retaken while the owner commits.
const snapshotAttempts = 50

// openView opens a journal file for reading, whether or not another process has it open.
// Its pages are checked first (checkPages): a file whose page tree bbolt cannot walk
// safely is ErrDamaged.
func openView(path string) (*fileView, error) {
	v, err := openUnchecked(path)
	if err != nil {
		return nil, err
	}
	v.Damage = checkPages(v.db.Path(), v.db.Info().PageSize)
	if !v.Damage.TreeSound {
		v.close()
		return nil, fmt.Errorf("%w: %s: %s", ErrDamaged, path, strings.Join(v.Damage.Problems, "; "))
	}
	return v, nil
}

func openUnchecked(path string) (*fileView, error) {
	db, err := openBolt(path, boltOptions(true, tryLock))
	if err == nil {
		return &fileView{path: path, db: db}, nil
	}
	if !errors.Is(err, ErrInUse) {
		return nil, err
	}
	return openSnapshot(path)
}

func openSnapshot(path string) (*fileView, error) {
	for attempt := range snapshotAttempts {
		tmp, consistent, err := copyConsistent(path)
		if err != nil {
			return nil, err
		}
		if consistent {
			db, err := openBolt(tmp, boltOptions(true, tryLock))
			if err != nil {
				os.Remove(tmp)
				return nil, fmt.Errorf("snapshot of %s: %w", path, err)
			}
			if got := db.Info().PageSize; got != pageSize { // the meta pages were not where compared
				db.Close()
				os.Remove(tmp)
				return nil, fmt.Errorf("%w: snapshot of %s: page size %d, journals use %d", ErrDamaged, path, got, pageSize)
			}
			return &fileView{path: path, db: db, Live: true, cleanup: func() { os.Remove(tmp) }}, nil
		}
		os.Remove(tmp)
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	return nil, fmt.Errorf("journal %s: %w and committing too often to snapshot; try again", path, ErrInUse)
}

// copyConsistent copies path to a temporary file beside it and reports whether the meta
// pages were unchanged across the copy.
func copyConsistent(path string) (tmp string, consistent bool, err error) {
	src, err := os.Open(path)
	if err != nil {
		return "", false, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"snapshot-*"+journalExt)
	if errors.Is(err, os.ErrPermission) { // a read-only journals dir: copy elsewhere
		dst, err = os.CreateTemp("", "shadow-snapshot-*"+journalExt)
	}
	if err != nil {
		return "", false, fmt.Errorf("snapshot %s: %w", path, err)
	}
	tmp = dst.Name()
	var metas bytes.Buffer
	// The first 2 pages go to metas as they are copied: read first, compared last.
	_, err = io.Copy(io.MultiWriter(dst, &prefixWriter{buf: &metas, n: 2 * pageSize}), src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("snapshot %s: %w", path, err)
	}
	after := make([]byte, 2*pageSize)
	n, err := src.ReadAt(after, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		os.Remove(tmp)
		return "", false, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return tmp, bytes.Equal(metas.Bytes(), after[:n]), nil
}

// prefixWriter keeps the first n bytes written to it.
type prefixWriter struct {
	buf *bytes.Buffer
	n   int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if room := w.n - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

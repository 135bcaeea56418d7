package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/privdir"
)

// ErrInUse reports a journal file another shadow process holds open.
var ErrInUse = errors.New("in use by another shadow process")

const (
	journalsDirName = "journals"
	journalExt      = ".db"
	corruptInfix    = ".corrupt-"
	tempPrefix      = "." // creation and snapshot temporaries; never listed as journals
	// corruptStamp names set-aside files; sortable, and free of ':' for other systems.
	corruptStamp = "20060102T150405.000000000Z"
)

// DefaultStateDir is $XDG_STATE_HOME/shadow, or ~/.local/state/shadow when it is unset.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "shadow"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("state dir: set XDG_STATE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "shadow"), nil
}

// JournalsDir is where the journal files of a state dir live.
func JournalsDir(stateDir string) string { return filepath.Join(stateDir, journalsDirName) }

// ensureJournalsDir creates the state and journals dirs 0700: journals name who looked
// at whose data. The journals dir is shadow's own and is tightened if it is wider; the
// state dir only when it holds nothing but shadow's (see privdir), so --state-dir
// pointed at a shared directory never changes it.
func ensureJournalsDir(stateDir string) (string, error) {
	if err := privdir.Ensure(stateDir, stateDirEntry); err != nil {
		return "", fmt.Errorf("state dir: %w", err)
	}
	dir := JournalsDir(stateDir)
	if err := privdir.Ensure(dir, nil); err != nil {
		return "", fmt.Errorf("journal dir: %w", err)
	}
	return dir, nil
}

// stateDirEntry reports what shadow keeps in a state dir: directories (journals, the
// demo's state) and lock files.
func stateDirEntry(e fs.DirEntry) bool { return e.IsDir() || strings.HasSuffix(e.Name(), ".lock") }

// tighten restricts a journal file's permissions to mode. It never follows a link: a
// chmod through one would reach a file outside the journals dir.
func tighten(path string, mode fs.FileMode) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("check permissions of %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return oddError(path)
	}
	if fi.Mode().Perm()&^mode != 0 {
		if err := os.Chmod(path, mode); err != nil {
			return fmt.Errorf("restrict %s to %v: %w", path, mode, err)
		}
	}
	return nil
}

// journalFiles lists the journal files of dir, oldest journal first (ids are ULIDs), the
// files set aside as corrupt, and odd: entries named like journals that are not regular
// files (a symbolic link, a directory). Those are never opened: shadow's own files are
// regular files, and following a link would let a write or a chmod reach outside the
// journals dir.
func journalFiles(dir string) (journals, setAside, odd []string, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list journals: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		looksLike := strings.Contains(name, corruptInfix) || strings.HasSuffix(name, journalExt)
		switch {
		case strings.HasPrefix(name, tempPrefix) || !looksLike:
		case !e.Type().IsRegular():
			odd = append(odd, path)
		case strings.Contains(name, corruptInfix):
			setAside = append(setAside, path)
		default:
			journals = append(journals, path)
		}
	}
	sort.Strings(journals)
	sort.Strings(setAside)
	sort.Strings(odd)
	return journals, setAside, odd, nil
}

// ErrNotRegular reports a journal path that is not a regular file (a symbolic link, a
// directory): it is not opened.
var ErrNotRegular = errors.New("not a regular file")

// oddError says why an odd entry of the journals dir is not read.
func oddError(path string) error {
	what := "not a regular file"
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		what = "a symbolic link"
		if to, err := os.Readlink(path); err == nil {
			what += " to " + to
		}
	} else if err == nil && fi.IsDir() {
		what = "a directory"
	}
	return fmt.Errorf("journal %s: %s, %w; shadow writes only regular files there and opens nothing else", path, what, ErrNotRegular)
}

// removeStaleTemps removes what a killed process left of its temporaries: half-made
// journals (they never held a record) and snapshots nobody reads. A temporary still in
// use is locked by its process and left alone.
func removeStaleTemps(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		isNew := strings.HasPrefix(name, tempPrefix+"new-")
		isSnap := strings.HasPrefix(name, tempPrefix+"snapshot-")
		if !isNew && !isSnap {
			continue
		}
		if info, err := e.Info(); err != nil || (isSnap && now.Sub(info.ModTime()) < 10*time.Minute) {
			continue // a snapshot is unlocked while it is copied: only old ones are stale
		}
		path := filepath.Join(dir, name)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(path)
		}
		f.Close()
	}
}

func journalIDFromPath(path string) string {
	return strings.TrimSuffix(filepath.Base(path), journalExt)
}

func boltOptions(readOnly bool, lockWait time.Duration) *bolt.Options {
	return &bolt.Options{
		Timeout:  lockWait,
		ReadOnly: readOnly,
		PageSize: pageSize,
		// Load the freelist inside Open, on the caller's goroutine, where a damaged file
		// is recovered from (openBolt); bbolt would otherwise load it lazily elsewhere.
		PreLoadFreelist: true,
		NoSync:          false, // invariant 1, spelled out
		FreelistType:    bolt.FreelistMapType,
	}
}

// tryLock is the lock wait for a journal another process may own: one attempt.
const tryLock = time.Nanosecond

// openBolt opens a bbolt file without letting a damaged file crash the process: faults
// and panics inside bbolt become ErrDamaged, and the file (and its lock) is released.
func openBolt(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	// bbolt would make a fresh database of an empty file opened for writing, and fails
	// on one opened read-only with "bad file descriptor": either way it is no journal.
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, fmt.Errorf("%w: %s: the file is empty (0 bytes)", ErrDamaged, path)
	}
	var file *os.File
	opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	err = guard(path, func() error {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	if err != nil {
		if db == nil && file != nil {
			file.Close()
		}
		return nil, classifyOpenError(path, err)
	}
	return db, nil
}

func classifyOpenError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("journal %s: %w", path, ErrInUse)
	case errors.Is(err, ErrDamaged):
		return err
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), strings.Contains(err.Error(), "file size too small"):
		return fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	default: // permission, missing file, I/O: the caller's problem, not corruption
		return fmt.Errorf("open journal %s: %w", path, err)
	}
}

// guard runs fn, turning a panic or memory fault inside bbolt (a damaged file) into an
// ErrDamaged error.
func guard(what string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s: bbolt could not read it: %v", ErrDamaged, what, p)
		}
	}()
	return fn()
}

// journalFile is one open, writable journal file with its writer goroutine.
type journalFile struct {
	id   string
	path string
	db   *bolt.DB
	w    *writer
}

// createJournal makes a new, empty journal file and returns it open (and locked). It is
// built under a temporary name and renamed into place, so a crash never leaves a
// half-made journal under a journal's name.
func createJournal(dir string, now time.Time, committed func(fileState)) (*journalFile, error) {
	for range 3 {
		path, err := makeEmptyJournal(dir, now)
		if err != nil {
			return nil, err
		}
		// Reopened under its own name so that every later error names the right file.
		// Another process may have taken it in between (its sync loop, seeing an empty
		// journal, lets go at once); then start again with a new one.
		f, _, err := openJournal(path, 50*time.Millisecond, committed)
		if errors.Is(err, ErrInUse) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create journal in %s: every new journal was taken by another process", dir)
}

func makeEmptyJournal(dir string, now time.Time) (string, error) {
	id := ulid.Make().String()
	final := filepath.Join(dir, id+journalExt)
	temp := filepath.Join(dir, tempPrefix+"new-"+id+journalExt)
	db, err := openBolt(temp, boltOptions(false, tryLock))
	if err != nil {
		return "", fmt.Errorf("create journal: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketRecords); err != nil {
			return err
		}
		if newJournalFormat == formatV2 {
			if _, err := tx.CreateBucket(bucketStrings); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{
			string(keyFormat): newJournalFormat, string(keyJournalID): id,
			string(keyCreated): now.UTC().Format(timeFormat),
		} {
			if err := meta.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return meta.Put(keyHead, encodeHead(head{}))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(temp, final)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(temp) // never held a record
		return "", fmt.Errorf("create journal in %s: %w", dir, err)
	}
	return final, nil
}

// openJournal opens an existing journal file for writing, waiting at most lockWait for
// another process to release it (ErrInUse after that). A file that is not a healthy
// journal is reported with ErrDamaged and left as it is.
func openJournal(path string, lockWait time.Duration, committed func(fileState)) (*journalFile, fileState, error) {
	if err := tighten(path, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fileState{}, err
	}
	db, err := openBolt(path, boltOptions(false, lockWait))
	if err != nil {
		return nil, fileState{}, err
	}
	st, c, err := checkOpenState(db, path)
	if err != nil {
		db.Close()
		return nil, st, err
	}
	return &journalFile{id: st.JournalID, path: path, db: db, w: startWriter(db, st.JournalID, c, committed)}, st, nil
}

// checkOpenState is the cheap health check run when a journal is opened: meta readable,
// the id matching the file name, and the head naming the last record. It returns the
// codec the writer appends with.
func checkOpenState(db *bolt.DB, path string) (st fileState, c *codec, err error) {
	err = guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			if st, err = readState(tx); err != nil {
				return err
			}
			if c, err = writerCodec(tx); err != nil {
				return err
			}
			if want := journalIDFromPath(path); st.JournalID != want {
				return fmt.Errorf("%w: file %s holds journal %q", ErrDamaged, filepath.Base(path), st.JournalID)
			}
			return checkHeadIsLast(tx.Bucket(bucketRecords), st.Head)
		})
	})
	if err != nil {
		return st, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return st, c, nil
}

// close commits what is queued and releases the file.
func (f *journalFile) close() error {
	f.w.close()
	if err := f.db.Close(); err != nil {
		return fmt.Errorf("close journal %s: %w", f.id, err)
	}
	return nil
}

func (f *journalFile) state() (st fileState, err error) {
	err = guard(f.path, func() error {
		return f.db.View(func(tx *bolt.Tx) error {
			st, err = readState(tx)
			return err
		})
	})
	return st, err
}

// hashAt returns the hash stored at seq (ZeroHash for 0); ok is false past the head.
func (f *journalFile) hashAt(seq uint64) (h api.Hash, ok bool, err error) {
	if seq == 0 {
		return api.ZeroHash, true, nil
	}
	err = guard(f.path, func() error {
		return f.db.View(func(tx *bolt.Tx) error {
			_, h, _, ok = decodeRecord(tx.Bucket(bucketRecords).Get(seqKey(seq)))
			return nil
		})
	})
	return h, ok, err
}

// readRange returns the records from seq on, at most maxN of them and about maxBytes
// of body, checking that each chains to the one before: a damaged journal is never sent.
func (f *journalFile) readRange(from uint64, maxN, maxBytes int) ([]Record, error) {
	var out []Record
	err := guard(f.path, func() error {
		return f.db.View(func(tx *bolt.Tx) error {
			cd, err := readCodec(tx)
			if err != nil {
				return err
			}
			hasher := api.NewRecordHasher(f.id)
			c := tx.Bucket(bucketRecords).Cursor()
			size := 0
			want := from
			for k, v := c.Seek(seqKey(from)); k != nil && len(out) < maxN; k, v = c.Next() {
				seq, _ := keySeq(k)
				prev, hash, body, ok := cd.decode(v)
				if !ok || seq != want {
					return fmt.Errorf("%w: journal %s at seq %d: run `shadow journal verify`", ErrDamaged, f.id, want)
				}
				if len(out) > 0 && size+len(body) > maxBytes {
					break
				}
				if len(out) > 0 && prev != out[len(out)-1].Hash || hasher.Sum(seq, prev, body) != hash {
					return fmt.Errorf("%w: journal %s at seq %d: run `shadow journal verify`", ErrDamaged, f.id, seq)
				}
				out = append(out, Record{JournalID: f.id, Seq: seq, PrevHash: prev, Hash: hash, Body: append([]byte(nil), body...)})
				size += len(body)
				want++
			}
			return nil
		})
	})
	return out, err
}

// openEnded opens an ended run's journal to sync it: ErrInUse when a process holds it,
// ErrDamaged when it is damaged — including a record after its receipt that does not
// match its own hash or does not chain to the one before, which would block every record
// after it from syncing.
func openEnded(path string, committed func(fileState)) (*journalFile, fileState, error) {
	f, st, err := openJournal(path, tryLock, committed)
	if err != nil {
		return nil, st, err
	}
	if err := f.checkChain(st.Acked.Seq); err != nil {
		f.close()
		return nil, st, err
	}
	return f, st, nil
}

// checkChain checks every record after seq from: contiguous, each matching its hash and
// chaining to the one before (to the stored record at from, too).
func (f *journalFile) checkChain(from uint64) error {
	return guard(f.path, func() error {
		return f.db.View(func(tx *bolt.Tx) error {
			cd, err := readCodec(tx)
			if err != nil {
				return err
			}
			b := tx.Bucket(bucketRecords)
			prevHash := api.ZeroHash
			if from > 0 {
				_, h, _, ok := decodeRecord(b.Get(seqKey(from)))
				if !ok {
					return fmt.Errorf("%w: journal %s: no record at its receipt's seq %d", ErrDamaged, f.id, from)
				}
				prevHash = h
			}
			want := from + 1
			hasher := api.NewRecordHasher(f.id)
			c := b.Cursor()
			for k, v := c.Seek(seqKey(want)); k != nil; k, v = c.Next() {
				seq, _ := keySeq(k)
				prev, hash, body, ok := cd.decode(v)
				switch {
				case !ok || seq != want:
					return fmt.Errorf("%w: journal %s: seq %d is missing or unreadable", ErrDamaged, f.id, want)
				case prev != prevHash:
					return fmt.Errorf("%w: journal %s: seq %d does not chain to seq %d", ErrDamaged, f.id, seq, seq-1)
				case hasher.Sum(seq, prev, body) != hash:
					return fmt.Errorf("%w: journal %s: seq %d does not match its hash", ErrDamaged, f.id, seq)
				}
				prevHash = hash
				want++
			}
			return nil
		})
	})
}

// lockDir holds an exclusive lock on the journals dir while a damaged journal is
// recovered, so two processes never recover the same one at once. The returned function
// releases it.
func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { syscall.Flock(int(d.Fd()), syscall.LOCK_UN); d.Close() }, nil
}

// setAside renames a damaged journal file out of the way; it is never deleted.
func setAside(path string, now time.Time) (string, error) {
	to := path + corruptInfix + now.UTC().Format(corruptStamp)
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("set aside damaged journal %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return to, err
	}
	return to, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

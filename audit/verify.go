package audit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// VerifyOptions tune verification.
type VerifyOptions struct {
	// ServerKey is the server audit key the auditor trusts (from GET /api/v1/audit/key
	// or the operator). When set, a journal pinned to any other key fails.
	ServerKey *api.AuditKey
}

// Report is the outcome of verifying one journal: a journal file, or one journal of an
// export.
type Report struct {
	Source    string // the file read
	JournalID string
	Live      bool // read from a snapshot of a journal another process has open
	Partial   bool // an export of some records only: each is checked, the chain cannot be
	Records   uint64
	Head      api.JournalHead
	Acked     uint64 // the seq the server's receipt covers
	KeyID     string
	KeyPrint  string // fingerprint of the pinned server key
	// FirstBad is the first seq found bad (0 when none is, or a problem has no seq).
	FirstBad uint64
	Problems []string
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

const maxProblems = 20

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else if len(r.Problems) == maxProblems {
		r.Problems = append(r.Problems, "… more problems not listed")
	}
}

func (r *Report) bad(seq uint64, format string, args ...any) {
	if r.FirstBad == 0 || seq < r.FirstBad {
		r.FirstBad = seq
	}
	r.problem("seq %d: %s", seq, fmt.Sprintf(format, args...))
}

// chain checks records fed to it in stored order against invariants 2, 3 and 5.
type chain struct {
	r       *Report
	id      string
	partial bool
	ackSeq  uint64

	next     uint64 // the seq expected next (full journals)
	last     uint64 // seq of the previous record fed
	lastHash api.Hash
	lastOK   bool // the previous record's hash matched its contents
	ackHash  *api.Hash
}

func newChain(r *Report, journalID string, partial bool, ackSeq uint64) *chain {
	return &chain{r: r, id: journalID, partial: partial, ackSeq: ackSeq, next: 1}
}

func (c *chain) add(seq uint64, prev, hash api.Hash, body []byte) {
	c.r.Records++
	selfOK := api.RecordHash(c.id, seq, prev, body) == hash
	if !selfOK {
		c.r.bad(seq, "hash does not match the record's contents (edited or corrupted)")
	}
	switch {
	case !c.partial && seq > c.next:
		c.r.bad(c.next, "missing (records %d to %d are absent)", c.next, seq-1)
	case !c.partial && seq < c.next:
		c.r.bad(seq, "out of order (found after %d)", c.last)
	case seq == 1 && prev != api.ZeroHash:
		c.r.bad(1, "prev_hash of the first record is not zero")
	case seq > 1 && seq == c.last+1 && prev != c.lastHash && selfOK && c.lastOK:
		// Both records match their own contents, so record seq-1 is not the one record
		// seq was chained to: it was replaced and its hash recomputed.
		c.r.bad(seq-1, "is not the record %d chains to (replaced and re-hashed)", seq)
	}
	c.last, c.lastHash, c.lastOK = seq, hash, selfOK
	c.next = seq + 1
	if seq == c.ackSeq {
		h := hash
		c.ackHash = &h
	}
}

// finish checks the head and the acknowledgement against what was fed.
func (c *chain) finish(h api.JournalHead, ack Acknowledgement, key *api.AuditKey, opts VerifyOptions) {
	r := c.r
	r.Head, r.Acked = h, ack.Seq
	if key != nil {
		r.KeyID, r.KeyPrint = key.KeyID, keyFingerprint(*key)
		if opts.ServerKey != nil && !bytes.Equal(opts.ServerKey.PublicKey, key.PublicKey) {
			r.problem("pinned server key %q (%s) is not the trusted key (%s)",
				key.KeyID, r.KeyPrint, keyFingerprint(*opts.ServerKey))
		}
	}
	if !c.partial {
		switch {
		case h.Seq > c.last:
			r.bad(c.last+1, "missing: the head is %d but records end at %d", h.Seq, c.last)
		case h.Seq < c.last:
			r.bad(h.Seq+1, "beyond the head %d (records added behind the journal's back)", h.Seq)
		case h.Seq > 0 && h.Hash != c.lastHash.String():
			r.bad(h.Seq, "hash differs from the head's")
		}
	}
	if ack.Seq == 0 {
		return
	}
	if err := checkReceipt(c.id, ack, key); err != nil {
		r.bad(ack.Seq, "receipt: %v", err)
	}
	switch {
	case c.ackHash != nil && c.ackHash.String() != ack.Hash:
		r.bad(ack.Seq, "hash differs from the one the server's receipt covers")
	case c.ackHash == nil && !c.partial:
		r.bad(ack.Seq, "acknowledged by the server but not stored")
	}
}

// VerifyFile verifies a journal file, or a JSONL export (told apart by content).
func VerifyFile(path string, opts VerifyOptions) ([]Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, err := br.Peek(512)
	if len(head) == 0 {
		return nil, fmt.Errorf("verify %s: empty or unreadable: %w", path, err)
	}
	if isExport(path, head) {
		return verifyExport(br, path, opts)
	}
	return []Report{verifyJournalFile(path, opts)}, nil
}

// isExport tells a JSONL export from a journal's bbolt file: an export's first
// non-blank byte (after any UTF-8 byte-order mark an editor added) is '{', which a bbolt
// file's binary page header never is. The name decides first, so a broken export is
// reported by line and a journal damaged at its first byte as a journal.
func isExport(path string, head []byte) bool {
	switch ext := filepath.Ext(path); {
	case strings.EqualFold(ext, ".jsonl"):
		return true
	case ext == journalExt:
		return false
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// VerifyAll verifies every journal under the state dir.
func VerifyAll(stateDir string, opts VerifyOptions) ([]Report, error) {
	paths, _, err := journalFiles(JournalsDir(stateDir))
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(paths))
	for _, p := range paths {
		out = append(out, verifyJournalFile(p, opts))
	}
	return out, nil
}

func verifyJournalFile(path string, opts VerifyOptions) Report {
	r := Report{Source: path, JournalID: journalIDFromPath(path)}
	v, err := openView(path)
	if err != nil {
		r.problem("%v", err)
		return r
	}
	defer v.close()
	r.Live = v.Live
	for _, p := range v.Damage.Problems {
		r.problem("%s", p)
	}
	verifyDB(&r, v.db, path, opts, len(v.Damage.Problems) == 0)
	return r
}

// verifyDB checks a journal's records, meta and, when pagesClean says checkPages found
// nothing, bbolt's structure.
func verifyDB(r *Report, db *bolt.DB, path string, opts VerifyOptions, pagesClean bool) {
	walked := false
	err := guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			st, err := readState(tx)
			if err != nil {
				return err
			}
			if want := journalIDFromPath(path); st.JournalID != want && filepath.Ext(path) == journalExt {
				r.problem("file %s holds journal %q", filepath.Base(path), st.JournalID)
			}
			r.JournalID = st.JournalID
			c := newChain(r, st.JournalID, false, st.Acked.Seq)
			cur := tx.Bucket(bucketRecords).Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				seq, ok := keySeq(k)
				if !ok {
					r.problem("a record key of %d bytes is not a seq", len(k))
					continue
				}
				prev, hash, body, ok := decodeRecord(v)
				if !ok {
					r.bad(seq, "stored value of %d bytes is too short to be a record", len(v))
					continue
				}
				c.add(seq, prev, hash, body)
			}
			c.finish(st.Head.API(), st.Acked, st.Key, opts)
			walked = true
			return nil
		})
	})
	if err != nil {
		r.problem("%v", err)
	}
	if !walked || !pagesClean {
		// Tx.Check reads on a goroutine of its own, where a damaged page is a crash no
		// guard can catch: it runs only on pages checkPages and the walk above found sound.
		return
	}
	err = guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			for cerr := range tx.Check() {
				r.problem("bbolt: %v", cerr)
			}
			return nil
		})
	})
	if err != nil {
		r.problem("%v", err)
	}
}

// firstLine returns the first line of b, for messages.
func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return truncate(string(b), 80)
}

package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	// SetAside is a damaged journal file set aside: always a failure, with Notes saying
	// where its records went.
	SetAside bool
	// FirstBad is the first seq found bad (0 when none is, or a problem has no seq).
	FirstBad uint64
	Problems []string
	// Notes say what was checked beyond the chain: records carried from a damaged
	// journal, and where a set-aside journal's records went.
	Notes []string

	recovered []recoveredRef // journal.recovered records found, for the set-aside files' reports
}

// recoveredRef is a journal.recovered record found while verifying.
type recoveredRef struct {
	journalID string // the journal holding the record
	seq       uint64
	rec       api.Recovered
}

// Unreceipted counts the records no receipt vouches for: those after the receipt, or
// all of a partial export's, which cannot be tied to one.
func (r Report) Unreceipted() uint64 {
	switch {
	case r.Partial:
		return r.Records
	case r.Head.Seq > r.Acked:
		return r.Head.Seq - r.Acked
	}
	return 0
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

	carry  *carrying // records carried from a damaged journal, being checked
	hasher *api.RecordHasher

	next     uint64 // the seq expected next (full journals)
	last     uint64 // seq of the previous record fed
	lastHash api.Hash
	lastOK   bool // the previous record's hash matched its contents
	ackHash  *api.Hash
}

func newChain(r *Report, journalID string, partial bool, ackSeq uint64) *chain {
	return &chain{r: r, id: journalID, partial: partial, ackSeq: ackSeq, next: 1, hasher: api.NewRecordHasher(journalID)}
}

func (c *chain) add(seq uint64, prev, hash api.Hash, body []byte) {
	c.addHashed(seq, prev, hash, body, c.hasher.Sum(seq, prev, body) == hash)
}

// addHashed is add for a record whose hash was checked already: selfOK says whether it
// matches its contents.
func (c *chain) addHashed(seq uint64, prev, hash api.Hash, body []byte, selfOK bool) {
	c.r.Records++
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
	c.checkCarried(seq, body)
	if seq == c.ackSeq {
		h := hash
		c.ackHash = &h
	}
}

// carrying is a run of records carried from a damaged journal (see salvage.go): each
// body's original hash is recomputed as it comes.
type carrying struct {
	from      api.Recovered
	at        uint64 // the seq of the journal.recovered record here
	next      uint64 // the damaged journal's seq of the next carried record
	prev      api.Hash
	firstHere uint64 // this journal's seq of the first carried record
}

var recoveredAction = []byte(`"action":"` + api.ActionJournalRecovered + `"`)

// mayBeRecovered is the quick test run on every body first: the action's name alone,
// whose first byte is rare in JSON, where the marker's '"' is in every few bytes and
// made bytes.Contains a fifth of verify's time.
func mayBeRecovered(body []byte) bool {
	return bytes.Contains(body, recoveredAction[len(`"action":"`):]) && bytes.Contains(body, recoveredAction)
}

// checkCarried follows journal.recovered records and recomputes, from the unchanged
// bodies that follow one, the hashes they had in the damaged journal.
func (c *chain) checkCarried(seq uint64, body []byte) {
	if cr := c.carry; cr != nil {
		c.carry = nil
		if mayBeRecovered(body) {
			c.r.bad(cr.at, "promises journal %s's seqs %d-%d, but another journal.recovered record follows after %d of them",
				cr.from.JournalID, cr.from.Carried.FirstSeq, cr.from.Carried.LastSeq, cr.next-cr.from.Carried.FirstSeq)
		} else {
			h := api.RecordHash(cr.from.JournalID, cr.next, cr.prev, body)
			if cr.next < cr.from.Carried.LastSeq {
				cr.next, cr.prev = cr.next+1, h
				c.carry = cr
				return
			}
			if h.String() != cr.from.Carried.LastHash {
				c.r.bad(seq, "the records from seq %d carried from journal %s do not hash to its seq %d's hash %s: they are not the bytes it held",
					cr.firstHere, cr.from.JournalID, cr.from.Carried.LastSeq, cr.from.Carried.LastHash)
			} else {
				c.r.Notes = append(c.r.Notes, fmt.Sprintf("seqs %d-%d are journal %s's seqs %d-%d, carried from %s: their original hashes check out",
					cr.firstHere, seq, cr.from.JournalID, cr.from.Carried.FirstSeq, cr.from.Carried.LastSeq, cr.from.File))
			}
			return
		}
	}
	if !mayBeRecovered(body) {
		return
	}
	var b api.RecordBody
	if json.Unmarshal(body, &b) != nil || b.Action != api.ActionJournalRecovered || b.Recovered == nil {
		return
	}
	c.r.recovered = append(c.r.recovered, recoveredRef{journalID: c.id, seq: seq, rec: *b.Recovered})
	cr := b.Recovered.Carried
	if cr == nil {
		return
	}
	prev, err := api.ParseHash(cr.PrevHash)
	if err != nil || cr.LastSeq < cr.FirstSeq {
		c.r.bad(seq, "names a carried range it does not describe (seqs %d-%d, prev_hash %q)", cr.FirstSeq, cr.LastSeq, cr.PrevHash)
		return
	}
	c.carry = &carrying{from: *b.Recovered, at: seq, next: cr.FirstSeq, prev: prev, firstHere: seq + 1}
}

// finish checks the head and the acknowledgement against what was fed.
func (c *chain) finish(h api.JournalHead, ack Acknowledgement, key *api.AuditKey, opts VerifyOptions) {
	r := c.r
	if cr := c.carry; cr != nil && !c.partial {
		r.bad(cr.at, "promises journal %s's seqs %d-%d, but the journal ends after %d of them",
			cr.from.JournalID, cr.from.Carried.FirstSeq, cr.from.Carried.LastSeq, cr.next-cr.from.Carried.FirstSeq)
	}
	if opts.ServerKey != nil && ack.Seq == 0 && r.Records > 0 {
		r.problem("--key is given, but this journal holds no receipt: nothing in it is vouched for by that key")
	}
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

// VerifyAll verifies every journal under the state dir, and reports each damaged
// journal set aside there: what of it can be read, and where its records went.
func VerifyAll(stateDir string, opts VerifyOptions) ([]Report, error) {
	paths, aside, odd, err := journalFiles(JournalsDir(stateDir))
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(paths)+len(aside)+len(odd))
	var recovered []recoveredRef
	for _, p := range paths {
		r := verifyJournalFile(p, opts)
		recovered = append(recovered, r.recovered...)
		out = append(out, r)
	}
	for _, p := range aside {
		out = append(out, verifySetAside(p, opts, recovered))
	}
	for _, p := range odd {
		r := Report{Source: p, JournalID: journalIDFromPath(p)}
		r.problem("%v", oddError(p))
		out = append(out, r)
	}
	return out, nil
}

// setAsideID is the journal id a set-aside file's name carries.
func setAsideID(path string) string {
	name := filepath.Base(path)
	if i := strings.Index(name, journalExt+corruptInfix); i > 0 {
		return name[:i]
	}
	return name
}

// verifySetAside reports a damaged journal that was set aside: its damage, what of it
// the server held, and which journal carries its records; it always fails.
func verifySetAside(path string, opts VerifyOptions, recovered []recoveredRef) Report {
	r := verifyJournalFile(path, opts)
	r.SetAside, r.JournalID = true, setAsideID(path)
	r.Problems = append([]string{"damaged, and set aside: it could not sync as it was"}, r.Problems...)
	d := readDamaged(path)
	stored := map[uint64]salvagedRecord{}
	for _, sr := range d.records {
		stored[sr.seq] = sr
	}
	found := false
	for _, ref := range recovered {
		rec := ref.rec
		if rec.JournalID != r.JournalID || rec.File != filepath.Base(path) {
			continue
		}
		found = true
		if rec.Acked != nil && rec.Carried == nil {
			r.Notes = append(r.Notes, fmt.Sprintf("the server held seqs 1-%d (its receipt)", rec.Acked.Seq))
		}
		if rec.Carried == nil {
			if rec.Damaged != "" {
				r.Notes = append(r.Notes, "lost (damaged or missing, and not on the server): seqs "+rec.Damaged)
			}
			r.Notes = append(r.Notes, fmt.Sprintf("recorded by journal %s seq %d", ref.journalID, ref.seq))
			continue
		}
		cr := rec.Carried
		r.Notes = append(r.Notes, fmt.Sprintf("seqs %d-%d were carried into journal %s after its seq %d", cr.FirstSeq, cr.LastSeq, ref.journalID, ref.seq))
		if first, ok := stored[cr.FirstSeq]; ok && first.prev.String() != cr.PrevHash {
			r.bad(cr.FirstSeq, "journal %s says it carried this record with prev_hash %s; this file holds %s", ref.journalID, cr.PrevHash, first.prev)
		}
		if last, ok := stored[cr.LastSeq]; ok && last.hash.String() != cr.LastHash {
			r.bad(cr.LastSeq, "journal %s says it carried this record with hash %s; this file holds %s", ref.journalID, cr.LastHash, last.hash)
		}
		if rec.Damaged != "" {
			r.Notes = append(r.Notes, "lost (damaged or missing, and not on the server): seqs "+rec.Damaged)
		}
	}
	if !found {
		r.Notes = append(r.Notes, "no journal here records its recovery (a journal.recovered record naming this file): its records after its receipt may be on no server")
	}
	seen := map[string]bool{}
	r.Notes = slices.DeleteFunc(r.Notes, func(n string) bool { dup := seen[n]; seen[n] = true; return dup })
	return r
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
			cd, err := readCodec(tx)
			if err != nil {
				return err
			}
			c := newChain(r, st.JournalID, false, st.Acked.Seq)
			c.walk(tx.Bucket(bucketRecords), cd)
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

// hashBatch is a run of records read from a journal file, hashed by a worker while the
// file is read on: hashing is most of verify's work, and it needs no bbolt, so every
// core takes part.
type hashBatch struct {
	kind   []byte // per record: 0 a record, 1 a key that is no seq, 2 an unreadable value
	seqs   []uint64
	prevs  []api.Hash
	hashes []api.Hash
	ends   []int  // record i's body is arena[ends[i-1]:ends[i]]
	sizes  []int  // record i's stored value's size, for messages
	arena  []byte // the bodies, copied out of bbolt's memory and the codec's buffer
	ok     []bool // set by the worker: the record matches its hash
	done   chan struct{}
}

const (
	walkRecord = iota
	walkBadKey
	walkUnreadable

	walkBatch    = 1024 // records per batch
	walkInFlight = 4    // batches read ahead of the chain's checks
)

func (b *hashBatch) reset() {
	if b.arena == nil { // sized once for a batch of typical records, not grown by doubling
		b.arena = make([]byte, 0, walkBatch*400)
	}
	b.kind, b.seqs, b.prevs, b.hashes = b.kind[:0], b.seqs[:0], b.prevs[:0], b.hashes[:0]
	b.ends, b.sizes, b.arena, b.ok = b.ends[:0], b.sizes[:0], b.arena[:0], b.ok[:0]
	b.done = make(chan struct{})
}

func (b *hashBatch) body(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.arena[start:b.ends[i]]
}

// walk feeds every stored record to the chain, in stored order, with its hash checked by
// workers, one per core. Only this goroutine touches bbolt's memory (under the caller's
// guard); the workers read copies.
func (c *chain) walk(records *bolt.Bucket, cd *codec) {
	work := make(chan *hashBatch, walkInFlight)
	defer close(work)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			h := api.NewRecordHasher(c.id)
			for b := range work {
				for i := range b.seqs {
					b.ok = append(b.ok, b.kind[i] == walkRecord && h.Sum(b.seqs[i], b.prevs[i], b.body(i)) == b.hashes[i])
				}
				close(b.done)
			}
		}()
	}
	var inFlight []*hashBatch
	var spare []*hashBatch
	feed := func(b *hashBatch) {
		<-b.done
		for i, kind := range b.kind {
			switch kind {
			case walkBadKey:
				c.r.problem("a record key of %d bytes is not a seq", b.seqs[i])
			case walkUnreadable:
				c.r.bad(b.seqs[i], "stored value of %d bytes cannot be read as a record of format %s", b.sizes[i], cd.format)
			default:
				c.addHashed(b.seqs[i], b.prevs[i], b.hashes[i], b.body(i), b.ok[i])
			}
		}
		spare = append(spare, b)
	}
	next := func() *hashBatch {
		if len(inFlight) == walkInFlight {
			feed(inFlight[0])
			inFlight = inFlight[1:]
		}
		var b *hashBatch
		if n := len(spare); n > 0 {
			b, spare = spare[n-1], spare[:n-1]
		} else {
			b = &hashBatch{}
		}
		b.reset()
		return b
	}
	b := next()
	send := func() {
		work <- b
		inFlight = append(inFlight, b)
		b = next()
	}
	cur := records.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		seq, ok := keySeq(k)
		var prev, hash api.Hash
		var body []byte
		kind := byte(walkRecord)
		switch {
		case !ok:
			kind, seq = walkBadKey, uint64(len(k))
		default:
			if prev, hash, body, ok = cd.decode(v); !ok {
				kind, body = walkUnreadable, nil
			}
		}
		b.kind, b.seqs, b.prevs, b.hashes = append(b.kind, kind), append(b.seqs, seq), append(b.prevs, prev), append(b.hashes, hash)
		b.arena = append(b.arena, body...)
		b.ends, b.sizes = append(b.ends, len(b.arena)), append(b.sizes, len(v))
		if len(b.seqs) == walkBatch {
			send()
		}
	}
	if len(b.seqs) > 0 {
		send()
	}
	for _, fb := range inFlight {
		feed(fb)
	}
}

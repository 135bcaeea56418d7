package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// ErrClosed is returned for an append submitted after Close began.
var ErrClosed = errors.New("journal closed")

// ErrKeyChanged reports a server audit key different from the one pinned in a journal.
var ErrKeyChanged = errors.New("server audit key changed")

// ErrBadAcknowledgement reports a server acknowledgement the journal refuses to store: a
// receipt that does not verify, or that names a seq or hash the journal does not hold.
var ErrBadAcknowledgement = errors.New("acknowledgement refused")

type opKind int

const (
	opAppend opKind = iota
	opAck
	opPin
	opFlush // a no-op: when it commits, every op queued before it has
)

// op is one queued write. Its result fields are set by the writer before done closes.
type op struct {
	kind opKind
	body []byte          // opAppend
	ack  Acknowledgement // opAck
	key  api.AuditKey    // opPin

	rec  Record
	err  error
	done chan struct{}
}

func newOp(kind opKind) *op { return &op{kind: kind, done: make(chan struct{})} }

func (o *op) finish(err error) {
	if o.err == nil {
		o.err = err
	}
	close(o.done)
}

// Group commit bounds: how much one transaction takes from the queue.
const (
	maxBatchOps   = 8192
	maxBatchBytes = 8 << 20
)

// writer is the only code that opens write transactions on a journal file. One
// goroutine drains the queue into one transaction at a time.
type writer struct {
	db        *bolt.DB
	journalID string
	codec     *codec // the file's format and interned strings; only run's goroutine uses it
	// committed is called after each successful commit with the journal's new state.
	committed func(fileState)

	commits atomic.Int64 // transactions committed, for tests of grouping

	mu      sync.Mutex
	queue   []*op
	closing bool
	wake    chan struct{}
	stopped chan struct{}
}

func startWriter(db *bolt.DB, journalID string, c *codec, committed func(fileState)) *writer {
	w := &writer{db: db, journalID: journalID, codec: c, committed: committed,
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.run()
	return w
}

// submit queues o; it never blocks on the disk.
func (w *writer) submit(o *op) {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		o.finish(fmt.Errorf("journal %s: %w", w.journalID, ErrClosed))
		return
	}
	w.queue = append(w.queue, o)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// submitAll queues ops together, in order, so that nothing queued meanwhile comes
// between them.
func (w *writer) submitAll(ops []*op) {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		for _, o := range ops {
			o.finish(fmt.Errorf("journal %s: %w", w.journalID, ErrClosed))
		}
		return
	}
	w.queue = append(w.queue, ops...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// do submits o and waits for its commit.
func (w *writer) do(o *op) error {
	w.submit(o)
	<-o.done
	return o.err
}

// close stops accepting ops, lets the writer commit what is queued, and waits for it.
func (w *writer) close() {
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.stopped
}

func (w *writer) take() (ops []*op, done bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, size := 0, 0
	for n < len(w.queue) && n < maxBatchOps && (n == 0 || size+len(w.queue[n].body) <= maxBatchBytes) {
		size += len(w.queue[n].body)
		n++
	}
	ops = append([]*op(nil), w.queue[:n]...)
	w.queue = w.queue[n:]
	if len(w.queue) == 0 {
		w.queue = nil // let the backing array go
	}
	return ops, w.closing && n == 0
}

func (w *writer) run() {
	defer close(w.stopped)
	// A corrupt page can make bbolt fault on the mmap; with this set the fault becomes a
	// panic this goroutine recovers (in commit) and reports, instead of killing shadow.
	debug.SetPanicOnFault(true)
	for {
		ops, done := w.take()
		if done {
			return
		}
		if len(ops) == 0 {
			<-w.wake
			continue
		}
		st, err := w.commit(ops)
		if err == nil { // published before callers hear back, so Status is never behind them
			w.commits.Add(1)
			if w.committed != nil {
				w.committed(st)
			}
		}
		for _, o := range ops {
			o.finish(err)
		}
	}
}

func (w *writer) commit(ops []*op) (st fileState, err error) {
	err = w.db.Update(func(tx *bolt.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: bbolt failed while writing: %v", ErrDamaged, p)
			}
		}()
		st, err = batch{journalID: w.journalID, ops: ops, codec: w.codec}.apply(tx)
		return err
	})
	if err != nil {
		w.codec.stale = true // the strings it interned were rolled back with it
		for _, o := range ops {
			o.rec = Record{} // nothing of a failed transaction is durable
		}
		return st, fmt.Errorf("journal %s: commit: %w", w.journalID, err)
	}
	return st, nil
}

// recordsFill is how full the records bucket's pages are packed. A variable only so the
// benchmarks can build a journal as before (bbolt's default) beside one as now.
var recordsFill = 1.0

// batch is one write transaction's worth of ops.
type batch struct {
	journalID string
	ops       []*op
	codec     *codec
}

// apply is the one place the journal's invariants (see the package doc) are enforced.
// An op that would break one fails alone with its own error; an error returned from
// apply fails the whole transaction, and nothing of it is written.
func (b batch) apply(tx *bolt.Tx) (fileState, error) {
	st, err := readState(tx)
	if err != nil {
		return st, err
	}
	if st.JournalID != b.journalID {
		return st, fmt.Errorf("%w: file holds journal %q, not %q", ErrDamaged, st.JournalID, b.journalID)
	}
	records := tx.Bucket(bucketRecords)
	// Records are only ever appended at the end (invariants 2 and 6), so a page that
	// splits is never written again: filled whole, not to bbolt's default half, which
	// left every full page half empty (the file ~1.5× larger, verify reading it all).
	records.FillPercent = recordsFill
	if err := checkHeadIsLast(records, st.Head); err != nil {
		return st, err
	}
	if err := b.codec.sameAs(tx, st.Format); err != nil {
		return st, err
	}
	intern := func(id uint64, s []byte) error {
		strs := tx.Bucket(bucketStrings)
		if strs.Get(seqKey(id)) != nil { // immutability, as for records
			return fmt.Errorf("%w: string %d already written", ErrDamaged, id)
		}
		if err := strs.Put(seqKey(id), s); err != nil {
			return fmt.Errorf("store string %d: %w", id, err)
		}
		return nil
	}
	meta := tx.Bucket(bucketMeta)
	hasher := api.NewRecordHasher(b.journalID)
	headMoved, ackMoved, keyPinned := false, false, false
	for _, o := range b.ops {
		switch o.kind {
		case opAppend:
			next := st.Head.Seq + 1
			key := seqKey(next)
			if records.Get(key) != nil { // immutability: never overwrite
				return st, fmt.Errorf("%w: seq %d already written", ErrDamaged, next)
			}
			hash := hasher.Sum(next, st.Head.Hash, o.body)
			stored, err := b.codec.encode(o.body, intern)
			if err != nil {
				return st, fmt.Errorf("encode record %d: %w", next, err)
			}
			if err := records.Put(key, encodeRecord(st.Head.Hash, hash, stored)); err != nil {
				return st, fmt.Errorf("store record %d: %w", next, err)
			}
			o.rec = Record{JournalID: b.journalID, Seq: next, PrevHash: st.Head.Hash, Hash: hash, Body: o.body}
			st.Head = head{Seq: next, Hash: hash}
			headMoved = true
		case opAck:
			if o.err = st.acceptAck(records, b.journalID, o.ack); o.err == nil {
				st.Acked = o.ack
				ackMoved = true
			}
		case opPin:
			if o.err = st.acceptKey(o.key); o.err == nil && st.Key == nil {
				k := o.key
				st.Key = &k
				keyPinned = true
			}
		}
	}
	if headMoved {
		if err := meta.Put(keyHead, encodeHead(st.Head)); err != nil {
			return st, fmt.Errorf("store head: %w", err)
		}
	}
	if ackMoved {
		if err := putJSON(meta, keyAcked, st.Acked); err != nil {
			return st, err
		}
	}
	if keyPinned {
		if err := putJSON(meta, keyServerKey, st.Key); err != nil {
			return st, err
		}
	}
	return st, nil
}

// acceptAck checks invariant 5 for a new acknowledgement.
func (st fileState) acceptAck(records *bolt.Bucket, journalID string, a Acknowledgement) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: journal %s seq %d: %s", ErrBadAcknowledgement, journalID, a.Seq, fmt.Sprintf(format, args...))
	}
	if a.Seq > st.Head.Seq {
		return fail("beyond the journal's head %d", st.Head.Seq)
	}
	if a.Seq < st.Acked.Seq {
		return fail("behind the acknowledged seq %d", st.Acked.Seq)
	}
	want := api.ZeroHash
	if a.Seq > 0 {
		_, h, _, ok := decodeRecord(records.Get(seqKey(a.Seq)))
		if !ok {
			return fail("no record stored at that seq")
		}
		want = h
	}
	if a.Hash != want.String() {
		return fail("hash %s is not the stored record's %s", a.Hash, want)
	}
	if err := checkReceipt(journalID, a, st.Key); err != nil {
		return fail("%v", err)
	}
	return nil
}

// checkReceipt checks that an acknowledgement's receipt is the server's signed statement
// about exactly this journal, seq and hash, under the pinned key.
func checkReceipt(journalID string, a Acknowledgement, key *api.AuditKey) error {
	r := a.Receipt
	switch {
	case key == nil:
		return errors.New("no server key pinned to check the receipt with")
	case r.JournalID != journalID || r.Seq != a.Seq || r.Hash != a.Hash:
		return fmt.Errorf("receipt is for %s@%d %s, not %s@%d %s", r.JournalID, r.Seq, r.Hash, journalID, a.Seq, a.Hash)
	case r.KeyID != key.KeyID:
		return fmt.Errorf("receipt signed with key %q, pinned key is %q", r.KeyID, key.KeyID)
	}
	return r.Verify(ed25519.PublicKey(key.PublicKey))
}

// acceptKey checks invariant 7 for a key to pin.
func (st fileState) acceptKey(k api.AuditKey) error {
	if err := validKey(k); err != nil {
		return err
	}
	if st.Key != nil && !sameKey(*st.Key, k) {
		return fmt.Errorf("%w: journal pinned key %q (%s), server now offers %q (%s)",
			ErrKeyChanged, st.Key.KeyID, keyFingerprint(*st.Key), k.KeyID, keyFingerprint(k))
	}
	return nil
}

func validKey(k api.AuditKey) error {
	if k.Algorithm != "ed25519" || len(k.PublicKey) != ed25519.PublicKeySize || k.KeyID == "" {
		return fmt.Errorf("server audit key %q: want an ed25519 key of %d bytes with an id, got %q of %d bytes",
			k.KeyID, ed25519.PublicKeySize, k.Algorithm, len(k.PublicKey))
	}
	return nil
}

func sameKey(a, b api.AuditKey) bool {
	return a.KeyID == b.KeyID && a.Algorithm == b.Algorithm && bytes.Equal(a.PublicKey, b.PublicKey)
}

// fileState is what a journal's meta says, read inside a transaction.
type fileState struct {
	Format    string // formatV1 or formatV2
	JournalID string
	Created   time.Time
	Head      head
	Acked     Acknowledgement
	Key       *api.AuditKey
}

// Pending counts records not yet acknowledged by the server.
func (st fileState) Pending() uint64 { return st.Head.Seq - st.Acked.Seq }

func readState(tx *bolt.Tx) (fileState, error) {
	var st fileState
	meta := tx.Bucket(bucketMeta)
	if meta == nil || tx.Bucket(bucketRecords) == nil {
		return st, fmt.Errorf("%w: not a journal file (meta or records bucket missing)", ErrDamaged)
	}
	switch f := meta.Get(keyFormat); string(f) {
	case formatV1, formatV2:
		st.Format = string(f)
	default:
		return st, fmt.Errorf("%w: format %q, want %q or %q", ErrDamaged, f, formatV1, formatV2)
	}
	// A key of no known name, or one flagged a bucket, is damage: most likely a known one
	// renamed or its flag flipped, whose value a Get would then not find — an acknowledgement read as none would pass verify (its
	// receipt unchecked) while the readers call every record unsynced.
	if err := meta.ForEach(func(k, v []byte) error {
		switch {
		case !metaKeys[string(k)]:
			return fmt.Errorf("%w: meta holds an unknown key %q", ErrDamaged, k)
		case v == nil: // a bucket, which Get reads as no value
			return fmt.Errorf("%w: meta's %q is a bucket", ErrDamaged, k)
		}
		return nil
	}); err != nil {
		return st, err
	}
	st.JournalID = string(meta.Get(keyJournalID))
	if st.JournalID == "" {
		return st, fmt.Errorf("%w: no journal id", ErrDamaged)
	}
	if c := meta.Get(keyCreated); c != nil {
		st.Created, _ = time.Parse(timeFormat, string(c)) // informational only
	}
	if v := meta.Get(keyHead); v != nil {
		h, ok := decodeHead(v)
		if !ok {
			return st, fmt.Errorf("%w: head is %d bytes", ErrDamaged, len(v))
		}
		st.Head = h
	}
	if v := meta.Get(keyAcked); v != nil {
		if err := decodeMetaJSON(v, &st.Acked); err != nil {
			return st, fmt.Errorf("%w: acknowledgement: %v", ErrDamaged, err)
		}
	}
	if v := meta.Get(keyServerKey); v != nil {
		var k api.AuditKey
		if err := decodeMetaJSON(v, &k); err != nil {
			return st, fmt.Errorf("%w: server key: %v", ErrDamaged, err)
		}
		st.Key = &k
	}
	return st, nil
}

// metaKeys are the keys the meta bucket may hold (format.go).
var metaKeys = map[string]bool{
	string(keyFormat): true, string(keyJournalID): true, string(keyCreated): true,
	string(keyHead): true, string(keyAcked): true, string(keyServerKey): true,
}

// decodeMetaJSON decodes a JSON value of meta (written by putJSON) strictly: a member of
// no known name is damage, not something to skip — encoding/json would leave the field
// it was zero (an acknowledgement's seq 0 reads as "nothing acknowledged").
func decodeMetaJSON(v []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the value")
	}
	return nil
}

// checkHeadIsLast checks invariant 4 cheaply: the head names the last stored record.
func checkHeadIsLast(records *bolt.Bucket, h head) error {
	k, v := records.Cursor().Last()
	if k == nil {
		if h.Seq != 0 {
			return fmt.Errorf("%w: head says seq %d but no record is stored", ErrDamaged, h.Seq)
		}
		return nil
	}
	seq, ok := keySeq(k)
	_, hash, _, vok := decodeRecord(v)
	if !ok || !vok || seq != h.Seq || hash != h.Hash {
		return fmt.Errorf("%w: head says seq %d but the last stored record is %d", ErrDamaged, h.Seq, seq)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/words"
)

// Recovering a damaged journal.
//
// A journal that cannot be read as a whole (bad meta pages, a head that is not the last
// record, a record in its unsynced part that does not match its hash or link) can never
// sync as it is: the server takes records in order, without gaps. It is never deleted
// or changed. Instead, when a run or `shadow journal sync` finds one:
//
//  1. every record that can be read is read, and each is checked against its own hash;
//  2. the receipt is checked (with the pinned key, for exactly the hash stored at its
//     seq): the records it covers are on the server already;
//  3. each record after the receipt that is intact is carried into the journal being
//     written — its body byte for byte, behind a journal.recovered record whose
//     Recovered.Carried names the damaged journal's seqs and the hashes that chain
//     them — so it syncs (to the server's log, as a record of that journal) and an
//     auditor can still recompute its original hash (verify does);
//  4. the file is renamed <name>.corrupt-<UTC time>, where verify still reads it.
//
// Seqs neither covered by the receipt nor intact are named in Recovered.Damaged: those
// records are lost. If a run dies between 3 and 4, the next one finds the records it
// already carried (by the journal.recovered records naming the journal) and does not
// carry them twice.

// Recovery tells the caller that a damaged journal file was set aside.
type Recovery struct {
	File      string           // where it was
	MovedTo   string           // where it is now
	JournalID string           // the id its name carries
	LastHead  *api.JournalHead // its last known head; nil when nothing could be read
	Acked     uint64           // the seq its receipt covers: records the server already held
	Carried   int              // records carried into the journal being written
	Damaged   string           // seqs lost: neither covered by the receipt nor intact ("7-9,12")
	Into      string           // the journal the records were carried into
	Cause     error
}

func (r Recovery) String() string {
	return fmt.Sprintf("journal %s was damaged (%v); %s", r.JournalID, r.Cause, r.Summary())
}

// Summary says what became of the journal and its records.
func (r Recovery) Summary() string {
	head := "unreadable"
	if r.LastHead != nil {
		head = fmt.Sprintf("seq %d hash %s", r.LastHead.Seq, r.LastHead.Hash)
	}
	s := fmt.Sprintf("set aside as %s; last known head: %s", filepath.Base(r.MovedTo), head)
	if r.Acked > 0 {
		s += fmt.Sprintf("; the server held seqs 1-%d", r.Acked)
	}
	if r.Carried > 0 {
		s += fmt.Sprintf("; %d intact %s carried into journal %s to sync", r.Carried, words.Plural(r.Carried, "record", "records"), r.Into)
	}
	if r.Damaged != "" {
		s += "; lost (damaged or missing): seqs " + r.Damaged
	}
	return s
}

// salvagedRecord is one record read from a damaged journal.
type salvagedRecord struct {
	seq        uint64
	prev, hash api.Hash
	body       []byte
	intact     bool // its hash matches its contents and its body is a record
}

// damagedRead is what could be read of a damaged journal.
type damagedRead struct {
	id       string
	lastHead *api.JournalHead
	acked    Acknowledgement // zero unless its receipt verifies for the stored hash
	records  []salvagedRecord
}

// readDamaged reads what it safely can of a damaged journal file: nothing of a file
// that is not a regular file or whose page tree is unsound.
func readDamaged(path string) damagedRead {
	d := damagedRead{id: journalIDFromPath(path)}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return d
	}
	v, err := openView(path)
	if err != nil {
		return d
	}
	defer v.close()
	guard(path, func() error {
		return v.db.View(func(tx *bolt.Tx) error {
			st, stErr := readState(tx)
			if stErr == nil {
				h := st.Head.API()
				d.lastHead = &h
			}
			b := tx.Bucket(bucketRecords)
			if b == nil {
				return nil
			}
			// A v2 file whose strings cannot be read keeps only its verbatim records.
			cd, _ := readCodec(tx)
			stored := map[uint64]api.Hash{}
			c := b.Cursor()
			for k, val := c.First(); k != nil; k, val = c.Next() {
				seq, kok := keySeq(k)
				prev, hash, body, ok := cd.decode(val)
				if !kok || !ok {
					if ok := len(val) >= recordOverhead; kok && ok { // its hashes still say what was there
						copy(prev[:], val)
						copy(hash[:], val[api.HashSize:])
						stored[seq] = hash
						d.records = append(d.records, salvagedRecord{seq: seq, prev: prev, hash: hash})
					}
					continue
				}
				r := salvagedRecord{seq: seq, prev: prev, hash: hash, body: append([]byte(nil), body...)}
				var rb api.RecordBody
				r.intact = api.RecordHash(d.id, seq, prev, body) == hash && json.Unmarshal(body, &rb) == nil && rb.Action != ""
				stored[seq] = hash
				d.records = append(d.records, r)
			}
			if stErr == nil && st.Acked.Seq > 0 && checkReceipt(d.id, st.Acked, st.Key) == nil {
				if h, ok := stored[st.Acked.Seq]; ok && h.String() == st.Acked.Hash {
					d.acked = st.Acked
				}
			}
			return nil
		})
	})
	return d
}

// carryRun is a run of consecutive, chained, intact records to carry.
type carryRun []salvagedRecord

// plan splits the intact records after the receipt, not already carried, into chained
// runs, and lists the seqs after the receipt that are lost.
func (d damagedRead) plan(alreadyCarried map[uint64]bool) (runs []carryRun, lost []uint64) {
	last := uint64(0)
	if d.lastHead != nil {
		last = d.lastHead.Seq
	}
	have := map[uint64]bool{}
	var cur carryRun
	for _, r := range d.records {
		last = max(last, r.seq)
		if r.seq <= d.acked.Seq || !r.intact {
			continue
		}
		have[r.seq] = true
		if alreadyCarried[r.seq] {
			continue
		}
		if n := len(cur); n > 0 && (cur[n-1].seq+1 != r.seq || cur[n-1].hash != r.prev || n == maxCarryRun) {
			runs = append(runs, cur)
			cur = nil
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	for seq := d.acked.Seq + 1; seq <= last; seq++ {
		if !have[seq] {
			lost = append(lost, seq)
		}
	}
	return runs, lost
}

// maxCarryRun bounds one run, so a run and its journal.recovered record fit one
// transaction of the writer (maxBatchOps, maxBatchBytes).
const maxCarryRun = 2000

// seqRanges writes seqs (ascending) as "3,7-9".
func seqRanges(seqs []uint64) string {
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(seqs[i], 10))
		if j > i {
			b.WriteString("-" + strconv.FormatUint(seqs[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// salvage carries what can be saved of the damaged journal at path into the journal
// into (the one being written), then sets the file aside. actor signs the
// journal.recovered records.
func salvage(path string, into *journalFile, actor api.UserRef, now time.Time, cause error) (Recovery, error) {
	r := Recovery{File: path, JournalID: journalIDFromPath(path), Into: into.id, Cause: cause}
	d := readDamaged(path)
	r.LastHead, r.Acked = d.lastHead, d.acked.Seq
	to := path + corruptInfix + now.UTC().Format(corruptStamp)
	carried, err := carriedAlready(filepath.Dir(path), path, into, r.JournalID)
	if err != nil {
		return r, err
	}
	runs, lost := d.plan(carried)
	r.Damaged = seqRanges(lost)
	if actor.ID == "" && actor.Name == "" {
		actor = api.UserRef{ID: "shadow", Name: "shadow"}
	}
	rec := api.Recovered{JournalID: r.JournalID, File: filepath.Base(to), LastHead: d.lastHead, Damaged: r.Damaged}
	if d.acked.Seq > 0 {
		rec.Acked = &api.JournalHead{Seq: d.acked.Seq, Hash: d.acked.Hash}
	}
	header := func(run carryRun) (*op, error) {
		h := rec
		details := fmt.Sprintf("journal %s set aside as %s: %v", r.JournalID, h.File, cause)
		if run != nil {
			h.Carried = &api.CarriedRange{FirstSeq: run[0].seq, LastSeq: run[len(run)-1].seq,
				PrevHash: run[0].prev.String(), LastHash: run[len(run)-1].hash.String()}
			details = fmt.Sprintf("journal %s set aside as %s (%v): its seqs %d-%d follow, carried byte for byte",
				r.JournalID, h.File, cause, h.Carried.FirstSeq, h.Carried.LastSeq)
		}
		body, err := boundRecord(api.RecordBody{EventID: ulid.Make().String(), Time: now.UTC(),
			Action: api.ActionJournalRecovered, Actor: actor, Details: details, Recovered: &h})
		if err != nil {
			return nil, err
		}
		o := newOp(opAppend)
		o.body = body
		return o, nil
	}
	var batches [][]*op
	if len(runs) == 0 {
		first, err := header(nil)
		if err != nil {
			return r, err
		}
		batches = append(batches, []*op{first})
	}
	for _, run := range runs {
		h, err := header(run)
		if err != nil {
			return r, err
		}
		ops := []*op{h}
		for _, sr := range run {
			o := newOp(opAppend)
			o.body = sr.body
			ops = append(ops, o)
		}
		batches = append(batches, ops)
		r.Carried += len(run)
	}
	for _, ops := range batches {
		into.w.submitAll(ops)
		for _, o := range ops {
			<-o.done
			if o.err != nil {
				return r, fmt.Errorf("carry journal %s into %s: %w", r.JournalID, into.id, o.err)
			}
		}
	}
	if err := os.Rename(path, to); err != nil {
		return r, fmt.Errorf("set aside damaged journal %s: %w", path, err)
	}
	r.MovedTo = to
	return r, syncDir(filepath.Dir(path))
}

// carriedAlready finds the seqs of journal id that journals in dir (into among them)
// already carry: a run that died between carrying and setting the file aside.
func carriedAlready(dir, damaged string, into *journalFile, id string) (map[uint64]bool, error) {
	out := map[uint64]bool{}
	needle := []byte(`"journal_id":` + mustJSON(id))
	scan := func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return nil
		}
		cd, err := readCodec(tx)
		if err != nil {
			return nil // its strings unreadable: it carries nothing anyone can read
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			_, _, body, ok := cd.decode(v)
			if !ok || !bytes.Contains(body, needle) {
				continue
			}
			var rb api.RecordBody
			if json.Unmarshal(body, &rb) != nil || rb.Action != api.ActionJournalRecovered || rb.Recovered == nil ||
				rb.Recovered.JournalID != id || rb.Recovered.Carried == nil {
				continue
			}
			cr := rb.Recovered.Carried
			for seq := cr.FirstSeq; seq <= cr.LastSeq; seq++ {
				if k, _ = c.Next(); k == nil {
					return nil
				}
				out[seq] = true
			}
		}
		return nil
	}
	if err := guard(into.path, func() error { return into.db.View(scan) }); err != nil {
		return nil, err
	}
	paths, _, _, err := journalFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if p == damaged || p == into.path {
			continue
		}
		v, err := openView(p)
		if err != nil {
			continue // unreadable: it carries nothing anyone can read
		}
		err = guard(p, func() error { return v.db.View(scan) })
		v.close()
		if err != nil && !errors.Is(err, ErrDamaged) {
			return nil, err
		}
	}
	return out, nil
}

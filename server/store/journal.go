package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// A journal is a sub-bucket of "journals" named by its id, holding:
//
//	"head"          seq (8 bytes, big-endian) ‖ hash (32 bytes)
//	"realm"         who may write it: the realm of its first uploader (see AppendJournal)
//	"r" / seq (BE)  prev_hash (32) ‖ hash (32) ‖ body (the exact bytes the hash covers)
var (
	keyHead    = []byte("head")
	keyRealm   = []byte("realm")
	keyRecords = []byte("r")
)

// JournalOutcome is what an append did. When Code is set nothing was stored; for
// journal_gap and journal_conflict Head is the server's head to rewind to, for
// forbidden (another realm's journal) Head is left empty: it is not the caller's to know.
type JournalOutcome struct {
	Head       api.JournalHead
	Accepted   int
	Duplicates int
	Code       api.Code
	Message    string
}

// JournalHead returns the stored head of a journal (seq 0 and the zero hash when the
// server holds none of it).
func (s *Store) JournalHead(journalID string) (api.JournalHead, error) {
	head := api.JournalHead{Hash: api.ZeroHash.String()}
	err := s.db.View(func(tx *bolt.Tx) error {
		if jb := tx.Bucket(bucketJournals).Bucket([]byte(journalID)); jb != nil {
			seq, hash := readHead(jb)
			head = api.JournalHead{Seq: seq, Hash: hash.String()}
		}
		return nil
	})
	if err != nil {
		return head, fmt.Errorf("journal %s head: %w", journalID, err)
	}
	return head, nil
}

func readHead(jb *bolt.Bucket) (uint64, api.Hash) {
	var h api.Hash
	v := jb.Get(keyHead)
	if len(v) != 8+api.HashSize {
		return 0, h
	}
	copy(h[:], v[8:])
	return binary.BigEndian.Uint64(v), h
}

// AppendJournal stores a contiguous, ascending range of records whose hashes the
// caller has verified, for an uploader of realm (vendor staff, or one customer
// company). A journal belongs to the realm that first stored records in it: any other
// realm is refused (forbidden) and learns nothing of it, so nobody can append forged
// records to another organisation's journal and wedge its owner's sync behind a
// conflict. Against what is stored:
//   - a record at a seq already held is accepted silently if byte-identical
//     (prev_hash, hash and body), else the whole range is refused: journal_conflict;
//   - the first new record must follow the head: its seq head+1 (else journal_gap)
//     and its prev_hash the head's hash (else journal_conflict: the chains forked).
//
// New records and their audit events (from events) are committed together before it
// returns.
func (s *Store) AppendJournal(journalID, realm string, recs []api.WireRecord, events func(api.WireRecord) Event) (JournalOutcome, error) {
	var out JournalOutcome
	err := s.update(func(tx *bolt.Tx) error {
		out = JournalOutcome{}
		journals := tx.Bucket(bucketJournals)
		jb := journals.Bucket([]byte(journalID))
		var headSeq uint64
		var headHash api.Hash
		if jb != nil {
			if owner := jb.Get(keyRealm); owner != nil && string(owner) != realm {
				out.Code = api.CodeForbidden
				out.Message = fmt.Sprintf("journal %s belongs to another organisation's audit trail; it cannot be written with this identity", journalID)
				return nil
			}
			headSeq, headHash = readHead(jb)
		}
		out.Head = api.JournalHead{Seq: headSeq, Hash: headHash.String()}
		if len(recs) == 0 {
			return nil
		}
		if recs[0].Seq > headSeq+1 {
			out.Code = api.CodeJournalGap
			out.Message = fmt.Sprintf("the range starts at seq %d but the server holds up to %d; send from %d", recs[0].Seq, headSeq, headSeq+1)
			return nil
		}
		var fresh []api.WireRecord
		tip := headHash
		for _, r := range recs {
			prev, err := api.ParseHash(r.PrevHash)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err) // the caller verified; unreachable
			}
			hash, err := api.ParseHash(r.Hash)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			if r.Seq <= headSeq {
				stored := jb.Bucket(keyRecords).Get(u64(r.Seq))
				if len(stored) < 2*api.HashSize || !bytes.Equal(stored[:api.HashSize], prev[:]) ||
					!bytes.Equal(stored[api.HashSize:2*api.HashSize], hash[:]) || !bytes.Equal(stored[2*api.HashSize:], r.Body) {
					out.Code = api.CodeJournalConflict
					out.Message = fmt.Sprintf("record %d differs from the one the server holds", r.Seq)
					return nil
				}
				out.Duplicates++
				continue
			}
			if prev != tip {
				out.Code = api.CodeJournalConflict
				out.Message = fmt.Sprintf("record %d does not chain to the server's record %d (prev_hash differs)", r.Seq, r.Seq-1)
				return nil
			}
			fresh = append(fresh, r)
			tip = hash
		}
		if len(fresh) == 0 {
			return nil
		}
		if jb == nil {
			var err error
			if jb, err = journals.CreateBucket([]byte(journalID)); err != nil {
				return err
			}
			if err := jb.Put(keyRealm, []byte(realm)); err != nil {
				return err
			}
		}
		rb, err := jb.CreateBucketIfNotExists(keyRecords)
		if err != nil {
			return err
		}
		evs := make([]Event, 0, len(fresh))
		for _, r := range fresh {
			prev, _ := api.ParseHash(r.PrevHash)
			hash, _ := api.ParseHash(r.Hash)
			v := make([]byte, 0, 2*api.HashSize+len(r.Body))
			v = append(append(append(v, prev[:]...), hash[:]...), r.Body...)
			if err := rb.Put(u64(r.Seq), v); err != nil {
				return err
			}
			if events != nil {
				evs = append(evs, events(r))
			}
		}
		last := fresh[len(fresh)-1]
		if err := jb.Put(keyHead, append(u64(last.Seq), tip[:]...)); err != nil {
			return err
		}
		out.Accepted = len(fresh)
		out.Head = api.JournalHead{Seq: last.Seq, Hash: tip.String()}
		return appendEvents(tx, evs)
	})
	if err != nil {
		return JournalOutcome{}, fmt.Errorf("append journal %s: %w", journalID, err)
	}
	return out, nil
}

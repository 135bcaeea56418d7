package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// A journal is a sub-bucket of "journals" named by its id, holding:
//
//	"head"          seq (8 bytes, big-endian) ‖ hash (32 bytes)
//	"owner"         the id of the identity that first stored records in it: the only one that may write it
//	"realm"         its first uploader's organisation (journals stored before owners were kept have only this)
//	"order"         the sort time of its last record's audit event (8 bytes, unix nanoseconds, big-endian)
//	"r" / seq (BE)  prev_hash (32) ‖ hash (32) ‖ body (the exact bytes the hash covers)
var (
	keyHead    = []byte("head")
	keyOwner   = []byte("owner")
	keyRealm   = []byte("realm")
	keyOrder   = []byte("order")
	keyRecords = []byte("r")
)

// Uploader is who writes a journal: an identity and its organisation (Realm).
type Uploader struct {
	ID    string
	Realm string
}

// ownerAllows is the journal ownership rule, and its only statement: a journal belongs
// to the identity that first stored records in it, and nobody else may write it — not
// even an empty range, which would tell them its head. A journal nobody holds yet may
// be written by anyone (the first records claim it). A journal stored before owners
// were kept was given its first uploader as owner when the file was opened
// (ownLegacyJournals); one whose first uploader cannot be told belongs to its first
// uploader's organisation, and the first identity of it to store records since claims
// it.
func ownerAllows(jb *bolt.Bucket, u Uploader) bool {
	if jb == nil {
		return true
	}
	if owner := jb.Get(keyOwner); owner != nil {
		return string(owner) == u.ID
	}
	realm := jb.Get(keyRealm)
	return realm == nil || string(realm) == u.Realm
}

// MayWriteJournal reports whether u may write the journal (ownerAllows), from what is
// committed now, and who owns it ("" when nobody does yet, or for a journal of before
// owners were kept). AppendJournal decides again inside its own transaction, so a race
// between two first writers has one winner.
func (s *Store) MayWriteJournal(journalID string, u Uploader) (ok bool, owner string, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		jb := tx.Bucket(bucketJournals).Bucket([]byte(journalID))
		ok = ownerAllows(jb, u)
		if jb != nil {
			owner = string(jb.Get(keyOwner))
		}
		return nil
	})
	if err != nil {
		return false, "", fmt.Errorf("journal %s owner: %w", journalID, err)
	}
	return ok, owner, nil
}

// JournalOutcome is what an append did. When Code is set nothing was stored; for
// journal_gap and journal_conflict Head is the server's head to rewind to, for
// forbidden (another identity's journal) Head is left empty: it is not the caller's to
// know.
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
// caller has verified, for uploader u, if u may write the journal (ownerAllows: else
// forbidden, and the caller learns nothing of it). Against what is stored:
//   - a record at a seq already held is accepted silently if byte-identical
//     (prev_hash, hash and body), else the whole range is refused: journal_conflict;
//   - the first new record must follow the head: its seq head+1 (else journal_gap)
//     and its prev_hash the head's hash (else journal_conflict: the chains forked).
//
// New records and their audit events (from events) are committed together before it
// returns. A record's event sorts at its own time, or at the time of the latest verified
// record before it in the journal if that is later, so the audit log lists a journal's
// verified records in seq order however the client's clock stamped them; an unverified
// record's time (a claim no session vouches for: 2999, say) carries over to no later
// record, so it cannot push them out of a since/until window.
func (s *Store) AppendJournal(journalID string, u Uploader, recs []api.WireRecord, events func(api.WireRecord) Event) (JournalOutcome, error) {
	var out JournalOutcome
	err := s.update(func(tx *bolt.Tx) error {
		out = JournalOutcome{}
		journals := tx.Bucket(bucketJournals)
		jb := journals.Bucket([]byte(journalID))
		if !ownerAllows(jb, u) {
			out.Code = api.CodeForbidden
			out.Message = fmt.Sprintf("journal %s belongs to another identity's audit trail; it cannot be written with this one", journalID)
			return nil
		}
		var headSeq uint64
		var headHash api.Hash
		if jb != nil {
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
			if err := jb.Put(keyRealm, []byte(u.Realm)); err != nil {
				return err
			}
		}
		if jb.Get(keyOwner) == nil {
			if err := jb.Put(keyOwner, []byte(u.ID)); err != nil {
				return err
			}
		}
		rb, err := jb.CreateBucketIfNotExists(keyRecords)
		if err != nil {
			return err
		}
		order := int64(0)
		if v := jb.Get(keyOrder); len(v) == 8 {
			order = int64(binary.BigEndian.Uint64(v))
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
				ev := events(r)
				if ns := keyNanos(ev.Time); ns < order {
					ev.sortTime = time.Unix(0, order)
				} else if ev.Verification == api.RecordVerified { // a time no session vouches for moves no later record
					order = ns
				}
				evs = append(evs, ev)
			}
		}
		last := fresh[len(fresh)-1]
		if err := jb.Put(keyHead, append(u64(last.Seq), tip[:]...)); err != nil {
			return err
		}
		if err := jb.Put(keyOrder, u64(uint64(order))); err != nil {
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

package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// JournalDigests reads what the server holds of a journal for online reconciliation:
// its head and the seq and hash of up to limit records after seq after, ascending. A
// journal the server holds nothing of has head seq 0 and no records. Who may read it is
// the caller's to decide first (the server's mayUseJournal, the rule that guards writes).
func (s *Store) JournalDigests(journalID string, after uint64, limit int) (api.JournalHead, []api.RecordDigest, error) {
	head := api.JournalHead{Hash: api.ZeroHash.String()}
	var out []api.RecordDigest
	err := s.db.View(func(tx *bolt.Tx) error {
		jb := tx.Bucket(bucketJournals).Bucket([]byte(journalID))
		if jb == nil {
			return nil
		}
		seq, hash := readHead(jb)
		head = api.JournalHead{Seq: seq, Hash: hash.String()}
		rb := jb.Bucket(keyRecords)
		if rb == nil || after >= seq {
			return nil
		}
		c := rb.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 || len(v) < 2*api.HashSize {
				return fmt.Errorf("journal %s: a stored record is malformed", journalID)
			}
			var h api.Hash
			copy(h[:], v[api.HashSize:2*api.HashSize])
			out = append(out, api.RecordDigest{Seq: binary.BigEndian.Uint64(k), Hash: h.String()})
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("read journal %s: %w", journalID, err)
	}
	return head, out, err
}

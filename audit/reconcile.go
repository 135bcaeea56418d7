package audit

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// Online reconciliation: comparing a local journal with the server's copy of it.
//
// Offline, a receipt proves the records up to it are the ones the server signed for,
// but nothing can prove what a file no longer holds, or what the server lost. So each
// journal is compared with what the server holds (GET /audit/journals/{id}/records): the
// server checks every record's chain when it takes it, so equal heads (seq and hash)
// mean identical copies, and one request settles the usual case. Otherwise every
// record's hash is compared, and each difference is its own finding:
//
//   - a record this file holds, covered by its receipt, that the server lacks: missing on
//     the server (it lost it); it is sent again;
//   - a record the server holds differently: different;
//   - a record the server holds past this file's head: a rollback of the local file (it
//     was cut short or replaced by an older copy).
//
// Records past the receipt that the server lacks are merely pending: the sync sends them.

// localJournal is what reconciliation needs of a local journal.
type localJournal struct {
	id     string
	head   head
	acked  Acknowledgement
	key    *api.AuditKey // the server key the journal pinned; nil before its first sync
	hashes []api.Hash    // hashes[i] is the stored hash of seq i+1, up to the head
}

// readLocal reads a journal's state and stored hashes in one read transaction.
func readLocal(db *bolt.DB, path string) (localJournal, error) {
	var l localJournal
	err := guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			st, err := readState(tx)
			if err != nil {
				return err
			}
			l = localJournal{id: st.JournalID, head: st.Head, acked: st.Acked, key: st.Key}
			c := tx.Bucket(bucketRecords).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				seq, _ := keySeq(k)
				_, hash, _, ok := decodeRecord(v)
				if !ok || seq != uint64(len(l.hashes))+1 {
					return fmt.Errorf("%w: journal %s: records are not contiguous at seq %d; run `shadow journal verify`", ErrDamaged, st.JournalID, len(l.hashes)+1)
				}
				l.hashes = append(l.hashes, hash)
			}
			return nil
		})
	})
	return l, err
}

// comparison is the outcome of comparing one journal with the server's copy.
type comparison struct {
	server   api.JournalHead
	findings []Finding
	// resendFrom is the first seq to send again (records missing on the server), 0 for
	// none; resendTo the last of them.
	resendFrom, resendTo uint64
}

// compareWithServer compares l with the server's copy of it.
func compareWithServer(ctx context.Context, remote Remote, l localJournal, timeout time.Duration) (comparison, error) {
	var cmp comparison
	ask := func(after uint64, limit int) (api.JournalRecordsPage, error) {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		p, err := remote.JournalRecords(rctx, l.id, after, limit)
		if err != nil {
			return p, fmt.Errorf("read the server's copy of journal %s: %w", l.id, err)
		}
		return p, nil
	}
	first, err := ask(l.head.Seq, 1)
	if err != nil {
		return cmp, err
	}
	cmp.server = first.Head
	if first.Head.Seq == l.head.Seq && (first.Head.Hash == l.head.Hash.String() || l.head.Seq == 0) {
		return cmp, nil // identical: the server checked every link of its copy
	}
	server := make(map[uint64]string, first.Head.Seq)
	for after := uint64(0); after < first.Head.Seq; {
		p, err := ask(after, api.MaxJournalRecordsPage)
		if err != nil {
			return cmp, err
		}
		for _, d := range p.Records {
			server[d.Seq] = d.Hash
		}
		if p.NextAfter <= after || len(p.Records) == 0 {
			break
		}
		after = p.NextAfter
	}
	last := max(l.head.Seq, first.Head.Seq)
	add := func(seq uint64, kind FindingKind, format string, args ...any) {
		cmp.findings = append(cmp.findings, Finding{JournalID: l.id, Kind: kind, Seq: seq, Message: fmt.Sprintf(format, args...)})
	}
	differs := false
	receipt := "its receipt"
	if !l.acked.Receipt.IssuedAt.IsZero() {
		receipt = "its receipt of " + l.acked.Receipt.IssuedAt.UTC().Format(time.RFC3339)
	}
	for seq := uint64(1); seq <= last; seq++ {
		theirs, held := server[seq]
		if seq > first.Head.Seq {
			held = false
		}
		switch {
		case seq <= l.head.Seq && held:
			if ours := l.hashes[seq-1].String(); theirs != ours {
				add(seq, FindingDifferent, "the server holds a record with hash %s; this file's has hash %s", theirs, ours)
				differs = true
			}
		case seq <= l.head.Seq && seq <= l.acked.Seq:
			add(seq, FindingMissing, "the server does not hold it, though %s covered it (was the server restored from an older backup?)", receipt)
			if cmp.resendFrom == 0 {
				cmp.resendFrom = seq
			}
			cmp.resendTo = seq
		case seq <= l.head.Seq:
			// past the receipt: pending, the sync sends it
		case held:
			add(seq, FindingRollback, "the server holds it (hash %s), but this file ends at seq %d: the file was cut short or replaced by an older copy", theirs, l.head.Seq)
		default:
			add(seq, FindingRollback, "the server's head is seq %d, but this file ends at seq %d: the file was cut short or replaced by an older copy", first.Head.Seq, l.head.Seq)
		}
	}
	if differs {
		cmp.resendFrom, cmp.resendTo = 0, 0 // the server would refuse them as conflicting
	}
	return cmp, nil
}

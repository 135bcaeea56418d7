package api

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// The journal protocol: a client's append-only journal syncs to
// PUT /audit/journals/{journal_id}/records one contiguous range at a time. Both sides
// compute record hashes and check receipts with the functions below, so there is one
// definition of each.

// Journal record actions, the "action" of a RecordBody.
const (
	ActionSessionStart     = "session.start"     // a session was started (reason in Reason)
	ActionSessionRefused   = "session.refused"   // the server refused to start one (code in Details)
	ActionView             = "view"              // a screen of the user's data was shown
	ActionExplain          = "explain"           // a permission cell was explained
	ActionSessionEnd       = "session.end"       // the admin ended the session
	ActionSessionExpire    = "session.expire"    // the session expired or was revoked
	ActionJournalRecovered = "journal.recovered" // a corrupt journal was set aside; Details names its head
	ActionError            = "error"             // something failed while impersonating
)

// RecordBody is the JSON a journal record's body holds. The body's exact bytes are what
// the hash covers, so it crosses the wire base64-encoded (WireRecord.Body), never
// re-encoded.
type RecordBody struct {
	EventID   string    `json:"event_id"`             // ULID, unique per record
	SessionID string    `json:"session_id,omitempty"` // the impersonation session
	Time      time.Time `json:"time"`                 // UTC
	Action    string    `json:"action"`
	Actor     UserRef   `json:"actor"`          // the admin, who acted
	User      *UserRef  `json:"user,omitempty"` // the impersonated user
	Reason    string    `json:"reason,omitempty"`
	Details   string    `json:"details,omitempty"` // e.g. "dashboard d-fleet: Fleet overview"
	// Recovered is set in journal.recovered records: what became of a damaged journal.
	Recovered *Recovered `json:"recovered,omitempty"`
}

// HashSize is the size of a record hash; hashes are lower-case hex on the wire.
const HashSize = sha256.Size

// Hash is a record hash.
type Hash [HashSize]byte

// ZeroHash is the prev_hash of seq 1, and the hash of an empty journal's head.
var ZeroHash Hash

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash decodes a 64-character hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("hash %q: want %d hex characters", truncate(s, 16), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", truncate(s, 16), err)
	}
	return h, nil
}

// hashDomain separates journal record hashes from any other SHA-256 use.
const hashDomain = "shadow.journal.record.v1\x00"

// RecordHash is SHA-256(domain ‖ len(journal_id) ‖ journal_id ‖ seq ‖ prev_hash ‖ body),
// lengths and seq as big-endian uint64, body the exact stored bytes.
func RecordHash(journalID string, seq uint64, prev Hash, body []byte) Hash {
	return NewRecordHasher(journalID).Sum(seq, prev, body)
}

// RecordHasher computes RecordHash for the records of one journal, one after another,
// without allocating: verifying a journal hashes every record, and a digest, the domain
// and the journal id made anew for each were most of its garbage. One goroutine at a time.
type RecordHasher struct {
	d   hash.Hash
	buf []byte // domain ‖ len(journal_id) ‖ journal_id, then a record's seq ‖ prev_hash
	n   int    // the journal's part of buf
	out Hash
}

// NewRecordHasher returns a hasher for the records of journalID.
func NewRecordHasher(journalID string) *RecordHasher {
	buf := make([]byte, 0, len(hashDomain)+8+len(journalID)+8+HashSize)
	buf = append(buf, hashDomain...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(journalID)))
	buf = append(buf, journalID...)
	return &RecordHasher{d: sha256.New(), buf: buf, n: len(buf)}
}

// Sum is RecordHash of the hasher's journal.
func (h *RecordHasher) Sum(seq uint64, prev Hash, body []byte) Hash {
	h.buf = binary.BigEndian.AppendUint64(h.buf[:h.n], seq)
	h.buf = append(h.buf, prev[:]...)
	h.d.Reset()
	h.d.Write(h.buf)
	h.d.Write(body)
	h.d.Sum(h.out[:0])
	return h.out
}

// JournalHead is the last record of a journal (seq 0 and ZeroHash when empty).
type JournalHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// WireRecord is one journal record on the wire.
type WireRecord struct {
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
	Body     []byte `json:"body"` // the exact stored bytes of a RecordBody, base64 in JSON
}

// Verify checks the record's hash against its own fields.
func (r WireRecord) Verify(journalID string) error {
	prev, err := ParseHash(r.PrevHash)
	if err != nil {
		return fmt.Errorf("record %d prev_hash: %w", r.Seq, err)
	}
	want, err := ParseHash(r.Hash)
	if err != nil {
		return fmt.Errorf("record %d hash: %w", r.Seq, err)
	}
	if got := RecordHash(journalID, r.Seq, prev, r.Body); got != want {
		return fmt.Errorf("record %d: hash does not match its contents", r.Seq)
	}
	return nil
}

// PutRecordsRequest is the body of PUT /audit/journals/{journal_id}/records: one
// contiguous, ascending range of at most MaxJournalBatch records. The first record's
// prev_hash must equal the hash the server holds for seq-1 (or be ZeroHash for seq 1).
type PutRecordsRequest struct {
	Records []WireRecord `json:"records"`
}

// PutRecordsResponse acknowledges a range once it is durably stored: the server's head
// for the journal and a receipt signed for that head.
type PutRecordsResponse struct {
	JournalID  string      `json:"journal_id"`
	Head       JournalHead `json:"head"`
	Accepted   int         `json:"accepted"`   // records newly stored
	Duplicates int         `json:"duplicates"` // records already held, byte for byte
	Receipt    Receipt     `json:"receipt"`
}

// Receipt is the server's signed statement that it durably holds a journal up to Seq,
// whose hash is Hash. Because each hash chains to the one before, a receipt for the head
// vouches for every record up to it.
type Receipt struct {
	JournalID string    `json:"journal_id"`
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	IssuedAt  time.Time `json:"issued_at"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"` // Ed25519 over SignedMessage(), base64 in JSON
}

// SignedMessage is the exact byte string a receipt's signature covers.
func (r Receipt) SignedMessage() []byte {
	return []byte("shadow.journal.receipt.v1\n" + r.JournalID + "\n" +
		strconv.FormatUint(r.Seq, 10) + "\n" + r.Hash + "\n" +
		r.IssuedAt.UTC().Format(time.RFC3339Nano))
}

// ErrBadReceipt is returned by Receipt.Verify for a signature that does not verify.
var ErrBadReceipt = errors.New("receipt signature does not verify")

// Verify checks the receipt's signature with the server's public key.
func (r Receipt) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("receipt for %s@%d: public key has %d bytes, want %d",
			r.JournalID, r.Seq, len(pub), ed25519.PublicKeySize)
	}
	if !ed25519.Verify(pub, r.SignedMessage(), r.Signature) {
		return fmt.Errorf("receipt for %s@%d: %w", r.JournalID, r.Seq, ErrBadReceipt)
	}
	return nil
}

// Sign fills in the receipt's signature. Server side only, but kept beside Verify so the
// two can never disagree on the message.
func (r *Receipt) Sign(priv ed25519.PrivateKey) {
	r.Signature = ed25519.Sign(priv, r.SignedMessage())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Recovered is what a journal.recovered record says of a damaged journal that was set
// aside: where it is, what of it the server already held, what was found damaged, and
// which of its records follow this record, carried byte for byte (see CarriedRange).
type Recovered struct {
	JournalID string `json:"journal_id"` // the damaged journal
	File      string `json:"file"`       // the name it was set aside under, in the same directory
	// LastHead is its head as its meta says, when that could be read.
	LastHead *JournalHead `json:"last_head,omitempty"`
	// Acked is what its last receipt covers: the server held those records already.
	Acked *JournalHead `json:"acked,omitempty"`
	// Damaged lists the seqs found damaged or missing, as ranges ("7-9,12"); they are
	// on the server only if Acked covers them.
	Damaged string `json:"damaged,omitempty"`
	// Carried, when set, says that the records right after this one in this journal are
	// the damaged journal's records FirstSeq to LastSeq, their bodies byte for byte.
	Carried *CarriedRange `json:"carried,omitempty"`
}

// CarriedRange is a run of a damaged journal's records carried into another journal.
// Their original hashes can be recomputed from the bodies, which are unchanged: the
// first is RecordHash(journal id, FirstSeq, PrevHash, body), each next one chains to the
// one before, and the last must come out as LastHash.
type CarriedRange struct {
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	PrevHash string `json:"prev_hash"` // the damaged journal's prev_hash of FirstSeq
	LastHash string `json:"last_hash"` // the damaged journal's hash of LastSeq
}

// JournalRecordsPage is the reply to GET /audit/journals/{journal_id}/records?after=&limit=:
// the server's head for the journal and the seq and hash of each record it holds after
// after, ascending, at most limit of them. A client compares them with its own journal
// (online reconciliation). A journal the server holds nothing of has head seq 0.
type JournalRecordsPage struct {
	JournalID string         `json:"journal_id"`
	Head      JournalHead    `json:"head"`
	Records   []RecordDigest `json:"records"`
	// NextAfter is the after of the next page; 0 when this page reaches the head.
	NextAfter uint64 `json:"next_after,omitempty"`
}

// RecordDigest is one record of a JournalRecordsPage.
type RecordDigest struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// MaxJournalRecordsPage bounds ?limit= of GET /audit/journals/{journal_id}/records (and
// is its default): larger values are capped.
const MaxJournalRecordsPage = 1000

package audit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shadowview/shadow/api"
)

// The on-disk layout of a journal file:
//
//	bucket "meta":    "format" → formatV1 or formatV2, "journal_id" → id,
//	                  "created" → RFC 3339 time, "head" → seq(8, big-endian) ‖ hash(32),
//	                  "acked" → JSON Acknowledgement, "server_key" → JSON api.AuditKey
//	bucket "records": seq(8, big-endian) → prev_hash(32) ‖ hash(32) ‖ body (v1) or the
//	                  body's stored form (v2, see codec.go)
//	bucket "strings": (v2) id(8, big-endian) → bytes a v2 body refers to
const formatV1 = "shadow.journal.v1"

var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")

	keyFormat    = []byte("format")
	keyJournalID = []byte("journal_id")
	keyCreated   = []byte("created")
	keyHead      = []byte("head")
	keyAcked     = []byte("acked")
	keyServerKey = []byte("server_key")
)

// pageSize is fixed when a journal is created so the lock-free snapshot knows where the
// two meta pages end without asking bbolt (see snapshot.go).
const pageSize = 4096

// recordOverhead is the prev_hash and hash stored before each body.
const recordOverhead = 2 * api.HashSize

// ErrDamaged reports a journal whose contents break an invariant: the chain, contiguity,
// the head, or the acknowledgement. Such a journal is never extended; verify says where.
var ErrDamaged = errors.New("journal damaged")

// Record is one stored journal record: its place in the chain and the exact body bytes
// its hash covers.
type Record struct {
	JournalID string
	Seq       uint64
	PrevHash  api.Hash
	Hash      api.Hash
	Body      []byte
}

// Wire is the record as the sync protocol sends it.
func (r Record) Wire() api.WireRecord {
	return api.WireRecord{Seq: r.Seq, PrevHash: r.PrevHash.String(), Hash: r.Hash.String(), Body: r.Body}
}

// Decode parses the body.
func (r Record) Decode() (api.RecordBody, error) {
	var b api.RecordBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return b, fmt.Errorf("journal %s record %d: body: %w", r.JournalID, r.Seq, err)
	}
	return b, nil
}

// Acknowledgement is the server's latest signed statement of how much of a journal it
// holds durably.
type Acknowledgement struct {
	Seq     uint64      `json:"seq"`
	Hash    string      `json:"hash"`
	Receipt api.Receipt `json:"receipt"`
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

func keySeq(k []byte) (uint64, bool) {
	if len(k) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

func encodeRecord(prev, hash api.Hash, body []byte) []byte {
	v := make([]byte, 0, recordOverhead+len(body))
	v = append(v, prev[:]...)
	v = append(v, hash[:]...)
	return append(v, body...)
}

// decodeRecord splits a stored value. The slices alias v, which bbolt owns only for the
// life of the transaction; callers copy what they keep.
func decodeRecord(v []byte) (prev, hash api.Hash, body []byte, ok bool) {
	if len(v) < recordOverhead {
		return prev, hash, nil, false
	}
	copy(prev[:], v[:api.HashSize])
	copy(hash[:], v[api.HashSize:recordOverhead])
	return prev, hash, v[recordOverhead:], true
}

func encodeHead(h head) []byte {
	v := make([]byte, 8+api.HashSize)
	binary.BigEndian.PutUint64(v, h.Seq)
	copy(v[8:], h.Hash[:])
	return v
}

func decodeHead(v []byte) (head, bool) {
	var h head
	if len(v) != 8+api.HashSize {
		return h, false
	}
	h.Seq = binary.BigEndian.Uint64(v)
	copy(h.Hash[:], v[8:])
	return h, true
}

// head is the last record of a journal: seq 0 and ZeroHash when empty.
type head struct {
	Seq  uint64
	Hash api.Hash
}

func (h head) API() api.JournalHead { return api.JournalHead{Seq: h.Seq, Hash: h.Hash.String()} }

// timeFormat is how times are written in meta and shown to people: UTC, RFC 3339.
const timeFormat = time.RFC3339Nano

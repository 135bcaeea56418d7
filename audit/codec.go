package audit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// Format v2 stores a record's body compactly; what the hash covers, what crosses the wire
// and what every reader sees is still the exact JSON body, rebuilt byte for byte. The
// stored value keeps v1's first 64 bytes (prev_hash ‖ hash), so everything that reads
// only hashes (the head check, acknowledgements, reconciliation) reads both formats the
// same way. After them comes one tag byte:
//
//	tagVerbatim: the body's bytes as they are (a body the compact form cannot rebuild
//	             exactly — say one carried from a damaged journal by an older build);
//	tagPieces:   the body as a run of pieces, concatenated in order:
//	  pieceString  uvarint id    a string of the journal's "strings" bucket
//	  pieceLiteral uvarint n ‖ n bytes
//	  pieceULID    16 bytes      the quoted 26-character ULID they encode
//	  pieceTime    8 bytes       the quoted RFC 3339 UTC time of that many Unix nanoseconds
//
// The strings bucket interns what repeats across records: every member's key with its
// separator (`,"action":`), and the values of the members that repeat per session — the
// admin, the impersonated user, the session id, the action, the reason. It maps an 8-byte
// big-endian id (from 1, in order) to the bytes; ids are written in the transaction of the
// first record that uses them and, like records, never change or go away.
//
// The writer encodes a body and decodes the result before storing it; a body that does
// not come back byte for byte is stored verbatim, so the compact form can never change
// what was recorded (TestCompactBodiesRebuildExactly).
const formatV2 = "shadow.journal.v2"

var bucketStrings = []byte("strings")

const (
	tagVerbatim = 0
	tagPieces   = 1

	pieceString  = 0
	pieceLiteral = 1
	pieceULID    = 2
	pieceTime    = 3
)

// internedMembers are the members whose values repeat across a session's records.
var internedMembers = map[string]bool{
	`"actor":`: true, `"user":`: true, `"session_id":`: true, `"action":`: true, `"reason":`: true,
}

// Bounds on what is interned, so that no body can grow the strings bucket by much.
const (
	maxInternedKey   = 64
	maxInternedValue = 2048
)

// newJournalFormat is the format new journals are created in. A variable only so that
// tests and benchmarks can write a journal as earlier builds did, beside one as now.
var newJournalFormat = formatV2

// codec reads (and, for the writer, writes) the record values of one journal file.
type codec struct {
	format string
	// strs[id] is the interned string id (strs[0] unused). Readers alias bbolt's memory,
	// valid for their transaction; the writer's are copies.
	strs  [][]byte
	index map[string]uint64 // the writer's: string → id
	stale bool              // the writer's: a transaction failed; read the strings again
	buf   []byte            // the last body rebuilt

	sec     int64  // the second secText spells, kept from one record to the next
	secText []byte // "2006-01-02T15:04:05" of sec
}

// readCodec reads the format and, for v2, the strings of the journal in tx. An unknown
// or missing format reads as v1, which is what readState then reports.
func readCodec(tx *bolt.Tx) (*codec, error) {
	c := &codec{format: formatV1, strs: [][]byte{nil}}
	meta := tx.Bucket(bucketMeta)
	if meta == nil || string(meta.Get(keyFormat)) != formatV2 {
		return c, nil
	}
	c.format = formatV2
	b := tx.Bucket(bucketStrings)
	if b == nil {
		return c, fmt.Errorf("%w: format v2 without its strings bucket", ErrDamaged)
	}
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		id, ok := keySeq(k)
		if !ok || id != uint64(len(c.strs)) {
			return c, fmt.Errorf("%w: strings bucket: id %x where %d was expected", ErrDamaged, k, len(c.strs))
		}
		c.strs = append(c.strs, v)
	}
	return c, nil
}

// writerCodec is readCodec for the writer: the strings copied out of the transaction,
// and indexed for interning.
func writerCodec(tx *bolt.Tx) (*codec, error) {
	c, err := readCodec(tx)
	if err != nil {
		return nil, err
	}
	c.index = make(map[string]uint64, len(c.strs))
	for id := 1; id < len(c.strs); id++ {
		c.strs[id] = bytes.Clone(c.strs[id])
		c.index[string(c.strs[id])] = uint64(id)
	}
	return c, nil
}

// body returns the exact body bytes of a stored value's rest (what follows the two
// hashes). For v2 they are rebuilt into a buffer the next call reuses: callers copy what
// they keep, as they do the v1 bytes bbolt owns.
func (c *codec) body(rest []byte) ([]byte, bool) {
	if c.format != formatV2 {
		return rest, true
	}
	if len(rest) == 0 {
		return nil, false
	}
	if rest[0] == tagVerbatim {
		return rest[1:], true
	}
	if rest[0] != tagPieces {
		return nil, false
	}
	out, ok := c.rebuild(c.buf[:0], rest[1:])
	c.buf = out
	return out, ok
}

// decode splits a stored value into its hashes and exact body (see decodeRecord).
func (c *codec) decode(v []byte) (prev, hash api.Hash, body []byte, ok bool) {
	prev, hash, rest, ok := decodeRecord(v)
	if !ok {
		return prev, hash, nil, false
	}
	body, ok = c.body(rest)
	return prev, hash, body, ok
}

func (c *codec) rebuild(out, p []byte) ([]byte, bool) {
	for len(p) > 0 {
		kind := p[0]
		p = p[1:]
		switch kind {
		case pieceString, pieceLiteral:
			n, w := binary.Uvarint(p)
			if w <= 0 {
				return out, false
			}
			p = p[w:]
			if kind == pieceLiteral {
				if n > uint64(len(p)) {
					return out, false
				}
				out, p = append(out, p[:n]...), p[n:]
				continue
			}
			if n == 0 || n >= uint64(len(c.strs)) {
				return out, false
			}
			out = append(out, c.strs[n]...)
		case pieceULID:
			if len(p) < 16 {
				return out, false
			}
			var id ulid.ULID
			copy(id[:], p[:16])
			p = p[16:]
			out = append(out, '"')
			out = append(out, make([]byte, ulid.EncodedSize)...)
			_ = id.MarshalTextTo(out[len(out)-ulid.EncodedSize:]) // the size is right
			out = append(out, '"')
		case pieceTime:
			if len(p) < 8 {
				return out, false
			}
			ns := int64(binary.BigEndian.Uint64(p))
			p = p[8:]
			out = append(out, '"')
			out = c.appendTime(out, ns)
			out = append(out, '"')
		default:
			return out, false
		}
	}
	return out, true
}

// sameAs makes sure the writer's codec is the file's: the format meta names and the
// strings its bucket holds. Only the writer adds strings, but a transaction that failed
// took its new strings with it (stale), so then the bucket is read again.
func (c *codec) sameAs(tx *bolt.Tx, format string) error {
	if !c.stale && c.format == format {
		if format != formatV2 {
			return nil
		}
		if b := tx.Bucket(bucketStrings); b != nil {
			last := uint64(0)
			if k, _ := b.Cursor().Last(); k != nil {
				last, _ = keySeq(k)
			}
			if last == uint64(len(c.strs)-1) {
				return nil
			}
		}
	}
	fresh, err := writerCodec(tx)
	if err != nil {
		return err
	}
	*c = *fresh
	return nil
}

// appendTime appends the UTC time ns as encoding/json spells it (RFC 3339, the
// nanoseconds' trailing zeros cut). The seconds' text is kept from the record before,
// which consecutive records mostly share: formatting the whole time was a sixth of
// verify's work. What it writes must only be the same every time: a body it would spell
// differently is stored verbatim (encode).
func (c *codec) appendTime(out []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	if sec := t.Unix(); sec != c.sec || c.secText == nil {
		c.sec, c.secText = sec, t.AppendFormat(c.secText[:0], "2006-01-02T15:04:05")
	}
	out = append(out, c.secText...)
	if frac := t.Nanosecond(); frac != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i >= 1; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		out = append(out, d[:n]...)
	}
	return append(out, 'Z')
}

// encode returns the stored form of body after the two hashes. intern stores a new
// string in the transaction being written (the writer's codec only).
func (c *codec) encode(body []byte, intern func(id uint64, s []byte) error) ([]byte, error) {
	if c.format != formatV2 {
		return body, nil
	}
	out, err := c.pieces(body, intern)
	if err != nil {
		return nil, err
	}
	if out != nil {
		back, ok := c.rebuild(c.buf[:0], out[1:])
		c.buf = back
		if ok && bytes.Equal(back, body) {
			return out, nil
		}
	}
	// Strings interned for a body stored verbatim stay: they are valid, only unused.
	return append([]byte{tagVerbatim}, body...), nil
}

// pieces splits a compact JSON object into pieces; nil (no error) for a body that is not
// one, which is then stored verbatim.
func (c *codec) pieces(body []byte, intern func(uint64, []byte) error) ([]byte, error) {
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, nil
	}
	out := make([]byte, 1, len(body)/2)
	out[0] = tagPieces
	str := func(s []byte) error {
		id, ok := c.index[string(s)]
		if !ok {
			id = uint64(len(c.strs))
			s = bytes.Clone(s)
			if err := intern(id, s); err != nil {
				return err
			}
			c.strs = append(c.strs, s)
			c.index[string(s)] = id
		}
		out = append(out, pieceString)
		out = binary.AppendUvarint(out, id)
		return nil
	}
	lit := func(s []byte) {
		out = append(out, pieceLiteral)
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	i := 0
	for {
		// body[i] is '{' or ','; a key string and ':' follow.
		if i+1 >= len(body) || body[i+1] != '"' {
			return nil, nil
		}
		k := skipString(body, i+1)
		if k < 0 || k >= len(body) || body[k] != ':' {
			return nil, nil
		}
		keyEnd := k + 1
		valEnd := skipValue(body, keyEnd)
		if valEnd < 0 || valEnd >= len(body) {
			return nil, nil
		}
		key, val := body[i:keyEnd], body[keyEnd:valEnd]
		if len(key) <= maxInternedKey {
			if err := str(key); err != nil {
				return nil, err
			}
		} else {
			lit(key)
		}
		name := key[1:]
		id, isID := parseULID(val, string(name) == `"event_id":`)
		ns, isTime := c.parseTime(val, string(name) == `"time":`)
		switch {
		case isID:
			out = append(out, pieceULID)
			out = append(out, id[:]...)
		case isTime:
			out = append(out, pieceTime)
			out = binary.BigEndian.AppendUint64(out, uint64(ns))
		case internedMembers[string(name)] && len(val) <= maxInternedValue:
			if err := str(val); err != nil {
				return nil, err
			}
		default:
			lit(val)
		}
		if body[valEnd] == '}' {
			if valEnd != len(body)-1 {
				return nil, nil
			}
			return out, str(body[valEnd:])
		}
		if body[valEnd] != ',' {
			return nil, nil
		}
		i = valEnd
	}
}

// parseULID reads a quoted ULID (when want is set) spelled as a ULID piece rebuilds it
// (upper case); any other spelling stays a literal.
func parseULID(v []byte, want bool) (id ulid.ULID, ok bool) {
	if !want || len(v) != ulid.EncodedSize+2 || v[0] != '"' || v[len(v)-1] != '"' {
		return id, false
	}
	var back [ulid.EncodedSize]byte
	if id.UnmarshalText(v[1:len(v)-1]) != nil || id.MarshalTextTo(back[:]) != nil {
		return id, false
	}
	return id, bytes.Equal(back[:], v[1:len(v)-1])
}

// parseTime reads a quoted time (when want is set) spelled as a time piece rebuilds it
// (RFC 3339 in UTC, as encoding/json writes it), its Unix nanoseconds within 64 bits; any
// other time stays a literal.
func (c *codec) parseTime(v []byte, want bool) (ns int64, ok bool) {
	if !want || len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v[1:len(v)-1]))
	if err != nil || t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	var scratch [40]byte
	return t.UnixNano(), bytes.Equal(c.appendTime(scratch[:0], t.UnixNano()), v[1:len(v)-1])
}

// skipString returns the index just past the JSON string starting at b[i] ('"'), or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at b[i], or -1. It needs
// only to find where a value of a well-formed body ends: whatever it makes of a body, the
// writer stores the body verbatim unless the pieces rebuild it exactly.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := skipString(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		if b[j] == ',' || b[j] == '}' || b[j] == ']' {
			if j == i {
				return -1
			}
			return j
		}
	}
	return -1
}

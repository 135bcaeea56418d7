package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
)

// The permission matrix is the one reply large enough for its encoding to matter: at
// 50,000 resources encoding/json reflected over 300,000 cells into a buffer grown by
// doubling, then escapeUnsafe copied it again — 26 MB allocated and most of the
// request's time. appendMatrix writes the same bytes (TestMatrixEncodingIsMarshal
// compares them with escapeUnsafe(json.Marshal(m)) byte for byte) straight into one
// pooled buffer, from the evaluated cells (authz.Cells: no 50,000 wire rows built
// first): its rows by hand, the small parts (subject, actions, sources table)
// through json.Marshal and escapeUnsafe as every reply, and each row's cells encoded
// once per distinct (effects, sources) pair, since rows of one type and team share
// them (authz copies such rows).

// matrixRows is the rows an encoder walks: a matrix's (wireRows) or, not yet built,
// authz.Cells'.
type matrixRows interface {
	Len() int
	Row(i int) api.PermissionRow
}

type wireRows []api.PermissionRow

func (w wireRows) Len() int                    { return len(w) }
func (w wireRows) Row(i int) api.PermissionRow { return w[i] }

// appendMatrix appends m as writeJSON would send it: escapeUnsafe(json.Marshal(m))
// and a newline.
func appendMatrix(dst []byte, m *api.PermissionMatrix) ([]byte, error) {
	var rows matrixRows
	if m.Rows != nil {
		rows = wireRows(m.Rows)
	}
	return appendMatrixRows(dst, m, rows)
}

// appendMatrixRows is appendMatrix of head with rows for its Rows (nil: null).
func appendMatrixRows(dst []byte, head *api.PermissionMatrix, rows matrixRows) ([]byte, error) {
	m := head
	dst = append(dst, `{"subject":`...)
	dst, err := appendMarshal(dst, m.Subject)
	if err != nil {
		return nil, err
	}
	dst = append(dst, `,"actions":`...)
	if dst, err = appendMarshal(dst, m.Actions); err != nil {
		return nil, err
	}
	dst = append(dst, `,"sources":`...)
	if dst, err = appendMarshal(dst, m.Sources); err != nil {
		return nil, err
	}
	dst = append(dst, `,"rows":`...)
	if rows == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendRows(dst, rows)
	}
	if m.NextCursor != "" {
		dst = append(dst, `,"next_cursor":`...)
		dst = appendString(dst, m.NextCursor)
	}
	if m.TotalRows != 0 {
		dst = append(dst, `,"total_rows":`...)
		dst = strconv.AppendInt(dst, int64(m.TotalRows), 10)
	}
	return append(dst, "}\n"...), nil
}

// appendMarshal appends v's encoding/json form, escaped as every reply is.
func appendMarshal(dst []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode matrix: %w", err)
	}
	return append(dst, escapeUnsafe(raw)...), nil
}

// appendRows appends the rows array. A row's tail (`","effects":…,"sources":[…]}`)
// is remembered for the last few distinct cell sets: a matrix of 50,000 rows has a
// handful, one per type and team.
func appendRows(dst []byte, rows matrixRows) []byte {
	type tail struct {
		effects  string
		sources  []int
		from, to int // the encoded tail in dst
	}
	var seen [8]tail
	n := 0
	dst = append(dst, '[')
	for i := range rows.Len() {
		row := rows.Row(i)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"resource":{"id":`...)
		dst = appendString(dst, row.Resource.ID)
		dst = append(dst, `,"type":`...)
		dst = appendString(dst, row.Resource.Type)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, row.Resource.Name)
		hit := -1
		for k := range min(n, len(seen)) {
			if seen[k].effects == row.Effects && sameInts(seen[k].sources, row.Sources) {
				hit = k
				break
			}
		}
		if hit >= 0 {
			dst = append(dst, dst[seen[hit].from:seen[hit].to]...)
			continue
		}
		from := len(dst)
		dst = append(dst, `},"effects":`...)
		dst = appendString(dst, row.Effects)
		dst = append(dst, `,"sources":`...)
		if row.Sources == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '[')
			for j, s := range row.Sources {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendInt(dst, int64(s), 10)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
		seen[n%len(seen)] = tail{effects: row.Effects, sources: row.Sources, from: from, to: len(dst)}
		n++
	}
	return append(dst, ']')
}

// sameInts reports whether a and b hold the same numbers and are both nil or both not
// (nil encodes as null, an empty slice as []).
func sameInts(a, b []int) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// plainByte marks the ASCII bytes encoding/json writes as they are; every other byte
// (a control, a quote, a backslash, <, >, &, DEL, the start of a multi-byte rune)
// takes appendString's slow path.
var plainByte = func() (t [256]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString appends s as a JSON string exactly as escapeUnsafe(json.Marshal(s))
// would: encoding/json's escapes (HTML characters, C0 controls, invalid UTF-8 as
// U+FFFD, U+2028/9), then every unsafeRune as \uXXXX (appendRuneEscape, the rule
// escapeUnsafe applies to every reply).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if plainByte[b] {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if b < utf8.RuneSelf {
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default: // other C0 controls, <, >, &, DEL
				dst = appendRuneEscape(dst, rune(b))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case unsafeRune(r):
			dst = appendRuneEscape(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// encodeMatrix is appendMatrix into a buffer of replyBuffers; releaseReply hands it
// back once the reply is written.
func encodeMatrix(c *authz.Cells) (*[]byte, error) {
	buf := replyBuffers.Get().(*[]byte)
	if want := matrixSizeHint(c); cap(*buf) < want {
		*buf = make([]byte, 0, want) // one allocation, not a doubling series
	}
	raw, err := appendMatrixRows((*buf)[:0], &c.Head, c)
	if err != nil {
		replyBuffers.Put(buf)
		return nil, err
	}
	*buf = raw
	return buf, nil
}

func releaseReply(buf *[]byte) {
	if cap(*buf) <= maxPooledReply {
		replyBuffers.Put(buf)
	}
}

// replyBuffers holds the buffers of past matrix replies: one of 50,000 rows is ~6 MiB,
// which each request would otherwise allocate anew. A buffer far larger than usual
// is not kept, so one huge reply does not pin its memory.
var replyBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledReply = 16 << 20

// matrixSizeHint is about the encoded size of m (a little more for plain text): the
// pool's buffers do not outlive two garbage collections, and a reply grown from
// nothing by doubling allocates twice its size and copies it as often.
// It samples up to 256 rows spread over the matrix rather than measuring every one
// (a walk of 50,000 rows was a tenth of the request).
func matrixSizeHint(rows matrixRows) int {
	total := rows.Len()
	if total == 0 {
		return 512
	}
	step := max(1, total/256)
	sum, sampled := 0, 0
	for i := 0; i < total; i += step {
		r := rows.Row(i)
		sum += 64 + len(r.Resource.ID) + len(r.Resource.Type) + len(r.Resource.Name) + len(r.Effects) + 4*len(r.Sources)
		sampled++
	}
	n := 512 + sum/sampled*total
	return n + n/16
}

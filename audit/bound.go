package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
)

// Bounding what one record holds.
//
// Every text field of a record is bounded here, at append time, so that no caller has
// to: a name, e-mail or company of any length from the server, a dashboard title, an
// error message. A value over its field's limit is cut on a character boundary and ends
// with a marker naming the full value's length and SHA-256, so the record still proves
// what was shown (whoever holds the full value can hash it and compare):
//
//	Nora Lindqvist-Aaaaaaaa…[10000 bytes, sha256:3a7bd3e2…]
//
// Limits are in bytes of the field's JSON encoding (an escaped '<' counts 6), so the
// record's size is known before it is encoded. A body that is still over MaxBodySize
// (many long fields at once) has its longest texts cut harder, details first, down to
// the marker alone; the marker is never dropped.
const (
	MaxBodySize = 2048 // bytes of a record's body, at most

	maxIDLen      = 128 // ids: the admin's, the user's, the session's, the event's
	maxActionLen  = 64
	maxNameLen    = 200
	maxEmailLen   = 254 // RFC 5321's longest path
	maxCompanyLen = 200
	maxReasonLen  = api.MaxReasonLength
	maxDetailsLen = 600
	maxDamagedLen = 300 // journal.recovered's list of damaged seqs
)

// boundedField is one text field of a record, with the value it was given.
type boundedField struct {
	dst   *string
	full  string
	limit int
	// shrinkable fields are cut harder when the body is over MaxBodySize; ids are not:
	// an id cut any shorter than its limit identifies nothing.
	shrinkable bool
}

// boundRecord bounds every text field of b and encodes it. b's User is copied, never
// changed in place: it is the caller's.
func boundRecord(b api.RecordBody) ([]byte, error) {
	if b.User != nil {
		u := *b.User
		b.User = &u
	}
	if b.Recovered != nil {
		r := *b.Recovered
		b.Recovered = &r
	}
	fields := []*boundedField{
		{dst: &b.Details, limit: maxDetailsLen, shrinkable: true},
		{dst: &b.Reason, limit: maxReasonLen, shrinkable: true},
	}
	people := []*api.UserRef{&b.Actor}
	if b.User != nil {
		people = append(people, b.User)
	}
	for i := len(people) - 1; i >= 0; i-- { // the user's text is cut before the admin's
		p := people[i]
		fields = append(fields,
			&boundedField{dst: &p.Company, limit: maxCompanyLen, shrinkable: true},
			&boundedField{dst: &p.Name, limit: maxNameLen, shrinkable: true},
			&boundedField{dst: &p.Email, limit: maxEmailLen, shrinkable: true})
	}
	for _, p := range people {
		fields = append(fields, &boundedField{dst: &p.ID, limit: maxIDLen})
	}
	fields = append(fields, &boundedField{dst: &b.SessionID, limit: maxIDLen},
		&boundedField{dst: &b.EventID, limit: maxIDLen}, &boundedField{dst: &b.Action, limit: maxActionLen})
	if b.Recovered != nil {
		fields = append(fields, &boundedField{dst: &b.Recovered.Damaged, limit: maxDamagedLen, shrinkable: true})
	}
	for _, f := range fields {
		f.full = *f.dst
		*f.dst = boundText(f.full, f.limit)
	}
	for {
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode record: %w", err)
		}
		over := len(data) - MaxBodySize
		if over <= 0 {
			return data, nil
		}
		f := longestShrinkable(fields)
		if f == nil {
			return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrRecordTooLarge, len(data), MaxBodySize)
		}
		n := jsonLen(*f.dst)
		f.limit = max(len(cutMarker(f.full)), min(f.limit-1, n-over, n*3/4))
		*f.dst = boundText(f.full, f.limit)
	}
}

// longestShrinkable is the field whose cutting gains most, or nil when no field can be
// made shorter: a value no longer than its marker would only grow.
func longestShrinkable(fields []*boundedField) *boundedField {
	var best *boundedField
	for _, f := range fields {
		if !f.shrinkable || jsonLen(*f.dst) <= len(cutMarker(f.full)) {
			continue
		}
		if best == nil || jsonLen(*f.dst) > jsonLen(*best.dst) {
			best = f
		}
	}
	return best
}

// boundText returns s when its JSON encoding takes at most limit bytes, else as much of
// s as fits before the marker (the marker alone when nothing does).
func boundText(s string, limit int) string {
	if jsonLen(s) <= limit {
		return s
	}
	m := cutMarker(s)
	room := limit - len(m)
	cut, used := 0, 0
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		n := jsonRuneLen(r, size)
		if used+n > room {
			break
		}
		used += n
		cut += size
	}
	return s[:cut] + m
}

// cutMarker names a cut value by its length and hash.
func cutMarker(full string) string {
	sum := sha256.Sum256([]byte(full))
	return "…[" + strconv.Itoa(len(full)) + " bytes, sha256:" + hex.EncodeToString(sum[:]) + "]"
}

// jsonLen is the length of s as encoding/json writes it inside a string, quotes left out.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += jsonRuneLen(r, size)
		i += size
	}
	return n
}

// jsonRuneLen is how many bytes encoding/json writes for one decoded rune: its escapes
// for '"' and '\\' and the short control escapes, \u00XX for other controls and for the
// HTML characters, \u2028 and \u2029, and \ufffd for a byte that is not UTF-8.
func jsonRuneLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size == 1:
		return 6
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
		return 2
	case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
		return 6
	}
	return size
}

package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The event index: one bucket of postings, one per (filter, value, event), so that a
// page of GET /audit/events filtered by anything the API offers reads only events that
// can match. A posting is
//
//	dimension (1 byte) ‖ uvarint(len(value)) ‖ value ‖ event key (16 bytes) → nil
//
// The length makes a value's postings one contiguous run that no other value's run can
// share a prefix with (values are client-written and may hold any byte), and within a
// run the event keys are in log order, so a time bound is a seek. The index only
// narrows the walk: every event it yields is still decided by EventFilter.matches and
// Reader.May.
var bucketIndex = []byte("event_index")

// indexVersion marks, in meta, the index layout a file holds; a file without it (or
// with another) has its index rebuilt when opened.
const indexVersion = "1"

var keyIndexVersion = []byte("event_index")

const (
	dimSession  = 'S'
	dimActor    = 'A'
	dimUser     = 'U'
	dimKind     = 'K'
	dimAudience = 'V'
)

// Audiences: the tags a reader's visible events are filed under (eventAudiences) and
// that a reader looks up (Reader.audiences). Together they restate Reader.May as
// posting lists; TestIndexAgreesWithScan holds the two to the same answers.
const (
	audServer    = "s"  // the server's own word (no Realm): vendor-wide staff read it all
	audNoCompany = "n"  // … concerning no company: any staff read it
	audCompany   = "c:" // … concerning this company
	audRealm     = "r:" // an event with a Realm: that organisation alone
)

func eventAudiences(ev *Event) []string {
	if ev.Realm != "" {
		return []string{audRealm + ev.Realm}
	}
	out := []string{audServer}
	if len(ev.Companies) == 0 {
		return append(out, audNoCompany)
	}
	for _, c := range ev.Companies {
		if !slices.Contains(out[1:], audCompany+c) {
			out = append(out, audCompany+c)
		}
	}
	return out
}

// audiences are the tags under which every event r may read is filed: the index walks
// them, and May still decides each event they yield.
func (r Reader) audiences() []string {
	out := []string{audRealm + Realm(r.Staff, r.Company)}
	switch {
	case r.Staff && r.Scope == nil:
		return append(out, audServer)
	case r.Staff:
		out = append(out, audNoCompany)
		for _, c := range r.Scope {
			out = append(out, audCompany+c)
		}
	case r.Company != "":
		out = append(out, audCompany+r.Company)
	}
	return out
}

func postingPrefix(dim byte, value string) []byte {
	p := make([]byte, 0, 1+binary.MaxVarintLen64+len(value)+16)
	p = append(p, dim)
	p = binary.AppendUvarint(p, uint64(len(value)))
	return append(p, value...)
}

// postings are the index entries of the event stored under key.
func postings(ev *Event, key []byte) [][]byte {
	var out [][]byte
	add := func(dim byte, v string) {
		if v != "" {
			out = append(out, append(postingPrefix(dim, v), key...))
		}
	}
	add(dimSession, ev.SessionID)
	add(dimActor, ev.Actor.ID)
	if ev.User != nil {
		add(dimUser, ev.User.ID)
	}
	add(dimKind, ev.Kind)
	for _, a := range eventAudiences(ev) {
		out = append(out, append(postingPrefix(dimAudience, a), key...))
	}
	return out
}

func putPostings(idx *bolt.Bucket, ev *Event, key []byte) error {
	for _, p := range postings(ev, key) {
		if err := idx.Put(p, nil); err != nil {
			return err
		}
	}
	return nil
}

// buildIndex (re)builds the event index of a file written before it (or with another
// layout), once: every event's postings, sorted, then put in order, which packs the
// pages full instead of splitting them at random.
func buildIndex(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if string(meta.Get(keyIndexVersion)) == indexVersion && tx.Bucket(bucketIndex) != nil {
		return nil
	}
	for _, name := range [][]byte{bucketIndex, []byte("by_session")} { // by_session: the session index of before
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	idx, err := tx.CreateBucket(bucketIndex)
	if err != nil {
		return err
	}
	var all [][]byte
	err = tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		var ev Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %x: %w", k, err)
		}
		all = append(all, postings(&ev, k)...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("index audit events: %w", err)
	}
	slices.SortFunc(all, bytes.Compare)
	idx.FillPercent = 1
	for _, p := range all {
		if err := idx.Put(p, nil); err != nil {
			return fmt.Errorf("index audit events: %w", err)
		}
	}
	if err := meta.Delete([]byte("session_index")); err != nil { // the marker of before
		return err
	}
	return meta.Put(keyIndexVersion, []byte(indexVersion))
}

// A stream yields event keys in log order: seek(k) is the first at or after k, nil at
// the end. Keys it returns are valid for the transaction only.
type stream interface {
	seek(k []byte) []byte
}

// run is one posting run (or, with no prefix, the events bucket itself).
type run struct {
	c      *bolt.Cursor
	prefix []byte
	cur    []byte // the last key yielded, nil before the first seek
	done   bool
	buf    []byte
	steps  *int
}

func (r *run) seek(k []byte) []byte {
	if r.done {
		return nil
	}
	if r.cur != nil && bytes.Compare(r.cur, k) >= 0 {
		return r.cur
	}
	*r.steps++
	if r.cur != nil {
		// Most seeks move to the very next entry (the join agreed, the page goes on):
		// one step along the leaf instead of a descent from the root.
		key, _ := r.c.Next()
		if key == nil || !bytes.HasPrefix(key, r.prefix) {
			r.done = true
			return nil
		}
		if bytes.Compare(key[len(r.prefix):], k) >= 0 {
			r.cur = key[len(r.prefix):]
			return r.cur
		}
	}
	r.buf = append(append(r.buf[:0], r.prefix...), k...)
	key, _ := r.c.Seek(r.buf)
	if key == nil || !bytes.HasPrefix(key, r.prefix) {
		r.done = true
		return nil
	}
	r.cur = key[len(r.prefix):]
	return r.cur
}

// union yields the keys of any of its runs (a reader's audiences), each once.
type union []stream

func (u union) seek(k []byte) []byte {
	var low []byte
	for _, s := range u {
		if x := s.seek(k); x != nil && (low == nil || bytes.Compare(x, low) < 0) {
			low = x
		}
	}
	return low
}

// join yields the keys all its streams hold (leapfrog: each seeks to the furthest key
// any other has reached, until they agree), so its cost follows the rarest stream and
// how its keys interleave with the others', not the size of the log. Past the page's
// budget of steps it stops at the furthest key reached, below which nothing matches,
// if that is past where the page started (floor), so every page moves on.
type join struct {
	streams []stream
	steps   *int
	floor   []byte
}

func (j join) seek(k []byte) []byte {
	for agreed, i := 0, 0; agreed < len(j.streams); i = (i + 1) % len(j.streams) {
		if *j.steps >= maxScan && bytes.Compare(k, j.floor) > 0 {
			return k
		}
		x := j.streams[i].seek(k)
		switch {
		case x == nil:
			return nil
		case bytes.Equal(x, k):
			agreed++
		default:
			k, agreed = x, 1
		}
	}
	return k
}

// plan is the stream of event keys that can match f: the join of the postings of each
// filter it sets, or the whole log when it sets none.
func (f EventFilter) plan(tx *bolt.Tx, start []byte, steps *int) stream {
	idx := tx.Bucket(bucketIndex)
	posting := func(dim byte, v string) stream {
		return &run{c: idx.Cursor(), prefix: postingPrefix(dim, v), steps: steps}
	}
	j := join{steps: steps, floor: start}
	if f.SessionID != "" {
		j.streams = append(j.streams, posting(dimSession, f.SessionID))
	}
	if f.UserID != "" {
		j.streams = append(j.streams, posting(dimUser, f.UserID))
	}
	if f.ActorID != "" {
		j.streams = append(j.streams, posting(dimActor, f.ActorID))
	}
	if f.Kind != "" {
		j.streams = append(j.streams, posting(dimKind, f.Kind))
	}
	if f.Reader != nil {
		var u union
		for _, a := range f.Reader.audiences() {
			u = append(u, posting(dimAudience, a))
		}
		j.streams = append(j.streams, u)
	}
	if len(j.streams) == 0 || f.noIndex {
		return &run{c: tx.Bucket(bucketEvents).Cursor(), steps: steps}
	}
	return j
}

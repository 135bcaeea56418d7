package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// Event is an audit event as stored: the api form plus who may read it.
type Event struct {
	api.AuditEvent
	// Companies are the companies the event concerns; their identities may read it,
	// and so may staff (Reader.May).
	Companies []string `json:"companies,omitempty"`
	// Realm, when set, is the one organisation that may read the event (RealmStaff or
	// CompanyRealm): a journal record the server could not tie to a session of its own
	// stays with whoever uploaded it.
	Realm string `json:"realm,omitempty"`
	// Subject names what a request read, for setting requests against journal records
	// (package reconcile); empty for other events.
	Subject string `json:"subject,omitempty"`
	// Page, on a request event of GET /permissions read in pages, is the view and the
	// page it served (the server's word, from the signed cursor); nil on any other event
	// and on events stored before it was kept (plain requests).
	Page *MatrixPage `json:"page,omitempty"`

	// sortTime, when set, orders the event instead of Time (a journal record never
	// sorts before the record before it in its journal).
	sortTime time.Time
}

// MatrixPage is one page of a paged matrix view as the server served it.
type MatrixPage struct {
	View  string `json:"view"`  // the view's id, issued with its first page
	Index int    `json:"index"` // 0 for the first page
	From  int    `json:"from"`  // rows of the view served before this page
	Rows  int    `json:"rows"`  // rows this page served
	Total int    `json:"total"` // the matrix's rows when this page was served
	Last  bool   `json:"last,omitempty"`
}

// RealmStaff is the vendor's staff as an organisation.
const RealmStaff = "staff"

// CompanyRealm is a customer company as an organisation.
func CompanyRealm(companyID string) string { return "company:" + companyID }

// Realm is the organisation of an identity: staff, or its company.
func Realm(staff bool, companyID string) string {
	if staff {
		return RealmStaff
	}
	return CompanyRealm(companyID)
}

// Reader is who lists the audit log.
type Reader struct {
	// ID is the reader's identity: an uploader always reads its own journal records.
	ID    string
	Staff bool
	// Scope, for staff, lists the companies of their support scope; nil is vendor-wide.
	Scope []string
	// Company is a customer identity's company.
	Company string
}

// May is THE rule of who reads which audit event, and its only statement:
//   - an event with a Realm (a journal record the server could not check against a
//     session of its own, or that names none) is read by that organisation alone, and
//     within the staff by those whose scope covers a company it concerns (a record
//     naming no company: vendor-wide staff only); its uploader always reads it;
//   - any other event is the server's own word: staff read it if it concerns a company
//     of their scope or no company at all (vendor-wide staff read all of it), and a
//     company's identities read it if it concerns their company.
func (r Reader) May(ev *Event) bool {
	if ev.Realm != "" {
		if ev.Realm != Realm(r.Staff, r.Company) {
			return false
		}
		mine := r.ID != "" && ev.SyncedBy != nil && ev.SyncedBy.ID == r.ID
		return !r.Staff || r.Scope == nil || mine || r.inScope(ev.Companies)
	}
	if r.Staff {
		return r.Scope == nil || len(ev.Companies) == 0 || r.inScope(ev.Companies)
	}
	return r.Company != "" && slices.Contains(ev.Companies, r.Company)
}

func (r Reader) inScope(companies []string) bool {
	for _, c := range companies {
		if slices.Contains(r.Scope, c) {
			return true
		}
	}
	return false
}

// Bounds on the strings of an audit event, in bytes; longer values are cut (on a rune
// boundary, marked with "…") before they are stored. The values themselves are kept as
// received, whatever characters they hold: escaping them is the reply's job.
const (
	MaxID      = 128
	MaxName    = 200
	MaxEmail   = 254
	MaxPath    = 300
	MaxMethod  = 20
	MaxToken   = 64 // kinds, codes, actions
	MaxReason  = 4 * api.MaxReasonLength
	MaxDetails = 2000
)

// Truncate cuts s to at most n bytes on a rune boundary, adding "…" when it cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func boundRef(r *api.UserRef) {
	if r == nil {
		return
	}
	r.ID, r.Name, r.Email = Truncate(r.ID, MaxID), Truncate(r.Name, MaxName), Truncate(r.Email, MaxEmail)
}

// bound cuts every string of an event to its bound.
func bound(ev *api.AuditEvent) {
	ev.Kind = Truncate(ev.Kind, MaxToken)
	boundRef(&ev.Actor)
	boundRef(ev.User)
	boundRef(ev.SyncedBy)
	boundRef(ev.ClaimedActor)
	ev.SessionID = Truncate(ev.SessionID, MaxID)
	ev.Method = Truncate(ev.Method, MaxMethod)
	ev.Path = Truncate(ev.Path, MaxPath)
	ev.Code = api.Code(Truncate(string(ev.Code), MaxToken))
	ev.Reason = Truncate(ev.Reason, MaxReason)
	ev.Details = Truncate(ev.Details, MaxDetails)
	ev.JournalID = Truncate(ev.JournalID, MaxID)
	ev.Action = Truncate(ev.Action, MaxToken)
	ev.Verification = Truncate(ev.Verification, MaxToken)
	ev.VerificationNote = Truncate(ev.VerificationNote, MaxDetails)
}

// AppendEvents stores events durably. Each gets its id here.
func (s *Store) AppendEvents(events ...Event) error {
	if err := s.update(func(tx *bolt.Tx) error { return appendEvents(tx, events) }); err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	return nil
}

// Times an event key can tell apart: unix nanoseconds in an int64, from 1970 (earlier
// times, and the zero time, sort first) to 2262 (later ones sort last).
var (
	firstKeyTime = time.Unix(0, 0)
	lastKeyTime  = time.Unix(0, math.MaxInt64)
)

func keyNanos(t time.Time) int64 {
	switch {
	case t.Before(firstKeyTime):
		return 0
	case t.After(lastKeyTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// eventKey orders events by time, then by arrival: 8 bytes of unix nanoseconds and
// 8 of sequence, both big-endian. Times outside what the nanoseconds can hold are
// clamped (UnixNano would wrap them round), so a bound such as until=3000-01-01 still
// means "everything".
func eventKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(keyNanos(t)))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// appendEvents is the one writer of events: it bounds them, gives each its id and
// key, and files it in the event index.
func appendEvents(tx *bolt.Tx, events []Event) error {
	b := tx.Bucket(bucketEvents)
	idx := tx.Bucket(bucketIndex)
	for i := range events {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		ev := events[i]
		ev.ID = "ev-" + strconv.FormatUint(seq, 10)
		ev.Time = ev.Time.UTC()
		bound(&ev.AuditEvent)
		raw, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		sortTime := ev.Time
		if !ev.sortTime.IsZero() {
			sortTime = ev.sortTime
		}
		key := eventKey(sortTime, seq)
		if err := b.Put(key, raw); err != nil {
			return err
		}
		if err := putPostings(idx, &ev, key); err != nil {
			return err
		}
	}
	return nil
}

// ownLegacyJournals gives each journal stored before owners were kept its owner, once:
// the uploader of its first record, as that record's audit event names them.
func ownLegacyJournals(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get([]byte("journal_owners")) != nil {
		return nil
	}
	type first struct {
		seq   uint64
		owner string
	}
	firsts := map[string]first{}
	err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		var ev Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %x: %w", k, err)
		}
		if ev.Kind != api.EventJournalRecord || ev.SyncedBy == nil || ev.JournalID == "" {
			return nil
		}
		if f, ok := firsts[ev.JournalID]; !ok || ev.Seq < f.seq {
			firsts[ev.JournalID] = first{ev.Seq, ev.SyncedBy.ID}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find journals' first uploaders: %w", err)
	}
	journals := tx.Bucket(bucketJournals)
	for jid, f := range firsts {
		jb := journals.Bucket([]byte(jid))
		if jb == nil || jb.Get(keyOwner) != nil || f.owner == "" {
			continue
		}
		if err := jb.Put(keyOwner, []byte(f.owner)); err != nil {
			return err
		}
	}
	return meta.Put([]byte("journal_owners"), []byte("1"))
}

// Migrate runs fn once over every stored event, for a change of what events carry:
// the events fn changes are rewritten in place (same key and id). name marks it done.
func (s *Store) Migrate(name string, fn func(*Event) bool) error {
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		mark := []byte("migrated:" + name)
		if meta.Get(mark) != nil {
			return nil
		}
		b := tx.Bucket(bucketEvents)
		idx := tx.Bucket(bucketIndex)
		type rewrite struct {
			k, v    []byte
			ev      Event
			removed [][]byte // the postings of what it was
		}
		var changed []rewrite
		err := b.ForEach(func(k, v []byte) error {
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			key := append([]byte(nil), k...)
			was := postings(&ev, key)
			if !fn(&ev) {
				return nil
			}
			bound(&ev.AuditEvent)
			raw, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			changed = append(changed, rewrite{key, raw, ev, was})
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range changed {
			if err := b.Put(c.k, c.v); err != nil {
				return err
			}
			for _, p := range c.removed {
				if err := idx.Delete(p); err != nil {
					return err
				}
			}
			if err := putPostings(idx, &c.ev, c.k); err != nil {
				return err
			}
		}
		return meta.Put(mark, []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("migrate audit events (%s): %w", name, err)
	}
	return nil
}

// EventFilter selects events. Empty fields match everything.
type EventFilter struct {
	SessionID string
	UserID    string // the impersonated user
	ActorID   string
	Kind      string
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	// Reader, when set, keeps only the events it may read (Reader.May).
	Reader *Reader
	Cursor string // from a previous page
	Limit  int

	// noIndex walks the whole log as the store did before the event index, for the
	// benchmarks' baseline.
	noIndex bool
}

// maxScan bounds the index and log steps one page may take, so no filter can make one
// request walk the whole log; the page then ends early with a cursor. With the index a
// page reaches it only when the postings of its filters interleave that often without
// meeting (the join's worst case); without it, after 50,000 events of any filter.
var maxScan = 50_000

// ErrBadCursor is returned for a cursor this store did not issue.
var ErrBadCursor = errors.New("cursor is not one this server issued")

// Events returns a page of events in key order (time, a journal's records in seq
// order) and the cursor for the next page (empty when no further event matches). It
// walks the event index (plan), so a page costs the events it lists and the index steps
// between them, not the events that do not match.
func (s *Store) Events(f EventFilter) ([]api.AuditEvent, string, error) {
	out := []api.AuditEvent{}
	next, err := s.scan(f, func(ev *Event) { out = append(out, ev.AuditEvent) })
	return out, next, err
}

// SessionEvents returns every event naming the session, in key order, up to max;
// complete is false when there were more.
func (s *Store) SessionEvents(sessionID string, max int) (events []Event, complete bool, err error) {
	next, err := s.scan(EventFilter{SessionID: sessionID, Limit: max}, func(ev *Event) { events = append(events, *ev) })
	return events, next == "" && err == nil, err
}

func (s *Store) scan(f EventFilter, emit func(*Event)) (string, error) {
	if f.Limit < 1 {
		f.Limit = 1
	}
	// start: the first event key the page may list.
	start := make([]byte, 16)
	if f.Cursor != "" {
		k, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", err
		}
		switch {
		case len(k) < 16: // a key below every event key of its prefix: the page starts at the prefix
			copy(start, k)
		default: // strictly after
			if start = after(k); start == nil {
				return "", nil
			}
		}
	}
	if !f.Since.IsZero() {
		if since := eventKey(f.Since, 0); bytes.Compare(since, start) > 0 {
			start = since
		}
	}
	var until []byte
	if !f.Until.IsZero() {
		until = eventKey(f.Until, 0)
	}
	next, n := "", 0
	err := s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		steps := 0
		plan := f.plan(tx, start, &steps)
		var last []byte
		for k := start; ; {
			if k = plan.seek(k); k == nil || (until != nil && bytes.Compare(k, until) >= 0) {
				return nil
			}
			if steps >= maxScan && bytes.Compare(k, start) > 0 {
				next = encodeCursor(before(k)) // resume at k: nothing before it matches
				return nil
			}
			steps++
			v := events.Get(k)
			if v == nil {
				return fmt.Errorf("event %x is indexed but not stored", k)
			}
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			if f.matches(&ev) {
				if n == f.Limit {
					next = encodeCursor(last)
					return nil
				}
				emit(&ev)
				n++
				last = append(last[:0], k...)
			}
			if k = after(k); k == nil {
				return nil
			}
		}
	})
	if err != nil {
		return "", fmt.Errorf("list audit events: %w", err)
	}
	return next, nil
}

// after is the event key just after k (nil after the last possible one), before the one
// just before it (the empty key before the first): a cursor means "strictly after".
func after(k []byte) []byte {
	out := bytes.Clone(k)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i]++; out[i] != 0 {
			return out
		}
	}
	return nil
}

func before(k []byte) []byte {
	out := bytes.Clone(k)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i]--; out[i] != 0xff {
			return out
		}
	}
	return []byte{}
}

func (f EventFilter) matches(ev *Event) bool {
	switch {
	case f.Kind != "" && ev.Kind != f.Kind,
		f.SessionID != "" && ev.SessionID != f.SessionID,
		f.ActorID != "" && ev.Actor.ID != f.ActorID,
		f.UserID != "" && (ev.User == nil || ev.User.ID != f.UserID):
		return false
	}
	return f.Reader == nil || f.Reader.May(ev)
}

func encodeCursor(k []byte) string { return "c" + fmt.Sprintf("%x", k) }

func decodeCursor(s string) ([]byte, error) {
	if len(s) < 1 || s[0] != 'c' || len(s) > 1+32 || (len(s)-1)%2 != 0 {
		return nil, ErrBadCursor
	}
	k := make([]byte, (len(s)-1)/2)
	for i := range k {
		n, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return nil, ErrBadCursor
		}
		k[i] = byte(n)
	}
	return k, nil
}

package audit

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shadowview/shadow/internal/words"
)

// SyncState summarises where a journal's records are.
type SyncState int

const (
	// SyncLocal: no sync loop is running; records stay on this machine for now.
	SyncLocal SyncState = iota
	// SyncSynced: the server has acknowledged every record.
	SyncSynced
	// SyncPending: records are waiting and the server was reachable last time.
	SyncPending
	// SyncOffline: the last attempt could not reach the server (or it asked to wait).
	SyncOffline
	// SyncFailing: the server answered but the journal cannot sync without attention:
	// a changed audit key, a conflicting record, a damaged journal, a refused token.
	SyncFailing
)

func (s SyncState) String() string {
	switch s {
	case SyncSynced:
		return "synced"
	case SyncPending:
		return "pending"
	case SyncOffline:
		return "offline"
	case SyncFailing:
		return "failing"
	}
	return "local"
}

// Status is what the UI shows about the journal: published after every commit and every
// sync attempt.
type Status struct {
	JournalID string
	State     SyncState
	Head      uint64 // last durable seq of this run's journal
	Acked     uint64 // last seq of it the server acknowledged
	// Pending counts durable records the server has not acknowledged, in this run's
	// journal and in ended runs' journals the sync loop is pushing.
	Pending uint64
	// OfflineSince is when the server stopped answering; zero while it answers.
	OfflineSince time.Time
	// LastError is the last sync failure, kept until a request succeeds.
	LastError error
	// LastSync is when the server last acknowledged records.
	LastSync time.Time
	// Notices are things the user should be told once, e.g. a damaged journal of an
	// earlier run that the sync loop found and set aside. It only grows: each finding
	// adds its words once.
	Notices []string
	// Findings are what the sync loop found, each once: ranges the server refused,
	// differences with the server's copies, damaged or unreadable journals. At most
	// maxFindings are kept; FindingsDropped counts the rest.
	Findings        []Finding
	FindingsDropped int
}

// maxFindings bounds the findings a Status keeps.
const maxFindings = 1000

// String is the status line text: "synced", "3 pending", "offline since 14:02:05 · 3
// pending", "sync failing: … · 3 pending", "local only · 3 not synced".
func (s Status) String() string {
	switch s.State {
	case SyncSynced:
		return "synced"
	case SyncPending:
		return fmt.Sprintf("%d pending", s.Pending)
	case SyncOffline:
		return fmt.Sprintf("offline since %s · %d pending", s.OfflineSince.Local().Format("15:04:05"), s.Pending)
	case SyncFailing:
		return fmt.Sprintf("sync failing: %v · %d pending", s.LastError, s.Pending)
	}
	return fmt.Sprintf("local only · %d not synced", s.Pending)
}

// statusHub holds the current Status and hands it to subscribers. A subscriber's channel
// holds only the latest value, so a slow reader never blocks the journal.
type statusHub struct {
	mu      sync.Mutex
	cur     Status
	syncing bool
	failing bool
	others  map[string]uint64 // pending records of ended runs' journals, by id
	seen    map[string]bool   // findings reported, by key
	// recoveries are damaged journals the loop recovered (for Drain's report).
	recoveries []Recovery
	subs       map[chan Status]struct{}
	closed     bool
}

func newStatusHub() *statusHub {
	return &statusHub{others: map[string]uint64{}, seen: map[string]bool{}, subs: map[chan Status]struct{}{}}
}

func (h *statusHub) get() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// update changes the status under the lock, derives State and Pending, and publishes.
func (h *statusHub) update(change func(h *statusHub)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	change(h)
	s := &h.cur
	s.Pending = s.Head - s.Acked
	for _, n := range h.others {
		s.Pending += n
	}
	switch {
	case !h.syncing:
		s.State = SyncLocal
	case h.failing:
		s.State = SyncFailing
	case !s.OfflineSince.IsZero():
		s.State = SyncOffline
	case s.Pending > 0:
		s.State = SyncPending
	default:
		s.State = SyncSynced
	}
	if h.closed {
		return
	}
	for ch := range h.subs {
		select { // drop the stale value, keep the latest
		case <-ch:
		default:
		}
		ch <- h.cur
	}
}

// found reports a finding, once: it joins Findings and its words Notices. The slices are
// copied, never changed in place, since earlier Status values share them.
func (h *statusHub) found(f Finding) {
	h.update(func(h *statusHub) {
		if h.seen[f.key()] {
			return
		}
		h.seen[f.key()] = true
		h.cur.Notices = append(slices.Clip(h.cur.Notices), f.String())
		if len(h.cur.Findings) >= maxFindings {
			h.cur.FindingsDropped++
			return
		}
		h.cur.Findings = append(slices.Clip(h.cur.Findings), f)
	})
}

// resent marks the journal's missing records up to through as held by the server again.
func (h *statusHub) resent(journalID string, through uint64) {
	h.update(func(h *statusHub) {
		out := slices.Clone(h.cur.Findings)
		n := 0
		for i, f := range out {
			if f.JournalID == journalID && f.Kind == FindingMissing && f.Seq <= through && !f.Resent {
				out[i].Resent = true
				n++
			}
		}
		if n > 0 {
			h.cur.Findings = out
			h.cur.Notices = append(slices.Clip(h.cur.Notices), fmt.Sprintf(
				"journal %s: %d %s the server had lost %s sent again; the server holds %s now",
				journalID, n, words.Plural(n, "record", "records"), words.Plural(n, "was", "were"), words.Plural(n, "it", "them")))
		}
	})
}

func (h *statusHub) subscribe() (<-chan Status, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Status, 1)
	if h.closed {
		ch <- h.cur
		close(ch)
		return ch, func() {}
	}
	h.subs[ch] = struct{}{}
	ch <- h.cur
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// close ends every subscription after the final value.
func (h *statusHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	h.subs = nil
}

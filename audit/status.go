package audit

import (
	"fmt"
	"sync"
	"time"
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
	// earlier run that the sync loop found and set aside.
	Notices []string
}

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
	subs    map[chan Status]struct{}
	closed  bool
}

func newStatusHub() *statusHub {
	return &statusHub{others: map[string]uint64{}, subs: map[chan Status]struct{}{}}
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

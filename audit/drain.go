package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shadowview/shadow/internal/words"
)

// JournalState is where one journal of a state dir stands after `journal sync`.
type JournalState struct {
	ID      string
	Path    string
	Records uint64 // its head
	Acked   uint64 // the seq the server's receipt covers
	Live    bool   // another shadow process has it open (and syncs it)
	Err     error  // it could not be read
}

// Pending counts its records the server has not acknowledged.
func (j JournalState) Pending() uint64 { return j.Records - min(j.Acked, j.Records) }

// SyncReport is what `journal sync` found and did, journal by journal.
type SyncReport struct {
	Journals   []JournalState
	SetAside   []string // damaged journal files set aside (now or before)
	Findings   []Finding
	Dropped    int // findings not kept (more than maxFindings)
	Recoveries []Recovery
}

// Totals counts the report's records, synced and pending.
func (r SyncReport) Totals() (records, synced, pending uint64) {
	for _, j := range r.Journals {
		records += j.Records
		synced += min(j.Acked, j.Records)
		pending += j.Pending()
	}
	return records, synced, pending
}

// Blocking lists the findings that leave something unsynced or unexplained.
func (r SyncReport) Blocking() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Blocking() {
			out = append(out, f)
		}
	}
	return out
}

// ErrSyncIncomplete is wrapped by Drain's error when anything is left unsynced,
// unreadable or refused.
var ErrSyncIncomplete = errors.New("not everything is synced")

// Drain pushes the unsynced records of every journal under stateDir that no process has
// open, until all are acknowledged or ctx ends (`shadow journal sync`). It first compares
// every journal with the server's copy and sends again what the server lost; a damaged
// journal is recovered into a new journal of its own. A refused sign-in or an untrusted
// certificate stops it at once. The error is nil only when every record of every journal
// is acknowledged and nothing was found that needs attention.
func Drain(ctx context.Context, stateDir string, remote Remote, opts SyncOptions) (SyncReport, error) {
	hub := newStatusHub()
	hub.update(func(h *statusHub) { h.syncing = true })
	s := newSyncer(hub, JournalsDir(stateDir), nil, func() time.Time { return time.Now().UTC() }, remote, opts)
	s.exitWhenIdle, s.failFast = true, true
	go s.run()
	var stopped error
	select {
	case <-s.done: // idle: nothing it may send is left, or a fatal failure
	case <-ctx.Done():
		stopped = ctx.Err()
		s.cancel()
		<-s.done
	}
	st := hub.get()
	hub.mu.Lock()
	recoveries := append([]Recovery(nil), hub.recoveries...)
	hub.mu.Unlock()
	report, err := stateOf(stateDir)
	if err != nil {
		return report, err
	}
	report.Findings, report.Dropped, report.Recoveries = st.Findings, st.FindingsDropped, recoveries
	_, _, pending := report.Totals()
	unreadable := 0
	for _, j := range report.Journals {
		if j.Err != nil {
			unreadable++
		}
	}
	switch {
	case s.fatal != nil:
		return report, fmt.Errorf("%w: stopped: %w", ErrSyncIncomplete, s.fatal)
	case stopped != nil && pending > 0:
		return report, fmt.Errorf("%w: %s not yet synced when time ran out: %w", ErrSyncIncomplete,
			words.Count(pending, "record", "records"), errors.Join(stopped, st.LastError))
	case pending > 0:
		why := st.LastError
		if b := report.Blocking(); len(b) > 0 {
			why = errors.New(b[0].String())
		}
		if why == nil {
			why = errors.New("no reason known")
		}
		return report, fmt.Errorf("%w: %s not synced: %w", ErrSyncIncomplete, words.Count(pending, "record", "records"), why)
	case unreadable > 0:
		return report, fmt.Errorf("%w: %s could not be read", ErrSyncIncomplete, words.Count(unreadable, "journal", "journals"))
	case len(report.Blocking()) > 0:
		return report, fmt.Errorf("%w: %s", ErrSyncIncomplete, words.Count(len(report.Blocking()), "finding needs", "findings need")+" attention")
	}
	return report, nil
}

// stateOf reads where every journal under stateDir stands, without changing anything.
func stateOf(stateDir string) (SyncReport, error) {
	var r SyncReport
	paths, aside, odd, err := journalFiles(JournalsDir(stateDir))
	if err != nil {
		return r, err
	}
	r.SetAside = aside
	for _, p := range paths {
		j := JournalState{ID: journalIDFromPath(p), Path: p}
		v, err := openView(p)
		if err != nil {
			j.Err = err
			r.Journals = append(r.Journals, j)
			continue
		}
		j.Live = v.Live
		l, err := readLocal(v.db, p)
		v.close()
		if err != nil {
			j.Err = err
		} else {
			j.ID, j.Records, j.Acked = l.id, l.head.Seq, l.acked.Seq
		}
		r.Journals = append(r.Journals, j)
	}
	for _, p := range odd {
		r.Journals = append(r.Journals, JournalState{ID: journalIDFromPath(p), Path: p, Err: oddError(p)})
	}
	return r, nil
}

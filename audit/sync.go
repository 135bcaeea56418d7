package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/backoff"
)

// Remote is what the sync loop needs from the server. The client package's staff client
// implements it.
//
// Errors: a server error reply is reachable with errors.As(err, &api.ErrorBody{}) (so a
// journal_gap's Head is too); a reply asking to wait with
// errors.As(err, &interface{ RetryAfter() time.Duration }); anything else is a transport
// failure.
type Remote interface {
	PutJournalRecords(ctx context.Context, journalID string, records []api.WireRecord) (api.PutRecordsResponse, error)
	AuditKey(ctx context.Context) (api.AuditKey, error)
}

// SyncOptions tune the sync loop. Zero values take the defaults.
type SyncOptions struct {
	// MinBackoff and MaxBackoff bound the exponential backoff (full jitter) after a
	// failure: 500 ms and 1 min by default.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one request: 30 s by default.
	RequestTimeout time.Duration
	// RescanEvery is how often the journals dir is looked at for ended runs' journals
	// with records to push: 1 min by default.
	RescanEvery time.Duration
	// TrustedKey, when set, is the only server audit key accepted. Otherwise a journal
	// pins the key the server offers the first time it syncs.
	TrustedKey *api.AuditKey
}

func (o SyncOptions) withDefaults() SyncOptions {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.RescanEvery <= 0 {
		o.RescanEvery = time.Minute
	}
	return o
}

// maxWireBatchBytes bounds the record bodies of one request, well under
// api.MaxRequestBody once base64 and the hashes are added.
const maxWireBatchBytes = 600 << 10

// StartSync starts the background sync loop for this run's journal and for ended runs'
// journals that still hold unsynced records. It runs until Close.
func (j *Journal) StartSync(remote Remote, opts SyncOptions) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("journal %s: %w", j.file.id, ErrClosed)
	}
	if j.syncer != nil {
		return errors.New("journal: sync already started")
	}
	j.syncer = newSyncer(j.status, j.dir, j.file, j.opts.now, remote, opts)
	j.syncer.onRecovery = func(r Recovery) {
		if o, err := j.recoveredOp(r); err == nil {
			j.file.w.submit(o)
		}
	}
	j.status.update(func(h *statusHub) { h.syncing = true })
	go j.syncer.run()
	return nil
}

// Drain pushes the unsynced records of every journal under stateDir that no process has
// open, until all are acknowledged or ctx ends (`shadow journal sync`). The returned
// Status says what is left and the last error.
func Drain(ctx context.Context, stateDir string, remote Remote, opts SyncOptions) (Status, error) {
	hub := newStatusHub()
	hub.update(func(h *statusHub) { h.syncing = true })
	s := newSyncer(hub, JournalsDir(stateDir), nil, func() time.Time { return time.Now().UTC() }, remote, opts)
	s.exitWhenIdle = true
	go s.run()
	var st Status
	select {
	case <-s.done: // idle: nothing it may send is left
		st = hub.get()
	case <-ctx.Done():
		// Read before the loop stops: stopping lets go of the journals it tracks, and
		// their pending records with them.
		st = hub.get()
		s.cancel()
		<-s.done
	}
	if st.Pending > 0 {
		return st, fmt.Errorf("%d records not yet synced: %w", st.Pending, errors.Join(ctx.Err(), st.LastError))
	}
	return st, nil
}

// syncer is the one goroutine that talks to the server for a Journal: one request in
// flight, whichever journal it is for.
type syncer struct {
	status     *statusHub
	dir        string
	now        func() time.Time
	onRecovery func(Recovery) // records a damaged journal found and set aside
	remote     Remote
	opts       SyncOptions
	// exitWhenIdle ends the loop once nothing is left to send (Drain).
	exitWhenIdle bool

	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	final   bool
	drained chan struct{} // closed when, finishing, this run's journal is all acknowledged

	// Loop-only state.
	targets   []*target
	skip      map[string]bool // ended runs' journals not to try again this run
	serverKey *api.AuditKey
}

// target is one journal being synced.
type target struct {
	file      *journalFile
	own       bool   // this run's journal; the others are closed once drained
	next      uint64 // next seq to send; 0 until known
	attempt   int    // failures in a row
	rewinds   int    // journal_gap rewinds in a row
	notBefore time.Time
}

func newSyncer(hub *statusHub, dir string, own *journalFile, now func() time.Time, remote Remote, opts SyncOptions) *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	s := &syncer{
		status: hub, dir: dir, now: now, remote: remote, opts: opts.withDefaults(), ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}), drained: make(chan struct{}),
		skip: map[string]bool{},
	}
	if own != nil {
		s.targets = []*target{{file: own, own: true}}
	}
	return s
}

func (s *syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// finish asks for a final push of this run's journal and stops the loop once it is
// acknowledged or ctx ends.
func (s *syncer) finish(ctx context.Context) {
	s.mu.Lock()
	s.final = true
	s.mu.Unlock()
	s.poke()
	select {
	case <-s.drained:
	case <-ctx.Done():
	case <-s.done:
	}
	s.cancel()
	<-s.done
}

func (s *syncer) run() {
	defer close(s.done)
	defer s.releaseOthers(true)
	var lastScan time.Time
	for s.ctx.Err() == nil {
		now := time.Now()
		if now.Sub(lastScan) >= s.opts.RescanEvery && !s.finishing() {
			s.scanEndedRuns()
			lastScan = now
		}
		due, wakeAt, pending := s.pick(now)
		if due == nil {
			s.releaseOthers(false)
			if s.exitWhenIdle && !pending {
				return
			}
			wait := time.Until(wakeAt)
			if !s.finishing() { // no rescans while closing: their due time must not cut the wait
				wait = min(wait, s.opts.RescanEvery-time.Since(lastScan))
			}
			s.sleep(wait, true)
			continue
		}
		err := s.push(due)
		if !due.own && belongsElsewhere(err) {
			s.leaveForItsOwner(due, err)
			continue
		}
		if wait, retry := s.settle(due, err); retry {
			due.notBefore = time.Now().Add(wait)
		}
	}
}

// pick returns the first journal with records to send whose backoff has passed (this
// run's journal first), or when to look again.
func (s *syncer) pick(now time.Time) (due *target, wakeAt time.Time, pending bool) {
	wakeAt = now.Add(s.opts.RescanEvery)
	for _, t := range s.targets {
		st, err := t.file.state()
		if err != nil {
			s.failed(t, err)
			continue
		}
		s.publishPending(t, st)
		if st.Pending() == 0 && t.next <= st.Head.Seq+1 {
			if t.own {
				s.markDrainedIfFinal()
			}
			continue
		}
		pending = true
		if t.notBefore.After(now) {
			wakeAt = minTime(wakeAt, t.notBefore)
			continue
		}
		return t, wakeAt, true
	}
	return nil, wakeAt, pending
}

func (s *syncer) finishing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final
}

// markDrainedIfFinal lets a waiting Close go: this run's journal is acknowledged, or
// cannot be without someone's attention.
func (s *syncer) markDrainedIfFinal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		select {
		case <-s.drained:
		default:
			close(s.drained)
		}
	}
}

// sleep waits d, or less when ctx ends or (if wakeable) a commit pokes the loop.
func (s *syncer) sleep(d time.Duration, wakeable bool) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	wake := s.wake
	if !wakeable {
		wake = nil
	}
	select {
	case <-t.C:
	case <-wake:
	case <-s.ctx.Done():
	}
}

// errRewound says the server's head moved our position: send again at once.
var errRewound = errors.New("rewound to the server's head")

// push sends one contiguous range of a journal and stores the receipt.
func (s *syncer) push(t *target) error {
	st, err := t.file.state()
	if err != nil {
		return err
	}
	if t.next == 0 { // first push this run; a rewind may later set it below acked
		t.next = st.Acked.Seq + 1
	}
	if err := s.checkKey(t, st); err != nil {
		return err
	}
	recs, err := t.file.readRange(t.next, api.MaxJournalBatch, maxWireBatchBytes)
	if err != nil || len(recs) == 0 {
		return err
	}
	wire := make([]api.WireRecord, len(recs))
	for i, r := range recs {
		wire[i] = r.Wire()
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.remote.PutJournalRecords(ctx, t.file.id, wire)
	if err != nil {
		var body api.ErrorBody
		if errors.As(err, &body) && body.Head != nil {
			switch body.Code {
			case api.CodeJournalGap:
				return s.rewind(t, st, *body.Head)
			case api.CodeJournalConflict:
				return s.conflict(t, st, body)
			}
		}
		return fmt.Errorf("sync journal %s from seq %d: %w", t.file.id, t.next, err)
	}
	if resp.Head.Seq > st.Acked.Seq {
		ack := Acknowledgement{Seq: resp.Head.Seq, Hash: resp.Head.Hash, Receipt: resp.Receipt}
		o := newOp(opAck)
		o.ack = ack
		if err := t.file.w.do(o); err != nil {
			s.serverKey = nil // the key may have been rotated: fetch it again next time
			return err
		}
	}
	t.next = resp.Head.Seq + 1
	return nil
}

// rewind moves a journal's position to just after the server's head, once the head is
// shown to be a prefix of this journal.
func (s *syncer) rewind(t *target, st fileState, server api.JournalHead) error {
	if server.Seq > st.Head.Seq {
		return fmt.Errorf("%w: server holds journal %s up to seq %d, beyond this journal's head %d",
			ErrDiverged, t.file.id, server.Seq, st.Head.Seq)
	}
	ours, _, err := t.file.hashAt(server.Seq)
	if err != nil {
		return err
	}
	if ours.String() != server.Hash && !(server.Seq == 0 && server.Hash == "") {
		return fmt.Errorf("%w: server's record %d of journal %s has hash %s, ours %s",
			ErrDiverged, server.Seq, t.file.id, server.Hash, ours)
	}
	t.next = server.Seq + 1
	return errRewound
}

// conflict explains a journal_conflict: the server holds, at a seq this journal holds
// too, a record that is not this journal's. A resend cannot mend that, so it is
// ErrDiverged — saying where, from the head the server sent — and the journal waits for
// someone's attention (it stays on disk, pending) instead of being retried as if the
// server were merely struggling.
func (s *syncer) conflict(t *target, st fileState, body api.ErrorBody) error {
	if err := s.rewind(t, st, *body.Head); !errors.Is(err, errRewound) {
		return err
	}
	return fmt.Errorf("%w: journal %s: %s", ErrDiverged, t.file.id, body.Message)
}

// ErrDiverged reports a server copy of a journal that is not a prefix of the local one.
var ErrDiverged = errors.New("server and local journal differ")

// checkKey fetches the server's audit key (once per run) and pins it in the journal,
// or checks it against the pinned one.
func (s *syncer) checkKey(t *target, st fileState) error {
	if s.serverKey == nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.RequestTimeout)
		k, err := s.remote.AuditKey(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("fetch server audit key: %w", err)
		}
		if err := validKey(k); err != nil {
			return err
		}
		if tk := s.opts.TrustedKey; tk != nil && !sameKey(*tk, k) {
			return fmt.Errorf("%w: trusted key %q (%s), server offers %q (%s)",
				ErrKeyChanged, tk.KeyID, keyFingerprint(*tk), k.KeyID, keyFingerprint(k))
		}
		s.serverKey = &k
	}
	if st.Key != nil {
		if !sameKey(*st.Key, *s.serverKey) {
			err := fmt.Errorf("%w: journal %s pinned key %q (%s), server offers %q (%s)", ErrKeyChanged,
				t.file.id, st.Key.KeyID, keyFingerprint(*st.Key), s.serverKey.KeyID, keyFingerprint(*s.serverKey))
			s.serverKey = nil
			return err
		}
		return nil
	}
	o := newOp(opPin)
	o.key = *s.serverKey
	return t.file.w.do(o)
}

// keyFingerprint is a short, comparable name for a public key.
func keyFingerprint(k api.AuditKey) string {
	sum := sha256.Sum256(k.PublicKey)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// settle records the outcome of a push: resets backoff on success, else chooses the wait
// and publishes why.
func (s *syncer) settle(t *target, err error) (time.Duration, bool) {
	if err == nil {
		t.attempt, t.rewinds = 0, 0
		s.status.update(func(h *statusHub) {
			h.cur.OfflineSince = time.Time{}
			h.failing = false
			h.cur.LastSync = s.now()
		})
		return 0, false
	}
	if errors.Is(err, errRewound) {
		t.rewinds++
		if t.rewinds <= 3 {
			return 0, false
		}
	}
	if s.ctx.Err() != nil {
		return 0, false // closing: not a failure of the server's
	}
	t.attempt++
	s.serverKey = nil // after a failure the server may not be the same one: ask its key again
	wait := s.backoff(t.attempt)
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		wait = ra.RetryAfter()
	}
	offline := isOffline(err)
	if !offline && t.own {
		s.markDrainedIfFinal() // needs attention, not time: Close need not wait for it
	}
	s.status.update(func(h *statusHub) {
		h.cur.LastError = err
		h.failing = !offline
		if offline && h.cur.OfflineSince.IsZero() {
			h.cur.OfflineSince = s.now()
		}
	})
	return wait, true
}

func (s *syncer) failed(t *target, err error) {
	t.attempt++
	t.notBefore = time.Now().Add(s.backoff(t.attempt))
	s.status.update(func(h *statusHub) { h.cur.LastError, h.failing = err, true })
}

// backoff is exponential with full jitter: uniform in [0, min(max, min·2^(attempt-1))].
func (s *syncer) backoff(attempt int) time.Duration {
	return backoff.FullJitter(attempt, s.opts.MinBackoff, s.opts.MaxBackoff)
}

// isOffline tells a server that cannot be reached or asks to wait (offline) from one
// that answers but refuses (failing: needs attention).
func isOffline(err error) bool {
	var body api.ErrorBody
	if errors.As(err, &body) {
		switch body.Code {
		case api.CodeUnavailable, api.CodeInternal, api.CodeRateLimited:
			return true
		}
		return false
	}
	if errors.Is(err, ErrKeyChanged) || errors.Is(err, ErrBadAcknowledgement) ||
		errors.Is(err, ErrDamaged) || errors.Is(err, ErrDiverged) || errors.Is(err, errRewound) {
		return false
	}
	return true
}

func (s *syncer) publishPending(t *target, st fileState) {
	if t.own {
		return // this run's journal is published by its commits
	}
	s.status.update(func(h *statusHub) { h.others[t.file.id] = st.Pending() })
}

// scanEndedRuns opens the journals no process holds that still have records to send.
func (s *syncer) scanEndedRuns() {
	paths, _, err := journalFiles(s.dir)
	if err != nil {
		s.status.update(func(h *statusHub) { h.cur.LastError = err })
		return
	}
	tracked := map[string]bool{}
	for _, t := range s.targets {
		tracked[t.file.path] = true
	}
	for _, path := range paths {
		if tracked[path] || s.skip[path] {
			continue
		}
		f, st, err := openJournal(path, tryLock, nil)
		switch {
		case errors.Is(err, ErrInUse):
			continue // its own process syncs it
		case errors.Is(err, ErrDamaged):
			s.recover(path, err)
			continue
		case err != nil:
			s.skip[path] = true
			s.status.update(func(h *statusHub) { h.cur.LastError = err })
			continue
		}
		if st.Pending() == 0 {
			f.close()
			s.skip[path] = true
			continue
		}
		if st.Key != nil && s.opts.TrustedKey != nil && !sameKey(*st.Key, *s.opts.TrustedKey) {
			f.close() // belongs to another server's audit log
			s.skip[path] = true
			continue
		}
		t := &target{file: f}
		s.targets = append(s.targets, t)
		s.publishPending(t, st)
	}
}

// recover sets aside a damaged ended run's journal and records that in this run's.
func (s *syncer) recover(path string, cause error) {
	r := Recovery{File: path, JournalID: journalIDFromPath(path), LastHead: lastKnownHead(path), Cause: cause}
	to, err := setAside(path, s.now())
	if err != nil {
		s.skip[path] = true
		s.status.update(func(h *statusHub) { h.cur.LastError = err })
		return
	}
	r.MovedTo = to
	if s.onRecovery != nil {
		s.onRecovery(r)
	}
	s.status.update(func(h *statusHub) { h.cur.Notices = append(append([]string(nil), h.cur.Notices...), r.String()) })
}

// belongsElsewhere reports an ended run's journal that this server, or this identity,
// will never take: it is pinned to another server's key, or the server says it belongs
// to another organisation's audit trail (403: a customer admin's journal left on a
// machine a support engineer now uses, or the other way round).
func belongsElsewhere(err error) bool {
	var body api.ErrorBody
	return errors.Is(err, ErrKeyChanged) || (errors.As(err, &body) && body.Code == api.CodeForbidden)
}

// leaveForItsOwner stops syncing an ended run's journal that belongs elsewhere (see
// belongsElsewhere). It stays on disk, pending, and the user is told once.
func (s *syncer) leaveForItsOwner(t *target, err error) {
	s.skip[t.file.path] = true
	t.file.close()
	s.targets = slices.DeleteFunc(s.targets, func(x *target) bool { return x == t })
	s.status.update(func(h *statusHub) {
		delete(h.others, t.file.id)
		h.cur.Notices = append(append([]string(nil), h.cur.Notices...),
			fmt.Sprintf("journal %s not synced here: %v", t.file.id, err))
	})
}

// releaseOthers closes ended runs' journals that are fully synced (all of them when the
// loop stops), so other processes may take them.
func (s *syncer) releaseOthers(all bool) {
	kept := s.targets[:0]
	for _, t := range s.targets {
		if t.own {
			kept = append(kept, t)
			continue
		}
		st, err := t.file.state()
		if all || err != nil || st.Pending() == 0 {
			t.file.close()
			s.skip[t.file.path] = true
			s.status.update(func(h *statusHub) { delete(h.others, t.file.id) })
			continue
		}
		kept = append(kept, t)
	}
	s.targets = kept
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

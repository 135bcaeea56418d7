package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/backoff"
	"github.com/shadowview/shadow/internal/certerr"
)

// Remote is what the sync loop needs from the server. The client package's staff client
// implements it.
//
// Errors: a server error reply is reachable with errors.As(err, &api.ErrorBody{}) (so a
// journal_gap's Head is too); its HTTP status with
// errors.As(err, &interface{ StatusCode() int }); a reply asking to wait with
// errors.As(err, &interface{ RetryAfter() time.Duration }); anything else is a transport
// failure (a certificate the client refuses is one: see internal/certerr).
type Remote interface {
	PutJournalRecords(ctx context.Context, journalID string, records []api.WireRecord) (api.PutRecordsResponse, error)
	AuditKey(ctx context.Context) (api.AuditKey, error)
	// JournalRecords reads the server's head for a journal and its records' hashes
	// (GET /audit/journals/{id}/records), for reconciliation.
	JournalRecords(ctx context.Context, journalID string, after uint64, limit int) (api.JournalRecordsPage, error)
}

// SyncOptions tune the sync loop. Zero values take the defaults.
type SyncOptions struct {
	// MinBackoff and MaxBackoff bound the exponential backoff (full jitter) after a
	// failure: 500 ms and 1 min by default. A refused sign-in, an untrusted certificate
	// or a refused range waits MaxBackoff at once: retrying soon cannot mend them.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one request: 30 s by default.
	RequestTimeout time.Duration
	// RescanEvery is how often the journals dir is looked at for ended runs' journals
	// with records to push: 1 min by default.
	RescanEvery time.Duration
	// ReconcileEvery is how often every journal, fully acknowledged ones too, is compared
	// with the server's copy (see reconcile.go): 10 min by default, and once at the start.
	ReconcileEvery time.Duration
	// TrustedKey, when set, is the only server audit key accepted. Otherwise a journal
	// pins the key the server offers the first time it syncs.
	TrustedKey *api.AuditKey
	// Actor is who syncs: it signs the journal.recovered records written when a damaged
	// journal is found. The journal's own Actor when syncing a Journal.
	Actor api.UserRef
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
	if o.ReconcileEvery <= 0 {
		o.ReconcileEvery = 10 * time.Minute
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
	if opts.Actor.ID == "" && opts.Actor.Name == "" {
		opts.Actor = j.opts.Actor
	}
	j.syncer = newSyncer(j.status, j.dir, j.file, j.opts.now, remote, opts)
	j.status.update(func(h *statusHub) { h.syncing = true })
	go j.syncer.run()
	return nil
}

// syncer is the one goroutine that talks to the server for a Journal: one request in
// flight, whichever journal it is for.
type syncer struct {
	status *statusHub
	dir    string
	own    *journalFile // this run's journal; nil for Drain
	now    func() time.Time
	remote Remote
	opts   SyncOptions
	// exitWhenIdle ends the loop once nothing is left to send (Drain); failFast ends it
	// at once on a refused sign-in or an untrusted certificate (fatal says which).
	exitWhenIdle, failFast bool
	fatal                  error

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
	settled   map[string]bool // ended runs' journals found fully acknowledged: compared, not rescanned
	serverKey *api.AuditKey
	noCompare bool // the server cannot be asked for its copies (no records route)
}

// target is one journal being synced.
type target struct {
	file      *journalFile
	own       bool   // this run's journal; the others are closed once drained
	next      uint64 // next seq to send; 0 until known
	attempt   int    // failures in a row
	rewinds   int    // journal_gap rewinds in a row
	notBefore time.Time
	// resending is set while records the server lost are sent again: the findings
	// saying so are marked Resent once the server holds them.
	resending     bool
	resendThrough uint64
}

func newSyncer(hub *statusHub, dir string, own *journalFile, now func() time.Time, remote Remote, opts SyncOptions) *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	s := &syncer{
		status: hub, dir: dir, own: own, now: now, remote: remote, opts: opts.withDefaults(), ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}), drained: make(chan struct{}),
		skip: map[string]bool{}, settled: map[string]bool{},
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
	var lastScan, lastCompare time.Time
	for s.ctx.Err() == nil {
		now := time.Now()
		if now.Sub(lastScan) >= s.opts.RescanEvery && !s.finishing() {
			s.scanEndedRuns()
			lastScan = now
		}
		if now.Sub(lastCompare) >= s.opts.ReconcileEvery && !s.finishing() {
			s.reconcileAll()
			lastCompare = time.Now()
			if s.ctx.Err() != nil {
				return
			}
		}
		due, wakeAt, pending := s.pick(now)
		if due == nil {
			s.releaseOthers(false)
			if s.exitWhenIdle && !pending {
				return
			}
			wait := time.Until(wakeAt)
			if !s.finishing() { // no rescans while closing: their due time must not cut the wait
				wait = min(wait, s.opts.RescanEvery-time.Since(lastScan), s.opts.ReconcileEvery-time.Since(lastCompare))
			}
			s.sleep(wait, true)
			continue
		}
		err := s.push(due)
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
		if st.Pending() == 0 && (t.next == 0 || t.next > st.Head.Seq) {
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
	if err != nil {
		return err
	}
	// Only what st holds: a record appended since st was read (while the key was being
	// checked) goes with the next push. Sending it now would make the server's head pass
	// st's and read as a journal cut short.
	for len(recs) > 0 && recs[len(recs)-1].Seq > st.Head.Seq {
		recs = recs[:len(recs)-1]
	}
	if len(recs) == 0 {
		return nil
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
		if classify(err) == failRefused {
			return refusal(t.file.id, t.next, err)
		}
		return pushError{journalID: t.file.id, seq: t.next, err: err}
	}
	if resp.Head.Seq > st.Head.Seq {
		return fmt.Errorf("%w: the server holds journal %s up to seq %d, beyond this file's head %d: the file was cut short or replaced by an older copy",
			ErrDiverged, t.file.id, resp.Head.Seq, st.Head.Seq)
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
	if t.resending && resp.Head.Seq >= t.resendThrough {
		t.resending = false
		s.status.resent(t.file.id, t.resendThrough)
	}
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
// pushError is a push that failed: the journal, the seq it was sent from, and why.
type pushError struct {
	journalID string
	seq       uint64
	err       error
}

func (e pushError) Error() string {
	return fmt.Sprintf("sync journal %s from seq %d: %v", e.journalID, e.seq, e.err)
}
func (e pushError) Unwrap() error { return e.err }

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

// ErrRefused reports a range of records the server refused (a 4xx reply other than a
// gap, a conflict or a refused sign-in). Records sync in order, so every record after
// the refused one waits until the refusal is mended.
var ErrRefused = errors.New("refused by the server")

// refusedError is a refusal with the journal, the seq and the server's reply.
type refusedError struct {
	Finding
	err error
}

func (e refusedError) Error() string {
	return fmt.Sprintf("journal %s seq %d %v: %s: %s", e.JournalID, e.Seq, ErrRefused, e.Code, e.Message)
}
func (e refusedError) Unwrap() []error { return []error{ErrRefused, e.err} }

var recordField = regexp.MustCompile(`^records\[(\d+)\]`)

// refusal makes a refusedError of a refused range that started at seq first: the seq
// is the record the server's field names, if it names one.
func refusal(journalID string, first uint64, err error) error {
	f := Finding{JournalID: journalID, Kind: FindingRefused, Seq: first}
	var body api.ErrorBody
	if errors.As(err, &body) {
		f.Code, f.Message = body.Code, body.Message
		if m := recordField.FindStringSubmatch(body.Field); m != nil {
			if i, perr := strconv.ParseUint(m[1], 10, 64); perr == nil {
				f.Seq = first + i
			}
		}
	} else {
		f.Message = err.Error()
	}
	if f.Message == "" {
		f.Message = "no reason given"
	}
	return refusedError{Finding: f, err: err}
}

// checkKey fetches the server's audit key (once per run) and pins it in the journal,
// or checks it against the pinned one.
func (s *syncer) checkKey(t *target, st fileState) error {
	if _, err := s.currentKey(); err != nil {
		return err
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

// currentKey is the server's audit key, fetched once per run (again after a failure).
func (s *syncer) currentKey() (*api.AuditKey, error) {
	if s.serverKey != nil {
		return s.serverKey, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RequestTimeout)
	k, err := s.remote.AuditKey(ctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("fetch server audit key: %w", err)
	}
	if err := validKey(k); err != nil {
		return nil, err
	}
	if tk := s.opts.TrustedKey; tk != nil && !sameKey(*tk, k) {
		return nil, fmt.Errorf("%w: trusted key %q (%s), server offers %q (%s)",
			ErrKeyChanged, tk.KeyID, keyFingerprint(*tk), k.KeyID, keyFingerprint(k))
	}
	s.serverKey = &k
	return s.serverKey, nil
}

// elsewhere is the one finding about a journal pinned to another server's audit key:
// it is not compared with this server, nor sent to it.
func elsewhere(journalID string, pinned api.AuditKey) Finding {
	return Finding{JournalID: journalID, Kind: FindingElsewhere, Message: fmt.Sprintf(
		"it belongs to the server with key %q (%s), or its key was replaced; not compared, nothing sent to this one", pinned.KeyID, keyFingerprint(pinned))}
}

// keyFingerprint is a short, comparable name for a public key.
func keyFingerprint(k api.AuditKey) string {
	sum := sha256.Sum256(k.PublicKey)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// failure is what kind of trouble a failed push met, which decides what the loop does.
type failure int

const (
	failOffline     failure = iota // unreachable, 5xx, 429: back off and try again
	failAttention                  // a changed key, a conflict, a damaged journal: say so, retry slowly
	failSignIn                     // 401: the token is revoked or expired
	failCertificate                // the server's certificate is not trusted
	failRefused                    // another 4xx: the server will not take this range
)

// classify says what kind of failure err is.
func classify(err error) failure {
	if certerr.Is(err) {
		return failCertificate
	}
	if errors.Is(err, ErrRefused) {
		return failRefused
	}
	var body api.ErrorBody
	hasBody := errors.As(err, &body)
	status := 0
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		status = sc.StatusCode()
	}
	if status == 0 && hasBody {
		status = body.Code.Status()
	}
	switch {
	case status == 401:
		return failSignIn
	case hasBody && (body.Code == api.CodeUnavailable || body.Code == api.CodeInternal || body.Code == api.CodeRateLimited):
		return failOffline
	case status == 429 || status >= 500:
		return failOffline
	case status == 409:
		return failAttention
	case status >= 400:
		return failRefused
	}
	if errors.Is(err, ErrKeyChanged) || errors.Is(err, ErrBadAcknowledgement) ||
		errors.Is(err, ErrDamaged) || errors.Is(err, ErrDiverged) || errors.Is(err, errRewound) {
		return failAttention
	}
	return failOffline
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
	kind := classify(err)
	wait := s.backoff(t.attempt)
	switch kind {
	case failSignIn, failCertificate:
		if s.failFast {
			s.fatal = err
			s.cancel()
			return 0, false
		}
		wait = s.opts.MaxBackoff // reported and retried slowly: the user must act
	case failRefused:
		var ref refusedError
		if errors.As(err, &ref) {
			s.status.found(ref.Finding)
		}
		if !t.own { // another run's journal: left pending, for its owner or a mended server
			s.leave(t)
			return 0, false
		}
		wait = s.opts.MaxBackoff
	case failAttention:
		if !t.own && errors.Is(err, ErrKeyChanged) {
			s.status.found(Finding{JournalID: t.file.id, Kind: FindingElsewhere, Message: err.Error()})
			s.leave(t)
			return 0, false
		}
		if !t.own && errors.Is(err, ErrDamaged) {
			s.dropTarget(t)
			s.recover(t.file.path, err)
			return 0, false
		}
	}
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		wait = ra.RetryAfter()
	}
	offline := kind == failOffline
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

func (s *syncer) publishPending(t *target, st fileState) {
	if t.own {
		return // this run's journal is published by its commits
	}
	s.status.update(func(h *statusHub) { h.others[t.file.id] = st.Pending() })
}

// scanEndedRuns opens the journals no process holds that still have records to send.
func (s *syncer) scanEndedRuns() {
	paths, _, odd, err := journalFiles(s.dir)
	if err != nil {
		s.status.update(func(h *statusHub) { h.cur.LastError = err })
		return
	}
	for _, p := range odd {
		if !s.skip[p] {
			s.skip[p] = true
			s.status.found(Finding{JournalID: journalIDFromPath(p), Kind: FindingUnreadable, Message: oddError(p).Error()})
		}
	}
	for _, path := range paths {
		if s.tracked(path) || s.skip[path] || s.settled[path] {
			continue
		}
		f, st, err := openEnded(path, nil)
		switch {
		case errors.Is(err, ErrInUse):
			continue // its own process syncs it
		case errors.Is(err, ErrDamaged):
			s.recover(path, err)
			continue
		case err != nil:
			s.skip[path] = true
			s.status.found(Finding{JournalID: journalIDFromPath(path), Kind: FindingUnreadable, Message: err.Error()})
			continue
		}
		if st.Pending() == 0 {
			f.close()
			s.settled[path] = true
			continue
		}
		if st.Key != nil && s.opts.TrustedKey != nil && !sameKey(*st.Key, *s.opts.TrustedKey) {
			f.close() // belongs to another server's audit log
			s.skip[path] = true
			s.status.found(elsewhere(st.JournalID, *st.Key))
			continue
		}
		t := &target{file: f}
		s.targets = append(s.targets, t)
		s.publishPending(t, st)
	}
}

func (s *syncer) tracked(path string) bool {
	for _, t := range s.targets {
		if t.file.path == path {
			return true
		}
	}
	return false
}

// reconcileAll compares every journal no other process holds with the server's copy
// (see reconcile.go), fully acknowledged ones too, and sends again what the server lost.
func (s *syncer) reconcileAll() {
	if s.noCompare {
		return
	}
	paths, _, _, err := journalFiles(s.dir)
	if err != nil {
		return
	}
	for _, path := range paths {
		if s.ctx.Err() != nil || s.skip[path] {
			return
		}
		t := s.targetFor(path)
		opened := false
		if t == nil {
			f, _, err := openEnded(path, nil)
			if errors.Is(err, ErrDamaged) {
				s.recover(path, err)
			}
			if err != nil {
				continue // in use (its process compares it) or said by the scan
			}
			t, opened = &target{file: f}, true
		}
		keep := s.reconcile(t)
		if opened {
			if keep {
				s.targets = append(s.targets, t)
			} else {
				t.file.close()
				s.settled[path] = true
			}
		}
		if s.noCompare {
			return
		}
	}
}

func (s *syncer) targetFor(path string) *target {
	for _, t := range s.targets {
		if t.file.path == path {
			return t
		}
	}
	return nil
}

// reconcile compares one journal with the server's copy, reports each difference, and
// arranges for missing records to be sent again; keep says the journal has records to
// send.
func (s *syncer) reconcile(t *target) (keep bool) {
	l, err := readLocal(t.file.db, t.file.path)
	if err != nil {
		return false
	}
	if l.head.Seq == 0 {
		return false
	}
	// A journal pinned to another server's key is that server's: it is recognised
	// first, said once, and never compared with this one (every record would read as
	// lost) nor sent to it.
	k, err := s.currentKey()
	if err == nil && l.key != nil && !sameKey(*l.key, *k) {
		if !t.own {
			s.status.found(elsewhere(l.id, *l.key))
			s.skip[t.file.path] = true
			if s.tracked(t.file.path) {
				s.leave(t)
			}
		}
		return false
	}
	var cmp comparison
	if err == nil {
		cmp, err = compareWithServer(s.ctx, s.remote, l, s.opts.RequestTimeout)
	}
	if err != nil {
		switch kind := classify(err); {
		case s.ctx.Err() != nil:
		case kind == failSignIn || kind == failCertificate:
			if s.failFast {
				s.fatal = err
				s.cancel()
			}
			s.status.update(func(h *statusHub) { h.cur.LastError, h.failing = err, true })
		case kind == failRefused:
			var body api.ErrorBody
			if errors.As(err, &body) && (body.Code == api.CodeForbidden || body.Code.JournalRefusal()) {
				s.status.found(Finding{JournalID: l.id, Kind: FindingElsewhere, Code: body.Code, Message: body.Message})
				break
			}
			s.noCompare = true // the server offers no way to compare: say so once
			s.status.found(Finding{JournalID: l.id, Kind: FindingUncompared, Message: err.Error()})
		}
		return l.head.Seq > l.acked.Seq
	}
	for _, f := range cmp.findings {
		s.status.found(f)
	}
	if cmp.resendFrom > 0 {
		t.next, t.notBefore = cmp.resendFrom, time.Time{}
		t.resending, t.resendThrough = true, cmp.resendTo
		return true
	}
	return l.head.Seq > l.acked.Seq
}

// recover carries what can be saved of a damaged ended run's journal into this run's
// journal (or, for Drain, a new journal of its own) and sets it aside.
func (s *syncer) recover(path string, cause error) {
	s.skip[path] = true
	into, fresh := s.own, false
	if into == nil {
		f, err := createJournal(s.dir, s.now(), nil)
		if err != nil {
			s.status.found(Finding{JournalID: journalIDFromPath(path), Kind: FindingDamaged,
				Message: fmt.Sprintf("%v; it could not be recovered: %v", cause, err)})
			return
		}
		into, fresh = f, true
	}
	r, ok, err := salvageLocked(path, into, s.opts.Actor, s.now(), cause)
	if fresh {
		if ok && err == nil {
			s.targets = append(s.targets, &target{file: into})
		} else {
			into.close()
		}
	}
	if err != nil {
		s.status.found(Finding{JournalID: journalIDFromPath(path), Kind: FindingDamaged,
			Message: fmt.Sprintf("%v; it could not be recovered: %v", cause, err)})
		return
	}
	if !ok {
		return // another process recovered it
	}
	s.status.found(Finding{JournalID: r.JournalID, Kind: FindingDamaged, Message: fmt.Sprintf("%v; %s", cause, r.Summary())})
	s.status.update(func(h *statusHub) { h.recoveries = append(h.recoveries, r) })
}

// leave stops syncing an ended run's journal that cannot be synced from here: it belongs
// elsewhere or the server refuses it. It stays on disk, pending; the finding says why.
func (s *syncer) leave(t *target) {
	s.dropTarget(t)
	s.skip[t.file.path] = true
	t.file.close()
}

func (s *syncer) dropTarget(t *target) {
	s.targets = slices.DeleteFunc(s.targets, func(x *target) bool { return x == t })
	s.status.update(func(h *statusHub) { delete(h.others, t.file.id) })
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
		if all || err != nil || (st.Pending() == 0 && !t.resending) {
			if err == nil && st.Pending() == 0 {
				s.settled[t.file.path] = true
			}
			t.file.close()
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

package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// ErrRecordTooLarge reports a record body over MaxBodySize even with every text field
// cut to its marker (see bound.go); it cannot happen with the fields records have.
var ErrRecordTooLarge = errors.New("record too large")

// ErrInvalidRecord reports a record missing what every record must say.
var ErrInvalidRecord = errors.New("invalid record")

// ErrUnsynced is wrapped by Close when records are left for a later run to sync.
var ErrUnsynced = errors.New("records not yet synced")

// Options configure Open.
type Options struct {
	// StateDir holds the journals dir; DefaultStateDir() when empty.
	StateDir string
	// Actor is who runs this shadow; it signs the records the journal writes on its own
	// (journal.recovered). Optional.
	Actor api.UserRef
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// Journal is this run's journal, open for appending. Its methods are safe for
// concurrent use.
type Journal struct {
	opts     Options
	stateDir string
	dir      string
	file     *journalFile
	status   *statusHub

	mu      sync.Mutex
	closed  bool
	secrets [][]byte
	syncer  *syncer
}

// Open creates this run's journal under the state dir. It first checks the journals of
// earlier runs that no process holds: what can be saved of a damaged one is carried into
// the new journal behind a journal.recovered record, the file is set aside (see
// salvage.go), and each is reported in the returned Recoveries.
func Open(opts Options) (*Journal, []Recovery, error) {
	stateDir := opts.StateDir
	if stateDir == "" {
		var err error
		if stateDir, err = DefaultStateDir(); err != nil {
			return nil, nil, err
		}
	}
	dir, err := ensureJournalsDir(stateDir)
	if err != nil {
		return nil, nil, err
	}
	removeStaleTemps(dir, opts.now())
	j := &Journal{opts: opts, stateDir: stateDir, dir: dir, status: newStatusHub()}
	file, err := createJournal(dir, opts.now(), j.committed)
	if err != nil {
		return nil, nil, err
	}
	j.file = file
	j.status.update(func(h *statusHub) { h.cur.JournalID = file.id })
	recovered, err := recoverDamaged(dir, file, opts.Actor, opts.now)
	if err != nil {
		j.file.close()
		return nil, recovered, err
	}
	return j, recovered, nil
}

// recoverDamaged checks every journal no process holds, and carries what can be saved of
// each damaged one into into (see salvage).
func recoverDamaged(dir string, into *journalFile, actor api.UserRef, now func() time.Time) ([]Recovery, error) {
	paths, _, _, err := journalFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []Recovery
	for _, path := range paths {
		if path == into.path {
			continue
		}
		f, _, err := openEnded(path, nil)
		if err == nil {
			if err := f.close(); err != nil {
				return out, err
			}
			continue
		}
		if !errors.Is(err, ErrDamaged) {
			continue // in use by another process, or unreadable for a reason of its own: the sync says so
		}
		r, ok, err := salvageLocked(path, into, actor, now(), err)
		if err != nil {
			return out, fmt.Errorf("recover damaged journal %s: %w", journalIDFromPath(path), err)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// salvageLocked is salvage under the journals dir's lock; ok is false when another
// process recovered the journal first.
func salvageLocked(path string, into *journalFile, actor api.UserRef, now time.Time, cause error) (Recovery, bool, error) {
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return Recovery{}, false, err
	}
	defer unlock()
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return Recovery{}, false, nil
	}
	r, err := salvage(path, into, actor, now, cause)
	return r, err == nil, err
}

// ID is this run's journal id.
func (j *Journal) ID() string { return j.file.id }

// Path is this run's journal file.
func (j *Journal) Path() string { return j.file.path }

// StateDir is the state dir the journal lives under.
func (j *Journal) StateDir() string { return j.stateDir }

// ForbidSecret registers a secret (a token, a password) that must never reach the disk:
// any record text containing it is redacted before it is written. Tokens that look like
// JWTs or bearer credentials are redacted whether registered or not.
func (j *Journal) ForbidSecret(secret string) {
	if len(secret) < 8 {
		return // too short to match safely; such a value is not a credential
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.secrets = append(j.secrets, []byte(secret))
}

// Pending is an append in flight. Done is closed once the record is durable or has failed.
type Pending struct{ op *op }

// Done is closed when the append has committed or failed.
func (p *Pending) Done() <-chan struct{} { return p.op.done }

// Wait blocks until the append has committed (or failed), or ctx ends. A ctx ending
// does not cancel the append: it still becomes durable.
func (p *Pending) Wait(ctx context.Context) (Record, error) {
	select {
	case <-p.op.done:
		return p.op.rec, p.op.err
	case <-ctx.Done():
		return Record{}, fmt.Errorf("wait for journal append: %w", ctx.Err())
	}
}

// Submit queues a record and returns at once; it never waits for the disk. EventID and
// Time are filled in when empty. The record is durable when Done is closed and Wait
// returns no error.
func (j *Journal) Submit(body api.RecordBody) *Pending {
	p := &Pending{op: newOp(opAppend)}
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		p.op.finish(fmt.Errorf("journal %s: %w", j.file.id, ErrClosed))
		return p
	}
	data, err := j.encode(body)
	if err != nil {
		p.op.finish(err)
		return p
	}
	p.op.body = data
	j.file.w.submit(p.op)
	return p
}

// Append writes a record and returns once it is durable.
func (j *Journal) Append(ctx context.Context, body api.RecordBody) (Record, error) {
	return j.Submit(body).Wait(ctx)
}

var (
	jwtPattern    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	bearerPattern = regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}`)
)

const redacted = "[redacted]"

func (j *Journal) encode(b api.RecordBody) ([]byte, error) {
	if b.Action == "" || (b.Actor.ID == "" && b.Actor.Name == "") {
		return nil, fmt.Errorf("%w: a record needs an action and the admin who acted", ErrInvalidRecord)
	}
	if b.EventID == "" {
		b.EventID = ulid.Make().String()
	}
	if b.Time.IsZero() {
		b.Time = j.opts.now()
	}
	b.Time = b.Time.UTC()
	j.mu.Lock()
	secrets := j.secrets
	j.mu.Unlock()
	b.Details = j.scrub(b.Details, secrets)
	b.Reason = j.scrub(b.Reason, secrets)
	b.Actor = j.scrubRef(b.Actor, secrets)
	if b.User != nil {
		u := j.scrubRef(*b.User, secrets)
		b.User = &u
	}
	return boundRecord(b)
}

// scrubRef redacts secrets from a person's text: a server that echoed a token in a name
// must not get it written.
func (j *Journal) scrubRef(u api.UserRef, secrets [][]byte) api.UserRef {
	u.Name, u.Email, u.Company = j.scrub(u.Name, secrets), j.scrub(u.Email, secrets), j.scrub(u.Company, secrets)
	return u
}

func (j *Journal) scrub(s string, secrets [][]byte) string {
	if s == "" {
		return s
	}
	for _, sec := range secrets {
		if bytes.Contains([]byte(s), sec) {
			s = string(bytes.ReplaceAll([]byte(s), sec, []byte(redacted)))
		}
	}
	s = jwtPattern.ReplaceAllString(s, redacted)
	return bearerPattern.ReplaceAllString(s, "Bearer "+redacted)
}

// truncate cuts s to at most n bytes on a rune boundary, saying how much was cut when
// there is room to.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	marker := fmt.Sprintf("…[%d bytes cut]", len(s))
	if n < len(marker) {
		marker = ""
	}
	cut := n - len(marker)
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + marker
}

// Entry is a record with its decoded body and whether the server has acknowledged it.
type Entry struct {
	Record
	Data   api.RecordBody
	Synced bool
}

// SessionRecords returns this run's records of one session, in order, each with its
// sync state. The empty session id selects the journal's own records (journal.recovered).
func (j *Journal) SessionRecords(sessionID string) ([]Entry, error) {
	out, _, err := j.SessionRecordsAfter(sessionID, 0)
	return out, err
}

// SessionRecordsAfter is SessionRecords from seq after+1 on, read with the acknowledged
// seq of the same transaction (every record up to it is synced): a view that holds the
// records up to after reads only what is new, not the whole journal again.
func (j *Journal) SessionRecordsAfter(sessionID string, after uint64) (_ []Entry, acked uint64, _ error) {
	var out []Entry
	needle := []byte(`"session_id":` + mustJSON(sessionID))
	err := guard(j.file.path, func() error {
		return j.file.db.View(func(tx *bolt.Tx) error {
			st, err := readState(tx)
			if err != nil {
				return err
			}
			acked = st.Acked.Seq
			cd, err := readCodec(tx)
			if err != nil {
				return err
			}
			c := tx.Bucket(bucketRecords).Cursor()
			for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
				prev, hash, body, ok := cd.decode(v)
				seq, kok := keySeq(k)
				if !ok || !kok {
					return fmt.Errorf("%w: journal %s: unreadable record", ErrDamaged, j.file.id)
				}
				if sessionID != "" && !bytes.Contains(body, needle) {
					continue
				}
				rec := Record{JournalID: st.JournalID, Seq: seq, PrevHash: prev, Hash: hash, Body: append([]byte(nil), body...)}
				data, err := rec.Decode()
				if err != nil {
					return err
				}
				if data.SessionID == sessionID {
					out = append(out, Entry{Record: rec, Data: data, Synced: seq <= st.Acked.Seq})
				}
			}
			return nil
		})
	})
	return out, acked, err
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// Head is this run's journal head.
func (j *Journal) Head() (api.JournalHead, error) {
	st, err := j.file.state()
	return st.Head.API(), err
}

// Status is the journal's current status.
func (j *Journal) Status() Status { return j.status.get() }

// Subscribe returns a channel that always holds the latest Status (it starts with the
// current one) and a cancel function. The channel is closed by cancel or Close.
func (j *Journal) Subscribe() (<-chan Status, func()) { return j.status.subscribe() }

// committed runs on the writer goroutine after each commit.
func (j *Journal) committed(st fileState) {
	j.status.update(func(h *statusHub) {
		h.cur.Head, h.cur.Acked = st.Head.Seq, st.Acked.Seq
		if st.Acked.Seq > 0 {
			h.cur.LastSync = j.opts.now()
		}
	})
	j.mu.Lock()
	s := j.syncer
	j.mu.Unlock()
	if s != nil {
		s.poke()
	}
}

// Close stops taking records, commits those queued, gives the sync loop (if running)
// until ctx ends to push what is pending, and releases the file. Records left unsynced
// stay on disk and the next run syncs them; Close then returns an error wrapping
// ErrUnsynced, which callers may treat as a notice.
func (j *Journal) Close(ctx context.Context) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	s := j.syncer
	j.mu.Unlock()

	// A no-op queued behind every append: when it commits, they all have.
	flushErr := j.file.w.do(newOp(opFlush))
	if s != nil {
		s.finish(ctx)
	}
	st, stErr := j.file.state()
	closeErr := j.file.close()
	j.status.close()
	if err := errors.Join(flushErr, closeErr); err != nil {
		return err
	}
	if stErr != nil {
		return stErr
	}
	if pending := j.status.get().Pending; pending > 0 || st.Pending() > 0 {
		return fmt.Errorf("journal %s: %d %w; kept in %s for the next run", j.file.id, max(pending, st.Pending()), ErrUnsynced, j.dir)
	}
	return nil
}

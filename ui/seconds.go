package ui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
)

// seconds.go: the compares' second sessions, from the moment the server starts one to
// the moment it confirms its end. A compare's session is started inside a command that
// then reads two whole matrices; until the root hears of it only that command holds it,
// so it is registered here as soon as the server accepts it. Whatever ends it — the
// compare view closing, the session it was opened from ending (endCmd, a crash), the
// program stopping (Shutdown) — ends it through end, which asks the server and journals
// what is true, once: session.end (or session.expire when the server had ended it), or,
// when the server could not be told, an error record saying it stays open there until
// its expiry, and it stays registered so a later end (Shutdown's) asks again.

// openSeconds is the registry; its methods are safe from any goroutine (the commands
// run off the Update loop, Shutdown after it).
type openSeconds struct {
	mu     sync.Mutex
	open   map[string]*openSecond
	closed bool // Shutdown has begun: no compare starts any more
	// starting counts the compare-starting commands on their way, which Shutdown waits
	// for: a session the server is starting is registered before Shutdown ends them.
	starting sync.WaitGroup
}

// openSecond is one compare session open on the server.
type openSecond struct {
	s      *session
	of     string      // the id of the session it was opened from
	ofUser api.UserRef // whom that session impersonates: its compare.end record's user

	told bool // its compare.end is journaled in the session it was opened from (once)

	mu    sync.Mutex // held while it is being ended: one end at a time
	ended bool
}

// enter registers a compare-starting command; false once Shutdown has begun (then the
// command must start nothing). leave ends what enter began.
func (r *openSeconds) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.starting.Add(1)
	return true
}

func (r *openSeconds) leave() { r.starting.Done() }

// add registers second, opened from the session of.
func (r *openSeconds) add(second *session, of *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open = map[string]*openSecond{}
	}
	r.open[second.id] = &openSecond{s: second, of: of.id, ofUser: of.user}
}

// get is the registered session id; nil when it is not open (ended, or never started).
func (r *openSeconds) get(id string) *openSecond {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open[id]
}

// of is every compare session still open that was opened from the session id; all of
// them when id is "".
func (r *openSeconds) of(id string) []*openSecond {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*openSecond
	for _, e := range r.open {
		if id == "" || e.of == id {
			out = append(out, e)
		}
	}
	return out
}

// close stops new compares from starting and waits for those on their way (each runs
// to its own timeouts; its reads stop as soon as the program's context is cancelled).
func (r *openSeconds) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.starting.Wait()
}

// secondEnd is what an end of compare sessions journals: rec (its session and user
// filled per session) once the server has ended it; overByServer when the server had
// said the session is over, so a refused end still leaves it ended.
type secondEnd struct {
	c            *client.Client
	j            *audit.Journal
	rec          api.RecordBody
	overByServer bool
	timeout      time.Duration
}

// end ends e on the server and journals what is true (see the file's comment). err is
// nil when it is ended on the server, else says it is still open there, until when;
// jerr is the journal's. An end already done is not done again.
func (r *openSeconds) end(how secondEnd, e *openSecond) (err, jerr error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ended {
		return nil, nil
	}
	second := e.s
	second.cancel()
	// Its own context: a ctrl+c or the program's end must not stop the one request
	// that closes a session on the server.
	ctx, cancel := context.WithTimeout(context.Background(), how.timeout)
	defer cancel()
	serverErr := how.c.EndSession(ctx, second.id)
	if how.overByServer || errors.Is(serverErr, client.ErrNotFound) {
		serverErr = nil // it is over on the server already: telling it again is a courtesy
	}
	rec := how.rec
	rec.SessionID, rec.User = second.id, &second.user
	why := rec.Details
	if serverErr != nil {
		open := stillOpen{name: second.name, until: second.view.Session().ExpiresAt, err: inPlainWords(serverErr, how.timeout)}
		rec.Action, rec.Details = api.ActionError, open.journal()+"; its end was asked for: "+why
		return open, errors.Join(appendDurably(how.j, rec), e.tell(how, why+"; its session "+open.journal()))
	}
	e.ended = true
	r.mu.Lock()
	delete(r.open, second.id)
	r.mu.Unlock()
	return nil, errors.Join(appendDurably(how.j, rec), e.tell(how, why))
}

// tell journals the compare's end in the records of the session it was opened from,
// once (a later end that asks the server again is the second session's own record).
func (e *openSecond) tell(how secondEnd, why string) error {
	if e.told {
		return nil
	}
	e.told = true
	rec := how.rec
	rec.Action, rec.SessionID, rec.User = ActionCompareEnd, e.of, &e.ofUser
	rec.Details = "compare with " + e.s.name + " (" + e.s.user.ID + ", session " + e.s.id + "): " + why
	return appendDurably(how.j, rec)
}

// endOf ends every compare session still open of the session id ("": all), as end does;
// what could not be ended is said in err, the journal's failures in jerr.
func (r *openSeconds) endOf(how secondEnd, id string) (err, jerr error) {
	var errs, jerrs []error
	for _, e := range r.of(id) {
		err, jerr := r.end(how, e)
		errs, jerrs = append(errs, err), append(jerrs, jerr)
	}
	return errors.Join(errs...), errors.Join(jerrs...)
}

// stillOpen is a compare session the server could not be told to end: it stays open
// there, read-only, until its expiry, though its token is forgotten here.
type stillOpen struct {
	name  string
	until time.Time
	err   error
}

func (e stillOpen) journal() string {
	return "could not be ended on the server (" + e.err.Error() + "): still open there until " + e.until.UTC().Format(time.RFC3339)
}

func (e stillOpen) Error() string {
	return fmt.Sprintf("the compare's session on %s could not be ended on the server (%s): it stays open there, read-only, until %s UTC; its token is forgotten here",
		e.name, inWords(e.err), e.until.UTC().Format("15:04"))
}

func (e stillOpen) Unwrap() error { return e.err }

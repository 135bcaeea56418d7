package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/server/ratelimit"
	"github.com/shadowview/shadow/server/store"
)

// Journal ingest. A record is trusted only as far as the server can check it against
// what it knows itself: who uploads it (the token), and the sessions it started. The
// rules, in docs/API.md ("Ingest rules"):
//   - a journal belongs to the identity that first stored records in it
//     (mayUseJournal); anyone else is refused 403 forbidden, audited, told nothing;
//   - a record is refused when the server can prove it forged, with its code: its
//     actor is another identity of this server (journal_actor_mismatch); it names a
//     session another identity started (journal_session_mismatch); its user is not
//     that session's (journal_user_mismatch). A genuine client never sends one;
//   - anything else is stored, since a refusal would block the journal's every later
//     record for ever: verified when it names a session the uploader started, for the
//     user it names, at a time inside the session's life (from its start to its end,
//     or its expiry if it has not ended, with the clock skew), a session.start giving
//     the session's own reason; else flagged unverified, or no_session, and shown to
//     the uploader's organisation only (within the staff, to those whose scope covers
//     the session's company).
//     Who may see a record follows from the server's session, never from its words;
//   - a record is listed under its uploader's name, whatever its body says (the body's
//     actor, when it is not the uploader's id, is kept as claimed_actor).

var journalIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// uploaderOf is the identity writing a journal, as the store knows it.
func uploaderOf(u *org.User) store.Uploader {
	return store.Uploader{ID: u.ID, Realm: store.Realm(u.Staff(), u.CompanyID)}
}

// mayUseJournal is THE journal ownership rule as the routes apply it: every route that
// reads or writes a journal by its id calls it before anything else, with the caller's
// identity. A journal belongs to the identity that first stored records in it (the
// store's ownerAllows, which AppendJournal applies again inside its transaction); a
// journal the server holds nothing of may be used by anyone. For anyone else it
// returns 403 forbidden, having audited the attempt (journal.refused: the first per
// identity and minute, then a count), and the refusal says nothing of the journal: not
// its head, not its owner.
func (s *Server) mayUseJournal(id *identity, journalID string) *apiError {
	ok, owner, err := s.store.MayWriteJournal(journalID, uploaderOf(id.user))
	if err != nil {
		s.log.Error("journal owner", "journal", journalID, "err", err)
		return errorf(api.CodeUnavailable, "the journal could not be read; retry")
	}
	if ok {
		return nil
	}
	return s.refuseJournal(id, journalID, owner, notYourJournal(journalID))
}

func notYourJournal(journalID string) *apiError {
	return errorf(api.CodeForbidden, "journal %s belongs to another identity's audit trail: only the identity that first wrote to it may use it", journalID)
}

// refuseJournal audits a refused journal write and returns the refusal. Only the first
// refusal per identity, code and minute is an event of its own; the rest are counted
// in one summary when the minute is over (flushSummaries), so a flood of refused
// writes cannot grow the log faster than that.
func (s *Server) refuseJournal(id *identity, journalID, ownerID string, e *apiError) *apiError {
	if !s.noteRefusal(api.EventJournalRefused, id.user.ID, e.body.Code) {
		return e
	}
	s.mu.RLock()
	owner := s.org.User(ownerID)
	s.mu.RUnlock()
	ev := store.Event{AuditEvent: api.AuditEvent{
		Time: s.now(), Kind: api.EventJournalRefused, Actor: id.user.Ref(), JournalID: journalID,
		Code: e.body.Code, Details: e.body.Message,
	}, Companies: companies(id.user, owner)}
	if err := s.store.AppendEvents(ev); err != nil {
		s.log.Error("audit refused journal write", "err", err)
	}
	return e
}

// noteRefusal is THE throttle of audited refusals anyone signed in can provoke at will
// (refused journal writes, refused session starts): it reports whether this one is the
// first of its kind, identity, code and minute, to be an event of its own; the rest are
// counted, and one summary per key says how many when the minute is over
// (refusedSummary, from flushSummaries).
func (s *Server) noteRefusal(kind, userID string, code api.Code) bool {
	return s.refusedPuts.Note(kind + "\x00" + userID + "\x00" + string(code))
}

// refusedWhat is what the summary of each kind of refusal counts.
var refusedWhat = map[string]string{api.EventJournalRefused: "journal writes", api.EventSessionRefused: "session starts"}

// refusedSummary is the event counting the refusals of one key a minute suppressed.
func (s *Server) refusedSummary(sum ratelimit.Summary) store.Event {
	kind, rest, _ := strings.Cut(sum.Key, "\x00")
	userID, code, _ := strings.Cut(rest, "\x00")
	s.mu.RLock()
	u := s.org.User(userID)
	s.mu.RUnlock()
	actor := api.UserRef{ID: userID}
	if u != nil {
		actor = u.Ref()
	}
	return store.Event{AuditEvent: api.AuditEvent{
		Time: sum.Last, Kind: kind, Actor: actor, Code: api.Code(code), Count: sum.Suppressed,
		Details: fmt.Sprintf("%d more %s refused (%s) from %s to %s, not recorded one by one",
			sum.Suppressed, refusedWhat[kind], code, sum.First.UTC().Format(time.RFC3339), sum.Last.UTC().Format(time.RFC3339)),
	}, Companies: companies(u)}
}

// putJournal is PUT /audit/journals/{journal_id}/records: one contiguous, ascending
// range of at most api.MaxJournalBatch records, each verified against its own hash and
// checked against the uploader and the server's sessions (see the top of this file).
// The range is stored (or recognised as already held) and committed before the reply,
// which carries a receipt signed for the server's head. A gap or a conflicting record
// is 409 with the head, so the client can rewind. An empty range just reports the
// head, with a receipt.
func (s *Server) putJournal(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	jid := r.PathValue("journal_id")
	if !journalIDRE.MatchString(jid) {
		return errorf(api.CodeBadRequest, "journal_id must be 1 to 128 of A-Z a-z 0-9 . _ : -").field("journal_id")
	}
	var req api.PutRecordsRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Records) > api.MaxJournalBatch {
		return errorf(api.CodePayloadTooLarge, "at most %d records per request (got %d); send the range in parts", api.MaxJournalBatch, len(req.Records)).field("records")
	}
	if err := s.mayUseJournal(id, jid); err != nil {
		return err
	}
	events := make([]store.Event, len(req.Records))
	for i, rec := range req.Records {
		field := fmt.Sprintf("records[%d]", i)
		if rec.Seq == 0 {
			return errorf(api.CodeValidation, "%s: seq starts at 1", field).field(field + ".seq")
		}
		if i > 0 {
			prev := req.Records[i-1]
			if rec.Seq != prev.Seq+1 {
				return errorf(api.CodeValidation, "%s: seq %d does not follow %d; a request carries one contiguous range", field, rec.Seq, prev.Seq).field(field + ".seq")
			}
			if rec.PrevHash != prev.Hash {
				return errorf(api.CodeValidation, "%s: prev_hash is not the hash of record %d", field, prev.Seq).field(field + ".prev_hash")
			}
		}
		if len(rec.Body) > api.MaxRecordBody {
			return errorf(api.CodeValidation, "%s: the body has %d bytes, at most %d", field, len(rec.Body), api.MaxRecordBody).field(field + ".body")
		}
		if err := rec.Verify(jid); err != nil {
			return errorf(api.CodeValidation, "%s: %v", field, err).field(field + ".hash")
		}
		var body api.RecordBody
		if err := json.Unmarshal(rec.Body, &body); err != nil {
			return errorf(api.CodeValidation, "%s: body is not a journal record: %v", field, err).field(field + ".body")
		}
		if body.Action == "" {
			return errorf(api.CodeValidation, "%s: body has no action", field).field(field + ".body")
		}
		ev, refusal := s.checkRecord(id.user, body)
		if refusal != nil {
			return s.refuseJournal(id, jid, "", refusal.field(field))
		}
		ev.JournalID, ev.Seq = jid, rec.Seq
		events[i] = ev
	}
	fresh, started, qerr := s.journalFresh(jid, req.Records)
	if qerr != nil {
		return qerr
	}
	give, qerr := s.takeJournalQuota(id.user.ID, jid, fresh, started)
	if qerr != nil {
		return qerr
	}
	first := uint64(0)
	if len(req.Records) > 0 {
		first = req.Records[0].Seq
	}
	out, err := s.store.AppendJournal(jid, uploaderOf(id.user), req.Records, func(rec api.WireRecord) store.Event {
		return events[rec.Seq-first]
	})
	give(out.Accepted)
	if err != nil {
		s.log.Error("append journal", "journal", jid, "err", err)
		return errorf(api.CodeUnavailable, "the records could not be stored; retry")
	}
	switch out.Code {
	case "":
	case api.CodeForbidden: // another identity claimed it since mayUseJournal looked
		return s.refuseJournal(id, jid, "", notYourJournal(jid))
	default:
		e := errorf(out.Code, "%s", out.Message)
		if out.Code == api.CodeJournalGap || out.Code == api.CodeJournalConflict {
			head := out.Head
			e.body.Head = &head
		}
		return e
	}
	receipt := api.Receipt{JournalID: jid, Seq: out.Head.Seq, Hash: out.Head.Hash, IssuedAt: s.now().UTC(), KeyID: s.key.ID}
	receipt.Sign(s.key.Private)
	writeJSON(w, r, http.StatusOK, api.PutRecordsResponse{JournalID: jid, Head: out.Head,
		Accepted: out.Accepted, Duplicates: out.Duplicates, Receipt: receipt})
	return nil
}

// journalFresh counts the records of a range beyond the server's head (what the caps
// count: a resend costs nothing), and whether they would start the journal.
func (s *Server) journalFresh(jid string, recs []api.WireRecord) (fresh int, starts bool, e *apiError) {
	fresh = len(recs)
	if fresh == 0 || (s.journalQuota == nil && s.uploaderQuota == nil && s.newJournals == nil) {
		return fresh, false, nil
	}
	head, err := s.store.JournalHead(jid)
	if err != nil {
		s.log.Error("journal head", "journal", jid, "err", err)
		return 0, false, errorf(api.CodeUnavailable, "the journal could not be read; retry")
	}
	last := recs[fresh-1].Seq
	if last <= head.Seq {
		return 0, false, nil
	}
	return int(min(last-head.Seq, uint64(fresh))), head.Seq == 0, nil
}

// takeJournalQuota takes what a range of fresh new records costs: from the journal's
// bucket, the uploader's across all its journals, and, for a range that starts a
// journal, one of the journals the uploader may start an hour. So new journal ids do
// not multiply the per-journal cap. It takes all or nothing, and give hands back what
// the append did not use (accepted: the records stored).
func (s *Server) takeJournalQuota(uploaderID, jid string, fresh int, starts bool) (give func(accepted int), e *apiError) {
	limited := func(wait time.Duration, format string, args ...any) *apiError {
		e := errorf(api.CodeRateLimited, format, args...)
		e.retry = wait
		return e
	}
	if wait := s.journalQuota.Take(jid, fresh); wait > 0 {
		return nil, limited(wait, "journal %s takes at most %d new records a minute beyond a burst; send the rest later", jid, s.journalPerMinute)
	}
	if wait := s.uploaderQuota.Take(uploaderID, fresh); wait > 0 {
		s.journalQuota.Give(jid, fresh)
		return nil, limited(wait, "one identity uploads at most %d new records a minute across its journals beyond a burst; send the rest later", s.uploaderPerMin)
	}
	started := 0
	if starts {
		started = 1
	}
	if wait := s.newJournals.Take(uploaderID, started); wait > 0 {
		s.journalQuota.Give(jid, fresh)
		s.uploaderQuota.Give(uploaderID, fresh)
		return nil, limited(wait, "one identity starts at most %d new journals an hour; append to one it holds, or start this one later", s.newJournalsPerH)
	}
	return func(accepted int) {
		s.journalQuota.Give(jid, fresh-accepted)
		s.uploaderQuota.Give(uploaderID, fresh-accepted)
		if accepted == 0 {
			s.newJournals.Give(uploaderID, started)
		}
	}, nil
}

// checkRecord decides one record of uploader up: a refusal when the server can prove
// it forged, else its audit event, with what the server could verify and who may read
// it. It is the one statement of the record rules; stored records from before them are
// judged by it too (migrateJournalTrust).
func (s *Server) checkRecord(up *org.User, b api.RecordBody) (store.Event, *apiError) {
	s.mu.RLock()
	actorKnown := s.org.User(b.Actor.ID) != nil
	s.mu.RUnlock()
	upRef := up.Ref()
	// The user stays the client's word until the server's own session proves it (the
	// verified branch below replaces it): filling in names and e-mails from the
	// directory for a record nobody vouches for would let any uploader look up any
	// tenant's people by id.
	ev := store.Event{AuditEvent: api.AuditEvent{
		Time: b.Time, Kind: api.EventJournalRecord, Actor: upRef, User: b.User, SessionID: b.SessionID,
		Reason: b.Reason, Details: b.Details, Action: b.Action, SyncedBy: &upRef,
	}}
	var notes []string
	if b.Actor.ID != up.ID {
		if actorKnown { // the refusal names no one: it must not read out the directory either
			return ev, errorf(api.CodeJournalActorMismatch,
				"the record's actor (%s) is another identity than you (%s): a journal holds the records of the identity that uploads it",
				truncate(b.Actor.ID, 64), up.ID)
		}
		claimed := b.Actor
		ev.ClaimedActor = &claimed
		notes = append(notes, fmt.Sprintf("the actor it names (%q) is not an identity of this server", truncate(b.Actor.ID, 64)))
	}
	ev.Realm = store.Realm(up.Staff(), up.CompanyID)
	if b.SessionID == "" {
		ev.Verification = api.RecordNoSession
		if len(notes) > 0 {
			ev.Verification = api.RecordUnverified
		}
		ev.VerificationNote = strings.Join(append(notes, claimedUser(b.User)...), "; ")
		return ev, nil
	}
	sess, known := s.storedSession(b.SessionID)
	if !known {
		notes = append(notes, fmt.Sprintf("this server holds no session %s (one started before a restore from backup, or before a restart without --data)", truncate(b.SessionID, 64)))
		ev.Verification, ev.VerificationNote = api.RecordUnverified, strings.Join(append(notes, claimedUser(b.User)...), "; ")
		return ev, nil
	}
	if sess.Impersonator.ID != up.ID {
		return ev, errorf(api.CodeJournalSessionMismatch, "session %s was started by another identity, not by you (%s)", sess.ID, up.Name)
	}
	if b.User != nil && b.User.ID != sess.User.ID {
		return ev, errorf(api.CodeJournalUserMismatch, "the record's user (%s) is not the user session %s impersonates", truncate(b.User.ID, 64), sess.ID)
	}
	// An unverified record of a known session concerns that session's company: within
	// its organisation it is read only by those who may support that company.
	ev.Companies = []string{}
	if sess.CompanyID != "" {
		ev.Companies = append(ev.Companies, sess.CompanyID)
	}
	// The session's life ends when it ended (ended, expired or revoked), else when it
	// expires: nothing is read with a dead token, so a record dated later is no read.
	end := sess.ExpiresAt
	if sess.EndedAt != nil && sess.EndedAt.Before(end) {
		end = *sess.EndedAt
	}
	from, to := sess.StartedAt.Add(-s.skew), end.Add(s.skew)
	if b.Time.Before(from) || b.Time.After(to) {
		notes = append(notes, fmt.Sprintf("its time %s is outside the session's life (%s to %s, give or take %s)",
			b.Time.UTC().Format(time.RFC3339), sess.StartedAt.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), s.skew))
	}
	// A session's reason is the server's word (the client writes what it sent, which
	// the server stored trimmed): a start record giving another is not the session's.
	if b.Action == api.ActionSessionStart && strings.TrimSpace(b.Reason) != sess.Reason {
		notes = append(notes, fmt.Sprintf("its reason %q is not the reason the session was started with", truncate(b.Reason, 64)))
	}
	if len(notes) > 0 {
		ev.Verification, ev.VerificationNote = api.RecordUnverified, strings.Join(notes, "; ")
		return ev, nil
	}
	user := sess.User // the server's session proves it: the user as the server holds it
	ev.User = &user
	ev.Verification, ev.Realm = api.RecordVerified, ""
	if up.CompanyID != "" && up.CompanyID != sess.CompanyID {
		ev.Companies = append(ev.Companies, up.CompanyID)
	}
	return ev, nil
}

// claimedUser is the note of a record whose user no session of the server vouches
// for: it is kept as the client sent it, and said to be the client's word.
func claimedUser(u *api.UserRef) []string {
	if u == nil {
		return nil
	}
	return []string{fmt.Sprintf("its user (%q) is as the record claims it, not checked by the server", truncate(u.ID, 64))}
}

// storedSession is the server's record of a session, without recording a due expiry.
func (s *Server) storedSession(id string) (store.Session, bool) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		return store.Session{}, false
	}
	return *sess, true
}

// migrateJournalTrust judges, once, the journal records a server stored before it
// checked them: each by checkRecord, as if uploaded now. What checkRecord would refuse
// stays stored (records are immutable) but is flagged unverified, saying so.
func (s *Server) migrateJournalTrust() error {
	return s.store.Migrate("journal-trust", func(ev *store.Event) bool {
		if ev.Kind != api.EventJournalRecord || ev.Verification != "" {
			return false
		}
		var up *org.User
		if ev.SyncedBy != nil {
			up = s.org.User(ev.SyncedBy.ID)
		}
		if up == nil {
			ev.Verification, ev.Realm = api.RecordUnverified, store.RealmStaff
			ev.VerificationNote = "stored before this server checked journal records; its uploader is not an identity of this server"
			return true
		}
		body := api.RecordBody{SessionID: ev.SessionID, Time: ev.Time, Action: ev.Action, Actor: ev.Actor, User: ev.User,
			Reason: ev.Reason, Details: ev.Details}
		judged, refusal := s.checkRecord(up, body)
		judged.ID, judged.JournalID, judged.Seq = ev.ID, ev.JournalID, ev.Seq
		if refusal != nil {
			claimed := ev.Actor
			judged.ClaimedActor = &claimed
			judged.Verification, judged.Realm, judged.Companies = api.RecordUnverified, store.Realm(up.Staff(), up.CompanyID), nil
			judged.VerificationNote = "stored before this server checked journal records; it would now be refused: " + refusal.Error()
		}
		*ev = judged
		return true
	})
}

package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/words"
)

// FindingKind says what a Finding found.
type FindingKind string

// The kinds of finding the sync loop, `journal sync` and `journal verify --server`
// report. Each names a journal and, where there is one, the seq concerned.
const (
	// FindingRefused: the server refused a range of the journal with a 4xx reply (its
	// code and words are in the finding). Records must be contiguous, so none after Seq
	// can sync until the refusal is mended.
	FindingRefused FindingKind = "refused"
	// FindingMissing: the server lacks a record its own receipt said it held (it lost
	// it: restored from a backup, say). The record is sent again (Resent says whether
	// the server now holds it).
	FindingMissing FindingKind = "missing on the server"
	// FindingDifferent: the server holds a different record at this seq.
	FindingDifferent FindingKind = "different"
	// FindingRollback: the server holds a record at a seq this file does not reach: the
	// file was cut short, or replaced by an older copy.
	FindingRollback FindingKind = "rollback of the local file"
	// FindingDamaged: the journal file is damaged; its readable records were carried
	// into another journal (see Recovery) and the file set aside.
	FindingDamaged FindingKind = "damaged"
	// FindingUnreadable: the journal file could not be opened or read at all.
	FindingUnreadable FindingKind = "unreadable"
	// FindingElsewhere: the journal belongs to another server (its pinned key), or this
	// one refuses it as another owner's (403 forbidden); it is left pending for its owner.
	FindingElsewhere FindingKind = "belongs elsewhere"
	// FindingInUse: another shadow process has the journal open; that process syncs it.
	FindingInUse FindingKind = "in use"
	// FindingUncompared: the server could not be asked what it holds of the journal, so
	// nothing is known of the records its receipt covers.
	FindingUncompared FindingKind = "not compared"

	// The kinds of finding of a session set against what the server served its token
	// (sessions.go): `journal verify --server` and `journal show --server`.

	// FindingUnjournaled: the server served the session's token a read that no journal
	// record accounts for: a read made without journaling it.
	FindingUnjournaled FindingKind = "read not journaled"
	// FindingUnserved: a journal record shows a read the server never served the
	// session's token.
	FindingUnserved FindingKind = "never served"
	// FindingPageCount: a paged view's record names another number of pages than the
	// server served the view in (its pages are the server's word; the count the
	// record's).
	FindingPageCount FindingKind = "page count belied"
	// FindingUnreconciled: the session could not be set against the server's record of
	// it, or only in part (the server holds no such session, it withheld records, or
	// the session had more events than one reply carries).
	FindingUnreconciled FindingKind = "not reconciled"
)

// Finding is one thing found about one journal.
type Finding struct {
	JournalID string
	SessionID string // the session concerned, for the findings of a session
	Kind      FindingKind
	Seq       uint64   // the record concerned; 0 when the finding is about the journal
	Code      api.Code // the server's code, for FindingRefused
	Message   string   // what was found, in words (server words are cleaned when printed)
	Resent    bool     // FindingMissing: sent again, and the server acknowledged it
}

func (f Finding) String() string {
	where := "journal " + f.JournalID
	switch {
	case f.SessionID != "" && f.Seq > 0:
		where += fmt.Sprintf(" seq %d, session %s", f.Seq, f.SessionID)
	case f.SessionID != "" && f.JournalID == "":
		where = "session " + f.SessionID
	case f.SessionID != "":
		where = "session " + f.SessionID + " (journal " + f.JournalID + ")"
	case f.Seq > 0:
		where += fmt.Sprintf(" seq %d", f.Seq)
	}
	code := ""
	if f.Code != "" {
		code = string(f.Code) + ": "
	}
	resent := ""
	if f.Resent {
		resent = " (sent again; the server holds it now)"
	}
	return fmt.Sprintf("%s: %s: %s%s%s", where, f.Kind, code, f.Message, resent)
}

// key identifies a finding so that it is reported once.
func (f Finding) key() string { return fmt.Sprintf("%s\x00%s\x00%d", f.JournalID, f.Kind, f.Seq) }

// Blocking reports whether the finding leaves records unsynced or a difference with the
// server unexplained: everything but a missing record the server has taken again.
func (f Finding) Blocking() bool { return !(f.Kind == FindingMissing && f.Resent) }

// Brief says findings in a few plain words for a status line, each kind once with its
// count of journals (or sessions, records): "1 journal of another sign-in kept for its
// owner". The full words of each (Finding.String) are for `shadow journal verify` and
// `journal sync`, where there is room. "" when there are none.
func Brief(findings []Finding) string {
	type tally struct {
		phrase, one, many string
		seen              map[string]bool // each journal, session or record counted once
	}
	var order []*tally
	byPhrase := map[string]*tally{}
	for _, f := range findings {
		phrase, one, many := f.brief()
		t := byPhrase[phrase]
		if t == nil {
			t = &tally{phrase: phrase, one: one, many: many, seen: map[string]bool{}}
			byPhrase[phrase] = t
			order = append(order, t)
		}
		switch one {
		case "session":
			t.seen[f.SessionID] = true
		case "record":
			t.seen[fmt.Sprintf("%s\x00%d", f.JournalID, f.Seq)] = true
		default:
			t.seen[f.JournalID] = true
		}
	}
	parts := make([]string, 0, len(order))
	for _, t := range order {
		parts = append(parts, words.Count(len(t.seen), t.one, t.many)+" "+t.phrase)
	}
	return strings.Join(parts, "; ")
}

// brief is the finding's phrase for Brief and the nouns it counts.
func (f Finding) brief() (phrase, one, many string) {
	const j, js = "journal", "journals"
	switch f.Kind {
	case FindingElsewhere:
		if f.Code != "" { // this server refused it as another identity's
			return "of another sign-in kept for its owner", j, js
		}
		return "of another server kept for it", j, js
	case FindingRefused:
		if f.Code == api.CodeForbidden { // as FindingElsewhere: the sync loop finds both
			return "of another sign-in kept for its owner", j, js
		}
		return "refused by the server (shadow journal verify says why)", j, js
	case FindingMissing:
		if f.Resent {
			return "the server had lost sent to it again", "record", "records"
		}
		return "the server lost", "record", "records"
	case FindingDifferent, FindingRollback:
		return "not as the server holds it (shadow journal verify says how)", j, js
	case FindingDamaged:
		return "damaged, set aside with its records carried over", j, js
	case FindingUnreadable:
		return "that could not be read", j, js
	case FindingInUse:
		return "open in another shadow, synced by it", j, js
	case FindingUncompared:
		return "not compared with the server", j, js
	}
	return "not as the server served it (shadow journal verify says how)", "session", "sessions"
}

// SyncFailureWords says why the sync loop is failing (Status.LastError) in a few plain
// words for a status line: "the server refused seq 5 (journal_conflict)". The whole
// chain (err.Error()) is for logs and `shadow journal sync`, where there is room.
func SyncFailureWords(err error) string {
	var refused refusedError
	if errors.As(err, &refused) {
		return fmt.Sprintf("the server refused seq %d (%s)", refused.Seq, reason(refused.Code, refused.Message))
	}
	seq := ""
	var p pushError
	if errors.As(err, &p) {
		seq = fmt.Sprintf(" seq %d", p.seq)
	}
	var body api.ErrorBody
	switch {
	case errors.Is(err, ErrKeyChanged):
		return "the server's audit key changed: the journal was written for another server"
	case errors.Is(err, ErrDiverged):
		return "the server's copy of the journal is not this one's"
	case errors.Is(err, ErrBadAcknowledgement):
		return "the server's receipt did not check out"
	case errors.Is(err, ErrDamaged):
		return "the journal file is damaged"
	case errors.As(err, &body):
		if body.Code.Status() == 401 {
			return fmt.Sprintf("the server refused%s: the sign-in is no longer accepted (sign in again)", seq)
		}
		return fmt.Sprintf("the server refused%s (%s)", seq, reason(body.Code, body.Message))
	}
	return fmt.Sprintf("could not send%s to the server", seq)
}

// reason is a refusal's reason in a few words: the server's code, or its message when
// it gave no code.
func reason(code api.Code, message string) string {
	if code != "" {
		return string(code)
	}
	if message = strings.TrimSpace(message); message != "" {
		return message
	}
	return "no reason given"
}

package audit

import (
	"fmt"

	"github.com/shadowview/shadow/api"
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

package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
)

// TestSyncFailureWords: the status line's words for a failing sync are a few, plain,
// with the seq and the server's reason, never the error chain ("sync journal 01M… from
// seq 5: sync the journal: …" was cut mid-word on the status line).
func TestSyncFailureWords(t *testing.T) {
	const id = "01M99W7H000000000000000000"
	for _, c := range []struct {
		err  error
		want string
	}{
		{refusal(id, 5, api.ErrorBody{Code: api.CodeForbidden, Message: "journal belongs to another identity's audit trail"}),
			"the server refused seq 5 (forbidden)"},
		{pushError{journalID: id, seq: 5, err: fmt.Errorf("sync the journal: %w", api.ErrorBody{Code: api.CodeJournalConflict, Message: "a different record holds seq 5"})},
			"the server refused seq 5 (journal_conflict)"},
		{pushError{journalID: id, seq: 5, err: fmt.Errorf("sync the journal: %w", api.ErrorBody{Code: api.CodeUnauthenticated, Message: "token signature invalid"})},
			"the server refused seq 5: the sign-in is no longer accepted (sign in again)"},
		{fmt.Errorf("%w: journal %s pinned key %q", ErrKeyChanged, id, "k1"),
			"the server's audit key changed: the journal was written for another server"},
		{pushError{journalID: id, seq: 7, err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
			"could not send seq 7 to the server"},
	} {
		got := SyncFailureWords(c.err)
		if got != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.err, got, c.want)
		}
		if strings.Contains(got, id) || strings.Contains(got, "sync journal") {
			t.Errorf("%q is the chain, not words", got)
		}
	}
	// The chain itself stays whole for logs and `shadow journal sync`.
	if e := (pushError{journalID: id, seq: 5, err: errors.New("x")}); e.Error() != "sync journal "+id+" from seq 5: x" {
		t.Errorf("chain %q", e.Error())
	}
}

// TestBrief: each kind once, counted by journal, in the order found.
func TestBrief(t *testing.T) {
	got := Brief([]Finding{
		{JournalID: "A", Kind: FindingElsewhere, Code: api.CodeForbidden},
		{JournalID: "A", Kind: FindingRefused, Seq: 2, Code: api.CodeForbidden},
		{JournalID: "B", Kind: FindingElsewhere, Code: api.CodeJournalActorMismatch},
		{JournalID: "C", Kind: FindingDamaged},
		{JournalID: "D", Kind: FindingElsewhere},
	})
	want := "2 journals of another sign-in kept for its owner; 1 journal damaged, set aside with its records carried over; 1 journal of another server kept for it"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if Brief(nil) != "" {
		t.Error("no findings, yet words")
	}
}

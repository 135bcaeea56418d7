package server

import (
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
)

// The regression tests of the security review of main (after issue 8), one per
// finding, each through the real handler over loopback HTTP. Each failed against
// main at 10f137c.

// Finding 1 (high): Acme's admin uploaded a record naming an Orbit user's id, with no
// session or an unknown one, and read back Orbit's user's name and e-mail, filled in
// from the directory; the actor-mismatch refusal read out the name of whichever
// identity the record claimed. A record's user is the client's word, flagged as such,
// until the server's own session proves it, and no refusal names anyone.
func TestIngestIsNoDirectoryLookup(t *testing.T) {
	e := newEnv(t)
	ada := e.login(DemoCompanyAdminEmail)
	const jid = "ada-lookup.journal"
	recs := records(t, jid, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: testEpoch, Actor: api.UserRef{ID: DemoCompanyAdminID},
			User: &api.UserRef{ID: DemoOutOfScopeID}},
		api.RecordBody{Action: api.ActionView, Time: testEpoch, SessionID: "ses_unknown_here", Actor: api.UserRef{ID: DemoCompanyAdminID},
			User: &api.UserRef{ID: DemoOutOfScopeID, Name: "as the client wrote it"}})
	e.do("PUT", journalPath(jid), ada, api.PutRecordsRequest{Records: recs}).decode(t, 200, nil)
	got := e.events(ada, "kind=journal.record")
	if len(got) != 2 {
		t.Fatalf("Ada reads %d of her 2 records", len(got))
	}
	for i, ev := range got {
		if ev.User == nil || ev.User.ID != DemoOutOfScopeID || ev.User.Email != "" || strings.Contains(ev.User.Name, "Olga") {
			t.Errorf("record %d: user %+v, want only what the client sent", ev.Seq, ev.User)
		}
		if !strings.Contains(ev.VerificationNote, "as the record claims it") || ev.Verification == api.RecordVerified {
			t.Errorf("record %d is not flagged as the client's word: %s %q", ev.Seq, ev.Verification, ev.VerificationNote)
		}
		if want := []string{api.RecordNoSession, api.RecordUnverified}[i]; ev.Verification != want {
			t.Errorf("record %d: verification %s, want %s", ev.Seq, ev.Verification, want)
		}
	}
	if got[1].User.Name != "as the client wrote it" {
		t.Errorf("the client's own words for the user were not kept: %+v", got[1].User)
	}

	const jid2 = "ada-oracle.journal"
	b := e.do("PUT", journalPath(jid2), ada, api.PutRecordsRequest{Records: records(t, jid2, 1, api.ZeroHash,
		api.RecordBody{Action: api.ActionView, Time: testEpoch, Actor: api.UserRef{ID: "u-staff-jordan"}})}).wantErr(t, api.CodeJournalActorMismatch)
	if strings.Contains(b.Message, "Jordan") || strings.Contains(b.Message, "Lee") {
		t.Errorf("the refusal reads out the directory: %q", b.Message)
	}
	for _, ev := range e.events(ada, "kind="+api.EventJournalRefused) {
		if strings.Contains(ev.Details, "Jordan") {
			t.Errorf("the audited refusal names the claimed actor: %q", ev.Details)
		}
	}
}

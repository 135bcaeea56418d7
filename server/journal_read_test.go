package server

import (
	"fmt"
	"testing"

	"github.com/shadowview/shadow/api"
)

// GET /audit/journals/{id}/records tells the journal's owner what the server holds of
// it — head and per-record hashes, paged — and nobody else anything.
func TestJournalRecordsReadsBackWhatWasStored(t *testing.T) {
	e := newEnv(t)
	support := e.login(DemoSupportEmail)
	var me api.Me
	e.do("GET", "/api/v1/me", support, nil).decode(t, 200, &me)

	var page api.JournalRecordsPage
	e.do("GET", "/api/v1/audit/journals/j-read/records", support, nil).decode(t, 200, &page)
	if page.Head.Seq != 0 || page.Head.Hash != api.ZeroHash.String() || page.Records == nil || len(page.Records) != 0 || page.NextAfter != 0 {
		t.Fatalf("a journal the server holds nothing of: %+v", page)
	}

	recs := journalRange(t, "j-read", 1, 5, api.ZeroHash, me.User.Ref(), api.UserRef{ID: DemoFleetManagerID}, "")
	e.do("PUT", "/api/v1/audit/journals/j-read/records", support, api.PutRecordsRequest{Records: recs}).decode(t, 200, nil)

	e.do("GET", "/api/v1/audit/journals/j-read/records", support, nil).decode(t, 200, &page)
	if page.JournalID != "j-read" || page.Head.Seq != 5 || page.Head.Hash != recs[4].Hash || len(page.Records) != 5 || page.NextAfter != 0 {
		t.Fatalf("whole journal: %+v", page)
	}
	for i, d := range page.Records {
		if d.Seq != recs[i].Seq || d.Hash != recs[i].Hash {
			t.Fatalf("record %d: %+v, stored %+v", i, d, recs[i])
		}
	}
	// Paged: after 2, two at a time.
	var got []uint64
	for after := uint64(2); ; {
		var p api.JournalRecordsPage
		e.do("GET", fmt.Sprintf("/api/v1/audit/journals/j-read/records?after=%d&limit=2", after), support, nil).decode(t, 200, &p)
		for _, d := range p.Records {
			got = append(got, d.Seq)
		}
		if p.NextAfter == 0 {
			break
		}
		after = p.NextAfter
	}
	if fmt.Sprint(got) != "[3 4 5]" {
		t.Fatalf("pages after 2 gave seqs %v", got)
	}
	e.do("GET", "/api/v1/audit/journals/j-read/records?after=5", support, nil).decode(t, 200, &page)
	if len(page.Records) != 0 || page.Head.Seq != 5 {
		t.Fatalf("after the head: %+v", page)
	}
	e.do("GET", "/api/v1/audit/journals/j-read/records?limit=99999999999999999999", support, nil).decode(t, 200, &page)
	if len(page.Records) != 5 {
		t.Fatalf("a huge limit is capped, not refused: %+v", page)
	}

	// A journal belongs to the identity that first wrote it: another staff member of the
	// same organisation learns nothing of it either.
	agent := e.login(DemoAgentEmail)
	if b := e.do("GET", "/api/v1/audit/journals/j-read/records", agent, nil).wantErr(t, api.CodeForbidden); b.Head != nil {
		t.Fatalf("another staff member was told the head: %+v", b)
	}
	// Another organisation learns nothing of it; an impersonation token reads no journal.
	ada := e.login(DemoCompanyAdminEmail)
	if b := e.do("GET", "/api/v1/audit/journals/j-read/records", ada, nil).wantErr(t, api.CodeForbidden); b.Head != nil {
		t.Fatalf("another organisation was told the head: %+v", b)
	}
	imp := e.impersonate(support, DemoFleetManagerEmail).Token
	e.do("GET", "/api/v1/audit/journals/j-read/records", imp, nil).wantErr(t, api.CodeForbidden)
	e.do("GET", "/api/v1/audit/journals/j-read/records", "", nil).wantErr(t, api.CodeUnauthenticated)

	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=-3", "limit=abc", "limit=-99999999999999999999"} {
		e.do("GET", "/api/v1/audit/journals/j-read/records?"+q, support, nil).wantErr(t, api.CodeBadRequest)
	}
	e.do("GET", "/api/v1/audit/journals/bad%20id/records", support, nil).wantErr(t, api.CodeBadRequest)
}

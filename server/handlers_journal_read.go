package server

import (
	"net/http"
	"strconv"

	"github.com/shadowview/shadow/api"
)

// journalRecords is GET /audit/journals/{journal_id}/records?after=&limit=: the server's
// head for a journal and the seq and hash of the records it holds after after, so a
// client can compare its journal with the server's copy (a server restored from a
// backup that lacks records, a client file rolled back). Read only; the journal's
// owner alone may read it, by the rule that guards writing it (mayUseJournal).
func (s *Server) journalRecords(w http.ResponseWriter, r *http.Request, id *identity) *apiError {
	jid := r.PathValue("journal_id")
	if !journalIDRE.MatchString(jid) {
		return errorf(api.CodeBadRequest, "journal_id must be 1 to 128 of A-Z a-z 0-9 . _ : -").field("journal_id")
	}
	if e := s.mayUseJournal(id, jid); e != nil {
		return e
	}
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errorf(api.CodeBadRequest, "after must be a seq: a whole number from 0 (got %q)", truncate(v, 30)).field("after")
		}
		after = n
	}
	limit, lerr := limitParam(r, api.MaxJournalRecordsPage, api.MaxJournalRecordsPage)
	if lerr != nil {
		return lerr
	}
	head, recs, err := s.store.JournalDigests(jid, after, limit)
	if err != nil {
		s.log.Error("read journal", "journal", jid, "err", err)
		return errorf(api.CodeUnavailable, "the journal could not be read; retry")
	}
	page := api.JournalRecordsPage{JournalID: jid, Head: head, Records: recs}
	if page.Records == nil {
		page.Records = []api.RecordDigest{}
	}
	if n := len(recs); n > 0 && recs[n-1].Seq < head.Seq {
		page.NextAfter = recs[n-1].Seq
	}
	writeJSON(w, r, http.StatusOK, page)
	return nil
}

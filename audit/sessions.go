package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
)

// Sessions set against the server: each impersonation session of the local journals
// beside what the server served its token (GET /audit/sessions/{id}, docs/API.md).
//
// Comparing journals with the server's copies (reconcile.go) proves the server holds
// what the client wrote; it cannot show what the client never wrote. The server saw
// every request the session's token made, so it can: a read it served that no journal
// record accounts for is a read made without journaling it (a modified client hiding
// what it read), and a record of a read it never served claims what this server did
// not show. Each is its own finding. The matching is the server's (server/reconcile);
// this side only fetches it and says what it found.

// sessionAuditor is a Remote that can fetch the server's reconciliation view of a
// session (the client's staff client is one).
type sessionAuditor interface {
	SessionAudit(ctx context.Context, sessionID string) (api.SessionAudit, error)
}

// localSession is one impersonation session as the local journals hold it.
type localSession struct {
	ID        string
	JournalID string // the journal holding its first record
	Started   bool   // a session.start record of it is journaled
	Records   int
	Pending   int // records the server has not acknowledged
}

// sessionSet gathers the sessions of journal entries, in order of first record.
type sessionSet struct {
	list  []localSession
	index map[string]int
}

// add counts e to its session; the journal's own records (no session) are no session.
func (s *sessionSet) add(journalID string, e Entry) {
	id := e.Data.SessionID
	if id == "" {
		return
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	i, ok := s.index[id]
	if !ok {
		i = len(s.list)
		s.index[id] = i
		s.list = append(s.list, localSession{ID: id, JournalID: journalID})
	}
	ls := &s.list[i]
	ls.Records++
	ls.Started = ls.Started || e.Data.Action == api.ActionSessionStart
	if !e.Synced {
		ls.Pending++
	}
}

// sessionResult is one session set against the server.
type sessionResult struct {
	local    localSession
	audit    *api.SessionAudit // nil when the server had none to give
	findings []Finding         // every one a reason the session is not consistent
	notes    []string          // true, but no reason to fail
}

// consistent reports whether the server's record of the session and the journals
// agree: every read served is journaled, every read journaled was served.
func (r sessionResult) consistent() bool {
	return r.audit != nil && len(r.findings) == 0 && r.audit.Summary.Consistent
}

// verdict is the one line said of the session.
func (r sessionResult) verdict() string {
	what := fmt.Sprintf("session %s (journal %s)", r.local.ID, r.local.JournalID)
	if r.audit == nil {
		if len(r.findings) == 0 {
			return what + ": not set against the server"
		}
		return what + ": NOT reconciled with the server"
	}
	sum := r.audit.Summary
	counts := fmt.Sprintf("%s (%d served), %s journaled", words.Count(sum.Requests, "request", "requests"), sum.Served,
		words.Count(sum.Records, "record", "records"))
	if r.consistent() {
		return fmt.Sprintf("%s: consistent with what the server served: %s; every read served is journaled (%d as served, %d shown again from the cache), every read journaled was served",
			what, counts, sum.Matched, sum.Cached)
	}
	return fmt.Sprintf("%s: NOT consistent with what the server served: %s; %s", what, counts, words.Count(len(r.findings), "finding", "findings"))
}

func (r sessionResult) print(w io.Writer) {
	fmt.Fprintln(w, safetext.Clean(r.verdict()))
	printFindings(w, r.findings)
	for _, n := range r.notes {
		fmt.Fprintf(w, "        note: %s\n", safetext.Clean(n))
	}
}

// auditSession fetches the server's reconciliation view of s and makes a finding of
// each difference. An error is a session that could not be asked about at all.
func auditSession(ctx context.Context, sa sessionAuditor, s localSession, timeout time.Duration) (sessionResult, error) {
	r := sessionResult{local: s}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	got, err := sa.SessionAudit(rctx, s.ID)
	cancel()
	add := func(kind FindingKind, format string, args ...any) {
		r.findings = append(r.findings, Finding{JournalID: s.JournalID, SessionID: s.ID, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	var body api.ErrorBody
	switch {
	case err == nil:
	case errors.As(err, &body) && body.Code == api.CodeNotFound && s.Started:
		add(FindingUnreconciled, "the journal records its start, but the server holds no such session that you may read: nothing it served can be set against the journal")
		return r, nil
	case errors.As(err, &body) && body.Code == api.CodeNotFound:
		r.notes = append(r.notes, "the server holds no such session that you may read, and no journal here records its start: its records are not set against what the server served")
		return r, nil
	default:
		return r, fmt.Errorf("session %s not set against the server: %w", s.ID, err)
	}
	r.audit = &got
	maybe := ""
	if s.Pending > 0 {
		maybe = fmt.Sprintf("; %s of this session the server has not acknowledged yet may account for it: run `shadow journal sync`, then verify again",
			words.Count(s.Pending, "record", "records"))
	}
	for _, ev := range got.Unjournaled {
		add(FindingUnjournaled, "the server served %s (status %d, %s) to this session's token, and no journal record accounts for it: a read made without journaling it%s",
			requestLine(ev), ev.Status, ev.Time.UTC().Format(time.RFC3339), maybe)
	}
	for _, rec := range got.Records {
		if rec.Finding != "" {
			r.findings = append(r.findings, Finding{JournalID: rec.JournalID, SessionID: s.ID, Seq: rec.Seq, Kind: FindingPageCount,
				Message: fmt.Sprintf("the record shows %q (%s), and the server says: %s", rec.Details, rec.Time.UTC().Format(time.RFC3339), rec.Finding)})
		}
		if rec.Match == api.MatchUnserved {
			r.findings = append(r.findings, Finding{JournalID: rec.JournalID, SessionID: s.ID, Seq: rec.Seq, Kind: FindingUnserved,
				Message: fmt.Sprintf("the record shows %q (%s), which the server never served this session's token: a read claimed, not made from this server",
					rec.Details, rec.Time.UTC().Format(time.RFC3339))})
		}
	}
	sum := got.Summary
	if !sum.Complete {
		add(FindingUnreconciled, "the session has more events than the server sets against each other in one reply: the reads past them are unchecked")
	}
	if sum.Withheld > 0 {
		add(FindingUnreconciled, "%s naming the session %s withheld from you (visible to their uploader's organisation only) and left out of the matching",
			words.Count(sum.Withheld, "record", "records"), words.Plural(sum.Withheld, "is", "are"))
	}
	if !sum.Consistent && len(r.findings) == 0 {
		add(FindingUnreconciled, "the server says the session is not consistent, but names no difference")
	}
	if n := len(got.Refused); n > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%s the server refused this session's token no record accounts for; they disclosed nothing",
			words.Count(n, "request", "requests")))
	}
	if sum.Unrecognised > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%s whose details name nothing the server serves: not matched to a request",
			words.Count(sum.Unrecognised, "record", "records")))
	}
	if sum.Unverified > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%s the server could not check against its record of the session (unverified)",
			words.Count(sum.Unverified, "record", "records")))
	}
	return r, nil
}

// requestLine is a request event as the request line it was: method, path and query.
func requestLine(ev api.AuditEvent) string {
	line := ev.Method + " " + ev.Path
	if _, q, ok := strings.Cut(ev.Details, " ?"); ok {
		line += "?" + q
	}
	return line
}

// auditSessions sets each session against the server. problems are the sessions that
// could not be asked about, and why; a refused sign-in or certificate stops the rest.
func auditSessions(ctx context.Context, remote Remote, sessions []localSession, timeout time.Duration) (results []sessionResult, problems []string) {
	if len(sessions) == 0 {
		return nil, nil
	}
	sa, ok := remote.(sessionAuditor)
	if !ok {
		return nil, []string{fmt.Sprintf("this server client cannot fetch session audits: %s not set against what the server served",
			words.Count(len(sessions), "session", "sessions"))}
	}
	for i, s := range sessions {
		r, err := auditSession(ctx, sa, s, timeout)
		if err != nil {
			problems = append(problems, err.Error())
			if k := classify(err); k == failSignIn || k == failCertificate || ctx.Err() != nil {
				if rest := len(sessions) - i - 1; rest > 0 {
					problems = append(problems, fmt.Sprintf("%s more not set against the server", words.Count(rest, "session", "sessions")))
				}
				return results, problems
			}
			continue
		}
		results = append(results, r)
	}
	return results, problems
}

// sessionCounts says how the sessions set against the server came out.
func sessionCounts(results []sessionResult) (consistent, findings int) {
	for _, r := range results {
		if r.consistent() {
			consistent++
		}
		findings += len(r.findings)
	}
	return consistent, findings
}

func sessionFindings(results []sessionResult) int {
	_, n := sessionCounts(results)
	return n
}

// printServerSide prints a session's requests as the server saw them, each with the
// journal record that accounts for it, then the verdict and the findings.
func printServerSide(w io.Writer, r sessionResult) error {
	if r.audit != nil {
		byRequest := map[string]api.ReconciledRecord{}
		pageOf := map[string]api.ReconciledRecord{} // a later page of a paged view: its view's record
		for _, rec := range r.audit.Records {
			if rec.RequestID != "" {
				byRequest[rec.RequestID] = rec
			}
			for _, id := range rec.PageRequestIDs {
				pageOf[id] = rec
			}
		}
		fmt.Fprintf(w, "\nThe server's side of session %s: every request its token made, and the journal record accounting for it\n", safetext.Clean(r.local.ID))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIMESTAMP (UTC)\tREQUEST\tSTATUS\tJOURNALED")
		for _, ev := range r.audit.Requests {
			journaled := "no: read not journaled"
			if rec, ok := byRequest[ev.ID]; ok {
				journaled = fmt.Sprintf("journal %s seq %d (%s)", rec.JournalID, rec.Seq, rec.Match)
			} else if rec, ok := pageOf[ev.ID]; ok {
				journaled = fmt.Sprintf("journal %s seq %d (a later page of its view)", rec.JournalID, rec.Seq)
			} else if ev.Status >= 400 || ev.Status == 0 {
				journaled = "no: refused, disclosed nothing"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ev.Time.UTC().Format("2006-01-02 15:04:05"), safetext.Clean(truncate(requestLine(ev), 70)),
				ev.Status, safetext.Clean(journaled))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("journal show: %w", err)
		}
	} else {
		fmt.Fprintln(w)
	}
	r.print(w)
	return nil
}

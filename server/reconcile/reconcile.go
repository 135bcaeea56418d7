// Package reconcile sets what the server served an impersonation session's token
// against what the session's journal records say was shown, so that a client that
// hides what it read (or claims what it never read) is visible to an auditor.
//
// Both sides are reduced to subjects: what was read, in the words of the journal
// record grammar of docs/API.md ("dashboards", "dashboard d-acme-fleet",
// "permissions", "explain edit on vehicle:acme-n1"). A record that shows a subject
// accounts for one request of that subject made before it (within the clock skew
// allowed); further records of a subject already served are the client's cache at
// work; a record of a subject never served was never read from this server.
//
// A view read in pages (the permission matrix) is one record for many requests: its
// details name how many pages it comes in ("… in 11 pages …", RecordPages), and it
// accounts for its first request as any record does and, besides, for up to that many
// less one of the requests of its subject for a later page (Request.Page) made after
// that first request and before the subject's next first request.
//
// It owns the matching only: no HTTP, no storage.
package reconcile

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// RequestSubject names what a request made with an impersonation token read: route is
// its api route name, id the {id} of its path, resource and action its explain query.
// Routes no journal record describes (GET /me, a session's own state, an unknown
// path) are named by the route, which no record's subject can equal.
func RequestSubject(route, id, resource, action string) string {
	switch route {
	case api.RouteDashboards:
		return "dashboards"
	case api.RouteDashboard:
		return "dashboard " + id
	case api.RoutePermissions:
		return "permissions"
	case api.RouteExplain:
		return "explain " + action + " on " + resource
	case "":
		return "route:unknown"
	}
	return "route:" + route
}

// RecordSubject names what a journal record's details say was read, by the grammar
// of docs/API.md: details begin with the subject, then ": " and words for a person.
// "" when the details follow no rule of it.
func RecordSubject(details string) string {
	f := strings.Fields(details)
	if len(f) == 0 {
		return ""
	}
	word := func(i int) string {
		if i >= len(f) {
			return ""
		}
		return strings.TrimSuffix(f[i], ":")
	}
	switch word(0) {
	case "dashboards":
		return "dashboards"
	case "permissions":
		return "permissions"
	case "dashboard":
		if id := word(1); id != "" {
			return "dashboard " + id
		}
	case "explain":
		if action, on, resource := word(1), word(2), word(3); action != "" && on == "on" && resource != "" {
			return "explain " + action + " on " + resource
		}
	}
	return ""
}

// Request is one request the server saw with the session's token.
type Request struct {
	Time    time.Time
	Subject string
	// Served is true when the server answered with data (a status below 400; a 304
	// counts: the client showed what it held).
	Served bool
	// Page is true for a page after the first of a paged read (the request carried a
	// cursor): a paged view's record may account for it (RecordPages).
	Page bool
}

// RecordPages is how many pages a record's details say its view was read in: N from
// "in N pages", 1 when they say nothing of pages.
func RecordPages(details string) int {
	f := strings.Fields(details)
	for i := 0; i+2 < len(f); i++ {
		if f[i] != "in" || strings.TrimRight(f[i+2], ",;:.)") != "pages" {
			continue
		}
		if n, err := strconv.Atoi(f[i+1]); err == nil && n > 1 {
			return n
		}
	}
	return 1
}

// Record is one journal record naming the session.
type Record struct {
	Time    time.Time
	Action  string
	Details string
}

// Outcome is the matching: for each record its api.Match* value and the request it
// accounts for (-1 for none), and for each request the record accounting for it.
type Outcome struct {
	Match   []string
	Request []int // per record
	Record  []int // per request: the record accounting for it, -1 for none
}

// claimPages lets each paged view's record (RecordPages > 1) that accounts for a first
// request account, besides, for the served later-page requests of its subject that
// follow that request, up to the next first request of the subject (the next view's):
// at most its pages less one. Request times alone order them, all on the server's
// clock. record[q] is set for each request claimed.
func claimPages(reqs []Request, recs []Record, request, record []int) {
	owner := map[int]int{} // first request -> the paged record accounting for it
	for r, q := range request {
		if q >= 0 && RecordPages(recs[r].Details) > 1 {
			owner[q] = r
		}
	}
	if len(owner) == 0 {
		return
	}
	bySubject := map[string][]int{}
	for i, q := range reqs {
		if q.Served {
			bySubject[q.Subject] = append(bySubject[q.Subject], i)
		}
	}
	for _, list := range bySubject {
		sort.SliceStable(list, func(a, b int) bool { return reqs[list[a]].Time.Before(reqs[list[b]].Time) })
		rec, left := -1, 0
		for _, q := range list {
			if !reqs[q].Page {
				rec, left = -1, 0
				if r, ok := owner[q]; ok {
					rec, left = r, RecordPages(recs[r].Details)-1
				}
				continue
			}
			if rec >= 0 && left > 0 && record[q] < 0 {
				record[q] = rec
				left--
			}
		}
	}
}

// Match sets records against requests. skew is how much earlier than its request a
// record's time may be (the client's clock against the server's).
func Match(reqs []Request, recs []Record, skew time.Duration) Outcome {
	out := Outcome{Match: make([]string, len(recs)), Request: make([]int, len(recs)), Record: make([]int, len(reqs))}
	for i := range out.Record {
		out.Record[i] = -1
	}
	type item struct {
		at  time.Time
		i   int
		req bool
	}
	bySubject := map[string][]item{}
	failedBySubject := map[string][]item{}
	for i, q := range reqs {
		if q.Page && q.Served {
			continue // a later page of a paged read: its view's record may claim it (claimPages)
		}
		it := item{at: q.Time, i: i, req: true}
		if q.Served {
			bySubject[q.Subject] = append(bySubject[q.Subject], it)
		} else {
			failedBySubject[q.Subject] = append(failedBySubject[q.Subject], it)
		}
	}
	for i, r := range recs {
		out.Request[i] = -1
		subject := RecordSubject(r.Details)
		switch {
		case strings.HasPrefix(r.Action, "session."):
			out.Match[i] = api.MatchLifecycle
		case r.Action == api.ActionError:
			out.Match[i] = api.MatchFailed
			if subject != "" {
				failedBySubject[subject] = append(failedBySubject[subject], item{at: r.Time, i: i})
			}
		case (r.Action == api.ActionView || r.Action == api.ActionExplain) && subject != "":
			bySubject[subject] = append(bySubject[subject], item{at: r.Time, i: i})
		case r.Action == api.ActionView || r.Action == api.ActionExplain:
			out.Match[i] = api.MatchUnrecognised
		default:
			out.Match[i] = api.MatchLifecycle // journal notices and the like: not reads
		}
	}
	// Walk each subject in time order; each record takes the latest request before it
	// not yet accounted for. First by the times as stamped, then, for what is left,
	// placing each record skew later than stamped (the client's clock may be behind).
	walk := func(items []item, shift time.Duration, onRecord func(rec int, open []int, servedBefore bool) []int) {
		key := func(it item) time.Time {
			if it.req {
				return it.at
			}
			return it.at.Add(shift)
		}
		items = slices.Clone(items)
		sort.SliceStable(items, func(a, b int) bool {
			ka, kb := key(items[a]), key(items[b])
			if ka.Equal(kb) {
				return items[a].req && !items[b].req // a request first: a record may follow it at once
			}
			return ka.Before(kb)
		})
		var open []int
		served := false
		for _, it := range items {
			if it.req {
				served = true
				if out.Record[it.i] < 0 {
					open = append(open, it.i)
				}
				continue
			}
			if out.Request[it.i] < 0 {
				open = onRecord(it.i, open, served)
			}
		}
	}
	take := func(match string) func(rec int, open []int, _ bool) []int {
		return func(rec int, open []int, _ bool) []int {
			if len(open) == 0 {
				return open
			}
			q := open[len(open)-1]
			out.Match[rec], out.Request[rec], out.Record[q] = match, q, rec
			return open[:len(open)-1]
		}
	}
	for _, items := range bySubject {
		walk(items, 0, take(api.MatchServed))
		walk(items, skew, func(rec int, open []int, servedBefore bool) []int {
			switch {
			case len(open) > 0:
				return take(api.MatchServed)(rec, open, true)
			case servedBefore:
				out.Match[rec] = api.MatchCached
			default:
				out.Match[rec] = api.MatchUnserved
			}
			return open
		})
	}
	claimPages(reqs, recs, out.Request, out.Record)
	// A record of a failed read accounts for a refused request, or for a served one no
	// read accounts for (the reply came, but the client could not use it).
	for i, q := range reqs {
		if q.Served && out.Record[i] < 0 {
			failedBySubject[q.Subject] = append(failedBySubject[q.Subject], item{at: q.Time, i: i, req: true})
		}
	}
	for _, items := range failedBySubject {
		walk(items, 0, take(api.MatchFailed))
		walk(items, skew, take(api.MatchFailed))
	}
	return out
}

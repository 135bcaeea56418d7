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
// A view read in pages (the permission matrix) is one record for many requests. Which
// requests are its pages is the server's word, not the record's: the server binds each
// page to its view (Request.Page, from the signed cursor it issued). The record that
// accounts for a view's first request accounts, besides, for that view's later pages,
// each page index once and each page starting where the pages before it ended (so no
// row is read twice under the one record), up to the end of the matrix as served. The
// page count the record's details name (api.MatrixViewPages) is only a cross-check: a
// count the server's pages belie is a finding (Outcome.Finding).
//
// It owns the matching only: no HTTP, no storage.
package reconcile

import (
	"fmt"
	"slices"
	"sort"
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
	// Page, for a page of a paged matrix read, is the view and the page the server
	// served; nil for any other request (and for requests logged before pages were).
	Page *Page
}

// Page is one page of a paged view as the server served it.
type Page struct {
	View  string
	Index int // 0 for the first page
	From  int // rows of the view served before it
	Rows  int // rows it served
	Total int // the matrix's rows when it was served
	Last  bool
}

// laterPage reports whether q is a served page after the first of a paged view: the
// view's record may account for it (claimPages), no record of its own.
func laterPage(q Request) bool { return q.Served && q.Page != nil && q.Page.Index > 0 }

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
	// Finding, per record, is "" or words for what the server's log belies in it: a
	// page count other than the pages the server served its view in.
	Finding []string
}

// claimPages lets the record accounting for a paged view's first request account,
// besides, for the later pages of that view (Request.Page.View): in time order, each
// page index once, each page beginning where the pages accounted before it ended and
// before the end of the matrix as served; any other later page (a repeat, a page read
// again from an older cursor, past the end) stays unaccounted. It then sets the
// record's page count (api.MatrixViewPages) against the pages accounted.
func claimPages(reqs []Request, recs []Record, out *Outcome) {
	type view struct {
		first int   // the first page's request
		later []int // its later pages, in time order
	}
	views := map[string]*view{}
	get := func(id string) *view {
		v := views[id]
		if v == nil {
			v = &view{first: -1}
			views[id] = v
		}
		return v
	}
	for i, q := range reqs {
		switch {
		case q.Page == nil || !q.Served:
		case q.Page.Index == 0:
			get(q.Page.View).first = i
		default:
			get(q.Page.View).later = append(get(q.Page.View).later, i)
		}
	}
	for _, v := range views {
		if v.first < 0 || out.Record[v.first] < 0 {
			continue // a view whose first page no record names: its pages are unjournaled
		}
		rec := out.Record[v.first]
		sort.SliceStable(v.later, func(a, b int) bool { return reqs[v.later[a]].Time.Before(reqs[v.later[b]].Time) })
		p0 := reqs[v.first].Page
		end, pages, last := p0.Rows, 1, p0.Last
		seen := map[int]bool{0: true}
		for _, q := range v.later {
			p := reqs[q].Page
			if seen[p.Index] || p.From != end || p.From >= p.Total || out.Record[q] >= 0 {
				continue
			}
			seen[p.Index] = true
			out.Record[q] = rec
			end, pages, last = end+p.Rows, pages+1, p.Last
		}
		said := api.MatrixViewPages(recs[rec].Details)
		switch {
		case last && pages != said:
			out.Finding[rec] = fmt.Sprintf("says %d pages; the server served this view whole in %d", said, pages)
		case pages > said:
			out.Finding[rec] = fmt.Sprintf("says %d pages; the server served %d pages of this view", said, pages)
		}
	}
	// A record naming pages whose request was no paged read: its count is its word alone.
	for r, q := range out.Request {
		if said := api.MatrixViewPages(recs[r].Details); q >= 0 && said > 1 && reqs[q].Page == nil && out.Finding[r] == "" {
			out.Finding[r] = fmt.Sprintf("says %d pages; the server served this view whole in one reply", said)
		}
	}
}

// Match sets records against requests. skew is how much earlier than its request a
// record's time may be (the client's clock against the server's).
func Match(reqs []Request, recs []Record, skew time.Duration) Outcome {
	out := Outcome{Match: make([]string, len(recs)), Request: make([]int, len(recs)), Record: make([]int, len(reqs)),
		Finding: make([]string, len(recs))}
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
		if laterPage(q) {
			continue // a later page of a paged view: its view's record may claim it (claimPages)
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
	claimPages(reqs, recs, &out)
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

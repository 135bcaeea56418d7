package reconcile

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

var t0 = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// The subjects of what the shadow client writes (ui/requests.go) and of the requests
// behind them are the same words.
func TestSubjectsAgree(t *testing.T) {
	for _, c := range []struct{ details, request string }{
		{"dashboards: the list (7)", RequestSubject(api.RouteDashboards, "", "", "")},
		{"dashboards: the list: not found: …", RequestSubject(api.RouteDashboards, "", "", "")},
		{"dashboard d-acme-fleet: Fleet overview", RequestSubject(api.RouteDashboard, "d-acme-fleet", "", "")},
		{"dashboard d-x: not found: no dashboard \"d-x\"", RequestSubject(api.RouteDashboard, "d-x", "", "")},
		{"permissions: 55 resources × 6 actions", RequestSubject(api.RoutePermissions, "", "", "")},
		{"explain edit on vehicle:acme-n1 (Truck N1): deny", RequestSubject(api.RouteExplain, "", "vehicle:acme-n1", "edit")},
		{"explain edit on vehicle:acme-n1: the server failed", RequestSubject(api.RouteExplain, "", "vehicle:acme-n1", "edit")},
	} {
		if got := RecordSubject(c.details); got != c.request || got == "" {
			t.Errorf("%q: record subject %q, request subject %q", c.details, got, c.request)
		}
	}
	for _, details := range []string{"", "left unsynced", "dashboard", "explain edit vehicle:x", "me"} {
		if got := RecordSubject(details); got != "" {
			t.Errorf("%q names %q", details, got)
		}
	}
	if RequestSubject(api.RouteMe, "", "", "") == RecordSubject("me") || RequestSubject("", "", "", "") == "" {
		t.Error("a route no record describes must have a subject no record has")
	}
}

func TestMatch(t *testing.T) {
	d := func(id string) string { return "dashboard " + id }
	reqs := []Request{
		{at(0), "dashboards", true, false},            // 0: journaled by record 1
		{at(1), d("a"), true, false},                  // 1: journaled by record 2
		{at(30), d("a"), true, false},                 // 2: revalidated (304), journaled by record 4
		{at(40), d("hidden"), true, false},            // 3: never journaled
		{at(50), d("gone"), false, false},             // 4: refused, journaled as a failure (record 6)
		{at(60), "route:" + api.RouteMe, true, false}, // 5: nothing journals /me
		{at(70), d("late"), true, false},              // 6: its record's clock runs 60 s behind (record 7)
		{at(80), d("broken"), true, false},            // 7: served, but the client could not use it (record 8)
		{at(90), "route:unknown", false, false},       // 8: refused, unjournaled
	}
	recs := []Record{
		{at(-5), api.ActionSessionStart, "read-only until …"},       // 0
		{at(0), api.ActionView, "dashboards: the list (3)"},         // 1
		{at(2), api.ActionView, "dashboard a: A"},                   // 2
		{at(10), api.ActionView, "dashboard a: A"},                  // 3: from the client's cache
		{at(31), api.ActionView, "dashboard a: A"},                  // 4
		{at(45), api.ActionView, "dashboard never: N"},              // 5: never served
		{at(51), api.ActionError, "dashboard gone: not found"},      // 6
		{at(10), api.ActionView, "dashboard late: L"},               // 7: 60 s behind, within 2 min of skew
		{at(81), api.ActionError, "dashboard broken: malformed"},    // 8
		{at(85), api.ActionView, "left unsynced"},                   // 9
		{at(99), api.ActionSessionEnd, "ended by the admin"},        // 10
		{at(99), api.ActionJournalRecovered, "journal x set aside"}, // 11
	}
	out := Match(reqs, recs, 2*time.Minute)
	want := []string{api.MatchLifecycle, api.MatchServed, api.MatchServed, api.MatchCached, api.MatchServed, api.MatchUnserved,
		api.MatchFailed, api.MatchServed, api.MatchFailed, api.MatchUnrecognised, api.MatchLifecycle, api.MatchLifecycle}
	wantReq := []int{-1, 0, 1, -1, 2, -1, 4, 6, 7, -1, -1, -1}
	wantRec := []int{1, 2, 4, -1, 6, -1, 7, 8, -1}
	if fmt.Sprint(out.Match) != fmt.Sprint(want) || fmt.Sprint(out.Request) != fmt.Sprint(wantReq) || fmt.Sprint(out.Record) != fmt.Sprint(wantRec) {
		t.Fatalf("match %v\nwant  %v\nrequest %v, want %v\nrecord %v, want %v", out.Match, want, out.Request, wantReq, out.Record, wantRec)
	}
	// The hidden read is the one flagged, not the earlier journaled one.
	reqs = []Request{{at(0), d("x"), true, false}, {at(600), d("x"), true, false}}
	recs = []Record{{at(601), api.ActionView, "dashboard x: X"}}
	if out := Match(reqs, recs, 2*time.Minute); out.Request[0] != 1 || out.Record[0] != -1 {
		t.Fatalf("the record was given to the wrong request: %+v", out)
	}
	// Beyond the skew, a record before its request is not accounted by it.
	reqs = []Request{{at(600), d("x"), true, false}}
	recs = []Record{{at(0), api.ActionView, "dashboard x: X"}}
	if out := Match(reqs, recs, 2*time.Minute); out.Match[0] != api.MatchUnserved || out.Record[0] != -1 {
		t.Fatalf("a record 10 min before its request: %+v", out)
	}
}

func BenchmarkMatch(b *testing.B) {
	var reqs []Request
	var recs []Record
	for i := range 5000 {
		s := fmt.Sprintf("dashboard d-%d", i%40)
		reqs = append(reqs, Request{at(i), s, true, false})
		recs = append(recs, Record{at(i), api.ActionView, s + ": x"}, Record{at(i), api.ActionView, s + ": cached"})
	}
	for b.Loop() {
		Match(reqs, recs, time.Minute)
	}
}

// A view read in pages is one record for its requests: it accounts for its first
// request and for as many later pages (requests with a cursor) as it says, less one,
// that follow that request; a page beyond that count or after the next view's first
// request is not its own, a page no paged record names is a read never journaled, and
// a refused page is the failure record's.
func TestPagedViewAccountsForItsPages(t *testing.T) {
	const s = "permissions"
	page := func(sec int) Request { return Request{Time: at(sec), Subject: s, Served: true, Page: true} }
	reqs := []Request{
		{Time: at(0), Subject: s, Served: true}, // 0: the first page, taken by record 0 as any read
		page(1), page(2),                        // 1, 2: its later pages
		page(3),                                  // 3: one page more than record 0 says: unjournaled
		{Time: at(20), Subject: s, Served: true}, // 4: the next view's first page (record 1)
		page(22),                                 // 5: its one later page
		page(40),                                 // 6: no paged record is left to name it
		{Time: at(41), Subject: s, Page: true},   // 7: refused; record 2 says so
	}
	recs := []Record{
		{Time: at(0), Action: api.ActionView, Details: "permissions: 9000 resources × 6 actions in 3 pages (100 rows shown first, then up to 5000 a page)"},
		{Time: at(21), Action: api.ActionView, Details: "permissions: 5100 resources × 6 actions in 2 pages (100 rows shown first, then up to 5000 a page)"},
		{Time: at(42), Action: api.ActionError, Details: "permissions: rows 101–5100 of 5100 did not load: the server is down"},
	}
	out := Match(reqs, recs, 2*time.Minute)
	wantRec := []int{0, 0, 0, -1, 1, 1, -1, 2}
	if !reflect.DeepEqual(out.Record, wantRec) || !reflect.DeepEqual(out.Request, []int{0, 4, 7}) ||
		!reflect.DeepEqual(out.Match, []string{api.MatchServed, api.MatchServed, api.MatchFailed}) {
		t.Fatalf("record per request %v, want %v; request per record %v; match %v", out.Record, wantRec, out.Request, out.Match)
	}
	for details, want := range map[string]int{recs[0].Details: 3, "permissions: 55 resources × 6 actions": 1,
		"dashboard in 0 pages": 1, "in 12 pages,": 12, "in x pages": 1} {
		if got := RecordPages(details); got != want {
			t.Errorf("RecordPages(%q) = %d, want %d", details, got, want)
		}
	}
}

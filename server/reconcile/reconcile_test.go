package reconcile

import (
	"fmt"
	"reflect"
	"strings"
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
		{at(0), "dashboards", true, nil},            // 0: journaled by record 1
		{at(1), d("a"), true, nil},                  // 1: journaled by record 2
		{at(30), d("a"), true, nil},                 // 2: revalidated (304), journaled by record 4
		{at(40), d("hidden"), true, nil},            // 3: never journaled
		{at(50), d("gone"), false, nil},             // 4: refused, journaled as a failure (record 6)
		{at(60), "route:" + api.RouteMe, true, nil}, // 5: nothing journals /me
		{at(70), d("late"), true, nil},              // 6: its record's clock runs 60 s behind (record 7)
		{at(80), d("broken"), true, nil},            // 7: served, but the client could not use it (record 8)
		{at(90), "route:unknown", false, nil},       // 8: refused, unjournaled
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
	reqs = []Request{{at(0), d("x"), true, nil}, {at(600), d("x"), true, nil}}
	recs = []Record{{at(601), api.ActionView, "dashboard x: X"}}
	if out := Match(reqs, recs, 2*time.Minute); out.Request[0] != 1 || out.Record[0] != -1 {
		t.Fatalf("the record was given to the wrong request: %+v", out)
	}
	// Beyond the skew, a record before its request is not accounted by it.
	reqs = []Request{{at(600), d("x"), true, nil}}
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
		reqs = append(reqs, Request{at(i), s, true, nil})
		recs = append(recs, Record{at(i), api.ActionView, s + ": x"}, Record{at(i), api.ActionView, s + ": cached"})
	}
	for b.Loop() {
		Match(reqs, recs, time.Minute)
	}
}

// A view read in pages is one record for its requests, and which requests are its
// pages is the server's word: the record accounting for a view's first page accounts
// for that view's later pages (even ones the server logged after another view began: a
// reload, a compare), each page index once, each starting where the pages before it
// ended, never past the matrix's end; a repeat, a page read again from an older cursor,
// a page of a view no record names stay unjournaled; a refused page is the failure
// record's; the count the record names is a cross-check, a mismatch a finding.
func TestAPagedRecordAccountsForItsOwnViewsPagesOnly(t *testing.T) {
	const s = "permissions"
	pg := func(sec int, view string, index, from, rows, total int, last bool) Request {
		return Request{Time: at(sec), Subject: s, Served: true, Page: &Page{View: view, Index: index, From: from, Rows: rows, Total: total, Last: last}}
	}
	reqs := []Request{
		pg(0, "A", 0, 0, 100, 9000, false),       // 0: view A's first page (record 0)
		pg(1, "A", 1, 100, 5000, 9000, false),    // 1: its second
		pg(10, "B", 0, 0, 100, 5100, false),      // 2: view B's first page (record 1): r while A's page 3 is on its way
		pg(11, "A", 2, 5100, 3900, 9000, true),   // 3: A's last page, logged after B began: A's still
		pg(12, "B", 1, 100, 5000, 5100, true),    // 4: B's last page
		pg(13, "A", 1, 100, 5000, 9000, false),   // 5: A's page 1 again: a repeat, unjournaled
		pg(14, "A", 3, 300, 1, 9000, false),      // 6: a page from a fork (read again, smaller): unjournaled
		{Time: at(15), Subject: s, Served: true}, // 7: the whole matrix (a compare; record 2)
		pg(16, "C", 1, 100, 100, 300, false),     // 8: a page of a view whose first page no record names
		{Time: at(20), Subject: s},               // 9: a refused page; record 3 says so
		pg(30, "D", 0, 0, 20, 45, false),         // 10: view D (record 4 says 1000 pages)
		pg(31, "D", 1, 20, 20, 45, false),        // 11
		pg(32, "D", 2, 40, 5, 45, true),          // 12
		pg(33, "D", 2, 40, 5, 45, true),          // 13: the last page again: unjournaled
	}
	recs := []Record{
		{Time: at(0), Action: api.ActionView, Details: api.MatrixViewDetails(9000, 6, 3, 100, 5000)},
		{Time: at(10), Action: api.ActionView, Details: api.MatrixViewDetails(5100, 6, 2, 100, 5000)},
		{Time: at(15), Action: api.ActionView, Details: "permissions: 9000 resources × 6 actions, for the compare"},
		{Time: at(21), Action: api.ActionError, Details: "permissions: rows 101–5100 of 5100 did not load: the server is down"},
		{Time: at(30), Action: api.ActionView, Details: "permissions: 45 resources × 6 actions in 1000 pages (20 rows shown first, then up to 20 a page)"},
	}
	out := Match(reqs, recs, 2*time.Minute)
	wantRec := []int{0, 0, 1, 0, 1, -1, -1, 2, -1, 3, 4, 4, 4, -1}
	if !reflect.DeepEqual(out.Record, wantRec) || !reflect.DeepEqual(out.Request, []int{0, 2, 7, 9, 10}) {
		t.Fatalf("record per request %v\nwant               %v\nrequest per record %v; match %v", out.Record, wantRec, out.Request, out.Match)
	}
	wantFinding := []bool{false, false, false, false, true}
	for i, f := range out.Finding {
		if (f != "") != wantFinding[i] {
			t.Errorf("record %d (%q): finding %q", i, recs[i].Details, f)
		}
	}
	if f := out.Finding[4]; !strings.Contains(f, "1000 pages") || !strings.Contains(f, "in 3") {
		t.Errorf("the over-claim's finding does not say both counts: %q", f)
	}
	// A record naming pages of a request that was served whole: a finding, and no page
	// is its: a request with a cursor but no page of the server's (an old data dir's) is
	// a plain request.
	reqs = []Request{{Time: at(0), Subject: s, Served: true}, {Time: at(1), Subject: s, Served: true}}
	recs = []Record{{Time: at(0), Action: api.ActionView, Details: api.MatrixViewDetails(55, 6, 2, 20, 5000)}}
	if out := Match(reqs, recs, 2*time.Minute); out.Finding[0] == "" || out.Record[1] != -1 {
		t.Errorf("a page count on a whole read: finding %q, record per request %v", out.Finding[0], out.Record)
	}
}

package transparency

import (
	"errors"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

var t0 = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func sess(id, user, company string, startMin int) Session {
	s := api.Session{ID: id, User: api.UserRef{ID: user}, StartedAt: t0.Add(time.Duration(startMin) * time.Minute),
		ExpiresAt: t0.Add(time.Duration(startMin+30) * time.Minute), State: api.SessionActive}
	return Session{Session: s, CompanyID: company}
}

func TestPageShowsEachCallerTheirOwn(t *testing.T) {
	all := []Session{sess("a", "nora", "acme", 0), sess("b", "tomas", "acme", 1), sess("c", "olga", "orbit", 2), sess("d", "nora", "acme", 3)}
	ids := func(ss []Session) (out []string) {
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	nora := Caller{ID: "nora", CompanyID: "acme"}
	got, next, err := Page(nora, all, "", "", 10)
	if err != nil || next != "" || len(got) != 2 || got[0].ID != "d" || got[1].ID != "a" {
		t.Errorf("nora: %v %q %v", ids(got), next, err)
	}
	if _, _, err := Page(nora, all, "tomas", "", 10); !errors.Is(err, ErrNotYours) {
		t.Errorf("nora asking about tomas: %v", err)
	}
	admin := Caller{ID: "ada", CompanyID: "acme", Admin: true}
	first, next, _ := Page(admin, all, "", "", 2)
	rest, last, _ := Page(admin, all, "", next, 2)
	if len(first) != 2 || next == "" || len(rest) != 1 || last != "" || first[0].ID != "d" || first[1].ID != "b" || rest[0].ID != "a" {
		t.Errorf("admin pages: %v %q %v %q", ids(first), next, ids(rest), last)
	}
	if only, _, _ := Page(admin, all, "tomas", "", 10); len(only) != 1 || only[0].ID != "b" {
		t.Errorf("admin ?user=tomas: %v", ids(only))
	}
	for _, bad := range []string{"x", "t", "tzz", "t1", "t!.a"} {
		if _, _, err := Page(admin, all, "", bad, 10); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

func TestSummariseCountsReadsAndRefusals(t *testing.T) {
	s := sess("a", "nora", "acme", 0)
	ended := t0.Add(90 * time.Second)
	s.EndedAt, s.State = &ended, api.SessionEnded
	ev := func(method, path string, status int, sec int, sid string) api.AuditEvent {
		return api.AuditEvent{Kind: api.EventRequest, SessionID: sid, Method: method, Path: path, Status: status, Time: t0.Add(time.Duration(sec) * time.Second)}
	}
	got := Summarise(s, Impersonator{Kind: api.KindStaff, Organisation: "support"}, []api.AuditEvent{
		ev("GET", "/api/v1/dashboards/d1", 200, 1, "a"),
		ev("GET", "/api/v1/me", 200, 2, "a"),
		ev("GET", "/api/v1/dashboards/d1", 304, 3, "a"),
		ev("PATCH", "/api/v1/me", 403, 4, "a"),
		ev("OPTIONS", "/api/v1/me", 204, 5, "a"),
		ev("GET", "/api/v1/dashboards/d2", 404, 6, "a"),
		ev("GET", "/api/v1/me", 200, 7, "other-session"),
		{Kind: api.EventSessionStart, SessionID: "a"},
	}, t0.Add(time.Hour), func(route, path string) string { return route + "@" + path })
	if got.DurationSeconds != 90 || got.Refused != 3 || len(got.Viewed) != 2 {
		t.Fatalf("%+v", got)
	}
	v := got.Viewed[0]
	if v.Route != api.RouteDashboard || v.Count != 2 || !v.First.Equal(t0.Add(time.Second)) || !v.Last.Equal(t0.Add(3*time.Second)) || v.What != "dashboards.get@/api/v1/dashboards/d1" {
		t.Errorf("first viewed: %+v", v)
	}
	if got.Viewed[1].Route != api.RouteMe || got.Viewed[1].Count != 1 {
		t.Errorf("second viewed: %+v", got.Viewed[1])
	}
	active := sess("b", "nora", "acme", 0)
	if d := Summarise(active, Impersonator{}, nil, t0.Add(10*time.Minute), nil).DurationSeconds; d != 600 {
		t.Errorf("an active session has lasted %d s, want 600", d)
	}
	if d := Summarise(active, Impersonator{}, nil, t0.Add(2*time.Hour), nil).DurationSeconds; d != 1800 {
		t.Errorf("a session past its expiry lasted %d s, want 1800 (to its expiry)", d)
	}
}

func TestRouteOf(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/dashboards": api.RouteDashboards, "/api/v1/dashboards/x": api.RouteDashboard,
		"/api/v1/impersonation/sessions/s": api.RouteGetSession, "/api/v1/dashboards/": "", "/nope": "",
	} {
		if got := RouteOf(path); got != want {
			t.Errorf("RouteOf(%q) = %q, want %q", path, got, want)
		}
	}
}

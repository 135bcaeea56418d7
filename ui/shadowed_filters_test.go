package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

// TestWhoShadowedFiltersAgainstTheServer: three sessions on Acme's users by two support
// staff — Sam on the technician three days ago, Alex on Nora an hour ago, Sam on Nora
// just now — and Acme's admin narrows the list by who, whom and when; the server's own
// record, every page read (a page of one session, so the filters must read them all).
func TestWhoShadowedFiltersAgainstTheServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	ctx := context.Background()
	shadow := func(staff, email, why string) {
		t.Helper()
		c := e.staff(t, staff)
		users, err := c.Users(ctx, client.UsersQuery{Query: email})
		if err != nil || len(users.Users) != 1 {
			t.Fatalf("%v %+v", err, users)
		}
		v, s, err := c.StartSession(ctx, users.Users[0].ID, why)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Dashboards(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.EndSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	shadow(server.DemoSupportEmail, server.DemoTechnicianEmail, "TICKET-A jobs missing")
	e.clock.Advance(71 * time.Hour)
	shadow(server.DemoAgentEmail, server.DemoFleetManagerEmail, "TICKET-B fuel report")
	e.clock.Advance(time.Hour)
	shadow(server.DemoSupportEmail, server.DemoFleetManagerEmail, "TICKET-C fleet totals")

	opts := e.options(colorprofile.ASCII)
	opts.Credentials = &Credentials{Email: server.DemoCompanyAdminEmail, Password: server.DemoSupportPassword}
	m := New(opts)
	m.shadowed.PageSize = 1
	d := newDriver(t, m, 120, 40)
	d.press("w")
	has := func(what string, want []string, not ...string) {
		t.Helper()
		v := d.view()
		for _, w := range want {
			if !strings.Contains(v, w) {
				t.Fatalf("%s: %q missing:\n%s", what, w, v)
			}
		}
		for _, w := range not {
			if strings.Contains(v, w) {
				t.Fatalf("%s: %q shown:\n%s", what, w, v)
			}
		}
	}
	has("unfiltered", []string{"row 1 of 1+ session", "TICKET-C"})

	d.press("a") // Sam, on the newest
	has("by Sam", []string{"Filter: by Sam Rivera", "row 1 of 2 sessions", "TICKET-C", "TICKET-A"}, "TICKET-B", "so far")
	d.press("t") // the last 24 h
	has("by Sam, 24 h", []string{"started last 24 h", "row 1 of 1 session", "TICKET-C"}, "TICKET-A", "TICKET-B")
	d.press("a") // any admin, the last 24 h
	has("24 h", []string{"row 1 of 2 sessions", "TICKET-C", "TICKET-B"}, "TICKET-A")
	d.press("x", "u") // on Nora, asked of the server
	has("on Nora", []string{"Filter: on Nora Lindqvist", "row 1 of 1+ session", "TICKET-C"}, "TICKET-A", "TICKET-B")
	d.press("m") // the server's pages of Nora's sessions, one at a time
	has("on Nora, all", []string{"row 1 of 2 sessions", "TICKET-C", "TICKET-B"}, "TICKET-A")
	d.press("down", "a") // Alex's sessions on Nora
	has("by Alex on Nora", []string{"Filter: by Alex Kim · on Nora Lindqvist", "row 1 of 1 session", "TICKET-B"}, "TICKET-C")
	d.press("t", "t", "t") // … in the last 24 h, 7 days, then 30: still his one
	has("by Alex on Nora, 30 days", []string{"started last 30 days", "row 1 of 1 session"})
	d.press("x", "t", "a", "u", "t", "t", "t") // then Sam on Nora, at any time
	has("by Sam on Nora", []string{"Filter: by Sam Rivera · on Nora Lindqvist", "row 1 of 1 session", "TICKET-C"}, "TICKET-B", "TICKET-A")
}

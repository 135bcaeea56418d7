package server

// A paged read of the permission matrix against the reconciliation, through the real
// handler: which requests a view's record accounts for is the server's word (the
// signed cursor binds each page to its view), never the record's "in N pages".

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

type pagingEnv struct {
	*env
	support, imp string
	start        api.StartSessionResponse
}

func newPagingEnv(t *testing.T, opts ...func(*Options)) *pagingEnv {
	e := newEnv(t, opts...)
	support := e.login(DemoSupportEmail)
	start := e.impersonate(support, DemoFleetManagerEmail)
	return &pagingEnv{env: e, support: support, imp: start.Token, start: start}
}

// get reads path as the impersonated user, one server-clock second after the last.
func (p *pagingEnv) get(path string) api.PermissionMatrix {
	p.t.Helper()
	p.clock.Advance(time.Second)
	var m api.PermissionMatrix
	p.do("GET", path, p.imp, nil).decode(p.t, 200, &m)
	return m
}

// page reads the page after cursor c at limit n.
func (p *pagingEnv) page(n int, c string) api.PermissionMatrix {
	p.t.Helper()
	return p.get("/api/v1/permissions?limit=" + strconv.Itoa(n) + "&cursor=" + url.QueryEscape(c))
}

// journal uploads one view record per details, at the session start plus at[i] seconds,
// and reads the session's reconciliation.
func (p *pagingEnv) journal(jid string, at []int, details ...string) api.SessionAudit {
	p.t.Helper()
	s := p.start.Session
	bodies := []api.RecordBody{{Action: api.ActionSessionStart, Time: s.StartedAt, SessionID: s.ID, Actor: s.Impersonator, User: &s.User, Details: "read-only"}}
	for i, d := range details {
		bodies = append(bodies, api.RecordBody{Action: api.ActionView, Time: s.StartedAt.Add(time.Duration(at[i]) * time.Second),
			SessionID: s.ID, Actor: s.Impersonator, User: &s.User, Details: d})
	}
	p.do("PUT", journalPath(jid), p.support, api.PutRecordsRequest{Records: records(p.t, jid, 1, api.ZeroHash, bodies...)}).decode(p.t, 200, nil)
	var sa api.SessionAudit
	p.do("GET", "/api/v1/audit/sessions/"+s.ID, p.support, nil).decode(p.t, 200, &sa)
	return sa
}

// walk reads a whole view at limit n: its first page, then each later page.
func (p *pagingEnv) walk(n int) (first api.PermissionMatrix, cursors []string) {
	first = p.get("/api/v1/permissions?limit=" + strconv.Itoa(n))
	for c := first.NextCursor; c != ""; {
		cursors = append(cursors, c)
		c = p.page(n, c).NextCursor
	}
	return first, cursors
}

// One record claiming "in 1000 pages" accounts for its view's pages, each once: the
// same later pages read again 30 times, and the matrix read again one row a request
// from the view's own cursor, are unjournaled, and the claim itself is a finding.
func TestAPagedClaimCoversOnlyItsOwnPages(t *testing.T) {
	p := newPagingEnv(t)
	first, cursors := p.walk(20)
	extra := 0
	for range 30 {
		for _, c := range cursors {
			p.page(20, c)
			extra++
		}
	}
	for c := first.NextCursor; c != ""; extra++ {
		c = p.page(1, c).NextCursor
	}
	sa := p.journal("overclaim.journal", []int{1}, api.MatrixViewDetails(first.TotalRows, len(first.Actions), 1000, 20, 20))
	if sa.Summary.Consistent || sa.Summary.Unjournaled != extra {
		t.Errorf("%d page requests beyond the %d pages of the view: unjournaled %d, consistent %v",
			extra, 1+len(cursors), sa.Summary.Unjournaled, sa.Summary.Consistent)
	}
	if sa.Summary.Findings != 1 || !strings.Contains(sa.Records[1].Finding, "1000 pages") {
		t.Errorf("the page count is not set against the server's: findings %d, %q", sa.Summary.Findings, sa.Records[1].Finding)
	}
	// The honest record of the same view: its pages, and nothing else.
	p2 := newPagingEnv(t)
	first, cursors = p2.walk(20)
	sa = p2.journal("honest.journal", []int{1}, api.MatrixViewDetails(first.TotalRows, len(first.Actions), 1+len(cursors), 20, 20))
	if !sa.Summary.Consistent || sa.Summary.Findings != 0 {
		t.Errorf("an honest paged view does not reconcile: %+v %+v", sa.Summary, sa.Unjournaled)
	}
}

// ?cursor= on another route is no page, and "in N pages" in another record's details
// is no page count: repeated dashboard and explain reads stay unjournaled.
func TestACursorOnAnotherRouteIsNoPage(t *testing.T) {
	p := newPagingEnv(t)
	p.clock.Advance(time.Second)
	p.do("GET", "/api/v1/dashboards/d-acme-fleet", p.imp, nil).decode(t, 200, nil)
	p.do("GET", "/api/v1/permissions/explain?resource=vehicle:acme-n1&action=edit", p.imp, nil).decode(t, 200, nil)
	for range 20 {
		p.clock.Advance(time.Second)
		p.do("GET", "/api/v1/dashboards/d-acme-fleet?cursor=x", p.imp, nil).decode(t, 200, nil)
		p.do("GET", "/api/v1/permissions/explain?resource=vehicle:acme-n1&action=edit&cursor=x", p.imp, nil).decode(t, 200, nil)
	}
	sa := p.journal("cross.journal", []int{1, 1}, "dashboard d-acme-fleet: Fleet overview in 99 pages",
		"explain edit on vehicle:acme-n1 (Truck N1) in 99 pages: allow")
	if sa.Summary.Unjournaled != 40 || sa.Summary.Consistent {
		t.Errorf("40 repeated reads carrying ?cursor=: unjournaled %d, consistent %v", sa.Summary.Unjournaled, sa.Summary.Consistent)
	}
}

// A paged matrix record never covers another subject's requests.
func TestAPagedClaimStaysInItsSubject(t *testing.T) {
	p := newPagingEnv(t)
	p.get("/api/v1/permissions?limit=20")
	for range 5 {
		p.clock.Advance(time.Second)
		p.do("GET", "/api/v1/dashboards/d-acme-fleet?cursor=x", p.imp, nil).decode(t, 200, nil)
		p.do("GET", "/api/v1/permissions/explain?resource=vehicle:acme-n1&action=edit&cursor=x", p.imp, nil).decode(t, 200, nil)
	}
	sa := p.journal("bound.journal", []int{1}, "permissions: 55 resources × 6 actions in 1000 pages (20 rows shown first, then up to 20 a page)")
	if sa.Summary.Unjournaled != 10 {
		t.Errorf("a paged matrix record covered another subject's reads: unjournaled %d, want 10", sa.Summary.Unjournaled)
	}
}

// r while a later page is on its way: the old view's page, logged after the new view's
// first request, is the old view's, and the honest journal (one record per view) is
// consistent. So is a whole matrix read (the compare) between a view's pages.
func TestPagesOfAViewStayItsOwnAcrossAReloadAndACompare(t *testing.T) {
	p := newPagingEnv(t)
	a1 := p.get("/api/v1/permissions?limit=20")
	a2 := p.page(20, a1.NextCursor)
	b1 := p.get("/api/v1/permissions?limit=20") // r: view B's first page is logged first
	p.page(20, a2.NextCursor)                   // A's page 3, late
	b2 := p.page(20, b1.NextCursor)
	p.get("/api/v1/permissions") // the compare's whole matrix, between B's pages
	p.page(20, b2.NextCursor)
	d := api.MatrixViewDetails(a1.TotalRows, len(a1.Actions), 3, 20, 20)
	sa := p.journal("reload.journal", []int{1, 3, 5}, d, d, api.MatrixViewDetails(a1.TotalRows, len(a1.Actions), 1, 0, 0))
	if !sa.Summary.Consistent {
		t.Errorf("an honest journal is reported inconsistent: %+v: %+v", sa.Summary, sa.Unjournaled)
	}
}

// The cursor is the server's own and bound to its caller: a cursor in the old
// unsigned form, one tampered with, and one issued to another session are refused 400
// with words; one issued before a restart on the same data dir is still taken.
func TestAMatrixCursorIsSignedAndBoundToItsCaller(t *testing.T) {
	dir := t.TempDir()
	p := newPagingEnv(t, func(o *Options) { o.DataDir = dir })
	first := p.get("/api/v1/permissions?limit=5")
	other := p.impersonate(p.support, DemoTechnicianEmail)
	raw, _ := base64.RawURLEncoding.DecodeString(first.NextCursor)
	raw[len(raw)/2] ^= 1
	for name, c := range map[string]string{
		"unsigned":    base64.RawURLEncoding.EncodeToString([]byte("dashboard\x00Billing\x00dashboard:d-acme-billing")),
		"tampered":    base64.RawURLEncoding.EncodeToString(raw),
		"not base64":  "!!",
		"another one": "",
	} {
		token := p.imp
		if name == "another one" {
			c, token = first.NextCursor, other.Token
		}
		e := p.do("GET", "/api/v1/permissions?limit=5&cursor="+url.QueryEscape(c), token, nil).wantErr(t, api.CodeBadRequest)
		if e.Field != "cursor" || !strings.Contains(e.Message, "cursor") {
			t.Errorf("%s cursor: %+v", name, e)
		}
		if name == "another one" && !strings.Contains(e.Message, "another session") {
			t.Errorf("a cursor of another session is not said so: %q", e.Message)
		}
	}
	// A user's own token pages too; its cursor outlives a restart of the server (the
	// token does not: she signs in again).
	nora := p.login(DemoFleetManagerEmail)
	var own api.PermissionMatrix
	p.do("GET", "/api/v1/permissions?limit=5", nora, nil).decode(t, 200, &own)
	p.http.Close()
	if err := p.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again := newEnv(t, func(o *Options) { o.DataDir = dir })
	var next api.PermissionMatrix
	again.do("GET", "/api/v1/permissions?limit=5&cursor="+url.QueryEscape(own.NextCursor), again.login(DemoFleetManagerEmail), nil).decode(t, 200, &next)
	if len(next.Rows) != 5 || next.Rows[0].Resource.ID == own.Rows[0].Resource.ID {
		t.Errorf("the page after a restart: %d rows", len(next.Rows))
	}
}

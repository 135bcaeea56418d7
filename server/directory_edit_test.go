package server

import (
	"net/url"
	"testing"

	"github.com/shadowview/shadow/api"
)

// TestRenamedUserIsSearchedByTheNewName: after PATCH /me renames Nora, the directory
// (re-filed in place, not rebuilt) finds her by the new name and no longer by the old,
// for staff and for her company's admin, and so does a server started again on the
// same data dir, which re-applies the stored change.
func TestRenamedUserIsSearchedByTheNewName(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(o *Options) { o.DataDir = dir })
	nora := e.login(DemoFleetManagerEmail)
	e.do("PATCH", "/api/v1/me", nora, map[string]string{"name": "Nora Zephyrine"}).decode(t, 200, nil)
	search := func(e *env, token, q string) []string {
		t.Helper()
		var page api.UsersPage
		e.do("GET", "/api/v1/users?q="+url.QueryEscape(q), token, nil).decode(t, 200, &page)
		var names []string
		for _, u := range page.Users {
			names = append(names, u.Name)
		}
		return names
	}
	check := func(e *env, what string) {
		t.Helper()
		for _, email := range []string{DemoSupportEmail, DemoCompanyAdminEmail} {
			tok := e.login(email)
			if got := search(e, tok, "zephyrine"); len(got) != 1 || got[0] != "Nora Zephyrine" {
				t.Errorf("%s, %s: the new name finds %v", what, email, got)
			}
			if got := search(e, tok, "lindqvist"); len(got) != 0 {
				t.Errorf("%s, %s: the old name still finds %v", what, email, got)
			}
		}
	}
	check(e, "after the change")
	e.http.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	check(newEnv(t, func(o *Options) { o.DataDir = dir }), "after a restart")
}

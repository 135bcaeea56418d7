package client

import (
	"errors"
	"slices"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// TestMyImpersonations: Tomás, signed in with his own client, is told of the session the
// support admin opened on him — who, the reason, what it read — as soon as it started;
// Acme's admin is told of it for the company; Tomás may not ask about others.
func TestMyImpersonations(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := ctxT(t)
	support := staff(t, ts)
	tomas := signIn(t, ts, testOptions(ts.URL), server.DemoTechnicianEmail)
	before, err := tomas.MyImpersonations(ctx, ImpersonationsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	v, sess, err := support.StartSession(ctx, server.DemoTechnicianID, "ticket T-77: my jobs look wrong")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = support.EndSession(ctx, sess.ID) })
	if _, err := v.Dashboards(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := tomas.MyImpersonations(ctx, ImpersonationsQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if page.Scope != api.TransparencySelf || len(page.Impersonations) != len(before.Impersonations)+1 {
		t.Fatalf("scope %q, %d sessions (before: %d)", page.Scope, len(page.Impersonations), len(before.Impersonations))
	}
	got := page.Impersonations[0] // newest first
	if got.Session.ID != sess.ID || got.Session.Reason != "ticket T-77: my jobs look wrong" || got.ImpersonatorKind != api.KindStaff ||
		!slices.ContainsFunc(got.Viewed, func(i api.ViewedItem) bool { return i.Route == api.RouteDashboards && i.Count == 1 }) {
		t.Errorf("told %+v", got)
	}

	ada := signIn(t, ts, testOptions(ts.URL), server.DemoCompanyAdminEmail)
	company, err := ada.MyImpersonations(ctx, ImpersonationsQuery{User: server.DemoTechnicianID, Limit: 1})
	if err != nil || company.Scope != api.TransparencyCompany || len(company.Impersonations) != 1 || company.Impersonations[0].Session.ID != sess.ID {
		t.Errorf("Acme's admin: %+v, %v", company, err)
	}
	if _, err := tomas.MyImpersonations(ctx, ImpersonationsQuery{User: server.DemoFleetManagerID}); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("Tomás asking about Nora: %v, want ErrNotAllowed", err)
	}
	if _, err := tomas.MyImpersonations(ctx, ImpersonationsQuery{Cursor: "bogus"}); !errors.Is(err, ErrValidation) {
		t.Errorf("a bogus cursor: %v, want ErrValidation", err)
	}
}

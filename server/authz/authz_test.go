package authz

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
)

var epoch = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

func demo(t testing.TB) *org.Org {
	t.Helper()
	o, err := org.Build(org.DemoSeed, epoch, []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func subject(t testing.TB, o *org.Org, id string) *Subject {
	t.Helper()
	u := o.User(id)
	if u == nil {
		t.Fatalf("no user %s", id)
	}
	return Compile(o, u)
}

// TestCells pins the decisions that show each way a cell is decided.
func TestCells(t *testing.T) {
	o := demo(t)
	cases := []struct {
		user, resource, action string
		effect                 byte
		source                 api.PermissionSource
	}{
		// A role held directly, team-scoped: Nora's Fleet Manager covers North and below.
		{"u-acme-nora", "vehicle:acme-ne1", "edit", api.EffectAllow, api.PermissionSource{Kind: api.SourceRole, Name: "Fleet Manager"}},
		{"u-acme-nora", "vehicle:acme-s1", "edit", api.EffectNone, api.PermissionSource{}},
		// An explicit deny beats the role.
		{"u-acme-nora", "vehicle:acme-n1", "delete", api.EffectDeny, api.PermissionSource{Kind: api.SourceDeny, Name: "fleet policy: only Operations retires vehicles"}},
		{"u-acme-nora", "vehicle:acme-n2", "view", api.EffectDeny, api.PermissionSource{Kind: api.SourceDeny, Name: "vehicle under legal hold"}},
		// A direct grant.
		{"u-acme-nora", "invoice:acme-2025-06", "view", api.EffectAllow, api.PermissionSource{Kind: api.SourceDirect, Name: "monthly cost review"}},
		// A role held through a team.
		{"u-acme-noah", "vehicle:acme-nw1", "view", api.EffectAllow, api.PermissionSource{Kind: api.SourceTeam, Name: "Technician", Via: "North / North-West"}},
		// A team deny.
		{"u-acme-liam", "driver:acme-04", "export", api.EffectDeny, api.PermissionSource{Kind: api.SourceDeny, Name: "drivers' data stays in the region", Via: "North / North-West"}},
		// A role inherited from the parent team.
		{"u-acme-tomas", "report:acme-safety-2025", "view", api.EffectAllow, api.PermissionSource{Kind: api.SourceTeam, Name: "Regional Reader", Via: "North (inherited by North / North-East)"}},
		// A dashboard shared with a team reaches its sub-teams.
		{"u-acme-tomas", "dashboard:d-acme-nora-north", "view", api.EffectAllow, api.PermissionSource{Kind: api.SourceTeam, Name: "shared by Nora Lindqvist", Via: "North"}},
		{"u-acme-sven", "dashboard:d-acme-nora-north", "view", api.EffectNone, api.PermissionSource{}},
		// No role at all; one grant.
		{"u-acme-kai", "site:acme-1", "view", api.EffectAllow, api.PermissionSource{Kind: api.SourceDirect, Name: "onboarding"}},
		{"u-acme-kai", "vehicle:acme-n1", "view", api.EffectNone, api.PermissionSource{}},
		// Another company's resource is never allowed.
		{"u-acme-ada", "vehicle:bluebird-c1", "view", api.EffectNone, api.PermissionSource{}},
		{"u-acme-ada", "vehicle:acme-s1", "delete", api.EffectAllow, api.PermissionSource{Kind: api.SourceRole, Name: "Company Admin"}},
	}
	for _, c := range cases {
		s := subject(t, o, c.user)
		r := o.Resource(c.resource)
		if r == nil {
			t.Fatalf("no resource %s", c.resource)
		}
		e, src := s.Decide(r, c.action)
		if e != c.effect {
			t.Errorf("%s %s %s: effect %c, want %c", c.user, c.action, c.resource, e, c.effect)
			continue
		}
		if c.effect == api.EffectNone {
			if src != nil {
				t.Errorf("%s %s %s: none with a source %+v", c.user, c.action, c.resource, src)
			}
			continue
		}
		if src == nil || *src != c.source {
			t.Errorf("%s %s %s: source %+v, want %+v", c.user, c.action, c.resource, src, c.source)
		}
		if got := s.Allows(c.resource, c.action); got != (c.effect == api.EffectAllow) {
			t.Errorf("Allows disagrees with Decide for %s %s", c.user, c.resource)
		}
	}
	if subject(t, o, "u-acme-nora").Allows("vehicle:nope", "view") {
		t.Fatal("an unknown resource is allowed")
	}
}

// TestMatrixAgreesWithDecideAndExplain, for every demo user and every cell: the
// matrix cell, Decide and Explain say the same thing, and Explain marks exactly one
// decisive step.
func TestMatrixAgreesWithDecideAndExplain(t *testing.T) {
	o := demo(t)
	cells := 0
	for _, u := range o.Users() {
		s := Compile(o, u)
		m := s.Matrix()
		if m.Subject.ID != u.ID || len(m.Actions) != len(org.MatrixActions) {
			t.Fatalf("matrix header %+v", m.Subject)
		}
		res := o.Resources(u.CompanyID)
		if len(m.Rows) != len(res) {
			t.Fatalf("%s: %d rows for %d resources", u.ID, len(m.Rows), len(res))
		}
		for i, row := range m.Rows {
			r := o.Resource(row.Resource.ID)
			if len(row.Effects) != len(m.Actions) || len(row.Sources) != len(m.Actions) {
				t.Fatalf("row width")
			}
			if i > 0 && (m.Rows[i-1].Resource.Type > row.Resource.Type ||
				(m.Rows[i-1].Resource.Type == row.Resource.Type && m.Rows[i-1].Resource.Name > row.Resource.Name)) {
				t.Fatalf("%s: rows out of order at %d", u.ID, i)
			}
			for a, action := range m.Actions {
				cells++
				e, src := s.Decide(r, action)
				if row.Effects[a] != e {
					t.Fatalf("%s %s %s: matrix %c, Decide %c", u.ID, action, r.ID, row.Effects[a], e)
				}
				if (row.Sources[a] < 0) != (src == nil) || (src != nil && m.Sources[row.Sources[a]] != *src) {
					t.Fatalf("%s %s %s: source index %d vs %+v", u.ID, action, r.ID, row.Sources[a], src)
				}
				ex := s.Explain(r, action)
				want := map[byte]string{api.EffectAllow: "allow", api.EffectDeny: "deny", api.EffectNone: "none"}[e]
				if ex.Effect != want {
					t.Fatalf("%s %s %s: explain %s, matrix %c", u.ID, action, r.ID, ex.Effect, e)
				}
				decisive := 0
				for _, st := range ex.Steps {
					if st.Decisive {
						decisive++
						if st.Effect != want {
							t.Fatalf("%s %s %s: decisive step says %s, cell %s: %+v", u.ID, action, r.ID, st.Effect, want, ex.Steps)
						}
					}
				}
				if decisive != 1 {
					t.Fatalf("%s %s %s: %d decisive steps", u.ID, action, r.ID, decisive)
				}
			}
		}
	}
	if cells < 10_000 {
		t.Fatalf("only %d cells checked", cells)
	}
}

func TestExplainChain(t *testing.T) {
	o := demo(t)
	// Tomás reads reports through North, the parent of his team.
	ex := subject(t, o, "u-acme-tomas").Explain(o.Resource("report:acme-fuel-q2"), "view")
	kinds := []string{}
	for _, st := range ex.Steps {
		kinds = append(kinds, st.Kind)
	}
	if got := strings.Join(kinds, ","); got != "membership,parent_team,role" {
		t.Fatalf("steps %s: %+v", got, ex.Steps)
	}
	if !strings.Contains(ex.Steps[1].Text, "North / North-East is part of team North") {
		t.Fatalf("parent step %q", ex.Steps[1].Text)
	}
	// Nora deleting a vehicle: the role allows, the deny wins.
	ex = subject(t, o, "u-acme-nora").Explain(o.Resource("vehicle:acme-n1"), "delete")
	last := ex.Steps[len(ex.Steps)-1]
	if ex.Effect != "deny" || last.Kind != "deny" || !last.Decisive {
		t.Fatalf("deny chain %+v", ex.Steps)
	}
	overridden := false
	for _, st := range ex.Steps {
		overridden = overridden || (st.Kind == "role" && strings.Contains(st.Text, "An explicit deny overrides it"))
	}
	if !overridden {
		t.Fatalf("the overridden allow is not shown: %+v", ex.Steps)
	}
	// Nora editing a South vehicle: a near miss explains why not.
	ex = subject(t, o, "u-acme-nora").Explain(o.Resource("vehicle:acme-s1"), "edit")
	if ex.Effect != "none" || !strings.Contains(ex.Steps[1].Text, "belongs to team South") || ex.Steps[len(ex.Steps)-1].Kind != "default" {
		t.Fatalf("near miss %+v", ex.Steps)
	}
	// Another company's resource.
	ex = subject(t, o, "u-acme-nora").Explain(o.Resource("vehicle:bluebird-c1"), "view")
	if ex.Effect != "none" || len(ex.Steps) != 1 {
		t.Fatalf("foreign resource %+v", ex)
	}
}

func TestImpersonatePermission(t *testing.T) {
	o := demo(t)
	for id, want := range map[string]bool{"u-staff-sam": true, "u-staff-alex": true, "u-acme-ada": true, "u-acme-omar": true, "u-acme-nora": false, "u-acme-olivia": false} {
		ok, deny := subject(t, o, id).AllowsType(org.ActionImpersonate, org.TypeUser)
		if ok != want {
			t.Errorf("%s impersonate: %v", id, ok)
		}
		if (id == "u-acme-olivia") != (deny != nil) {
			t.Errorf("%s deny %+v", id, deny)
		}
	}
}

// TestMissing: what a target may do that an actor may not, exactly (checked against
// every cell for every pair of Acme users).
func TestMissing(t *testing.T) {
	o := demo(t)
	omar, fiona := subject(t, o, "u-acme-omar"), subject(t, o, "u-acme-fiona")
	if action, r, ok := fiona.Missing(omar); !ok || action != "view" || r.Type != org.TypeInvoice {
		t.Fatalf("Fiona beyond Omar: %v %v %v", action, r, ok)
	}
	for _, u := range o.Users() {
		if _, _, ok := Compile(o, u).Missing(subject(t, o, "u-acme-ada")); ok && u.CompanyID == org.CompanyAcme {
			t.Fatalf("%s holds something the company admin does not", u.ID)
		}
	}
	if _, _, ok := subject(t, o, "u-bluebird-ben").Missing(omar); ok {
		t.Fatal("another company's user compared")
	}
	var acme []*org.User
	for _, u := range o.Users() {
		if u.CompanyID == org.CompanyAcme {
			acme = append(acme, u)
		}
	}
	for _, a := range acme {
		as := Compile(o, a)
		for _, u := range acme {
			us := Compile(o, u)
			_, _, missing := us.Missing(as)
			exact := false
			for _, r := range o.Resources(org.CompanyAcme) {
				for _, action := range org.MatrixActions {
					if ue, _ := us.Decide(r, action); ue == api.EffectAllow {
						if ae, _ := as.Decide(r, action); ae != api.EffectAllow {
							exact = true
						}
					}
				}
			}
			if missing != exact {
				t.Fatalf("%s beyond %s: Missing says %v, the cells say %v", u.ID, a.ID, missing, exact)
			}
		}
	}
}

func TestReach(t *testing.T) {
	o := demo(t)
	for id, want := range map[string]string{
		"u-acme-nora":  "team North and its sub-teams",
		"u-acme-ada":   "all of Acme Logistics",
		"u-acme-kai":   "nothing",
		"u-acme-ines":  "team North / North-East and its sub-teams and team Finance and its sub-teams",
		"u-acme-tomas": "team North / North-East and its sub-teams",
	} {
		if got := subject(t, o, id).Reach(org.TypeVehicle); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
}

// BenchmarkMatrix is the permission matrix of one user over Acme's resources plus
// generated ones (5,000 resources: the goal is 20 ms).
func BenchmarkMatrix(b *testing.B) {
	for _, n := range []int{0, 5000} {
		o, err := org.Build(org.Seed{Demo: true, GenerateResources: n}, epoch, []byte("h"))
		if err != nil {
			b.Fatal(err)
		}
		u := o.User("u-acme-nora")
		b.Run(fmt.Sprintf("resources=%d", len(o.Resources(u.CompanyID))), func(b *testing.B) {
			for b.Loop() {
				m := Compile(o, u).Matrix()
				if len(m.Rows) < n {
					b.Fatal("short matrix")
				}
			}
		})
	}
}

// TestReads: what each user can read, ownership included, and ReadsBeyond exactly
// the naive "some resource the one reads and the other does not", for every pair of
// Acme users. A user reads nothing of another company.
func TestReads(t *testing.T) {
	o := demo(t)
	tomas, omar := subject(t, o, "u-acme-tomas"), subject(t, o, "u-acme-omar")
	jobs := o.Resource("dashboard:d-acme-tomas-jobs")
	if !tomas.Reads(jobs) || tomas.Allows(jobs.ID, org.ActionView) {
		t.Fatal("Tomás reads his own dashboard by ownership alone")
	}
	if omar.Reads(jobs) {
		t.Fatal("Omar reads Tomás's private dashboard")
	}
	if r, owned, ok := tomas.ReadsBeyond(omar); !ok || !owned || r.ID != jobs.ID {
		t.Fatalf("Tomás beyond Omar: %v %v %v", r, owned, ok)
	}
	if subject(t, o, "u-bluebird-ben").ReadsID(jobs.ID) {
		t.Fatal("another company's user reads an Acme dashboard")
	}
	var acme []*org.User
	for _, u := range o.Users() {
		if u.CompanyID == org.CompanyAcme {
			acme = append(acme, u)
		}
	}
	for _, a := range acme {
		as := Compile(o, a)
		for _, u := range acme {
			us := Compile(o, u)
			naive := false
			for _, r := range o.Resources(org.CompanyAcme) {
				naive = naive || (us.Reads(r) && !as.Reads(r))
			}
			r, _, got := us.ReadsBeyond(as)
			if got != naive || (got && (!us.Reads(r) || as.Reads(r))) {
				t.Errorf("%s beyond %s: %v (%v), naive %v", u.ID, a.ID, got, r, naive)
			}
		}
	}
}

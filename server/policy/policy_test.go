package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
)

func demo(t testing.TB) *org.Org {
	t.Helper()
	o, err := org.Build(org.DemoSeed, time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRules: every rule, and its order, for the demo's identities.
func TestRules(t *testing.T) {
	o := demo(t)
	by := func(email string) *org.User {
		u := o.UserByEmail(email)
		if u == nil {
			t.Fatalf("no %s", email)
		}
		return u
	}
	cases := []struct {
		actor, target string
		want          api.Code
		words         string
	}{
		{org.DemoSupportEmail, org.DemoFleetManagerEmail, "", ""},
		{org.DemoAgentEmail, org.DemoTechnicianEmail, "", ""},
		{org.DemoCompanyAdminEmail, org.DemoFleetManagerEmail, "", ""},
		{org.DemoOpsLeadEmail, org.DemoSouthFleetManagerEmail, "", ""},
		// Nor read what they cannot: Tomás owns "My jobs", which Omar may not read. Nora's
		// own dashboard is shared with Operations, so it would not stop him.
		{org.DemoOpsLeadEmail, org.DemoTechnicianEmail, api.CodeTargetPrivileged, "Tomás Ortega owns and reads dashboard “My jobs”, which you cannot read"},
		// A customer impersonator may not borrow permissions they lack: Nora and the
		// finance team may read invoices, Omar may not.
		{org.DemoOpsLeadEmail, org.DemoFleetManagerEmail, api.CodeTargetPrivileged, "holds a permission you do not (view on INV-"},
		{org.DemoOpsLeadEmail, "fiona@acme.demo", api.CodeTargetPrivileged, "holds a permission you do not (view on INV-"},
		// Staff are not held to it: their scope is their support contract.
		{org.DemoSupportEmail, "fiona@acme.demo", "", ""},
		{"otto@orbit.demo", org.DemoOutOfScopeEmail, "", ""}, // a company outside support's scope still has its own admin
		{"pia@polar.demo", org.DemoOptedOutEmail, api.CodeImpersonationDisabled, "switched impersonation off"},
		{org.DemoFleetManagerEmail, org.DemoTechnicianEmail, api.CodeImpersonationForbidden, "does not hold the impersonate permission"},
		{org.DemoPeerOpsLeadEmail, org.DemoTechnicianEmail, api.CodeImpersonationForbidden, "shadowing not yet approved"},
		{org.DemoSupportEmail, org.DemoSupportEmail, api.CodeSelfImpersonation, "yourself"},
		{org.DemoCompanyAdminEmail, org.DemoCompanyAdminEmail, api.CodeSelfImpersonation, "yourself"},
		{org.DemoSupportEmail, org.DemoAgentEmail, api.CodeTargetPrivileged, "support staff"},
		{org.DemoAgentEmail, org.DemoSupportEmail, api.CodeTargetPrivileged, "support staff"},
		{org.DemoSupportEmail, "aaron@acme.demo", api.CodeTargetPrivileged, "company admin"},
		{org.DemoCompanyAdminEmail, "aaron@acme.demo", api.CodeTargetPrivileged, "company admin"},
		{org.DemoSupportEmail, "otto@orbit.demo", api.CodeTargetOutOfScope, "outside the companies you may support, or there is no such user"}, // scope first: nothing is said of who is outside it
		{org.DemoOpsLeadEmail, org.DemoPeerOpsLeadEmail, api.CodeTargetPrivileged, "equal to or above yours (Operations Lead)"},
		{org.DemoOpsLeadEmail, org.DemoSupportEmail, api.CodeTargetOutOfScope, "outside the companies you may support, or there is no such user"}, // the vendor's staff are outside a customer's scope
		{org.DemoSupportEmail, org.DemoOutOfScopeEmail, api.CodeTargetOutOfScope, "outside the companies you may support, or there is no such user"},
		{org.DemoNarrowAgentEmail, org.DemoFleetManagerEmail, api.CodeTargetOutOfScope, "outside the companies you may support, or there is no such user"},
		{org.DemoNarrowAgentEmail, "ben@bluebird.demo", "", ""},
		{org.DemoCompanyAdminEmail, "ben@bluebird.demo", api.CodeTargetOutOfScope, "outside the companies you may support, or there is no such user"},
		{org.DemoSupportEmail, org.DemoOptedOutEmail, api.CodeImpersonationDisabled, "Polar Haulage has switched impersonation off"},
	}
	for _, c := range cases {
		d := For(o, by(c.actor), nil).Target(by(c.target))
		if d.Code != c.want || !strings.Contains(d.Reason, c.words) || d.Allowed() != (c.want == "") {
			t.Errorf("%s → %s: %s %q, want %s %q", c.actor, c.target, d.Code, d.Reason, c.want, c.words)
		}
		if !d.Allowed() && !d.Code.ImpersonationRefusal() {
			t.Errorf("%s is not an impersonation refusal code", d.Code)
		}
	}
	nested := For(o, by(org.DemoSupportEmail), by(org.DemoFleetManagerEmail))
	if d := nested.Target(by(org.DemoTechnicianEmail)); d.Code != api.CodeNestedImpersonation || !strings.Contains(d.Reason, "Nora Lindqvist") {
		t.Fatalf("nested: %+v", d)
	}
	if nested.Actor().Code != api.CodeNestedImpersonation {
		t.Fatal("nesting should refuse the actor outright")
	}
	if !For(o, by(org.DemoSupportEmail), nil).MaySupport(org.CompanyPolar) || For(o, by(org.DemoSupportEmail), nil).MaySupport(org.CompanyOrbit) {
		t.Fatal("support scope")
	}
}

// TestEveryTargetGetsAnAnswer: for every pair of demo identities the decision is
// either allowed or a refusal with a code and words; never an empty refusal.
func TestEveryTargetGetsAnAnswer(t *testing.T) {
	o := demo(t)
	allowed := 0
	for _, a := range o.Users() {
		p := For(o, a, nil)
		for _, u := range o.Users() {
			d := p.Target(u)
			if d.Allowed() {
				allowed++
				if u.Admin() || u.Staff() || u.ID == a.ID || u.Rank() >= a.Rank() {
					t.Fatalf("%s may impersonate %s", a.ID, u.ID)
				}
				if !a.Staff() {
					// Everything the target may do, the actor may do.
					actor, target := authz.Compile(o, a), authz.Compile(o, u)
					for _, r := range o.Resources(u.CompanyID) {
						for _, action := range org.MatrixActions {
							if te, _ := target.Decide(r, action); te == api.EffectAllow {
								if ae, _ := actor.Decide(r, action); ae != api.EffectAllow {
									t.Fatalf("%s may impersonate %s, who may %s %s and %s may not", a.ID, u.ID, action, r.ID, a.ID)
								}
							}
						}
					}
				}
				continue
			}
			if d.Reason == "" || d.Code.Status() != 403 {
				t.Fatalf("%s → %s: %+v", a.ID, u.ID, d)
			}
		}
	}
	if allowed == 0 {
		t.Fatal("nobody may impersonate anybody")
	}
}

func TestReason(t *testing.T) {
	for reason, want := range map[string]api.Code{
		"TICKET-42":                       "",
		"Kundin meldet leere Übersicht 👀": "",
		"":                                api.CodeReasonRequired,
		"  \t\n ":                         api.CodeReasonRequired,
		strings.Repeat("é", api.MaxReasonLength):   "",
		strings.Repeat("é", api.MaxReasonLength+1): api.CodeValidation,
		"bad \x1b[31m": api.CodeValidation,
		"line\nbreak":  api.CodeValidation,
		"\xff\xfe":     api.CodeValidation,
		// Bidi controls, as in names and titles: the reason is read in audit logs.
		"TICKET-1 \u202eevil": api.CodeValidation,
	} {
		d := Reason(reason)
		if d.Code != want {
			t.Errorf("%q: %s, want %s", reason, d.Code, want)
		}
		if !d.Allowed() && d.Field != "reason" {
			t.Errorf("%q: field %q", reason, d.Field)
		}
	}
}

func BenchmarkTarget(b *testing.B) {
	o := demo(b)
	p := For(o, o.UserByEmail(org.DemoSupportEmail), nil)
	users := o.Users()
	for i := 0; b.Loop(); i++ {
		p.Target(users[i%len(users)])
	}
}

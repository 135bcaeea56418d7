package org

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

var epoch = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func build(t testing.TB, s Seed) *Org {
	t.Helper()
	o, err := Build(s, epoch, []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDemoShape checks the demo org has what the product needs to be worth looking at.
func TestDemoShape(t *testing.T) {
	o := build(t, DemoSeed)
	if n := len(o.Companies()); n != 4 {
		t.Fatalf("%d companies", n)
	}
	var off, unsupported int
	for _, c := range o.Companies() {
		if !c.ImpersonationEnabled {
			off++
		}
		if !c.Supported {
			unsupported++
		}
		if n := len(o.Dashboards(c.ID)); n < 6 {
			t.Errorf("%s has %d dashboards", c.Name, n)
		}
	}
	if off != 1 || unsupported != 1 {
		t.Fatalf("%d companies opted out, %d outside support's scope; want one each", off, unsupported)
	}
	if n := len(o.Users()); n < 40 {
		t.Fatalf("%d users", n)
	}
	if n := len(o.Resources(CompanyAcme)); n < 50 {
		t.Fatalf("Acme has %d resources", n)
	}
	roles := map[string]int{}
	for _, u := range o.Users() {
		roles[u.RoleName()]++
	}
	for _, r := range []string{"Fleet Manager", "Technician", "Company Admin", "Support Agent", "Support Admin", "Operations Lead", "Finance Analyst"} {
		if roles[r] == 0 {
			t.Errorf("nobody is a %s", r)
		}
	}
	subTeams := 0
	for _, c := range o.Companies() {
		for _, team := range o.TeamsOf(c.ID) {
			if team.ParentID != "" {
				subTeams++
			}
		}
	}
	if subTeams < 3 {
		t.Fatalf("%d sub-teams", subTeams)
	}
	var userDenies, teamDenies, grants int
	for _, r := range o.Rules() {
		switch {
		case r.Effect == Deny && r.UserID != "":
			userDenies++
		case r.Effect == Deny:
			teamDenies++
		default:
			grants++
		}
	}
	if userDenies < 2 || teamDenies < 1 || grants < 3 {
		t.Fatalf("denies: %d user, %d team; grants %d", userDenies, teamDenies, grants)
	}
	for _, email := range []string{DemoSupportEmail, DemoAgentEmail, DemoNarrowAgentEmail, DemoFleetManagerEmail, DemoSouthFleetManagerEmail,
		DemoTechnicianEmail, DemoCompanyAdminEmail, DemoOpsLeadEmail, DemoPeerOpsLeadEmail, DemoNoRoleEmail, DemoOptedOutEmail, DemoOutOfScopeEmail} {
		if o.UserByEmail(email) == nil {
			t.Errorf("well-known identity %s missing", email)
		}
	}
	nora := o.UserByEmail(DemoFleetManagerEmail)
	if nora.ID != DemoFleetManagerID || nora.RoleName() != "Fleet Manager" || nora.TeamPath() != "North" {
		t.Fatalf("Nora: %s %s %s", nora.ID, nora.RoleName(), nora.TeamPath())
	}
	if ada := o.User(DemoCompanyAdminID); !ada.Admin() || ada.Staff() {
		t.Fatal("Ada is not a company admin")
	}
	if o.UserByEmail(DemoSupportEmail).Kind != api.KindStaff || o.UserByEmail(" SUPPORT@shadow.demo ") == nil {
		t.Fatal("support lookup")
	}
	// Noah holds Technician only through his team.
	if noah := o.User("u-acme-noah"); noah.RoleName() != "Technician" || len(noah.Roles) != 0 {
		t.Fatalf("Noah: %s %v", noah.RoleName(), noah.Roles)
	}
	for _, c := range o.Companies() {
		ds := o.Dataset(c.ID)
		if len(ds.Vehicles) == 0 || len(ds.Jobs) == 0 || len(ds.Trips) == 0 || len(ds.Invoices) == 0 || len(ds.Drivers) == 0 {
			t.Errorf("%s has an empty dataset", c.Name)
		}
	}
	if o.Dataset("nope") == nil {
		t.Fatal("Dataset of an unknown company is nil")
	}
	if o.Epoch != epoch.Truncate(24*time.Hour) {
		t.Fatalf("epoch %v", o.Epoch)
	}
}

// fingerprint hashes everything a seed produces, so determinism is checked whole.
func fingerprint(t testing.TB, o *Org) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, u := range o.Users() {
		enc.Encode(u)
		fmt.Fprintln(h, u.Rank(), u.RoleName(), u.TeamPath())
	}
	for _, c := range o.Companies() {
		enc.Encode(c)
		enc.Encode(o.Resources(c.ID))
		enc.Encode(o.Dashboards(c.ID))
		enc.Encode(o.Dataset(c.ID))
		for _, team := range o.TeamsOf(c.ID) {
			fmt.Fprintln(h, team.ID, team.Path(), team.in, team.out)
		}
	}
	enc.Encode(o.Rules())
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSeedIsDeterministic(t *testing.T) {
	for _, s := range []Seed{DemoSeed, {Demo: true, Hostile: true}, {Demo: true, GenerateUsers: 1200, GenerateResources: 50}} {
		a, b := fingerprint(t, build(t, s)), fingerprint(t, build(t, s))
		if a != b {
			t.Fatalf("seed %+v builds differently twice", s)
		}
	}
	other, err := Build(DemoSeed, epoch.AddDate(0, 0, 1), []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, other) == fingerprint(t, build(t, DemoSeed)) {
		t.Fatal("a different epoch gives identical data: dates are not anchored to it")
	}
	if zero := build(t, Seed{}); len(zero.Users()) != len(build(t, DemoSeed).Users()) {
		t.Fatal("the zero seed is not the demo")
	}
}

func TestGeneratedOrg(t *testing.T) {
	o := build(t, Seed{Demo: true, GenerateUsers: 12_345, GenerateResources: 700})
	demo := len(build(t, DemoSeed).Users())
	if n := len(o.Users()); n != demo+12_345 {
		t.Fatalf("%d users, want %d", n, demo+12_345)
	}
	if n := o.Directory().Len(); n != demo+12_345 {
		t.Fatalf("directory holds %d", n)
	}
	assets := 0
	for _, r := range o.Resources(CompanyAcme) {
		if r.Type == TypeAsset {
			assets++
			if o.Team(r.TeamID) == nil {
				t.Fatalf("asset %s has no team", r.ID)
			}
		}
	}
	if assets != 700 {
		t.Fatalf("%d assets", assets)
	}
	if o.UserByEmail(DemoSupportEmail) == nil {
		t.Fatal("the support account is gone")
	}
	admins := 0
	for _, u := range o.Users() {
		if strings.HasPrefix(u.CompanyID, "c-gen") && u.Admin() {
			admins++
		}
	}
	if admins != 3 { // 12,345 users in companies of 5,000
		t.Fatalf("%d generated admins", admins)
	}
	for _, bad := range []Seed{{GenerateUsers: -1}, {GenerateUsers: MaxGeneratedUsers + 1}, {GenerateResources: -5}, {GenerateResources: MaxGeneratedResources + 1}} {
		if _, err := Build(bad, epoch, nil); err == nil {
			t.Errorf("seed %+v accepted", bad)
		}
	}
}

func TestHostileSeed(t *testing.T) {
	o := build(t, Seed{Demo: true, Hostile: true})
	c := o.Company(CompanyHostile)
	if c == nil || !strings.Contains(c.Name, "\x1b[") {
		t.Fatalf("hostile company %+v", c)
	}
	found := map[string]bool{}
	for _, u := range o.Users() {
		found[u.Name] = true
	}
	for _, s := range HostileStrings {
		if !found[s] {
			t.Errorf("no user named %q", s)
		}
	}
	if u := o.UserByEmail(DemoHostileEmail); u == nil || !strings.Contains(u.Name, "\x1b]0;") {
		t.Fatalf("hostile user %+v", u)
	}
	hostileCells := 0
	for _, v := range o.Dataset(CompanyHostile).Vehicles {
		if strings.ContainsAny(v.Name, "\x1b\u202e") || strings.Contains(v.Name, "全角") {
			hostileCells++
		}
	}
	if hostileCells == 0 {
		t.Fatal("no hostile vehicle names")
	}
	// The demo companies stay clean.
	for _, u := range build(t, DemoSeed).Users() {
		for _, r := range u.Name + u.Email + u.TeamPath() {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) {
				t.Fatalf("demo user %s has a hostile character %U", u.ID, r)
			}
		}
	}
}

func TestTeamsAndChains(t *testing.T) {
	o := build(t, DemoSeed)
	ne := o.Team("t-acme-north-east")
	if ne.Path() != "North / North-East" {
		t.Fatalf("path %q", ne.Path())
	}
	chain := o.Chain("t-acme-north-east")
	if len(chain) != 2 || chain[0].ID != "t-acme-north-east" || chain[1].ID != "t-acme-north" {
		t.Fatalf("chain %v", chain)
	}
	if !o.InSubtree("t-acme-north", "t-acme-north-east") || !o.InSubtree("t-acme-north", "t-acme-north") {
		t.Fatal("North's subtree misses itself or North-East")
	}
	if o.InSubtree("t-acme-north-east", "t-acme-north") || o.InSubtree("t-acme-north", "t-acme-south") || o.InSubtree("t-acme-north", "nope") {
		t.Fatal("subtree too wide")
	}
}

func TestFinishRejectsBrokenSeeds(t *testing.T) {
	cases := map[string]func(b *builder){
		"a parent cycle": func(b *builder) {
			b.company(&Company{ID: "c"})
			b.team(&Team{ID: "a", CompanyID: "c", ParentID: "b"})
			b.team(&Team{ID: "b", CompanyID: "c", ParentID: "a"})
		},
		"a user's team in another company": func(b *builder) {
			b.company(&Company{ID: "c"})
			b.company(&Company{ID: "d"})
			b.team(&Team{ID: "t", CompanyID: "d"})
			b.user(&User{ID: "u", Email: "u@x", CompanyID: "c", Teams: []string{"t"}})
		},
		"an unknown role": func(b *builder) {
			b.company(&Company{ID: "c"})
			b.user(&User{ID: "u", Email: "u@x", CompanyID: "c", Roles: []string{"nope"}})
		},
		"a rule for nobody": func(b *builder) {
			b.rule(&Rule{ID: "r", Action: ActionView, Target: AllOf(TypeSite)})
		},
		"a dashboard without owner": func(b *builder) {
			b.company(&Company{ID: "c"})
			b.dashboard(&Dashboard{ID: "d", CompanyID: "c", OwnerID: "ghost"})
		},
	}
	for name, setup := range cases {
		b := &builder{o: newOrg(epoch)}
		setup(b)
		if err := b.o.finish(); err == nil {
			t.Errorf("%s: finish accepted it", name)
		}
	}
	b := &builder{o: newOrg(epoch)}
	b.company(&Company{ID: "c"})
	b.company(&Company{ID: "c"})
	if len(b.errs) == 0 {
		t.Error("duplicate company not reported")
	}
}

func TestMutationsAreCopyOnWrite(t *testing.T) {
	o := build(t, DemoSeed)
	old := o.User(DemoFleetManagerID)
	next := *old
	next.Name = "Nora Renamed"
	if err := o.SetUser(&next); err != nil {
		t.Fatal(err)
	}
	if old.Name != "Nora Lindqvist" || o.User(DemoFleetManagerID).Name != "Nora Renamed" || o.User(DemoFleetManagerID).RoleName() != "Fleet Manager" {
		t.Fatal("SetUser mutated the old copy or lost derived fields")
	}
	page, err := o.Directory().Search("renamed", "", 10)
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("directory not reindexed: %+v %v", page, err)
	}
	if cp, _ := o.CompanyDirectory(CompanyAcme).Search("renamed", "", 10); len(cp.Users) != 1 {
		t.Fatal("company directory not reindexed")
	}
	dup := *o.User(DemoTechnicianID)
	dup.Email = DemoFleetManagerEmail
	if err := o.SetUser(&dup); err == nil {
		t.Fatal("a duplicate email was accepted")
	}
	if err := o.SetUser(&User{ID: "ghost"}); err == nil {
		t.Fatal("an unknown user was accepted")
	}

	before := o.Resources(CompanyAcme)
	d := &Dashboard{ID: "d-new", CompanyID: CompanyAcme, OwnerID: DemoFleetManagerID, Title: "AAA first"}
	if err := o.SetDashboard(d); err != nil {
		t.Fatal(err)
	}
	if err := o.AddRule(&Rule{ID: "share-x", Effect: Allow, TeamID: "t-acme-south", Action: ActionView, Target: One(d.ResourceID())}); err != nil {
		t.Fatal(err)
	}
	if len(o.Resources(CompanyAcme)) != len(before)+1 || o.Resource("dashboard:d-new") == nil {
		t.Fatal("the dashboard's resource was not added")
	}
	if len(o.RulesForTeam("t-acme-south")) == 0 {
		t.Fatal("rule not indexed")
	}
	renamed := *d
	renamed.Title = "Renamed"
	o.SetDashboard(&renamed)
	if o.Resource("dashboard:d-new").Name != "Renamed" || d.Title != "AAA first" {
		t.Fatal("update not copy-on-write")
	}
	if !o.DeleteDashboard("d-new") || o.DeleteDashboard("d-new") {
		t.Fatal("DeleteDashboard result")
	}
	if len(o.Resources(CompanyAcme)) != len(before) || len(o.RulesForTeam("t-acme-south")) != 0 {
		t.Fatal("deleting left its resource or share behind")
	}
	for i := 1; i < len(before); i++ {
		if resourceLess(before[i], before[i-1]) {
			t.Fatal("resources not sorted")
		}
	}
	if err := o.AddRule(&Rule{ID: "bad", UserID: "x", TeamID: "y"}); err == nil {
		t.Fatal("a rule for both a user and a team was accepted")
	}
	if err := o.SetDashboard(&Dashboard{ID: "z", CompanyID: "nope"}); err == nil {
		t.Fatal("a dashboard of no company was accepted")
	}
}

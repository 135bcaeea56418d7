package org

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// Seed says which organisation to build.
type Seed struct {
	// Demo builds the demo organisation (4 companies, 44 users, the support staff).
	Demo bool
	// GenerateUsers adds that many users in generated companies, for scale tests.
	GenerateUsers int
	// GenerateResources adds that many resources to the demo company Acme Logistics,
	// so its users' permission matrices are that much larger.
	GenerateResources int
	// Hostile adds a company whose names, titles and cells hold terminal escape
	// sequences, control and bidi characters, wide and zero-width text: for the UI's
	// hostile-text tests. The demo data itself stays clean.
	Hostile bool
}

// DemoSeed is the demo organisation alone.
var DemoSeed = Seed{Demo: true}

// IsZero reports whether nothing was asked for; the server treats that as DemoSeed.
func (s Seed) IsZero() bool { return s == Seed{} }

// Limits on generated organisations, so a typo cannot exhaust memory.
const (
	MaxGeneratedUsers     = 1_000_000
	MaxGeneratedResources = 200_000
)

// Build builds the organisation the seed names. Every seeded account's password hash
// is passwordHash (the demo password hashed once by the caller: hashing it per user
// would cost seconds). epoch anchors the demo data's dates; the same seed, epoch and
// hash always give the same organisation.
func Build(seed Seed, epoch time.Time, passwordHash []byte) (*Org, error) {
	if seed.IsZero() {
		seed = DemoSeed
	}
	if seed.GenerateUsers < 0 || seed.GenerateUsers > MaxGeneratedUsers {
		return nil, fmt.Errorf("build org: generate users %d: want 0..%d", seed.GenerateUsers, MaxGeneratedUsers)
	}
	if seed.GenerateResources < 0 || seed.GenerateResources > MaxGeneratedResources {
		return nil, fmt.Errorf("build org: generate resources %d: want 0..%d", seed.GenerateResources, MaxGeneratedResources)
	}
	b := &builder{o: newOrg(epoch.UTC().Truncate(24 * time.Hour)), hash: passwordHash}
	if n := seed.GenerateUsers; n > 0 { // grown once, not rehashed twenty times on the way to a million
		b.o.userByID = make(map[string]*User, n+100)
		b.o.userByEmail = make(map[string]*User, n+100)
		b.o.users = make([]*User, 0, n+100)
	}
	b.staff()
	// The demo companies are always present once anything is generated: generated
	// resources go to Acme, and the well-known identities must keep working.
	b.demo()
	if seed.GenerateUsers > 0 {
		b.generateUsers(seed.GenerateUsers)
	}
	if seed.GenerateResources > 0 {
		b.generateResources(seed.GenerateResources)
	}
	if seed.Hostile {
		b.hostile()
	}
	if err := b.o.finish(); err != nil {
		return nil, fmt.Errorf("build org: %w", err)
	}
	return b.o, nil
}

func newOrg(epoch time.Time) *Org {
	return &Org{
		Epoch:               epoch,
		companyByID:         map[string]*Company{},
		teams:               map[string]*Team{},
		roles:               map[string]*Role{},
		userByID:            map[string]*User{},
		userByEmail:         map[string]*User{},
		resources:           map[string][]*Resource{},
		resourceByID:        map[string]*Resource{},
		rulesByUser:         map[string][]*Rule{},
		rulesByTeam:         map[string][]*Rule{},
		dashboards:          map[string]*Dashboard{},
		dashboardsByCompany: map[string][]*Dashboard{},
		data:                map[string]*Dataset{},
	}
}

// builder accumulates a seed; finish() then checks references and builds indexes.
type builder struct {
	o    *Org
	hash []byte
	errs []string
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Sprintf(format, args...))
}

func (b *builder) company(c *Company) {
	if b.o.companyByID[c.ID] != nil {
		b.fail("duplicate company %s", c.ID)
		return
	}
	b.o.companies = append(b.o.companies, c)
	b.o.companyByID[c.ID] = c
	b.o.data[c.ID] = &Dataset{}
}

func (b *builder) team(t *Team) {
	if b.o.teams[t.ID] != nil {
		b.fail("duplicate team %s", t.ID)
		return
	}
	b.o.teams[t.ID] = t
}

func (b *builder) role(r *Role) {
	if b.o.roles[r.ID] != nil {
		b.fail("duplicate role %s", r.ID)
		return
	}
	b.o.roles[r.ID] = r
}

func (b *builder) user(u *User) {
	if b.o.userByID[u.ID] != nil {
		b.fail("duplicate user %s", u.ID)
		return
	}
	if b.o.userByEmail[normEmail(u.Email)] != nil {
		b.fail("duplicate email %s", u.Email)
		return
	}
	if u.Kind == "" {
		u.Kind = api.KindUser
	}
	if u.PasswordHash == nil {
		u.PasswordHash = b.hash
	}
	if u.Settings == (api.Settings{}) {
		u.Settings = api.Settings{Timezone: "Europe/Berlin", Locale: "en-GB", EmailAlert: true}
	}
	u.pos = int32(len(b.o.users))
	b.o.users = append(b.o.users, u)
	b.o.userByID[u.ID] = u
	b.o.userByEmail[normEmail(u.Email)] = u
}

// resource adds a resource; the company's list is sorted once in finish().
func (b *builder) resource(r *Resource) {
	if b.o.resourceByID[r.ID] != nil {
		b.fail("duplicate resource %s", r.ID)
		return
	}
	if typ, _, _ := strings.Cut(r.ID, ":"); typ != r.Type {
		b.fail("resource %s: id does not start with its type %q", r.ID, r.Type)
	}
	b.o.resources[r.CompanyID] = append(b.o.resources[r.CompanyID], r)
	b.o.resourceByID[r.ID] = r
}

func (b *builder) rule(r *Rule) { b.o.rules = append(b.o.rules, r) }

func (b *builder) dashboard(d *Dashboard) {
	if b.o.dashboards[d.ID] != nil {
		b.fail("duplicate dashboard %s", d.ID)
		return
	}
	b.o.dashboards[d.ID] = d
	b.o.dashboardsByCompany[d.CompanyID] = append(b.o.dashboardsByCompany[d.CompanyID], d)
	b.resource(d.resource())
}

// finish validates every reference, computes team paths and subtree intervals, derives
// users' ranks and builds the search indexes.
func (o *Org) finish() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	for _, t := range o.teams {
		if o.companyByID[t.CompanyID] == nil {
			bad("team %s: no company %q", t.ID, t.CompanyID)
		}
		if t.ParentID != "" {
			p := o.teams[t.ParentID]
			if p == nil {
				bad("team %s: no parent %q", t.ID, t.ParentID)
			} else if p.CompanyID != t.CompanyID {
				bad("team %s: parent %s is in another company", t.ID, p.ID)
			}
		}
		for _, r := range t.Roles {
			if o.roles[r] == nil {
				bad("team %s: no role %q", t.ID, r)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	if err := o.layoutTeams(); err != nil {
		return err
	}
	for _, u := range o.users {
		if u.Kind == api.KindUser && o.companyByID[u.CompanyID] == nil {
			bad("user %s: no company %q", u.ID, u.CompanyID)
		}
		for _, tid := range u.Teams {
			if t := o.teams[tid]; t == nil || t.CompanyID != u.CompanyID {
				bad("user %s: team %q is not in their company", u.ID, tid)
			}
		}
		for _, r := range u.Roles {
			if o.roles[r] == nil {
				bad("user %s: no role %q", u.ID, r)
			}
		}
		o.derive(u)
	}
	for _, r := range o.rules {
		if (r.UserID == "") == (r.TeamID == "") {
			bad("rule %s: exactly one of user and team", r.ID)
		}
		if r.UserID != "" && o.userByID[r.UserID] == nil {
			bad("rule %s: no user %q", r.ID, r.UserID)
		}
		if r.TeamID != "" && o.teams[r.TeamID] == nil {
			bad("rule %s: no team %q", r.ID, r.TeamID)
		}
	}
	for _, d := range o.dashboards {
		if o.userByID[d.OwnerID] == nil {
			bad("dashboard %s: no owner %q", d.ID, d.OwnerID)
		}
	}
	for cid, list := range o.resources {
		for _, r := range list {
			if r.TeamID != "" && (o.teams[r.TeamID] == nil || o.teams[r.TeamID].CompanyID != cid) {
				bad("resource %s: team %q is not in its company", r.ID, r.TeamID)
			}
		}
		sort.Slice(list, func(i, j int) bool { return resourceLess(list[i], list[j]) })
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	o.indexRules()
	o.directory = buildDirectory(o.users, o.CompanyName) // once, in bulk: company directories are views of it
	return nil
}

// layoutTeams numbers the team forest depth-first (children by name), giving each team
// its path and subtree interval; it refuses a parent cycle.
func (o *Org) layoutTeams() error {
	children := map[string][]*Team{}
	var roots []*Team
	for _, t := range o.teams {
		if t.ParentID == "" {
			roots = append(roots, t)
		} else {
			children[t.ParentID] = append(children[t.ParentID], t)
		}
	}
	byName := func(ts []*Team) {
		sort.Slice(ts, func(i, j int) bool {
			if ts[i].CompanyID != ts[j].CompanyID {
				return ts[i].CompanyID < ts[j].CompanyID
			}
			return ts[i].Name < ts[j].Name
		})
	}
	byName(roots)
	counter, seen := 0, 0
	var walk func(t *Team, prefix string)
	walk = func(t *Team, prefix string) {
		seen++
		t.path = t.Name
		if prefix != "" {
			t.path = prefix + " / " + t.Name
		}
		t.in = counter
		counter++
		kids := children[t.ID]
		byName(kids)
		for _, k := range kids {
			walk(k, t.path)
		}
		t.out = counter
	}
	for _, r := range roots {
		walk(r, "")
	}
	if seen != len(o.teams) {
		return fmt.Errorf("teams: %d of %d are not reachable from a root (a parent cycle)", len(o.teams)-seen, len(o.teams))
	}
	return nil
}

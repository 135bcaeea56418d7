package org

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// Role kinds every company defines; a company's role id is "r-<slug>-<kind>".
const (
	RoleTechnician   = "technician"
	RoleFinance      = "finance"
	RoleFleetManager = "fleet-manager"
	RoleRegional     = "regional"
	RoleOpsLead      = "ops-lead"
	RoleAdmin        = "admin"
)

// Staff role ids.
const (
	RoleSupportAgent = "r-support-agent"
	RoleSupportAdmin = "r-support-admin"
)

// Dashboard templates: the widget sets the views package knows how to compute.
const (
	TemplateFleet       = "fleet"
	TemplateMaintenance = "maintenance"
	TemplateFuel        = "fuel"
	TemplateBilling     = "billing"
	TemplateDrivers     = "drivers"
	TemplateSafety      = "safety"
	TemplateRegion      = "region"  // a personal overview of the viewer's area
	TemplateMyJobs      = "my-jobs" // the viewer's own maintenance jobs
)

// StandardTemplates are the dashboards every company gets.
var StandardTemplates = []string{TemplateFleet, TemplateMaintenance, TemplateFuel, TemplateBilling, TemplateDrivers, TemplateSafety}

var templateTitles = map[string][2]string{
	TemplateFleet:       {"Fleet overview", "Vehicles, their status and who drives them"},
	TemplateMaintenance: {"Maintenance", "Open and recent workshop jobs"},
	TemplateFuel:        {"Fuel & distance", "Kilometres driven and fuel used, last 14 days"},
	TemplateBilling:     {"Billing", "Invoices and monthly spend"},
	TemplateDrivers:     {"Drivers", "Drivers, licences and hours this week"},
	TemplateSafety:      {"Safety", "Incidents over the last 60 days"},
	TemplateRegion:      {"My area at a glance", "A personal overview"},
	TemplateMyJobs:      {"My jobs", "Workshop jobs assigned to me"},
}

// RoleID returns a company's role id for a role kind.
func RoleID(companySlug, kind string) string { return "r-" + companySlug + "-" + kind }

// DashboardID returns a company's standard dashboard id for a template.
func DashboardID(companySlug, template string) string { return "d-" + companySlug + "-" + template }

func perms(teamScoped bool, t Target, actions ...string) []Perm {
	out := make([]Perm, len(actions))
	for i, a := range actions {
		out[i] = Perm{Action: a, Target: t, TeamScoped: teamScoped}
	}
	return out
}

// companyRoles defines a company's roles. They are per company because they name its
// dashboards; ranks are the same everywhere.
func companyRoles(slug string) []*Role {
	dash := func(template string) Target { return One(TypeDashboard + ":" + DashboardID(slug, template)) }
	all := []string{ActionView, ActionCreate, ActionEdit, ActionDelete, ActionShare, ActionExport}
	join := func(groups ...[]Perm) []Perm {
		var out []Perm
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	fleetManager := func(teamScoped bool) []Perm {
		return join(
			perms(teamScoped, AllOf(TypeVehicle), ActionView, ActionCreate, ActionEdit, ActionDelete, ActionShare, ActionExport),
			perms(teamScoped, AllOf(TypeDriver), ActionView, ActionEdit, ActionExport),
			perms(false, AllOf(TypeSite), ActionView),
			perms(false, AllOf(TypeReport), ActionView, ActionExport),
			perms(false, AllOf(TypeDashboard), ActionCreate),
			perms(false, dash(TemplateFleet), ActionView, ActionShare),
			perms(false, dash(TemplateMaintenance), ActionView, ActionShare),
			perms(false, dash(TemplateFuel), ActionView, ActionShare, ActionExport),
			perms(false, dash(TemplateDrivers), ActionView),
			perms(false, dash(TemplateSafety), ActionView, ActionExport),
		)
	}
	var admin []Perm
	for _, typ := range []string{TypeVehicle, TypeDriver, TypeSite, TypeInvoice, TypeReport, TypeDashboard, TypeAsset} {
		admin = append(admin, perms(false, AllOf(typ), all...)...)
	}
	admin = append(admin, Perm{Action: ActionImpersonate, Target: AllOf(TypeUser)})
	return []*Role{
		{ID: RoleID(slug, RoleTechnician), Name: "Technician", Rank: 10,
			Description: "Maintains the vehicles of their team",
			Perms: join(
				perms(true, AllOf(TypeVehicle), ActionView, ActionEdit),
				perms(true, AllOf(TypeDriver), ActionView),
				perms(true, AllOf(TypeAsset), ActionView),
				perms(false, AllOf(TypeSite), ActionView),
				perms(false, AllOf(TypeDashboard), ActionCreate),
				perms(false, dash(TemplateMaintenance), ActionView),
				perms(false, dash(TemplateSafety), ActionView),
			)},
		{ID: RoleID(slug, RoleRegional), Name: "Regional Reader", Rank: 5,
			Description: "Reads the reports and sites of a region",
			Perms: join(
				perms(false, AllOf(TypeReport), ActionView),
				perms(false, AllOf(TypeSite), ActionView),
				perms(true, AllOf(TypeAsset), ActionView),
			)},
		{ID: RoleID(slug, RoleFinance), Name: "Finance Analyst", Rank: 15,
			Description: "Works with invoices and spend",
			Perms: join(
				perms(false, AllOf(TypeInvoice), ActionView, ActionEdit, ActionExport),
				perms(false, AllOf(TypeReport), ActionView, ActionExport),
				perms(false, AllOf(TypeDashboard), ActionCreate),
				perms(false, dash(TemplateBilling), ActionView, ActionShare, ActionExport),
				perms(false, dash(TemplateFuel), ActionView),
			)},
		{ID: RoleID(slug, RoleFleetManager), Name: "Fleet Manager", Rank: 20,
			Description: "Runs the vehicles and drivers of their team and its sub-teams",
			Perms:       join(fleetManager(true), perms(true, AllOf(TypeAsset), ActionView, ActionEdit, ActionExport))},
		{ID: RoleID(slug, RoleOpsLead), Name: "Operations Lead", Rank: 50,
			Description: "Runs the whole fleet; may shadow the people they support",
			Perms: join(fleetManager(false),
				perms(false, AllOf(TypeAsset), ActionView, ActionEdit, ActionExport),
				perms(false, dash(TemplateBilling), ActionView),
				[]Perm{{Action: ActionImpersonate, Target: AllOf(TypeUser)}})},
		{ID: RoleID(slug, RoleAdmin), Name: "Company Admin", Rank: 100, Admin: true,
			Description: "Administers the company account", Perms: admin},
	}
}

func staffRoles() []*Role {
	imp := []Perm{{Action: ActionImpersonate, Target: AllOf(TypeUser)}}
	return []*Role{
		{ID: RoleSupportAgent, Name: "Support Agent", Rank: 200, Staff: true,
			Description: "Vendor support: may shadow customers' users", Perms: imp},
		{ID: RoleSupportAdmin, Name: "Support Admin", Rank: 300, Staff: true,
			Description: "Vendor support lead", Perms: imp},
	}
}

// companySpec describes one company of a seed compactly; build() expands it into
// teams, roles, users, resources, data and dashboards.
type companySpec struct {
	slug, name, domain string
	enabled, supported bool
	teams              []teamSpec
	users              []userSpec
	fleet              []fleetSpec // vehicles per team
	drivers            []driverSpec
	sites              []string
	invoices           int
	reports            []string
	adminSlug          string // owner of the standard dashboards
	// words, when set, replaces the pools of job kinds, incident descriptions and
	// statuses (the hostile seed puts escape sequences in them).
	words *wordPools
}

type teamSpec struct {
	slug, name, parent string
	roles              []string // role kinds held through the team
}

type userSpec struct {
	slug, name, phone string
	teams             []string // team slugs, primary first
	roles             []string // role kinds held directly
}

type fleetSpec struct {
	team, code string
	n          int
}

type driverSpec struct{ name, team string }

type wordPools struct {
	jobKinds, incidents, statuses, vehicleKinds []string
}

var defaultWords = &wordPools{
	jobKinds:     []string{"Brake check", "Oil change", "Tyre rotation", "Annual inspection", "Battery swap", "Bodywork", "Tachograph calibration"},
	incidents:    []string{"Reversing scrape at depot", "Near miss at junction", "Load shifted in transit", "Windscreen chip", "Late tyre pressure warning", "Minor collision, no injuries"},
	statuses:     []string{"active", "active", "active", "maintenance", "idle"},
	vehicleKinds: []string{"Truck", "Van", "Pickup", "Trailer"},
}

func (b *builder) teamID(c *companySpec, slug string) string { return "t-" + c.slug + "-" + slug }
func (b *builder) userID(c *companySpec, slug string) string { return "u-" + c.slug + "-" + slug }

func (b *builder) build(c *companySpec) {
	cid := "c-" + c.slug
	b.company(&Company{ID: cid, Name: c.name, ImpersonationEnabled: c.enabled, Supported: c.supported})
	for _, r := range companyRoles(c.slug) {
		b.role(r)
	}
	for _, t := range c.teams {
		team := &Team{ID: b.teamID(c, t.slug), CompanyID: cid, Name: t.name}
		if t.parent != "" {
			team.ParentID = b.teamID(c, t.parent)
		}
		for _, k := range t.roles {
			team.Roles = append(team.Roles, RoleID(c.slug, k))
		}
		b.team(team)
	}
	technicians := b.companyUsers(c, cid)
	words := c.words
	if words == nil {
		words = defaultWords
	}
	rng := rand.New(rand.NewPCG(seedOf(c.slug), 0x5eed))
	ds := b.o.data[cid]
	b.fleet(c, cid, rng, words, ds)
	b.jobsAndTrips(c, rng, words, technicians, ds)
	b.money(c, cid, rng, ds)
	for _, t := range StandardTemplates {
		title := templateTitles[t]
		b.dashboard(&Dashboard{ID: DashboardID(c.slug, t), CompanyID: cid, OwnerID: b.userID(c, c.adminSlug),
			Title: title[0], Description: title[1], Template: t, UpdatedAt: b.o.Epoch.Add(-time.Duration(rng.IntN(72)) * time.Hour)})
	}
}

// technician is someone jobs can be assigned to, with the teams they work for.
type technician struct {
	name  string
	teams []string // team ids
}

// companyUsers adds the spec's users and returns those who work as technicians.
func (b *builder) companyUsers(c *companySpec, cid string) []technician {
	teams := make(map[string]teamSpec, len(c.teams))
	for _, t := range c.teams {
		teams[t.slug] = t
	}
	// Users with the same teams or roles share one slice of ids (entities are
	// copy-on-write, so nobody edits it in place): a generated company's 5,000 users
	// name a few crews, and a million separate slices were a tenth of the org's heap.
	ids := map[string][]string{}
	shared := func(prefix string, slugs []string, id func(string) string) []string {
		if len(slugs) == 0 {
			return nil
		}
		key := prefix + strings.Join(slugs, "\x00")
		if out, ok := ids[key]; ok {
			return out
		}
		out := make([]string, len(slugs))
		for i, s := range slugs {
			out[i] = id(s)
		}
		ids[key] = out
		return out
	}
	teamID := func(slug string) string { return b.teamID(c, slug) }
	roleID := func(kind string) string { return RoleID(c.slug, kind) }
	var technicians []technician
	for _, u := range c.users {
		user := &User{ID: b.userID(c, u.slug), Name: u.name, Email: u.slug + "@" + c.domain, Phone: u.phone, CompanyID: cid,
			Teams: shared("t", u.teams, teamID), Roles: shared("r", u.roles, roleID)}
		b.user(user)
		if holdsKind(teams, u, RoleTechnician) {
			technicians = append(technicians, technician{name: u.name, teams: user.Teams})
		}
	}
	return technicians
}

// holdsKind reports whether a spec user holds a role kind directly or through a team
// (ancestors included).
func holdsKind(teams map[string]teamSpec, u userSpec, kind string) bool {
	for _, k := range u.roles {
		if k == kind {
			return true
		}
	}
	for _, slug := range u.teams {
		for t, ok := teams[slug]; ok; t, ok = teams[t.parent] {
			for _, k := range t.roles {
				if k == kind {
					return true
				}
			}
		}
	}
	return false
}

func (b *builder) fleet(c *companySpec, cid string, rng *rand.Rand, w *wordPools, ds *Dataset) {
	for i, d := range c.drivers {
		id := fmt.Sprintf("%s:%s-%02d", TypeDriver, c.slug, i+1)
		first := strings.ToLower(strings.Fields(d.name + " x")[0])
		drv := Driver{ResourceID: id, Name: d.name, TeamID: b.teamID(c, d.team),
			Licence: []string{"C", "CE", "C1", "B"}[rng.IntN(4)],
			Phone:   fmt.Sprintf("+49 30 5550 %04d", 1000+rng.IntN(9000)),
			Email:   fmt.Sprintf("%s.%02d@mail.%s", first, i+1, c.domain),
			// one decimal place
			HoursWeek: round1(18 + rng.Float64()*30),
		}
		ds.Drivers = append(ds.Drivers, drv)
		b.resource(&Resource{ID: id, Type: TypeDriver, Name: d.name, CompanyID: cid, TeamID: drv.TeamID})
	}
	n := 0
	for _, f := range c.fleet {
		for i := 1; i <= f.n; i++ {
			kind := w.vehicleKinds[n%len(w.vehicleKinds)]
			name := fmt.Sprintf("%s %s%d", kind, f.code, i)
			id := fmt.Sprintf("%s:%s-%s%d", TypeVehicle, c.slug, strings.ToLower(sanitizeID(f.code)), i)
			v := Vehicle{ResourceID: id, Name: name, TeamID: b.teamID(c, f.team),
				Status:      w.statuses[rng.IntN(len(w.statuses))],
				Mileage:     20_000 + rng.IntN(280_000),
				FuelL100:    round1(7 + rng.Float64()*24),
				MonthlyCost: math.Round(600 + rng.Float64()*2400),
			}
			if len(ds.Drivers) > 0 {
				v.DriverID = ds.Drivers[n%len(ds.Drivers)].ResourceID
			}
			ds.Vehicles = append(ds.Vehicles, v)
			b.resource(&Resource{ID: id, Type: TypeVehicle, Name: name, CompanyID: cid, TeamID: v.TeamID})
			n++
		}
	}
	for i, s := range c.sites {
		b.resource(&Resource{ID: fmt.Sprintf("%s:%s-%d", TypeSite, c.slug, i+1), Type: TypeSite, Name: s, CompanyID: cid})
	}
	for _, r := range c.reports {
		b.resource(&Resource{ID: TypeReport + ":" + c.slug + "-" + sanitizeID(strings.ToLower(r)), Type: TypeReport, Name: r, CompanyID: cid})
	}
}

// assignee picks who works on a vehicle: a technician of the vehicle's team or of a
// team above it (so they can see the vehicle), else anyone, else the pool. eligible
// memoises the candidates per vehicle team: a generated company has thousands of
// technicians and every job asks.
func (b *builder) assignee(technicians []technician, vehicleTeam string, n int, eligible map[string][]string) string {
	list, ok := eligible[vehicleTeam]
	if !ok {
		for _, tech := range technicians {
			for t := b.o.teams[vehicleTeam]; t != nil; t = b.o.teams[t.ParentID] {
				if slices.Contains(tech.teams, t.ID) {
					list = append(list, tech.name)
					break
				}
			}
		}
		if len(list) == 0 {
			for _, tech := range technicians {
				list = append(list, tech.name)
			}
		}
		eligible[vehicleTeam] = list
	}
	if len(list) == 0 {
		return "Workshop pool"
	}
	return list[n%len(list)]
}

func (b *builder) jobsAndTrips(c *companySpec, rng *rand.Rand, w *wordPools, technicians []technician, ds *Dataset) {
	epoch := b.o.Epoch
	statuses := []string{"open", "in progress", "done", "done"}
	eligible := map[string][]string{}
	for vi, v := range ds.Vehicles {
		for j := range rng.IntN(4) {
			ds.Jobs = append(ds.Jobs, Job{
				ID:         fmt.Sprintf("job-%s-%03d-%d", c.slug, vi+1, j+1),
				VehicleID:  v.ResourceID,
				Technician: b.assignee(technicians, v.TeamID, vi+j, eligible),
				Kind:       w.jobKinds[rng.IntN(len(w.jobKinds))],
				Status:     statuses[rng.IntN(len(statuses))],
				Hours:      round1(0.5 + rng.Float64()*7.5),
				Opened:     epoch.Add(-time.Duration(rng.IntN(14*24)) * time.Hour),
			})
		}
		for d := 13; d >= 0; d-- {
			km := 0.0
			if v.Status != "maintenance" || rng.IntN(4) == 0 {
				km = math.Round(40 + rng.Float64()*360)
			}
			ds.Trips = append(ds.Trips, Trip{VehicleID: v.ResourceID, Day: epoch.AddDate(0, 0, -d), Km: km, FuelL: round1(km * v.FuelL100 / 100)})
		}
		if rng.IntN(2) == 0 {
			ds.Incidents = append(ds.Incidents, Incident{
				VehicleID:   v.ResourceID,
				Date:        epoch.Add(-time.Duration(rng.IntN(60*24)) * time.Hour),
				Severity:    []string{"low", "low", "medium", "high"}[rng.IntN(4)],
				Description: w.incidents[rng.IntN(len(w.incidents))],
			})
		}
	}
}

func (b *builder) money(c *companySpec, cid string, rng *rand.Rand, ds *Dataset) {
	start := time.Date(b.o.Epoch.Year(), b.o.Epoch.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := range c.invoices {
		date := start.AddDate(0, -(c.invoices - 1 - i), 0)
		id := fmt.Sprintf("%s:%s-%s", TypeInvoice, c.slug, date.Format("2006-01"))
		inv := Invoice{ResourceID: id, Number: fmt.Sprintf("INV-%s-%s", strings.ToUpper(c.slug[:min(3, len(c.slug))]), date.Format("200601")),
			Date: date, Amount: math.Round(8_000 + rng.Float64()*30_000), Status: "paid",
			CardLast4: fmt.Sprintf("%04d", rng.IntN(10_000))}
		if i == c.invoices-1 {
			inv.Status = "open"
		}
		ds.Invoices = append(ds.Invoices, inv)
		b.resource(&Resource{ID: id, Type: TypeInvoice, Name: inv.Number, CompanyID: cid})
	}
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// sanitizeID keeps the characters safe in an id (letters, digits, '-').
func sanitizeID(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		case r == ' ' || r == '_':
			return '-'
		}
		return -1
	}, s)
	if out == "" {
		out = "x"
	}
	return out
}

func (b *builder) staff() {
	for _, r := range staffRoles() {
		b.role(r)
	}
	b.user(&User{ID: "u-staff-sam", Name: "Sam Rivera", Email: DemoSupportEmail, Phone: "+1 415 555 0100",
		Kind: api.KindStaff, Roles: []string{RoleSupportAdmin}})
	b.user(&User{ID: "u-staff-alex", Name: "Alex Kim", Email: DemoAgentEmail, Phone: "+1 415 555 0101",
		Kind: api.KindStaff, Roles: []string{RoleSupportAgent}})
	b.user(&User{ID: "u-staff-jordan", Name: "Jordan Lee", Email: DemoNarrowAgentEmail, Phone: "+44 20 7946 0102",
		Kind: api.KindStaff, Roles: []string{RoleSupportAgent}, SupportScope: []string{"c-bluebird"}})
}

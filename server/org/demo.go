package org

import "time"

// The demo organisation's well-known identities. Every seeded account, staff or
// customer, has the password DemoPassword (demo only: it is public).
const (
	DemoPassword = "shadow-demo"

	// DemoSupportEmail is the support admin the embedded demo signs in as: may
	// impersonate in every supported company.
	DemoSupportEmail = "support@shadow.demo"
	// DemoAgentEmail is a support agent (same scope as the support admin, lower rank).
	DemoAgentEmail = "agent@shadow.demo"
	// DemoNarrowAgentEmail is a support agent who may support Bluebird Couriers only.
	DemoNarrowAgentEmail = "jordan@shadow.demo"

	// DemoFleetManagerEmail is Nora Lindqvist, Fleet Manager of team North at Acme
	// Logistics: sees North and its sub-teams' rows, has an explicit deny (delete
	// vehicles; one vehicle under legal hold) and a direct grant (billing dashboard).
	DemoFleetManagerEmail = "nora@acme.demo"
	DemoFleetManagerID    = "u-acme-nora"
	// DemoSouthFleetManagerEmail is Sven Dahl, Fleet Manager of team South.
	DemoSouthFleetManagerEmail = "sven@acme.demo"
	// DemoTechnicianEmail is Tomás Ortega, Technician in North / North-East.
	DemoTechnicianEmail = "tomas@acme.demo"
	DemoTechnicianID    = "u-acme-tomas"
	// DemoCompanyAdminEmail is Ada Okafor, Acme's company admin: may impersonate
	// Acme's non-admin users, is never impersonable herself.
	DemoCompanyAdminEmail = "ada@acme.demo"
	DemoCompanyAdminID    = "u-acme-ada"
	// DemoOpsLeadEmail is Omar Haddad, Operations Lead: a non-admin who may impersonate
	// within Acme, but not his peer DemoPeerOpsLeadEmail (equal rank).
	DemoOpsLeadEmail     = "omar@acme.demo"
	DemoPeerOpsLeadEmail = "olivia@acme.demo"
	// DemoNoRoleEmail is Kai Yamamoto, a new hire with no role (one direct grant).
	DemoNoRoleEmail = "kai@acme.demo"
	// DemoOptedOutEmail is Per Olsen at Polar Haulage, which switched impersonation off.
	DemoOptedOutEmail = "per@polar.demo"
	DemoOptedOutID    = "u-polar-per"
	// DemoOutOfScopeEmail is Olga Petrova at Orbit Freight, outside support's scope.
	DemoOutOfScopeEmail = "olga@orbit.demo"
	DemoOutOfScopeID    = "u-orbit-olga"
	// DemoHostileEmail is an impersonable user of the hostile company (Seed.Hostile
	// only), whose name carries an OSC title-setting sequence.
	DemoHostileEmail = "eve@hostile.demo"
)

// Demo company ids.
const (
	CompanyAcme     = "c-acme"
	CompanyBluebird = "c-bluebird"
	CompanyPolar    = "c-polar"
	CompanyOrbit    = "c-orbit"
	CompanyHostile  = "c-hostile"
)

func (b *builder) demo() {
	b.build(acmeSpec)
	b.build(bluebirdSpec)
	b.build(polarSpec)
	b.build(orbitSpec)
	b.demoRules()
	b.personalDashboards()
}

var acmeSpec = &companySpec{
	slug: "acme", name: "Acme Logistics", domain: "acme.demo", enabled: true, supported: true,
	adminSlug: "ada",
	teams: []teamSpec{
		{slug: "head-office", name: "Head Office"},
		{slug: "operations", name: "Operations"},
		{slug: "north", name: "North", roles: []string{RoleRegional}},
		{slug: "north-east", name: "North-East", parent: "north"},
		{slug: "north-west", name: "North-West", parent: "north", roles: []string{RoleTechnician}},
		{slug: "south", name: "South", roles: []string{RoleRegional}},
		{slug: "south-coast", name: "South-Coast", parent: "south", roles: []string{RoleTechnician}},
		{slug: "workshop", name: "Workshop", roles: []string{RoleTechnician}},
		{slug: "finance", name: "Finance", roles: []string{RoleFinance}},
	},
	users: []userSpec{
		{slug: "ada", name: "Ada Okafor", phone: "+49 30 5550 0001", teams: []string{"head-office"}, roles: []string{RoleAdmin}},
		{slug: "aaron", name: "Aaron Blake", phone: "+49 30 5550 0002", teams: []string{"head-office"}, roles: []string{RoleAdmin}},
		{slug: "omar", name: "Omar Haddad", phone: "+49 30 5550 0003", teams: []string{"operations"}, roles: []string{RoleOpsLead}},
		{slug: "olivia", name: "Olivia Chen", phone: "+49 30 5550 0004", teams: []string{"operations"}, roles: []string{RoleOpsLead}},
		{slug: "kai", name: "Kai Yamamoto", phone: "+49 30 5550 0005", teams: []string{"operations"}},
		{slug: "nora", name: "Nora Lindqvist", phone: "+49 30 5550 0010", teams: []string{"north"}, roles: []string{RoleFleetManager}},
		{slug: "hugo", name: "Hugo Martin", phone: "+49 30 5550 0011", teams: []string{"north"}, roles: []string{RoleTechnician}},
		{slug: "priya", name: "Priya Natarajan", phone: "+49 30 5550 0012", teams: []string{"north-east"}, roles: []string{RoleFleetManager}},
		{slug: "tomas", name: "Tomás Ortega", phone: "+49 30 5550 0013", teams: []string{"north-east"}, roles: []string{RoleTechnician}},
		{slug: "nia", name: "Nia Evans", phone: "+49 30 5550 0014", teams: []string{"north-east"}, roles: []string{RoleTechnician}},
		{slug: "ines", name: "Ines Moreau", phone: "+49 30 5550 0015", teams: []string{"north-east", "finance"}, roles: []string{RoleTechnician}},
		{slug: "liam", name: "Liam Foster", phone: "+49 30 5550 0016", teams: []string{"north-west"}, roles: []string{RoleFleetManager}},
		{slug: "noah", name: "Noah Park", phone: "+49 30 5550 0017", teams: []string{"north-west"}},
		{slug: "nadia", name: "Nadia Rahman", phone: "+49 30 5550 0018", teams: []string{"north-west"}},
		{slug: "sven", name: "Sven Dahl", phone: "+49 30 5550 0020", teams: []string{"south"}, roles: []string{RoleFleetManager}},
		{slug: "emma", name: "Emma Schultz", phone: "+49 30 5550 0021", teams: []string{"south"}, roles: []string{RoleTechnician}},
		{slug: "sara", name: "Sara Costa", phone: "+49 30 5550 0022", teams: []string{"south-coast"}},
		{slug: "sean", name: "Sean Murphy", phone: "+49 30 5550 0023", teams: []string{"south-coast"}},
		{slug: "wes", name: "Wes Turner", phone: "+49 30 5550 0030", teams: []string{"workshop"}},
		{slug: "wanda", name: "Wanda Novak", phone: "+49 30 5550 0031", teams: []string{"workshop"}},
		{slug: "felix", name: "Felix Braun", phone: "+49 30 5550 0040", teams: []string{"finance"}},
		{slug: "fiona", name: "Fiona Walsh", phone: "+49 30 5550 0041", teams: []string{"finance"}},
	},
	fleet: []fleetSpec{
		{team: "north", code: "N", n: 3}, {team: "north-east", code: "NE", n: 4}, {team: "north-west", code: "NW", n: 4},
		{team: "south", code: "S", n: 4}, {team: "south-coast", code: "SC", n: 3}, {team: "workshop", code: "W", n: 3},
	},
	drivers: []driverSpec{
		{"Jonas Weber", "north"}, {"Mila Novak", "north-east"}, {"Ravi Shah", "north-east"}, {"Lena Vogel", "north-west"},
		{"Piotr Zielinski", "north-west"}, {"Carla Ruiz", "south"}, {"Dmitri Orlov", "south"}, {"Aisha Bello", "south-coast"},
		{"Tom Becker", "south-coast"}, {"Yara Haddad", "workshop"},
	},
	sites:    []string{"Depot North", "Depot South", "Workshop Hall", "Head Office"},
	invoices: 8,
	reports:  []string{"Fuel Q2", "Safety 2025", "Fleet age", "Cost centres"},
}

var bluebirdSpec = &companySpec{
	slug: "bluebird", name: "Bluebird Couriers", domain: "bluebird.demo", enabled: true, supported: true,
	adminSlug: "bea",
	teams: []teamSpec{
		{slug: "city", name: "City"},
		{slug: "city-centre", name: "City Centre", parent: "city", roles: []string{RoleTechnician}},
		{slug: "regional", name: "Regional"},
		{slug: "finance", name: "Finance", roles: []string{RoleFinance}},
	},
	users: []userSpec{
		{slug: "bea", name: "Bea Collins", phone: "+44 20 7946 0201", teams: []string{"city"}, roles: []string{RoleAdmin}},
		{slug: "ben", name: "Ben Ortiz", phone: "+44 20 7946 0202", teams: []string{"city"}, roles: []string{RoleFleetManager}},
		{slug: "bianca", name: "Bianca Lopez", phone: "+44 20 7946 0203", teams: []string{"city-centre"}},
		{slug: "bella", name: "Bella Moss", phone: "+44 20 7946 0204", teams: []string{"city-centre"}},
		{slug: "beth", name: "Beth Young", phone: "+44 20 7946 0205", teams: []string{"regional"}, roles: []string{RoleFleetManager}},
		{slug: "bruno", name: "Bruno Silva", phone: "+44 20 7946 0206", teams: []string{"regional"}, roles: []string{RoleTechnician}},
		{slug: "boris", name: "Boris Ivanov", phone: "+44 20 7946 0207", teams: []string{"regional"}, roles: []string{RoleTechnician}},
		{slug: "basil", name: "Basil Grant", phone: "+44 20 7946 0208", teams: []string{"finance"}},
	},
	fleet:    []fleetSpec{{team: "city", code: "C", n: 3}, {team: "city-centre", code: "CC", n: 3}, {team: "regional", code: "R", n: 4}},
	drivers:  []driverSpec{{"Gemma Hart", "city"}, {"Owen Price", "city-centre"}, {"Leah Ward", "regional"}, {"Rhys Morgan", "regional"}},
	sites:    []string{"City hub", "Regional hub"},
	invoices: 6,
	reports:  []string{"Deliveries monthly", "Van utilisation"},
}

var polarSpec = &companySpec{
	slug: "polar", name: "Polar Haulage", domain: "polar.demo", enabled: false, supported: true,
	adminSlug: "pia",
	teams: []teamSpec{
		{slug: "arctic", name: "Arctic"},
		{slug: "fjord", name: "Fjord", roles: []string{RoleTechnician}},
	},
	users: []userSpec{
		{slug: "pia", name: "Pia Berg", phone: "+47 21 55 50 301", teams: []string{"arctic"}, roles: []string{RoleAdmin}},
		{slug: "per", name: "Per Olsen", phone: "+47 21 55 50 302", teams: []string{"arctic"}, roles: []string{RoleFleetManager}},
		{slug: "paula", name: "Paula Lind", phone: "+47 21 55 50 303", teams: []string{"fjord"}},
		{slug: "petter", name: "Petter Aas", phone: "+47 21 55 50 304", teams: []string{"fjord"}},
		{slug: "pernille", name: "Pernille Holm", phone: "+47 21 55 50 305", teams: []string{"arctic"}, roles: []string{RoleFinance}},
		{slug: "pavel", name: "Pavel Novak", phone: "+47 21 55 50 306", teams: []string{"arctic"}, roles: []string{RoleTechnician}},
	},
	fleet:    []fleetSpec{{team: "arctic", code: "A", n: 4}, {team: "fjord", code: "F", n: 3}},
	drivers:  []driverSpec{{"Ingrid Dahl", "arctic"}, {"Lars Eide", "fjord"}},
	sites:    []string{"Tromsø yard"},
	invoices: 4,
	reports:  []string{"Winter readiness"},
}

var orbitSpec = &companySpec{
	slug: "orbit", name: "Orbit Freight", domain: "orbit.demo", enabled: true, supported: false,
	adminSlug: "otto",
	teams: []teamSpec{
		{slug: "launch", name: "Launch"},
		{slug: "orbit-ops", name: "Orbit Ops", roles: []string{RoleTechnician}},
	},
	users: []userSpec{
		{slug: "otto", name: "Otto Klein", phone: "+43 1 555 0401", teams: []string{"launch"}, roles: []string{RoleAdmin}},
		{slug: "olga", name: "Olga Petrova", phone: "+43 1 555 0402", teams: []string{"launch"}, roles: []string{RoleFleetManager}},
		{slug: "oscar", name: "Oscar Reyes", phone: "+43 1 555 0403", teams: []string{"orbit-ops"}},
		{slug: "odette", name: "Odette Blanc", phone: "+43 1 555 0404", teams: []string{"orbit-ops"}},
		{slug: "orla", name: "Orla Quinn", phone: "+43 1 555 0405", teams: []string{"launch"}, roles: []string{RoleFinance}},
	},
	fleet:    []fleetSpec{{team: "launch", code: "L", n: 3}, {team: "orbit-ops", code: "O", n: 3}},
	drivers:  []driverSpec{{"Felix Auer", "launch"}, {"Greta Moser", "orbit-ops"}},
	sites:    []string{"Vienna depot"},
	invoices: 4,
	reports:  []string{"Route efficiency"},
}

// demoRules are the demo's direct grants and explicit denies: each shows one way a
// permission cell is decided.
func (b *builder) demoRules() {
	rules := []*Rule{
		{ID: "deny-nora-delete-vehicles", Effect: Deny, UserID: "u-acme-nora", Action: ActionDelete,
			Target: AllOf(TypeVehicle), Label: "fleet policy: only Operations retires vehicles"},
		{ID: "deny-nora-view-n2", Effect: Deny, UserID: "u-acme-nora", Action: ActionView,
			Target: One("vehicle:acme-n2"), Label: "vehicle under legal hold"},
		{ID: "grant-nora-billing", Effect: Allow, UserID: "u-acme-nora", Action: ActionView,
			Target: One("dashboard:" + DashboardID("acme", TemplateBilling)), Label: "monthly cost review"},
		{ID: "grant-nora-invoices", Effect: Allow, UserID: "u-acme-nora", Action: ActionView,
			Target: AllOf(TypeInvoice), Label: "monthly cost review"},
		{ID: "deny-north-west-export-drivers", Effect: Deny, TeamID: "t-acme-north-west", Action: ActionExport,
			Target: AllOf(TypeDriver), Label: "drivers' data stays in the region"},
		{ID: "deny-workshop-edit-w1", Effect: Deny, TeamID: "t-acme-workshop", Action: ActionEdit,
			Target: One("vehicle:acme-w1"), Label: "pool car locked for audit"},
		{ID: "grant-workshop-fleet", Effect: Allow, TeamID: "t-acme-workshop", Action: ActionView,
			Target: One("dashboard:" + DashboardID("acme", TemplateFleet)), Label: "workshop planning"},
		{ID: "grant-tomas-fuel-report", Effect: Allow, UserID: "u-acme-tomas", Action: ActionExport,
			Target: One("report:acme-fuel-q2"), Label: "fuel study"},
		{ID: "grant-kai-sites", Effect: Allow, UserID: "u-acme-kai", Action: ActionView,
			Target: AllOf(TypeSite), Label: "onboarding"},
		{ID: "deny-olivia-impersonate", Effect: Deny, UserID: "u-acme-olivia", Action: ActionImpersonate,
			Target: AllOf(TypeUser), Label: "shadowing not yet approved"},
		{ID: "deny-ben-view-c2", Effect: Deny, UserID: "u-bluebird-ben", Action: ActionView,
			Target: One("vehicle:bluebird-c2"), Label: "insurance claim in progress"},
		{ID: "grant-bruno-share-maint", Effect: Allow, UserID: "u-bluebird-bruno", Action: ActionShare,
			Target: One("dashboard:" + DashboardID("bluebird", TemplateMaintenance)), Label: "workshop lead"},
	}
	for _, r := range rules {
		b.rule(r)
	}
}

// personalDashboards are two user-made dashboards, one shared with a team.
func (b *builder) personalDashboards() {
	region := &Dashboard{ID: "d-acme-nora-north", CompanyID: CompanyAcme, OwnerID: "u-acme-nora",
		Title: "North at a glance", Description: "Nora's overview of team North", Template: TemplateRegion,
		UpdatedAt: b.o.Epoch.Add(-26 * time.Hour)}
	jobs := &Dashboard{ID: "d-acme-tomas-jobs", CompanyID: CompanyAcme, OwnerID: "u-acme-tomas",
		Title: "My jobs", Description: "Workshop jobs assigned to Tomás", Template: TemplateMyJobs,
		UpdatedAt: b.o.Epoch.Add(-5 * time.Hour)}
	b.dashboard(region)
	b.dashboard(jobs)
	b.rule(&Rule{ID: "share-nora-north", Effect: Allow, TeamID: "t-acme-north", Action: ActionView,
		Target: One(region.ResourceID()), Label: "shared by Nora Lindqvist"})
	b.rule(&Rule{ID: "share-nora-operations", Effect: Allow, TeamID: "t-acme-operations", Action: ActionView,
		Target: One(region.ResourceID()), Label: "shared by Nora Lindqvist"})
}

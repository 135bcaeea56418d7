package org

import (
	"fmt"
	"strings"
)

// UsersPerGeneratedCompany is how many generated users share one generated company.
const UsersPerGeneratedCompany = 5000

var (
	firstNames = []string{"Ava", "Ben", "Chloe", "Daniel", "Elif", "Farah", "Georg", "Hana", "Ivan", "Jana",
		"Kofi", "Lucia", "Mateo", "Nina", "Oskar", "Paula", "Quentin", "Rosa", "Stefan", "Tara",
		"Umar", "Vera", "Wilhelm", "Xenia", "Yusuf", "Zoe"}
	lastNames = []string{"Adler", "Brandt", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann",
		"Ivanova", "Jensen", "Kowalski", "Larsen", "Meyer", "Nowak", "Olsen", "Petersen", "Quint",
		"Rossi", "Schmidt", "Tanaka", "Urban", "Varga", "Wagner", "Yilmaz", "Zimmer"}
)

// generateUsers adds n users spread over generated companies of
// UsersPerGeneratedCompany each, all supported with impersonation on. In each, the
// first user is the company admin, one in ten is a Fleet Manager, and the others are
// Technicians through their crew.
func (b *builder) generateUsers(n int) {
	companies := (n + UsersPerGeneratedCompany - 1) / UsersPerGeneratedCompany
	next := 0
	for ci := range companies {
		slug := fmt.Sprintf("gen%03d", ci+1)
		spec := &companySpec{slug: slug, name: fmt.Sprintf("Generated Co %03d", ci+1), domain: slug + ".demo",
			enabled: true, supported: true, invoices: 3, sites: []string{"Main depot"}, reports: []string{"Monthly"}}
		var leaves []string
		for r := range 4 {
			region := fmt.Sprintf("region-%c", 'a'+r)
			spec.teams = append(spec.teams, teamSpec{slug: region, name: fmt.Sprintf("Region %c", 'A'+r)})
			for k := 1; k <= 2; k++ {
				crew := fmt.Sprintf("%s-crew-%d", region, k)
				spec.teams = append(spec.teams, teamSpec{slug: crew, name: fmt.Sprintf("Crew %d", k), parent: region, roles: []string{RoleTechnician}})
				leaves = append(leaves, crew)
			}
			spec.fleet = append(spec.fleet, fleetSpec{team: region, code: strings.ToUpper(region[len(region)-1:]), n: 2})
			spec.drivers = append(spec.drivers, driverSpec{name: fmt.Sprintf("Driver %c", 'A'+r), team: region})
		}
		count := min(UsersPerGeneratedCompany, n-next)
		for i := range count {
			g := next + i
			name := fmt.Sprintf("%s %s %06d", firstNames[g%len(firstNames)], lastNames[(g/len(firstNames))%len(lastNames)], g+1)
			u := userSpec{slug: fmt.Sprintf("u%06d", g+1), name: name, phone: fmt.Sprintf("+49 89 555 %06d", g+1)}
			switch {
			case i == 0:
				u.teams, u.roles = []string{"region-a"}, []string{RoleAdmin}
				spec.adminSlug = u.slug
			case i%10 == 1:
				u.teams, u.roles = []string{spec.teams[(i/10)%len(spec.teams)/3*3].slug}, []string{RoleFleetManager}
			default:
				u.teams = []string{leaves[i%len(leaves)]}
			}
			spec.users = append(spec.users, u)
		}
		next += count
		b.build(spec)
	}
}

// generateResources adds n assets to Acme Logistics, owned round-robin by its
// operational teams, so an Acme user's permission matrix has n more rows.
func (b *builder) generateResources(n int) {
	owners := []string{"t-acme-north", "t-acme-north-east", "t-acme-north-west", "t-acme-south", "t-acme-south-coast", "t-acme-workshop"}
	for i := range n {
		b.resource(&Resource{ID: fmt.Sprintf("%s:acme-%06d", TypeAsset, i+1), Type: TypeAsset,
			Name: fmt.Sprintf("Asset %06d", i+1), CompanyID: CompanyAcme, TeamID: owners[i%len(owners)]})
	}
}

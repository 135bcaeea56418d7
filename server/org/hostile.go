package org

import "strings"

// HostileStrings are the kinds of text a terminal UI must never pass through raw:
// CSI and OSC escape sequences (screen clear, window title, hyperlink), C1 controls,
// bell and backspace, bidi overrides, wide and zero-width characters, an emoji ZWJ
// sequence, and an over-long word. The hostile seed puts them in user, team, company
// and dashboard names and in widget cells.
var HostileStrings = []string{
	"\x1b[2J\x1b[HMallory Clear",
	"Eve \x1b]0;pwned\x07Title",
	"Carl \u009b31mC1 Red",
	"Bidi \u202eevil\u202c txt",
	"全角ユーザー名前テスト",
	"Zero\u200bWidth\u200dJoin",
	"Emoji 👩\u200d🔧🚚",
	"Bell\a and backspace\b\b\b",
	"Link \x1b]8;;http://evil.example\x07click\x1b]8;;\x07",
	"Long" + strings.Repeat("W", 300),
}

func (b *builder) hostile() {
	spec := &companySpec{
		slug: "hostile", name: "Mallory \x1b[31mCorp\x1b[0m", domain: "hostile.demo", enabled: true, supported: true,
		adminSlug: "admin",
		teams: []teamSpec{
			{slug: "red", name: "Red\x1b[41m Team"},
			{slug: "bidi", name: "\u202eevil\u202c sub-team", parent: "red", roles: []string{RoleTechnician}},
		},
		users: []userSpec{
			{slug: "admin", name: "Mallory Admin", phone: "+1 555 0100", teams: []string{"red"}, roles: []string{RoleAdmin}},
			{slug: "clear", name: HostileStrings[0], phone: "+1\x1b[8m555 0101", teams: []string{"bidi"}},
			{slug: "eve", name: HostileStrings[1], phone: "+1 555 0102", teams: []string{"bidi"}},
			{slug: "carl", name: HostileStrings[2], phone: "+1 555 0103", teams: []string{"bidi"}},
			{slug: "bidi", name: HostileStrings[3], phone: "+1 555 0104", teams: []string{"bidi"}},
			{slug: "wide", name: HostileStrings[4], phone: "+1 555 0105", teams: []string{"bidi"}},
			{slug: "zw", name: HostileStrings[5], phone: "+1 555 0106", teams: []string{"bidi"}},
			{slug: "emoji", name: HostileStrings[6], phone: "+1 555 0107", teams: []string{"bidi"}},
			{slug: "bell", name: HostileStrings[7], phone: "+1 555 0108", teams: []string{"bidi"}},
			{slug: "link", name: HostileStrings[8], phone: "+1 555 0109", teams: []string{"bidi"}},
			{slug: "long", name: HostileStrings[9], phone: "+1 555 0110", teams: []string{"red"}, roles: []string{RoleFleetManager}},
		},
		fleet:    []fleetSpec{{team: "red", code: "\x1b[1mR", n: 3}, {team: "bidi", code: "\u202eB", n: 3}},
		drivers:  []driverSpec{{HostileStrings[1], "red"}, {HostileStrings[4], "bidi"}},
		sites:    []string{HostileStrings[8]},
		invoices: 2,
		reports:  []string{"Report \x1b[5mblink"},
		words: &wordPools{
			jobKinds:     HostileStrings,
			incidents:    HostileStrings,
			statuses:     []string{"active", "\x1b[32mactive\x1b[0m", "maint\u200benance"},
			vehicleKinds: []string{"Truck", "全角トラック", "Van\u202e"},
		},
	}
	b.build(spec)
	// A dashboard whose own title and description are hostile.
	b.dashboard(&Dashboard{ID: "d-hostile-title", CompanyID: CompanyHostile, OwnerID: "u-hostile-admin",
		Title: "\x1b[5mBlinking\x1b[0m fleet \u202eoverview", Description: HostileStrings[8],
		Template: TemplateFleet, UpdatedAt: b.o.Epoch})
	b.rule(&Rule{ID: "share-hostile-title", Effect: Allow, TeamID: "t-hostile-red", Action: ActionView,
		Target: One("dashboard:d-hostile-title"), Label: "shared by \x1b[31mMallory\x1b[0m"})
}

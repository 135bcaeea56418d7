package uitest

import (
	"fmt"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/journalview"
)

var (
	firstNames = []string{"Alice", "Bruno", "Chloé", "Dmitri", "Esther", "Farid", "Greta", "Hiroshi", "Ines", "Jonas", "Kemal", "Lucía", "Mei", "Nils", "Olga", "Pavel"}
	lastNames  = []string{"Andersen", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova", "Jensen", "Kowalski", "Larsen"}
	companies  = []string{"Acme Logistics", "Nordwind Freight", "Polar Fleet", "Blue Harbour Haulage"}
	teams      = []string{"North", "North / North-East", "South", "South / Depot 4", "Operations", "Finance"}
	roles      = []string{"Driver", "Dispatcher", "Fleet Manager", "Analyst", "Company Admin"}
)

// Users makes n directory entries, deterministically. Company admins are not
// impersonable (target_privileged), and every 13th user's company opted out.
func Users(n int) []api.User {
	out := make([]api.User, n)
	for i := range out {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
		company := companies[i%len(companies)]
		u := api.User{
			ID:           fmt.Sprintf("u-%06d", i+1),
			Name:         first + " " + last,
			Email:        fmt.Sprintf("%s.%s%d@example.com", lower(first), lower(last), i+1),
			Kind:         api.KindUser,
			CompanyID:    fmt.Sprintf("c-%d", i%len(companies)+1),
			Company:      company,
			Team:         teams[i%len(teams)],
			Role:         roles[i%len(roles)],
			Impersonable: true,
		}
		switch {
		case u.Role == "Company Admin":
			u.Impersonable = false
			u.NotImpersonableCode = api.CodeTargetPrivileged
			u.NotImpersonableReason = "company admins cannot be impersonated"
		case i%13 == 12:
			u.Impersonable = false
			u.NotImpersonableCode = api.CodeImpersonationDisabled
			u.NotImpersonableReason = company + " has switched impersonation off"
		}
		out[i] = u
	}
	return out
}

func lower(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r >= 'A' && r <= 'Z' {
			b[i] = r + 'a' - 'A'
		}
	}
	return string(b)
}

// Actions are twenty permission actions.
var Actions = []string{"read", "list", "create", "update", "delete", "share", "export", "approve", "assign", "archive",
	"comment", "download", "upload", "schedule", "invoice", "refund", "audit", "configure", "invite", "transfer"}

var resourceTypes = []string{"vehicle", "route", "driver", "invoice", "report"}

// Matrix makes a rows × actions permission matrix with a deterministic mix of allow,
// deny and none, and sources for every cell that has an effect.
func Matrix(rows, actions int) *api.PermissionMatrix {
	m := &api.PermissionMatrix{
		Subject: api.UserRef{ID: "u-000001", Name: "Alice Andersen"},
		Actions: append([]string(nil), Actions[:actions]...),
		Sources: []api.PermissionSource{
			{Kind: api.SourceRole, Name: "Driver"},
			{Kind: api.SourceTeam, Name: "Fleet Manager", Via: "North / North-East"},
			{Kind: api.SourceDirect, Name: "night shift routes"},
			{Kind: api.SourceDeny, Name: "finance data", Via: "Finance"},
		},
	}
	m.Rows = make([]api.PermissionRow, rows)
	for i := range m.Rows {
		typ := resourceTypes[i%len(resourceTypes)]
		effects := make([]byte, actions)
		sources := make([]int, actions)
		for a := range effects {
			switch h := (i*31 + a*17 + i*a) % 11; {
			case h < 5:
				effects[a], sources[a] = api.EffectAllow, h%3
			case h < 7:
				effects[a], sources[a] = api.EffectDeny, 3
			default:
				effects[a], sources[a] = api.EffectNone, -1
			}
		}
		m.Rows[i] = api.PermissionRow{
			Resource: api.Resource{ID: fmt.Sprintf("%s:%05d", typ, i+1), Type: typ, Name: fmt.Sprintf("%s %05d", title(typ), i+1)},
			Effects:  string(effects),
			Sources:  sources,
		}
	}
	return m
}

func title(s string) string { return string(s[0]-'a'+'A') + s[1:] }

// Explanation is the chain that decided an allow through a team role.
func Explanation() *api.Explanation {
	return &api.Explanation{
		Subject:  api.UserRef{ID: "u-000001", Name: "Alice Andersen"},
		Resource: api.Resource{ID: "vehicle:00001", Type: "vehicle", Name: "Vehicle 00001"},
		Action:   "update",
		Effect:   api.EffectNameAllow,
		Steps: []api.ExplainStep{
			{Kind: "membership", Text: "Alice Andersen is a member of team North-East"},
			{Kind: "parent_team", Text: "Team North-East is part of team North"},
			{Kind: "role", Text: "Team North holds role Fleet Manager, which allows update on vehicles", Effect: api.EffectNameAllow, Decisive: true},
			{Kind: "default", Text: "Without a grant, nothing is allowed"},
		},
	}
}

// DashboardList is four dashboards.
func DashboardList() *api.DashboardList {
	t := time.Date(2025, 3, 13, 16, 0, 0, 0, time.UTC)
	owner := api.UserRef{ID: "u-000003", Name: "Chloé Andersen"}
	return &api.DashboardList{Dashboards: []api.DashboardSummary{
		{ID: "d-fleet", Title: "Fleet overview", Description: "Vehicles, trips and depots", Owner: owner, WidgetCount: 6, UpdatedAt: t},
		{ID: "d-ontime", Title: "On-time delivery", Owner: owner, WidgetCount: 3, UpdatedAt: t},
		{ID: "d-costs", Title: "Fuel and maintenance costs", Owner: owner, WidgetCount: 4, UpdatedAt: t},
		{ID: "d-drivers", Title: "Driver hours", Owner: owner, WidgetCount: 2, UpdatedAt: t},
	}}
}

// Dashboard is "Fleet overview" with every kind of widget, some values redacted and a
// table that shows 12 of 40 rows.
func Dashboard() *api.Dashboard {
	list := DashboardList()
	prevVehicles, prevOnTime := 120.0, 95.1
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var north, south []api.SeriesPoint
	for d := 0; d < 14; d++ {
		t := start.AddDate(0, 0, d)
		north = append(north, api.SeriesPoint{T: t, V: float64(40 + (d*7)%19 + d)})
		south = append(south, api.SeriesPoint{T: t, V: float64(30 + (d*5)%13)})
	}
	table := &api.TableData{
		Columns: []api.TableColumn{
			{Key: "trip", Title: "Trip"},
			{Key: "driver", Title: "Driver"},
			{Key: "vehicle", Title: "Vehicle"},
			{Key: "km", Title: "Distance km", Numeric: true},
			{Key: "phone", Title: "Driver phone", Sensitive: true},
		},
		TotalRows: 40,
	}
	for i := 0; i < 12; i++ {
		table.Rows = append(table.Rows, api.TableRow{Cells: []api.Cell{
			{Value: fmt.Sprintf("T-%04d", 1200+i)},
			{Value: firstNames[i%len(firstNames)] + " " + lastNames[i%len(lastNames)]},
			{Value: fmt.Sprintf("Truck %02d", i%9+1)},
			{Value: fmt.Sprintf("%d", 120+i*37%300)},
			{Redacted: true},
		}})
	}
	return &api.Dashboard{
		DashboardSummary: list.Dashboards[0],
		Scope:            "team North and its sub-teams",
		SharedWith:       []api.DashboardShareRef{{Kind: api.ShareTeam, ID: "t-north", Name: "North"}},
		Widgets: []api.Widget{
			{ID: "w1", Kind: api.WidgetKPI, Title: "Active vehicles", KPI: &api.KPIData{Value: 128, Unit: "vehicles", Previous: &prevVehicles}},
			{ID: "w2", Kind: api.WidgetKPI, Title: "On-time rate", KPI: &api.KPIData{Value: 93.4, Unit: "%", Previous: &prevOnTime}},
			{ID: "w3", Kind: api.WidgetKPI, Title: "Revenue this month", KPI: &api.KPIData{Unit: "EUR", Redacted: true}, Redacted: true},
			{ID: "w4", Kind: api.WidgetSeries, Title: "Deliveries per day", Series: &api.SeriesData{Unit: "deliveries", Lines: []api.SeriesLine{{Name: "North", Points: north}, {Name: "South", Points: south}}}},
			{ID: "w5", Kind: api.WidgetBar, Title: "Vehicles by depot", Bar: &api.BarData{Unit: "vehicles", Bars: []api.BarItem{
				{Label: "Depot 1", Value: 42}, {Label: "Depot 2", Value: 31}, {Label: "Depot 3", Value: 18.5}, {Label: "Depot 4 (Harbour)", Value: 27}, {Label: "Depot 5", Value: 9.5},
			}}},
			{ID: "w6", Kind: api.WidgetTable, Title: "Recent trips", Table: table, Redacted: true},
		},
	}
}

// JournalEntries is a session's journal: start, views, an explain, with the last few
// records not yet synced.
func JournalEntries(n int) []journalview.Entry {
	actions := []struct{ action, details string }{
		{api.ActionSessionStart, "reason: TICKET-4411 driver cannot see route"},
		{api.ActionView, "dashboards: list"},
		{api.ActionView, "dashboard d-fleet: Fleet overview"},
		{api.ActionView, "permissions: 5000 resources × 20 actions"},
		{api.ActionExplain, "update on vehicle:00001: allow"},
	}
	out := make([]journalview.Entry, n)
	for i := range out {
		a := actions[i%len(actions)]
		sync := journalview.Synced
		if i >= n-3 {
			sync = journalview.Pending
		}
		out[i] = journalview.Entry{
			Seq: uint64(i + 1), EventID: fmt.Sprintf("01JF%022d", i+1), SessionID: "ses_7f3a9e0c1d2e",
			Time: Now.Add(time.Duration(i*7) * time.Second), Action: a.action, Actor: "Sam Support", User: "Alice Andersen", Details: a.details, Sync: sync,
		}
	}
	return out
}

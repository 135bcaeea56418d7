package views

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
)

// ctx is one render: the viewer's visible rows of the company's data, computed once
// and shared by the dashboard's widgets.
type ctx struct {
	o        *org.Org
	v        Viewer
	data     *org.Dataset
	vehicles []org.Vehicle
	visible  map[string]bool // vehicle resource id -> visible
	drivers  []org.Driver
	invoices []org.Invoice
	epoch    time.Time
}

func newCtx(o *org.Org, v Viewer, d *org.Dashboard) *ctx {
	c := &ctx{o: o, v: v, data: o.Dataset(d.CompanyID), visible: map[string]bool{}, epoch: o.Epoch}
	if d.CompanyID != v.user().CompanyID {
		// A dashboard of another company is never rendered (CanView refuses it); if it
		// were, the viewer would see no rows.
		return c
	}
	for _, x := range c.data.Vehicles {
		if v.Subject.ReadsID(x.ResourceID) {
			c.vehicles = append(c.vehicles, x)
			c.visible[x.ResourceID] = true
		}
	}
	for _, x := range c.data.Drivers {
		if v.Subject.ReadsID(x.ResourceID) {
			c.drivers = append(c.drivers, x)
		}
	}
	for _, x := range c.data.Invoices {
		if v.Subject.ReadsID(x.ResourceID) {
			c.invoices = append(c.invoices, x)
		}
	}
	return c
}

// onVisibleVehicles keeps the rows about a vehicle the viewer may see.
func onVisibleVehicles[T any](c *ctx, rows []T, vehicle func(T) string) []T {
	var out []T
	for _, r := range rows {
		if c.visible[vehicle(r)] {
			out = append(out, r)
		}
	}
	return out
}

func (c *ctx) jobs() []org.Job {
	return onVisibleVehicles(c, c.data.Jobs, func(j org.Job) string { return j.VehicleID })
}

func (c *ctx) trips() []org.Trip {
	return onVisibleVehicles(c, c.data.Trips, func(t org.Trip) string { return t.VehicleID })
}

func (c *ctx) incidents() []org.Incident {
	return onVisibleVehicles(c, c.data.Incidents, func(x org.Incident) string { return x.VehicleID })
}

func (c *ctx) teamName(id string) string {
	if t := c.o.Team(id); t != nil {
		return t.Path()
	}
	return "—"
}

func (c *ctx) vehicle(id string) org.Vehicle {
	for _, v := range c.data.Vehicles {
		if v.ResourceID == id {
			return v
		}
	}
	return org.Vehicle{Name: id}
}

func (c *ctx) driver(id string) org.Driver {
	for _, d := range c.data.Drivers {
		if d.ResourceID == id {
			return d
		}
	}
	return org.Driver{}
}

type widgetFunc func(*ctx) api.Widget

// templates maps a dashboard template to its widgets, in display order.
var templates = map[string][]widgetFunc{
	org.TemplateFleet:       {kpiActive, kpiInMaintenance, barVehiclesByTeam, tableVehicles},
	org.TemplateMaintenance: {kpiOpenJobs, kpiWorkshopHours, barJobsByStatus, seriesJobsOpened, tableJobs},
	org.TemplateFuel:        {kpiDistance, kpiConsumption, seriesKmByTeam, barFuelByTeam},
	org.TemplateBilling:     {kpiSpend, tableInvoices, seriesSpend, barCostByTeam},
	org.TemplateDrivers:     {kpiDrivers, kpiDriverHours, barHoursByTeam, tableDrivers},
	org.TemplateSafety:      {kpiIncidents, kpiHighSeverity, seriesIncidentsPerWeek, barBySeverity, tableIncidents},
	org.TemplateRegion:      {kpiActive, seriesKmByTeam, tableOpenJobs},
	org.TemplateMyJobs:      {kpiMyOpenJobs, barMyHoursByKind, tableMyJobs},
}

// ---- building blocks

// noun is what a count counts, in the singular and the plural.
type noun struct{ one, many string }

var (
	vehicles  = noun{"vehicle", "vehicles"}
	jobs      = noun{"job", "jobs"}
	drivers   = noun{"driver", "drivers"}
	incidents = noun{"incident", "incidents"}

	countNouns = []noun{vehicles, jobs, drivers, incidents}
)

// of is the unit for n of it.
func (w noun) of(n int) string {
	if n == 1 {
		return w.one
	}
	return w.many
}

// count is a KPI that counts: its unit agrees with its value ("1 vehicle", "3
// vehicles"), which the UI prints side by side. Bars and series of counts carry no
// unit: one unit stands for many values there, and their titles name what is counted.
func count(c *ctx, title string, n int, what noun) api.Widget {
	return kpi(title, what.of(n), float64(n), nil, false, c.v.Redact)
}

func kpi(title, unit string, value float64, previous *float64, sensitive bool, redact bool) api.Widget {
	w := api.Widget{Kind: api.WidgetKPI, Title: title, KPI: &api.KPIData{Value: value, Unit: unit, Previous: previous}}
	if sensitive && redact {
		w.KPI.Value, w.KPI.Previous, w.KPI.Redacted, w.Redacted = 0, nil, true, true
	}
	return w
}

// table builds a table widget; cells of sensitive columns are withheld when redacting.
func table(title string, cols []api.TableColumn, rows [][]string, total int, redact bool) api.Widget {
	t := &api.TableData{Columns: cols, Rows: make([]api.TableRow, len(rows)), TotalRows: total}
	w := api.Widget{Kind: api.WidgetTable, Title: title, Table: t}
	for i, r := range rows {
		cells := make([]api.Cell, len(cols))
		for j := range cols {
			cells[j].Value = r[j]
			if redact && cols[j].Sensitive {
				cells[j] = api.Cell{Redacted: true}
				w.Redacted = true
			}
		}
		t.Rows[i] = api.TableRow{Cells: cells}
	}
	return w
}

func series(title, unit string, lines []api.SeriesLine, sensitive, redact bool) api.Widget {
	w := api.Widget{Kind: api.WidgetSeries, Title: title, Series: &api.SeriesData{Unit: unit, Lines: lines}}
	if w.Series.Lines == nil {
		w.Series.Lines = []api.SeriesLine{}
	}
	if sensitive && redact {
		w.Series.Lines, w.Redacted = []api.SeriesLine{}, true
	}
	return w
}

func bar(title, unit string, bars []api.BarItem, sensitive, redact bool) api.Widget {
	w := api.Widget{Kind: api.WidgetBar, Title: title, Bar: &api.BarData{Unit: unit, Bars: bars}}
	if w.Bar.Bars == nil {
		w.Bar.Bars = []api.BarItem{}
	}
	if sensitive && redact {
		w.Bar.Bars, w.Redacted = []api.BarItem{}, true
	}
	return w
}

// tally turns counts by label into bars sorted by label.
func tally(m map[string]float64) []api.BarItem {
	out := make([]api.BarItem, 0, len(m))
	for k, v := range m {
		out = append(out, api.BarItem{Label: k, Value: round1(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

func col(key, title string) api.TableColumn { return api.TableColumn{Key: key, Title: title} }
func num(key, title string) api.TableColumn {
	return api.TableColumn{Key: key, Title: title, Numeric: true}
}
func secret(c api.TableColumn) api.TableColumn { c.Sensitive = true; return c }

func itoa(n int) string        { return strconv.Itoa(n) }
func money(f float64) string   { return strconv.FormatFloat(f, 'f', 2, 64) }
func one(f float64) string     { return strconv.FormatFloat(f, 'f', 1, 64) }
func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func round1(f float64) float64 { return math.Round(f*10) / 10 }
func ptr(f float64) *float64   { return &f }

// days are the 14 days the trip data covers, oldest first.
func (c *ctx) days() []time.Time {
	out := make([]time.Time, 14)
	for i := range out {
		out[i] = c.epoch.AddDate(0, 0, i-13)
	}
	return out
}

// ---- fleet

func kpiActive(c *ctx) api.Widget {
	n := 0
	for _, v := range c.vehicles {
		if v.Status == "active" {
			n++
		}
	}
	return count(c, "Active vehicles", n, vehicles)
}

func kpiInMaintenance(c *ctx) api.Widget {
	n := 0
	for _, v := range c.vehicles {
		if v.Status == "maintenance" {
			n++
		}
	}
	return count(c, "In maintenance", n, vehicles)
}

func barVehiclesByTeam(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, v := range c.vehicles {
		m[c.teamName(v.TeamID)]++
	}
	return bar("Vehicles by team", "", tally(m), false, c.v.Redact)
}

func tableVehicles(c *ctx) api.Widget {
	cols := []api.TableColumn{col("name", "Vehicle"), col("team", "Team"), col("status", "Status"),
		num("mileage", "Mileage (km)"), col("driver", "Driver"), secret(col("driver_phone", "Driver phone")),
		secret(num("monthly_cost", "Monthly cost (EUR)"))}
	rows := make([][]string, 0, len(c.vehicles))
	for _, v := range c.vehicles {
		d := c.driver(v.DriverID)
		rows = append(rows, []string{v.Name, c.teamName(v.TeamID), v.Status, itoa(v.Mileage), d.Name, d.Phone, money(v.MonthlyCost)})
	}
	return table("Vehicles", cols, rows, len(c.data.Vehicles), c.v.Redact)
}

// ---- maintenance

func kpiOpenJobs(c *ctx) api.Widget {
	n := 0
	for _, j := range c.jobs() {
		if j.Status != "done" {
			n++
		}
	}
	return count(c, "Open jobs", n, jobs)
}

func kpiWorkshopHours(c *ctx) api.Widget {
	h := 0.0
	for _, j := range c.jobs() {
		h += j.Hours
	}
	return kpi("Workshop hours, 14 days", "h", round1(h), nil, false, c.v.Redact)
}

func barJobsByStatus(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, j := range c.jobs() {
		m[j.Status]++
	}
	return bar("Jobs by status", "", tally(m), false, c.v.Redact)
}

func seriesJobsOpened(c *ctx) api.Widget {
	days := c.days()
	counts := make([]float64, len(days))
	for _, j := range c.jobs() {
		for i, d := range days {
			if !j.Opened.Before(d) && j.Opened.Before(d.AddDate(0, 0, 1)) {
				counts[i]++
			}
		}
	}
	line := api.SeriesLine{Name: "Jobs opened"}
	for i, d := range days {
		line.Points = append(line.Points, api.SeriesPoint{T: d, V: counts[i]})
	}
	return series("Jobs opened per day", "", []api.SeriesLine{line}, false, c.v.Redact)
}

func jobRows(c *ctx, jobs []org.Job) [][]string {
	rows := make([][]string, 0, len(jobs))
	for _, j := range jobs {
		rows = append(rows, []string{c.vehicle(j.VehicleID).Name, j.Kind, j.Technician, j.Status, one(j.Hours), day(j.Opened)})
	}
	return rows
}

var jobCols = []api.TableColumn{col("vehicle", "Vehicle"), col("kind", "Job"), col("technician", "Technician"),
	col("status", "Status"), num("hours", "Hours"), col("opened", "Opened")}

func tableJobs(c *ctx) api.Widget {
	return table("Jobs", jobCols, jobRows(c, c.jobs()), len(c.data.Jobs), c.v.Redact)
}

func tableOpenJobs(c *ctx) api.Widget {
	var open []org.Job
	for _, j := range c.jobs() {
		if j.Status != "done" {
			open = append(open, j)
		}
	}
	total := 0
	for _, j := range c.data.Jobs {
		if j.Status != "done" {
			total++
		}
	}
	return table("Open jobs", jobCols, jobRows(c, open), total, c.v.Redact)
}

// ---- my jobs: the viewer's own (matched by name, as the workshop system assigns them)

func (c *ctx) myJobs() []org.Job {
	var out []org.Job
	for _, j := range c.jobs() {
		if j.Technician == c.v.user().Name {
			out = append(out, j)
		}
	}
	return out
}

func kpiMyOpenJobs(c *ctx) api.Widget {
	n := 0
	for _, j := range c.myJobs() {
		if j.Status != "done" {
			n++
		}
	}
	return count(c, "Open jobs assigned to me", n, jobs)
}

func barMyHoursByKind(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, j := range c.myJobs() {
		m[j.Kind] += j.Hours
	}
	return bar("My hours by job", "h", tally(m), false, c.v.Redact)
}

func tableMyJobs(c *ctx) api.Widget {
	mine := 0
	for _, j := range c.data.Jobs {
		if j.Technician == c.v.user().Name {
			mine++
		}
	}
	return table("My jobs", jobCols, jobRows(c, c.myJobs()), mine, c.v.Redact)
}

// ---- fuel

func kpiDistance(c *ctx) api.Widget {
	cut := c.epoch.AddDate(0, 0, -6)
	var now, before float64
	for _, t := range c.trips() {
		if t.Day.Before(cut) {
			before += t.Km
		} else {
			now += t.Km
		}
	}
	return kpi("Distance, last 7 days", "km", now, ptr(before), false, c.v.Redact)
}

func kpiConsumption(c *ctx) api.Widget {
	var km, fuel float64
	for _, t := range c.trips() {
		km += t.Km
		fuel += t.FuelL
	}
	v := 0.0
	if km > 0 {
		v = round1(fuel / km * 100)
	}
	return kpi("Average consumption", "L/100 km", v, nil, false, c.v.Redact)
}

func seriesKmByTeam(c *ctx) api.Widget {
	days := c.days()
	byTeam := map[string][]float64{}
	for _, t := range c.trips() {
		team := c.teamName(c.vehicle(t.VehicleID).TeamID)
		if byTeam[team] == nil {
			byTeam[team] = make([]float64, len(days))
		}
		if i := int(t.Day.Sub(days[0]).Hours() / 24); i >= 0 && i < len(days) {
			byTeam[team][i] += t.Km
		}
	}
	names := make([]string, 0, len(byTeam))
	for n := range byTeam {
		names = append(names, n)
	}
	sort.Strings(names)
	lines := make([]api.SeriesLine, 0, len(names))
	for _, n := range names {
		l := api.SeriesLine{Name: n}
		for i, d := range days {
			l.Points = append(l.Points, api.SeriesPoint{T: d, V: byTeam[n][i]})
		}
		lines = append(lines, l)
	}
	return series("Kilometres per day by team", "km", lines, false, c.v.Redact)
}

func barFuelByTeam(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, t := range c.trips() {
		m[c.teamName(c.vehicle(t.VehicleID).TeamID)] += t.FuelL
	}
	return bar("Fuel by team, 14 days", "L", tally(m), false, c.v.Redact)
}

// ---- billing (sensitive)

func kpiSpend(c *ctx) api.Widget {
	var cur float64
	var prev *float64
	if n := len(c.invoices); n > 0 {
		cur = c.invoices[n-1].Amount
		if n > 1 {
			prev = ptr(c.invoices[n-2].Amount)
		}
	}
	return kpi("Spend this month", "EUR", cur, prev, true, c.v.Redact)
}

func tableInvoices(c *ctx) api.Widget {
	cols := []api.TableColumn{col("number", "Invoice"), col("date", "Date"), col("status", "Status"),
		secret(num("amount", "Amount (EUR)")), secret(col("card", "Card"))}
	rows := make([][]string, 0, len(c.invoices))
	for _, inv := range c.invoices {
		rows = append(rows, []string{inv.Number, day(inv.Date), inv.Status, money(inv.Amount), "•••• " + inv.CardLast4})
	}
	return table("Invoices", cols, rows, len(c.data.Invoices), c.v.Redact)
}

func seriesSpend(c *ctx) api.Widget {
	l := api.SeriesLine{Name: "Spend"}
	for _, inv := range c.invoices {
		l.Points = append(l.Points, api.SeriesPoint{T: inv.Date, V: inv.Amount})
	}
	var lines []api.SeriesLine
	if len(l.Points) > 0 {
		lines = []api.SeriesLine{l}
	}
	return series("Monthly spend", "EUR", lines, true, c.v.Redact)
}

func barCostByTeam(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, v := range c.vehicles {
		m[c.teamName(v.TeamID)] += v.MonthlyCost
	}
	return bar("Vehicle running cost by team", "EUR/month", tally(m), true, c.v.Redact)
}

// ---- drivers (personal contact data is sensitive)

func kpiDrivers(c *ctx) api.Widget {
	return count(c, "Drivers", len(c.drivers), drivers)
}

func kpiDriverHours(c *ctx) api.Widget {
	h := 0.0
	for _, d := range c.drivers {
		h += d.HoursWeek
	}
	return kpi("Hours this week", "h", round1(h), nil, false, c.v.Redact)
}

func barHoursByTeam(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, d := range c.drivers {
		m[c.teamName(d.TeamID)] += d.HoursWeek
	}
	return bar("Driver hours by team", "h", tally(m), false, c.v.Redact)
}

func tableDrivers(c *ctx) api.Widget {
	cols := []api.TableColumn{col("name", "Driver"), col("team", "Team"), col("licence", "Licence"),
		secret(col("phone", "Phone")), secret(col("email", "Email")), num("hours", "Hours this week")}
	rows := make([][]string, 0, len(c.drivers))
	for _, d := range c.drivers {
		rows = append(rows, []string{d.Name, c.teamName(d.TeamID), d.Licence, d.Phone, d.Email, one(d.HoursWeek)})
	}
	return table("Drivers", cols, rows, len(c.data.Drivers), c.v.Redact)
}

// ---- safety

func kpiIncidents(c *ctx) api.Widget {
	return count(c, "Incidents, 60 days", len(c.incidents()), incidents)
}

func kpiHighSeverity(c *ctx) api.Widget {
	n := 0
	for _, x := range c.incidents() {
		if x.Severity == "high" {
			n++
		}
	}
	return count(c, "High severity", n, incidents)
}

func seriesIncidentsPerWeek(c *ctx) api.Widget {
	const weeks = 9
	start := c.epoch.AddDate(0, 0, -7*weeks+1)
	counts := make([]float64, weeks)
	for _, x := range c.incidents() {
		if i := int(x.Date.Sub(start).Hours() / (24 * 7)); i >= 0 && i < weeks {
			counts[i]++
		}
	}
	l := api.SeriesLine{Name: "Incidents"}
	for i := range weeks {
		l.Points = append(l.Points, api.SeriesPoint{T: start.AddDate(0, 0, 7*i), V: counts[i]})
	}
	return series("Incidents per week", "", []api.SeriesLine{l}, false, c.v.Redact)
}

func barBySeverity(c *ctx) api.Widget {
	m := map[string]float64{}
	for _, x := range c.incidents() {
		m[x.Severity]++
	}
	return bar("Incidents by severity", "", tally(m), false, c.v.Redact)
}

func tableIncidents(c *ctx) api.Widget {
	cols := []api.TableColumn{col("date", "Date"), col("vehicle", "Vehicle"), col("severity", "Severity"), col("description", "What happened")}
	inc := c.incidents()
	sort.SliceStable(inc, func(i, j int) bool { return inc[i].Date.After(inc[j].Date) })
	rows := make([][]string, 0, len(inc))
	for _, x := range inc {
		rows = append(rows, []string{day(x.Date), c.vehicle(x.VehicleID).Name, x.Severity, x.Description})
	}
	return table("Incidents", cols, rows, len(c.data.Incidents), c.v.Redact)
}

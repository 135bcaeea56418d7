package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func demo(t testing.TB) *org.Org {
	t.Helper()
	o, err := org.Build(org.DemoSeed, time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC), []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func viewer(o *org.Org, id string, redact bool) Viewer {
	return Viewer{Subject: authz.Compile(o, o.User(id)), Redact: redact}
}

func render(t *testing.T, o *org.Org, userID, dashboardID string, redact bool) api.Dashboard {
	t.Helper()
	v := viewer(o, userID, redact)
	d := o.Dashboard(dashboardID)
	if d == nil || !CanView(v, d) {
		t.Fatalf("%s cannot view %s", userID, dashboardID)
	}
	return Render(o, v, d)
}

// golden compares v's JSON with testdata/golden/name.json (go test -update rewrites).
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), got) {
		t.Fatalf("%s differs from %s (go test -update rewrites it after review)", name, path)
	}
}

func TestGoldenDashboards(t *testing.T) {
	o := demo(t)
	golden(t, "nora-fleet-own", render(t, o, org.DemoFleetManagerID, "d-acme-fleet", false))
	golden(t, "nora-fleet-impersonated", render(t, o, org.DemoFleetManagerID, "d-acme-fleet", true))
	golden(t, "nora-billing-impersonated", render(t, o, org.DemoFleetManagerID, "d-acme-billing", true))
	golden(t, "tomas-dashboards", List(o, viewer(o, org.DemoTechnicianID, true)))
}

// vehicleRows returns the team column of a dashboard's vehicle table.
func vehicleTeams(d api.Dashboard) map[string]int {
	out := map[string]int{}
	for _, w := range d.Widgets {
		if w.Table != nil && w.Title == "Vehicles" {
			for _, r := range w.Table.Rows {
				out[r.Cells[1].Value]++
			}
		}
	}
	return out
}

// TestRowLevel: the same dashboard computed as different viewers holds different rows.
func TestRowLevel(t *testing.T) {
	o := demo(t)
	nora := vehicleTeams(render(t, o, org.DemoFleetManagerID, "d-acme-fleet", false))
	sven := vehicleTeams(render(t, o, "u-acme-sven", "d-acme-fleet", false))
	ada := vehicleTeams(render(t, o, org.DemoCompanyAdminID, "d-acme-fleet", false))
	// North has 3 vehicles, one under legal hold that Nora is denied.
	want := map[string]int{"North": 2, "North / North-East": 4, "North / North-West": 4}
	if len(nora) != len(want) || nora["North"] != 2 || nora["North / North-East"] != 4 || nora["North / North-West"] != 4 {
		t.Fatalf("Nora sees %v, want %v", nora, want)
	}
	if len(sven) != 2 || sven["South"] != 4 || sven["South / South-Coast"] != 3 {
		t.Fatalf("Sven sees %v", sven)
	}
	total := 0
	for _, n := range ada {
		total += n
	}
	if total != len(o.Dataset(org.CompanyAcme).Vehicles) {
		t.Fatalf("the admin sees %d of %d vehicles", total, len(o.Dataset(org.CompanyAcme).Vehicles))
	}
	d := render(t, o, org.DemoFleetManagerID, "d-acme-fleet", false)
	if d.Widgets[3].Table.TotalRows != total || d.Scope != "Rows of team North and its sub-teams" {
		t.Fatalf("total rows %d scope %q", d.Widgets[3].Table.TotalRows, d.Scope)
	}
	// KPIs follow the rows.
	active := 0
	for _, v := range o.Dataset(org.CompanyAcme).Vehicles {
		if v.Status == "active" && strings.HasPrefix(o.Team(v.TeamID).Path(), "North") && v.ResourceID != "vehicle:acme-n2" {
			active++
		}
	}
	if got := d.Widgets[0].KPI.Value; got != float64(active) {
		t.Fatalf("active KPI %v, want %d", got, active)
	}
	// My jobs: only Tomás's.
	jobs := render(t, o, org.DemoTechnicianID, "d-acme-tomas-jobs", false)
	for _, w := range jobs.Widgets {
		if w.Table != nil {
			if len(w.Table.Rows) == 0 {
				t.Fatal("Tomás has no jobs in the demo")
			}
			for _, r := range w.Table.Rows {
				if r.Cells[2].Value != "Tomás Ortega" {
					t.Fatalf("my jobs shows %q's job", r.Cells[2].Value)
				}
			}
		}
	}
}

// TestRedaction: under impersonation every sensitive value is withheld and marked;
// without it, nothing is.
func TestRedaction(t *testing.T) {
	o := demo(t)
	for _, id := range []string{"d-acme-fleet", "d-acme-billing", "d-acme-drivers"} {
		own := render(t, o, org.DemoCompanyAdminID, id, false)
		imp := render(t, o, org.DemoCompanyAdminID, id, true)
		if len(own.Widgets) != len(imp.Widgets) {
			t.Fatal("redaction changed the widgets")
		}
		sawRedaction := false
		for i, w := range imp.Widgets {
			ow := own.Widgets[i]
			if ow.Redacted {
				t.Fatalf("%s/%s redacted in the own view", id, ow.Title)
			}
			switch {
			case w.KPI != nil && w.KPI.Redacted:
				sawRedaction = true
				if w.KPI.Value != 0 || w.KPI.Previous != nil || !w.Redacted || ow.KPI.Value == 0 {
					t.Fatalf("KPI %s: %+v", w.Title, w.KPI)
				}
			case w.Table != nil:
				for c, col := range w.Table.Columns {
					for r := range w.Table.Rows {
						cell, ocell := w.Table.Rows[r].Cells[c], ow.Table.Rows[r].Cells[c]
						if col.Sensitive {
							sawRedaction = true
							if !cell.Redacted || cell.Value != "" || ocell.Value == "" || !w.Redacted {
								t.Fatalf("%s column %s: %+v (own %+v)", w.Title, col.Key, cell, ocell)
							}
						} else if cell != ocell {
							t.Fatalf("%s column %s changed: %+v vs %+v", w.Title, col.Key, cell, ocell)
						}
					}
				}
			case w.Series != nil && w.Redacted:
				sawRedaction = true
				if len(w.Series.Lines) != 0 || len(ow.Series.Lines) == 0 {
					t.Fatalf("series %s not withheld", w.Title)
				}
			case w.Bar != nil && w.Redacted:
				sawRedaction = true
				if len(w.Bar.Bars) != 0 || len(ow.Bar.Bars) == 0 {
					t.Fatalf("bar %s not withheld", w.Title)
				}
			}
		}
		if !sawRedaction {
			t.Fatalf("%s has nothing sensitive", id)
		}
	}
	u := User(o, o.User(org.DemoFleetManagerID), true)
	if u.Phone != "" || len(u.Redacted) != 1 {
		t.Fatalf("user redaction %+v", u)
	}
	if u := User(o, o.User(org.DemoFleetManagerID), false); u.Phone == "" || u.Redacted != nil || u.Company != "Acme Logistics" {
		t.Fatalf("user %+v", u)
	}
}

func TestVisibility(t *testing.T) {
	o := demo(t)
	titles := func(id string) []string {
		var out []string
		for _, d := range List(o, viewer(o, id, false)).Dashboards {
			out = append(out, d.ID)
		}
		return out
	}
	if got := strings.Join(titles(org.DemoTechnicianID), ","); got != "d-acme-maintenance,d-acme-safety,d-acme-nora-north,d-acme-tomas-jobs" {
		t.Fatalf("Tomás sees %s", got)
	}
	if got := strings.Join(titles("u-acme-kai"), ","); got != "d-acme-nora-north" { // shared with his team
		t.Fatalf("Kai sees %s", got)
	}
	nora := titles(org.DemoFleetManagerID)
	if len(nora) != 7 { // the five of her role, the billing grant and her own
		t.Fatalf("Nora sees %v", nora)
	}
	if titles("u-staff-sam") != nil {
		t.Fatal("staff have no company dashboards")
	}
	v := viewer(o, org.DemoTechnicianID, false)
	if !CanDo(v, o.Dashboard("d-acme-tomas-jobs"), org.ActionDelete) || CanDo(v, o.Dashboard("d-acme-maintenance"), org.ActionEdit) {
		t.Fatal("owner rights")
	}
	shares := Shares(o, o.Dashboard("d-acme-nora-north"))
	if len(shares) != 2 || shares[0].Kind != api.ShareTeam || shares[0].Name != "North" || shares[1].Name != "Operations" {
		t.Fatalf("shares %+v", shares)
	}
	// Every template renders for its company's admin, every widget of its kind.
	for _, c := range o.Companies() {
		for _, d := range o.Dashboards(c.ID) {
			admin := ""
			for _, u := range o.Users() {
				if u.CompanyID == c.ID && u.Admin() {
					admin = u.ID
					break
				}
			}
			out := Render(o, viewer(o, admin, false), d)
			if len(out.Widgets) == 0 || len(out.Widgets) != out.WidgetCount {
				t.Fatalf("%s renders %d widgets, lists %d", d.ID, len(out.Widgets), out.WidgetCount)
			}
			for _, w := range out.Widgets {
				set := 0
				for _, p := range []bool{w.KPI != nil, w.Table != nil, w.Series != nil, w.Bar != nil} {
					if p {
						set++
					}
				}
				if set != 1 || w.ID == "" {
					t.Fatalf("%s widget %s: %d payloads", d.ID, w.Title, set)
				}
			}
		}
	}
}

// A KPI's unit is printed beside its value, so a count's unit agrees with it: "1
// vehicle", "0 vehicles". Bars and series carry one unit for many values, so a count
// there has none (the title names what is counted): no value reads "1 vehicles". Every
// dashboard, as every user of the demo sees it, as their own and impersonated.
func TestCountsAgreeWithTheirNumber(t *testing.T) {
	o := demo(t)
	nouns := map[string]noun{}
	for _, n := range countNouns {
		nouns[n.one], nouns[n.many] = n, n
	}
	singular := 0
	for _, u := range o.Users() {
		for _, redact := range []bool{false, true} {
			v := viewer(o, u.ID, redact)
			for _, sum := range List(o, v).Dashboards {
				for _, w := range Render(o, v, o.Dashboard(sum.ID)).Widgets {
					where := u.ID + " " + sum.ID + " " + w.Title
					switch {
					case w.KPI != nil:
						n, counted := nouns[w.KPI.Unit]
						if !counted {
							continue
						}
						if want := n.of(int(w.KPI.Value)); w.KPI.Unit != want || w.KPI.Value != float64(int(w.KPI.Value)) {
							t.Errorf("%s: %v %s, want %s", where, w.KPI.Value, w.KPI.Unit, want)
						}
						if w.KPI.Value == 1 {
							singular++
						}
					case w.Bar != nil:
						if _, counted := nouns[w.Bar.Unit]; counted {
							t.Errorf("%s: bars counted in %q", where, w.Bar.Unit)
						}
					case w.Series != nil:
						if _, counted := nouns[w.Series.Unit]; counted {
							t.Errorf("%s: a series counted in %q", where, w.Series.Unit)
						}
					}
				}
			}
		}
	}
	if singular == 0 {
		t.Fatal("no count of exactly 1 in the demo: the singular went untested")
	}
}

// The scope line is sent as a whole sentence, and the contract (api/types.go, API.md)
// shows it as it is sent.
func TestScopeIsSentAsTheContractShowsIt(t *testing.T) {
	o := demo(t)
	contract := map[string]string{} // path -> its words, comment marks and line breaks gone
	for _, path := range []string{"../../api/types.go", "../../docs/API.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		contract[path] = strings.Join(strings.Fields(strings.ReplaceAll(string(b), "//", "")), " ")
	}
	for _, c := range []struct{ user, dashboard, want string }{
		{org.DemoFleetManagerID, "d-acme-fleet", "Rows of team North and its sub-teams"},
		{"u-acme-ada", "d-acme-fleet", "Rows of all of Acme Logistics"},
		{"u-acme-kai", "d-acme-nora-north", "Rows of nothing"},
	} {
		if got := render(t, o, c.user, c.dashboard, true).Scope; got != c.want {
			t.Errorf("%s on %s: scope %q, want %q", c.user, c.dashboard, got, c.want)
		}
		for path, text := range contract {
			if !strings.Contains(text, c.want) {
				t.Errorf("%s does not show the scope %q", path, c.want)
			}
		}
	}
}

func BenchmarkRenderFleet(b *testing.B) {
	o := demo(b)
	v := Viewer{Subject: authz.Compile(o, o.User(org.DemoFleetManagerID)), Redact: true}
	d := o.Dashboard("d-acme-fleet")
	for b.Loop() {
		Render(o, v, d)
	}
}

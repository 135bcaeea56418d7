package ui_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/chrome"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
	"github.com/shadowview/shadow/ui/reason"
)

// data is what the pages are fed: the fixtures as they are, or poisoned with the
// hostile corpus in every name, title and cell.
type data struct {
	users   []api.User
	matrix  *api.PermissionMatrix
	list    *api.DashboardList
	dash    *api.Dashboard
	explain *api.Explanation
	journal []journalview.Entry
	info    banner.Info
}

func normal() data {
	return data{
		users: uitest.Users(200), matrix: uitest.Matrix(500, 20), list: uitest.DashboardList(), dash: uitest.Dashboard(),
		explain: uitest.Explanation(), journal: uitest.JournalEntries(12),
		info: banner.Info{User: "Alice Andersen", Admin: "Sam Support", ExpiresAt: uitest.Now.Add(29*time.Minute + 59*time.Second)},
	}
}

func hostileData() data {
	h := hostile.List()
	pick := func(i int) string { return h[i%len(h)] }
	d := normal()
	for i := range d.users {
		u := &d.users[i]
		u.Name, u.Email, u.Company, u.Team = pick(i)+u.Name, pick(i+1), pick(i+2), pick(i+3)
		u.NotImpersonableReason = pick(i + 4)
	}
	for i := range d.matrix.Rows {
		d.matrix.Rows[i].Resource.Name = pick(i)
		d.matrix.Rows[i].Resource.ID = pick(i + 5)
	}
	for i := range d.matrix.Actions {
		d.matrix.Actions[i] = pick(i)
	}
	d.matrix.Subject.Name = pick(3)
	for i := range d.matrix.Sources {
		d.matrix.Sources[i].Name, d.matrix.Sources[i].Via = pick(i), pick(i+7)
	}
	for i := range d.list.Dashboards {
		d.list.Dashboards[i].Title = pick(i)
	}
	d.dash.Title, d.dash.Scope = pick(1), pick(2)
	for i := range d.dash.Widgets {
		w := &d.dash.Widgets[i]
		w.Title = pick(i)
		if w.KPI != nil {
			w.KPI.Unit = pick(i + 3)
		}
		if w.Bar != nil {
			for j := range w.Bar.Bars {
				w.Bar.Bars[j].Label = pick(j)
			}
		}
		if w.Series != nil {
			for j := range w.Series.Lines {
				w.Series.Lines[j].Name = pick(j + 9)
			}
		}
		if w.Table != nil {
			for c := range w.Table.Columns {
				w.Table.Columns[c].Title = pick(c)
			}
			for r := range w.Table.Rows {
				for c := range w.Table.Rows[r].Cells {
					if !w.Table.Rows[r].Cells[c].Redacted {
						w.Table.Rows[r].Cells[c].Value = pick(r + c)
					}
				}
			}
		}
	}
	d.explain.Subject.Name, d.explain.Resource.Name, d.explain.Action = pick(4), pick(5), pick(6)
	for i := range d.explain.Steps {
		d.explain.Steps[i].Text, d.explain.Steps[i].Kind = pick(i), pick(i+1)
	}
	for i := range d.journal {
		d.journal[i].Details, d.journal[i].Actor, d.journal[i].User, d.journal[i].Action = pick(i), pick(i+1), pick(i+2), pick(i+3)
	}
	d.info.User, d.info.Admin = h[0]+h[5]+"Alice", h[7]+"Sam"
	return d
}

// screen is one state of the program, drawn the way the root model will draw it.
type screen struct {
	name string
	tab  int // -1: no tab bar (picker, prompt)
	page func(ctx *common.Context, d data, w, h int) (view string, keys common.KeyMaps)
}

var screens = []screen{
	{"picker", -1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := picker.New(ctx)
		m.SetSize(w, h)
		req, _ := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
		m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Users: d.users, Total: 100_000, NextCursor: "c200"}})
		uitest.Press(m, "down", "down", "down", "down")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"reason", -1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := reason.New(ctx)
		m.SetSize(w, h)
		m.Open(d.users[0])
		req, _ := uitest.Find[reason.Submitted](uitest.Press(m, "enter"))
		m.Update(reason.Refused{Tag: req.Tag, Err: api.ErrorBody{Code: api.CodeReasonRequired, Message: d.users[3].NotImpersonableReason + " a reason is required"}})
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"dashboards", 0, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := dashboards.New(ctx)
		m.SetSize(w, h)
		lr, _ := uitest.Find[dashboards.ListRequested](uitest.Msgs(m.Init()))
		_, cmd := m.Update(dashboards.ListLoaded{Tag: lr.Tag, List: d.list})
		req, _ := uitest.Find[dashboards.Requested](uitest.Msgs(cmd))
		m.Update(dashboards.Loaded{Tag: req.Tag, Dashboard: d.dash})
		uitest.Press(m, "enter")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"permissions", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := matrix.New(ctx)
		m.SetSize(w, h)
		req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
		m.Update(matrix.Loaded{Tag: req.Tag, Matrix: d.matrix})
		uitest.Press(m, "down", "right", "right")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"explain", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := matrix.New(ctx)
		m.SetSize(w, h)
		req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
		m.Update(matrix.Loaded{Tag: req.Tag, Matrix: d.matrix})
		er, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
		m.Update(matrix.ExplainLoaded{Tag: er.Tag, Explanation: d.explain})
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"compare-diff", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		other := *d.matrix
		other.Subject = api.UserRef{ID: "u-2", Name: d.users[2].Name}
		other.Rows = slices.Clone(d.matrix.Rows[1:]) // the first resource only the first user sees
		for i := 0; i < len(other.Rows); i += 7 {
			e := []byte(other.Rows[i].Effects)
			switch e[0] {
			case api.EffectAllow:
				e[0] = api.EffectDeny
			default:
				e[0] = api.EffectAllow
			}
			other.Rows[i].Effects = string(e)
		}
		return compareView(ctx, d, &other, w, h)
	}},
	{"compare-same", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		other := *d.matrix
		other.Subject = api.UserRef{ID: "u-2", Name: d.users[2].Name}
		return compareView(ctx, d, &other, w, h)
	}},
	{"journal", 2, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := journalview.New(ctx)
		m.SetSize(w, h)
		m.Update(journalview.Updated{Entries: d.journal})
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	// The detail views (ui/detail): a row of each list, whole.
	{"picker-user", -1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := picker.New(ctx)
		m.SetSize(w, h)
		req, _ := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
		m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Users: d.users, Total: 100_000, NextCursor: "c200"}})
		uitest.Press(m, "down", "down", "down", "down", "i", "down")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"matrix-cell", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := matrix.New(ctx)
		m.SetSize(w, h)
		req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
		m.Update(matrix.Loaded{Tag: req.Tag, Matrix: d.matrix})
		er, _ := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "down", "right", "right", "i"))
		m.Update(matrix.ExplainLoaded{Tag: er.Tag, Explanation: d.explain})
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"table-row", 0, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := dashboards.New(ctx)
		m.SetSize(w, h)
		lr, _ := uitest.Find[dashboards.ListRequested](uitest.Msgs(m.Init()))
		_, cmd := m.Update(dashboards.ListLoaded{Tag: lr.Tag, List: d.list})
		req, _ := uitest.Find[dashboards.Requested](uitest.Msgs(cmd))
		m.Update(dashboards.Loaded{Tag: req.Tag, Dashboard: d.dash})
		uitest.Press(m, "enter", "G", "enter", "down", "enter")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"journal-record", 2, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := journalview.New(ctx)
		m.SetSize(w, h)
		m.Update(journalview.Updated{Entries: d.journal})
		uitest.Press(m, "enter")
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"journal-search", 2, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := journalview.New(ctx)
		m.SetSize(w, h)
		m.Update(journalview.Updated{Entries: d.journal})
		uitest.Press(m, "g", "/", "e", "enter", "n") // e: in every action, in some hostile text
		return m.View(), common.KeyMaps{m, ctx.Keys}
	}},
	{"help", 1, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		m := matrix.New(ctx) // loaded: a loading page offers none of its keys
		m.SetSize(w, h)
		req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
		m.Update(matrix.Loaded{Tag: req.Tag, Matrix: d.matrix})
		keys := common.KeyMaps{m, ctx.Keys}
		return chrome.HelpView(ctx, keys, w, h), keys
	}},
	{"end-dialog", 0, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		return chrome.Dialog(ctx, "End the session?", []string{"Stop shadowing " + d.info.User + " and return to the picker?", "", "y end · n keep going"}, w, h), common.KeyMaps{ctx.Keys}
	}},
	{"expired", 0, func(ctx *common.Context, d data, w, h int) (string, common.KeyMaps) {
		return chrome.Dialog(ctx, "Session ended", []string{"The server ended the session: " + d.users[5].NotImpersonableReason, "", "enter to return to the picker"}, w, h), common.KeyMaps{ctx.Keys}
	}},
}

// compareView is the compare view of d's matrix against other, the chains of its first
// row answered with d's explanation for both.
func compareView(ctx *common.Context, d data, other *api.PermissionMatrix, w, h int) (string, common.KeyMaps) {
	m := compare.New(ctx, api.Resource{}, "", d.matrix.Subject.Name)
	m.SetSize(w, h)
	u := api.User{ID: other.Subject.ID, Name: other.Subject.Name}
	_, cmd := m.Update(compare.Loaded{Tag: m.Starting(u), User: u, Diff: compare.Compute(d.matrix, other)})
	if req, ok := uitest.Find[compare.ExplainRequested](uitest.Msgs(cmd)); ok {
		m.Update(compare.ExplainLoaded{Tag: req.Tag, First: d.explain, Second: d.explain})
	}
	return m.View(), common.KeyMaps{m, ctx.Keys}
}

// draw renders a screen on a terminal of w × h cells as the root will.
func draw(t *testing.T, s screen, p colorprofile.Profile, d data, w, h int) string {
	t.Helper()
	ctx := uitest.Context(p, w, h)
	view, keys := s.page(ctx, d, w, ui.BodyHeight(ctx, &d.info))
	status := chrome.NewStatus(ctx)
	status.SetSync(chrome.Sync{Pending: 3})
	status.SetError(fmt.Errorf("sync: %s", d.users[1].Company))
	tabs := ""
	if s.tab >= 0 {
		tabs = chrome.Tabs(ctx.Styles, []string{"Dashboards", "Permissions", "Journal"}, s.tab, w)
	}
	return ui.Compose(ctx, &d.info, tabs, view, status.View(w, keys))
}

// TestBannerOnEveryScreen draws every screen at every promised size, with and without
// colour, with normal and hostile data, and checks the banner is the top of each frame,
// intact, and that the frame fits the terminal.
func TestBannerOnEveryScreen(t *testing.T) {
	sizes := []uitest.Size{{W: 120, H: 40}, {W: 80, H: 24}, {W: 40, H: 12}, {W: 20, H: 6}}
	for _, kind := range []struct {
		name string
		data data
	}{{"normal", normal()}, {"hostile", hostileData()}} {
		for _, p := range uitest.Profiles {
			for _, sz := range sizes {
				for _, s := range screens {
					t.Run(fmt.Sprintf("%s/%s/%s/%dx%d", kind.name, p.Name, s.name, sz.W, sz.H), func(t *testing.T) {
						frame := draw(t, s, p.Profile, kind.data, sz.W, sz.H)
						lines := uitest.AssertFrame(t, frame, sz.W, sz.H)
						if len(lines) != sz.H {
							t.Fatalf("%d lines on a %d-line terminal", len(lines), sz.H)
						}
						st := common.NewStyles(p.Profile)
						want := banner.Lines(st, kind.data.info, uitest.Now, sz.W)
						got := strings.Split(frame, "\n")
						for i, l := range want[:min(len(want), sz.H)] {
							if got[i] != l {
								t.Fatalf("line %d is not the banner:\n got %q\nwant %q", i+1, got[i], l)
							}
						}
						top := uitest.Plain(strings.Join(got[:min(len(want), sz.H)], " "))
						for _, word := range []string{"IMPERSONATING", "READ-ONLY"} {
							if !strings.Contains(top, word) {
								t.Fatalf("%s missing from the banner %q", word, top)
							}
						}
						assertNoForeignEscapes(t, frame, p.Profile)
					})
				}
			}
		}
	}
}

var anyEscape = regexp.MustCompile(`\x1b[^\x1b]{0,24}`)

// assertNoForeignEscapes checks that no escape sequence from the hostile corpus reached
// the frame: without colour the UI writes none at all; with colour, none of the
// corpus's own sequences (other than a plain reset) may appear.
func assertNoForeignEscapes(t *testing.T, frame string, p colorprofile.Profile) {
	t.Helper()
	if p == colorprofile.ASCII {
		if strings.ContainsRune(frame, 0x1b) {
			t.Fatalf("an escape sequence reached a colourless frame: %q", anyEscape.FindString(frame))
		}
		return
	}
	for _, h := range hostile.List() {
		for _, seq := range anyEscape.FindAllString(h, -1) {
			if len(seq) < 3 {
				continue
			}
			if strings.Contains(frame, seq) {
				t.Fatalf("the hostile sequence %q reached the frame", seq)
			}
		}
	}
}

// TestScreensGolden records what each screen looks like, composed under the banner.
func TestScreensGolden(t *testing.T) {
	d := normal()
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			for _, s := range screens {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", s.name, p.Name, sz.W, sz.H), func(t *testing.T) {
					uitest.Golden(t, draw(t, s, p.Profile, d, sz.W, sz.H))
				})
			}
		}
	}
}

func TestBodyHeightLeavesRoomForChrome(t *testing.T) {
	info := normal().info
	for _, c := range []struct {
		p          colorprofile.Profile
		w, h, want int
	}{
		{colorprofile.ANSI256, 80, 24, 21}, // banner 1, tabs 1, status 1
		{colorprofile.ASCII, 80, 24, 20},   // the frame's rule costs a line
		{colorprofile.ANSI256, 20, 6, 2},   // two banner lines
		{colorprofile.ASCII, 20, 3, 1},     // never below one
	} {
		ctx := uitest.Context(c.p, c.w, c.h)
		if got := ui.BodyHeight(ctx, &info); got != c.want {
			t.Errorf("%v %dx%d: %d, want %d", c.p, c.w, c.h, got, c.want)
		}
	}
	ctx := uitest.Context(colorprofile.ASCII, 80, 24)
	if ui.BodyHeight(ctx, nil) != 22 {
		t.Error("without a session only the tabs and status line are taken")
	}
}

// TestDetailViewsAtTinySizes draws the detail views, with normal and hostile data, on
// the smallest terminals: a frame of the terminal's size, never a panic.
func TestDetailViewsAtTinySizes(t *testing.T) {
	for _, s := range screens {
		if !slices.Contains([]string{"picker-user", "matrix-cell", "table-row", "journal-record"}, s.name) {
			continue
		}
		for _, d := range []data{normal(), hostileData()} {
			for _, sz := range []uitest.Size{{W: 20, H: 6}, {W: 15, H: 4}, {W: 1, H: 1}} {
				for _, p := range uitest.Profiles {
					uitest.AssertFrame(t, draw(t, s, p.Profile, d, sz.W, sz.H), sz.W, sz.H)
				}
			}
		}
	}
}

package picker_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/picker"
)

// directory pages through users the way GET /users does, for feeding replies.
func directory(users []api.User, query, cursor string, limit int) *api.UsersPage {
	var match []api.User
	for _, u := range users {
		if query == "" || strings.Contains(strings.ToLower(u.Name+" "+u.Email+" "+u.Company), strings.ToLower(query)) {
			match = append(match, u)
		}
	}
	start := 0
	if cursor != "" {
		fmt.Sscanf(cursor, "c%d", &start)
	}
	end := min(len(match), start+limit)
	page := &api.UsersPage{Users: match[start:end], Total: len(match)}
	if end < len(match) {
		page.NextCursor = fmt.Sprintf("c%d", end)
	}
	return page
}

func started(t testing.TB, p uitest.Profile, w, h int, users []api.User) *picker.Model {
	ctx := uitest.Context(p.Profile, w, h)
	ctx.Session = ""
	m := picker.New(ctx)
	m.Debounce = time.Millisecond
	m.SetSize(w, h)
	req, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
	if !ok || req.Query != "" {
		t.Fatalf("Init asked %+v", req)
	}
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: directory(users, "", "", 50)})
	return m
}

func TestGolden(t *testing.T) {
	users := uitest.Users(100_000)
	for _, p := range uitest.Profiles {
		for _, sz := range uitest.Sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", p.Name, sz.W, sz.H), func(t *testing.T) {
				m := started(t, p, sz.W, sz.H, users)
				uitest.Press(m, "down", "down", "down", "down")
				view := m.View()
				uitest.AssertFrame(t, view, sz.W, sz.H)
				if !strings.Contains(view, picker.GlyphBlocked+" Cannot shadow") {
					t.Fatalf("a company admin under the cursor must say why:\n%s", view)
				}
				uitest.Golden(t, view)
			})
		}
	}
}

func TestDebounceSendsOnlyTheLastQuery(t *testing.T) {
	users := uitest.Users(500)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	uitest.Press(m, "/")
	if !m.Capturing() {
		t.Fatal("/ did not open the search box")
	}
	var ticks []tea.Msg
	for _, k := range []string{"q", "a", "l"} {
		msgs := uitest.Press(m, k)
		if _, ok := uitest.Find[picker.SearchRequested](msgs); ok {
			t.Fatal("a keystroke searched without waiting for the debounce")
		}
		ticks = append(ticks, msgs...)
	}
	ticks = append(ticks, uitest.Press(m, "backspace", "backspace", "backspace")...)
	ticks = append(ticks, uitest.Press(m, "a", "l", "i")...)
	if len(ticks) != 9 {
		t.Fatalf("%d ticks for 9 edits", len(ticks))
	}
	var searches []picker.SearchRequested
	for _, tick := range ticks {
		_, cmd := m.Update(tick)
		if req, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(cmd)); ok {
			searches = append(searches, req)
		}
	}
	if len(searches) != 1 || searches[0].Query != "ali" {
		t.Fatalf("searches sent: %+v, want just \"ali\"", searches)
	}
}

func TestStalePagesAreDropped(t *testing.T) {
	users := uitest.Users(500)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	// Start a search for "bruno" and keep its request.
	uitest.Press(m, "/")
	var req picker.SearchRequested
	for _, k := range []string{"b", "r", "u", "n", "o"} {
		for _, tick := range uitest.Press(m, k) {
			_, cmd := m.Update(tick)
			if r, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(cmd)); ok {
				req = r
			}
		}
	}
	if req.Query != "bruno" {
		t.Fatalf("search %+v", req)
	}
	// A late reply to an earlier query ("" from Init, tagged with an older tag) is dropped.
	stale := picker.PageLoaded{Tag: req.Tag, Page: directory(users, "", "", 50)}
	stale.Seq--
	m.Update(stale)
	if strings.Contains(m.View(), "matching") {
		t.Fatal("a stale page was taken")
	}
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: directory(users, "bruno", "", 10)})
	view := uitest.Plain(m.View())
	if !strings.Contains(view, `matching "bruno"`) || strings.Contains(view, "Alice") {
		t.Fatalf("the current page was not shown:\n%s", view)
	}
	// The same first page again is a duplicate, not a reset.
	uitest.Press(m, "enter", "down", "down")
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: directory(users, "bruno", "", 10)})
	if row, _ := cursor(m); row != 2 {
		t.Fatalf("a duplicate first page moved the cursor to %d", row)
	}
}

// cursor reads the highlighted row back from the view (the ❯ marker).
func cursor(m *picker.Model) (int, bool) {
	for i, l := range strings.Split(uitest.Plain(m.View()), "\n")[3:] {
		if strings.HasPrefix(l, "❯") {
			return i, true
		}
	}
	return -1, false
}

func TestMorePagesLoadNearTheEnd(t *testing.T) {
	users := uitest.Users(120)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	var more []picker.LoadMore
	for i := 0; i < 60; i++ {
		if lm, ok := uitest.Find[picker.LoadMore](uitest.Press(m, "down")); ok {
			more = append(more, lm)
		}
	}
	if len(more) != 1 || more[0].Cursor != "c50" {
		t.Fatalf("load-more requests while waiting: %+v", more)
	}
	page := picker.PageLoaded{Tag: more[0].Tag, Cursor: "c50", Page: directory(users, "", "c50", 50)}
	if _, cmd := m.Update(page); cmd != nil {
		t.Fatal("asked for more with the cursor far from the new end")
	}
	next, ok := uitest.Find[picker.LoadMore](uitest.Press(m, "G"))
	if !ok || next.Cursor != "c100" {
		t.Fatalf("at the end: %+v %v", next, ok)
	}
	m.Update(page) // a duplicate of the page already appended
	m.Update(picker.PageLoaded{Tag: next.Tag, Cursor: "c999", Page: directory(users, "", "c100", 50)})
	if m.Held() != 100 || !strings.Contains(m.View(), "of 120 users") {
		t.Fatalf("duplicate or unasked pages were appended (%d held):\n%s", m.Held(), m.View())
	}
	m.Update(picker.PageLoaded{Tag: next.Tag, Cursor: "c100", Page: directory(users, "", "c100", 50)})
	if !strings.Contains(m.View(), "120 users") {
		t.Fatalf("last page:\n%s", m.View())
	}
	if _, ok := uitest.Find[picker.LoadMore](uitest.Press(m, "G", "up", "down")); ok {
		t.Fatal("asked for more after the last page")
	}
}

func TestBlockedUsersCannotBePicked(t *testing.T) {
	m := started(t, uitest.Profiles[0], 120, 40, uitest.Users(50))
	msgs := uitest.Press(m, "down", "down", "down", "down", "enter")
	if _, ok := uitest.Find[picker.Picked](msgs); ok {
		t.Fatal("a company admin was picked")
	}
	view := uitest.Plain(m.View())
	if n := strings.Count(view, "Cannot shadow Esther Andersen: company admins cannot be impersonated (target_privileged)"); n != 1 {
		t.Fatalf("the refusal is said %d times, not once:\n%s", n, view)
	}
	picked, ok := uitest.Find[picker.Picked](uitest.Press(m, "up", "enter"))
	if !ok || picked.User.ID != "u-000004" {
		t.Fatalf("picked %+v", picked)
	}
}

func TestSearchErrorsAndEmptyResults(t *testing.T) {
	m := started(t, uitest.Profiles[0], 80, 24, uitest.Users(50))
	uitest.Press(m, "/")
	var req picker.SearchRequested
	for _, tick := range uitest.Press(m, "z") {
		_, cmd := m.Update(tick)
		req, _ = uitest.Find[picker.SearchRequested](uitest.Msgs(cmd))
	}
	m.Update(picker.PageLoaded{Tag: req.Tag, Err: errors.New("unavailable: \x1b]0;x\x07down for maintenance")})
	view := uitest.Plain(m.View())
	if !strings.Contains(view, "Search failed: unavailable: down for maintenance") {
		t.Fatalf("error:\n%s", view)
	}
	for _, tick := range uitest.Press(m, "z") {
		_, cmd := m.Update(tick)
		req, _ = uitest.Find[picker.SearchRequested](uitest.Msgs(cmd))
	}
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Total: 0}})
	if !strings.Contains(m.View(), "No user matches.") {
		t.Fatalf("empty:\n%s", m.View())
	}
	// esc clears the box and searches everything again.
	ticks := uitest.Press(m, "esc")
	if m.Capturing() || len(ticks) != 1 {
		t.Fatalf("esc: capturing %v, %d ticks", m.Capturing(), len(ticks))
	}
	_, cmd := m.Update(ticks[0])
	if r, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(cmd)); !ok || r.Query != "" {
		t.Fatalf("after esc: %+v", r)
	}
}

// harness plays the root's part for the picker in a real program: it answers requests
// from an in-memory directory, and counts the searches it was sent.
type harness struct {
	p        *picker.Model
	users    []api.User
	searches []string
}

func (h *harness) Init() tea.Cmd { return h.p.Init() }

func (h *harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.p.SetSize(msg.Width, msg.Height)
		return h, nil
	case picker.SearchRequested:
		h.searches = append(h.searches, msg.Query)
		page := directory(h.users, msg.Query, "", 50)
		return h, func() tea.Msg { return picker.PageLoaded{Tag: msg.Tag, Page: page} }
	case picker.LoadMore:
		page := directory(h.users, msg.Query, msg.Cursor, 50)
		return h, func() tea.Msg { return picker.PageLoaded{Tag: msg.Tag, Cursor: msg.Cursor, Page: page} }
	case picker.Picked:
		return h, tea.Quit
	}
	_, cmd := h.p.Update(msg)
	return h, cmd
}

func (h *harness) View() tea.View { return tea.NewView(h.p.View()) }

// TestProgramDebouncesTyping runs the picker in a real Bubble Tea program with the real
// debounce: quick typing sends one search, and picking ends the program.
func TestProgramDebouncesTyping(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	ctx.Session = ""
	h := &harness{p: picker.New(ctx), users: uitest.Users(2000)}
	h.p.Debounce = 80 * time.Millisecond
	tm := teatest.NewTestModel(t, h, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "row 1 of 2,000 users") },
		teatest.WithDuration(5*time.Second))
	tm.Type("/")
	tm.Type("greta")
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), `matching "greta"`) },
		teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // keep the search
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // pick
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*harness)
	if len(final.searches) != 2 || final.searches[1] != "greta" {
		t.Fatalf("searches sent: %q, want the initial one and \"greta\"", final.searches)
	}
}

var sink string

// BenchmarkPickerView draws the picker with 100,000 users loaded, the cursor mid-list.
func BenchmarkPickerView(b *testing.B) {
	users := uitest.Users(100_000)
	for _, sz := range uitest.Sizes {
		b.Run(fmt.Sprintf("%dx%d", sz.W, sz.H), func(b *testing.B) {
			m := started(b, uitest.Profiles[1], sz.W, sz.H, nil)
			req, _ := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
			m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Users: users, Total: len(users)}})
			for i := 0; i < 50_000/max(1, sz.H-6); i++ {
				m.Update(uitest.Key("pgdown"))
			}
			b.ReportAllocs()
			for b.Loop() {
				sink = m.View()
			}
		})
	}
}

// BenchmarkPickerScroll is one keystroke in the list: move down a row and redraw.
func BenchmarkPickerScroll(b *testing.B) {
	users := uitest.Users(100_000)
	m := started(b, uitest.Profiles[1], 120, 40, nil)
	req, _ := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Users: users, Total: len(users)}})
	down := uitest.Key("down")
	b.ReportAllocs()
	for b.Loop() {
		m.Update(down)
		sink = m.View()
	}
}

// BenchmarkKeystrokeVsBubblesTable compares, in one run and without colour for both,
// one keystroke in the list (down, then redraw) over the same 100,000 users at 120×40:
// the picker against bubbles/table, the table a Bubble Tea program would reach for.
func BenchmarkKeystrokeVsBubblesTable(b *testing.B) {
	users := uitest.Users(100_000)
	b.Run("picker", func(b *testing.B) {
		m := started(b, uitest.Profiles[0], 120, 40, nil)
		req, _ := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
		m.Update(picker.PageLoaded{Tag: req.Tag, Page: &api.UsersPage{Users: users, Total: len(users)}})
		down := uitest.Key("down")
		b.ReportAllocs()
		for b.Loop() {
			m.Update(down)
			sink = m.View()
		}
	})
	b.Run("bubbles-table", func(b *testing.B) {
		rows := make([]table.Row, len(users))
		for i, u := range users {
			rows[i] = table.Row{u.Name, u.Email, u.Company, u.Team, u.Role}
		}
		t := table.New(table.WithColumns([]table.Column{{Title: "Name", Width: 22}, {Title: "Email", Width: 30}, {Title: "Company", Width: 18}, {Title: "Team", Width: 18}, {Title: "Role", Width: 14}}),
			table.WithRows(rows), table.WithHeight(34), table.WithWidth(120), table.WithFocused(true))
		b.ReportAllocs()
		for b.Loop() {
			t.MoveDown(1)
			sink = t.View()
		}
	})
}

// TestEnterBeforeTheAnswerWaitsForIt types a query and presses enter before the list
// answers it: the pick must wait for the answer, not take whoever the old list showed;
// any other key calls the waiting pick off.
func TestEnterBeforeTheAnswerWaitsForIt(t *testing.T) {
	users := uitest.Users(200)
	for _, cancel := range []bool{false, true} {
		m := started(t, uitest.Profiles[0], 120, 40, users)
		ticks := uitest.Press(m, "/", "g", "r", "e")
		if msgs := uitest.Press(m, "enter", "enter"); len(msgs) != 0 {
			t.Fatalf("enter while the search is pending acted at once: %v", msgs)
		}
		if !strings.Contains(uitest.Plain(m.View()), "enter will pick the first match") {
			t.Fatalf("the waiting pick is not said:\n%s", uitest.Plain(m.View()))
		}
		if cancel {
			uitest.Press(m, "down")
		}
		var req picker.SearchRequested
		for _, tick := range ticks {
			_, cmd := m.Update(tick)
			if r, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(cmd)); ok {
				req = r
			}
		}
		if req.Query != "gre" {
			t.Fatalf("searched %q", req.Query)
		}
		_, cmd := m.Update(picker.PageLoaded{Tag: req.Tag, Page: directory(users, "gre", "", 50)})
		picked, ok := uitest.Find[picker.Picked](uitest.Msgs(cmd))
		switch {
		case cancel && ok:
			t.Fatal("a cancelled pick went ahead")
		case !cancel && (!ok || !strings.HasPrefix(picked.User.Name, "Greta")):
			t.Fatalf("picked %+v, want the first match for \"gre\"", picked.User)
		}
	}
}

// search types q into the search box and answers the search with page.
func search(t *testing.T, m *picker.Model, q string, page *api.UsersPage, err error) {
	t.Helper()
	uitest.Press(m, "/")
	var tick tea.Msg
	for _, r := range q {
		for _, msg := range uitest.Press(m, string(r)) {
			tick = msg
		}
	}
	_, cmd := m.Update(tick)
	req, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(cmd))
	if !ok {
		t.Fatalf("no search for %q", q)
	}
	m.Update(picker.PageLoaded{Tag: req.Tag, Page: page, Err: err})
	uitest.Press(m, "enter") // keep the search; the next / starts a new one
}

// TestCountsReadRight checks the title's count in words: one user, a total still being
// loaded, a search whose total the server does not give, and a failed search.
func TestCountsReadRight(t *testing.T) {
	users := uitest.Users(50)
	title := func(m *picker.Model) string { return strings.TrimSpace(uitest.AssertFrame(t, m.View(), 80, 24)[0]) }
	m := started(t, uitest.Profiles[0], 80, 24, uitest.Users(200))
	if got := title(m); got != "Pick a user to shadow · row 1 of 200 users" {
		t.Errorf("partly loaded: %q", got)
	}
	search(t, m, "esther", &api.UsersPage{Users: users[4:5], Total: 1}, nil)
	if got := title(m); got != `Pick a user to shadow · row 1 of 1 user matching "esther"` {
		t.Errorf("one match: %q", got)
	}
	search(t, m, "a", &api.UsersPage{Users: users, Total: -1, NextCursor: "c50"}, nil)
	if got := title(m); got != `Pick a user to shadow · row 1 of 50+ users matching "a"` { // / starts a new search
		t.Errorf("total unknown: %q", got)
	}
	search(t, m, "x", nil, errors.New("server unreachable"))
	if got := title(m); got != "Pick a user to shadow" {
		t.Errorf("a failed search counts users: %q", got)
	}
}

// TestShortTerminalsShowUsers checks a short terminal still shows users, with the
// search while one is typed.
func TestShortTerminalsShowUsers(t *testing.T) {
	for h := 3; h < 9; h++ {
		m := started(t, uitest.Profiles[0], 20, h, uitest.Users(50))
		view := strings.Join(uitest.AssertFrame(t, m.View(), 20, h), "\n")
		if !strings.Contains(view, "❯") {
			t.Fatalf("height %d shows no user:\n%s", h, view)
		}
		uitest.Press(m, "/", "z")
		if view := strings.Join(uitest.AssertFrame(t, m.View(), 20, h), "\n"); !strings.Contains(view, "/ z") {
			t.Fatalf("height %d hides the search being typed:\n%s", h, view)
		}
	}
}

// TestLongReasonWraps puts a user whose reason does not fit one line under the cursor:
// it continues on the line below rather than being cut.
func TestLongReasonWraps(t *testing.T) {
	users := uitest.Users(50)
	users[0].Impersonable = false
	users[0].NotImpersonableCode = api.CodeImpersonationDisabled
	users[0].NotImpersonableReason = "Acme Logistics has switched impersonation off for every user; ask its admin"
	m := started(t, uitest.Profiles[0], 80, 24, users)
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	said := strings.Join(strings.Fields(lines[22]+" "+lines[23]), " ")
	if !strings.Contains(said, "ask its admin (impersonation_disabled)") {
		t.Fatalf("the reason is cut:\n%s", strings.Join(lines, "\n"))
	}
}

// TestHelpSaysLastUser: G goes to the directory's last user, not the last one loaded.
func TestHelpSaysLastUser(t *testing.T) {
	m := started(t, uitest.Profiles[0], 80, 24, uitest.Users(200))
	found := false
	for _, group := range m.FullHelp() {
		for _, b := range group {
			if b.Help().Key == "G/end" {
				found = b.Help().Desc == "last user"
			}
		}
	}
	if !found {
		t.Fatal("the help does not say G goes to the last user")
	}
}

// TestRolesFit: the usual roles fit their column, at 80 cells and wider.
func TestRolesFit(t *testing.T) {
	users := uitest.Users(10)
	users[0].Role = "Finance Analyst"
	for _, w := range []int{80, 120} {
		m := started(t, uitest.Profiles[0], w, 24, users)
		view := uitest.Plain(m.View())
		for _, role := range []string{"Fleet Manager", "Company Admin"} {
			if !strings.Contains(view, role) {
				t.Fatalf("%d cells: %q is cut:\n%s", w, role, view)
			}
		}
		if w >= 120 && !strings.Contains(view, "Finance Analyst") {
			t.Fatalf("%d cells: a long role is cut:\n%s", w, view)
		}
	}
}

// answer plays the server for what the picker asks, until it asks nothing more, and
// returns how many pages it was sent.
func answer(m *picker.Model, users []api.User, msgs []tea.Msg) int {
	pages := 0
	for len(msgs) > 0 {
		var next []tea.Msg
		for _, msg := range msgs {
			var cmd tea.Cmd
			switch r := msg.(type) {
			case picker.LoadMore:
				_, cmd = m.Update(picker.PageLoaded{Tag: r.Tag, Cursor: r.Cursor, Back: r.Back, Page: directory(users, r.Query, r.Cursor, 50)})
			case picker.SearchRequested:
				_, cmd = m.Update(picker.PageLoaded{Tag: r.Tag, Page: directory(users, r.Query, "", 50)})
			default:
				continue
			}
			pages++
			next = append(next, uitest.Msgs(cmd)...)
		}
		msgs = next
	}
	return pages
}

// G goes to the directory's real end, fetching the pages on the way and holding only
// KeepPages of them; coming back up fetches again the pages let go, on the same users;
// g goes back to the first. The title says the row of the whole list all along.
func TestWindowedPickerGoesToTheRealEnd(t *testing.T) {
	users := uitest.Users(2000)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	if got := answer(m, users, uitest.Press(m, "G")); got != 39 {
		t.Fatalf("G fetched %d pages to the end of 40", got)
	}
	if m.Held() > picker.KeepPages*50 || m.Row() != 1999 || !strings.Contains(title(m), "row 2,000 of 2,000 users") {
		t.Fatalf("after G: %d held, row %d, %q", m.Held(), m.Row(), title(m))
	}
	if v := uitest.Plain(m.View()); !strings.Contains(v, users[1999].Name) {
		t.Fatalf("the last user is not shown:\n%s", v)
	}
	for i := 0; i < 60; i++ { // 60 pages up: back past the pages let go
		answer(m, users, uitest.Press(m, "pgup"))
	}
	row := m.Row()
	if row > 1300 || m.Held() > picker.KeepPages*50 {
		t.Fatalf("page up went to row %d holding %d", row, m.Held())
	}
	answer(m, users, uitest.Press(m, "down"))
	if m.Row() != row+1 || !strings.Contains(uitest.Plain(m.View()), users[row+1].Name) {
		t.Fatalf("row %d does not show %s after coming back:\n%s", m.Row(), users[row+1].Name, m.View())
	}
	answer(m, users, uitest.Press(m, "g"))
	if m.Row() != 0 || !strings.Contains(title(m), "row 1 of 2,000 users") {
		t.Fatalf("g: row %d, %q", m.Row(), title(m))
	}
}

// esc stops the way to the end where it is.
func TestEscStopsTheWayToTheEnd(t *testing.T) {
	users := uitest.Users(2000)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	msgs := uitest.Press(m, "G")
	lm, ok := uitest.Find[picker.LoadMore](msgs)
	if !ok || !strings.Contains(uitest.Plain(m.View()), "Going to the end") {
		t.Fatal("G does not go to the end")
	}
	uitest.Press(m, "esc")
	_, cmd := m.Update(picker.PageLoaded{Tag: lm.Tag, Cursor: lm.Cursor, Page: directory(users, "", lm.Cursor, 50)})
	if _, more := uitest.Find[picker.LoadMore](uitest.Msgs(cmd)); more {
		t.Fatal("esc did not stop G")
	}
}

// title is the picker's first line, colour stripped.
func title(m *picker.Model) string {
	return strings.TrimSpace(strings.SplitN(uitest.Plain(m.View()), "\n", 2)[0])
}

// TestKeptSearchSaysHowToLeaveIt: a kept search says esc clears it and / starts a new
// one, and both do: / empties the box (not more words on the old query) and esc goes
// back to the whole directory.
func TestKeptSearchSaysHowToLeaveIt(t *testing.T) {
	users := uitest.Users(50)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	search(t, m, "esther", &api.UsersPage{Users: users[4:5], Total: 1}, nil)
	view := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n")
	if !strings.Contains(view, "/ esther · esc clears · / new search") {
		t.Fatalf("a kept search has no hint:\n%s", view)
	}
	hints := ""
	for _, b := range m.ShortHelp() {
		hints += b.Help().Key + " " + b.Help().Desc + " · "
	}
	if !strings.Contains(hints, "/ new search") || !strings.Contains(hints, "esc clear search") {
		t.Fatalf("hints %q", hints)
	}
	// esc: back to everyone, said in the query the list answers.
	msgs := uitest.Press(m, "esc")
	if m.Query() != "" || len(msgs) == 0 {
		t.Fatalf("esc left the query %q (%d messages)", m.Query(), len(msgs))
	}
	if _, cmd := m.Update(msgs[len(msgs)-1]); cmd == nil {
		t.Fatal("esc's search was never sent")
	}
	search(t, m, "esther", &api.UsersPage{Users: users[4:5], Total: 1}, nil)
	search(t, m, "bruno", &api.UsersPage{Users: users[1:2], Total: 1}, nil)
	if m.Query() != "bruno" {
		t.Fatalf("/ added to the kept search: %q", m.Query())
	}
}

// TestInfoShowsTheUserWhole: i opens the user under the cursor with every field whole
// (long names and reasons included) and its ids copyable; esc goes back to the list.
func TestInfoShowsTheUserWhole(t *testing.T) {
	users := uitest.Users(50)
	users[0].Name = "Ava Eriksen-Lindqvist-Okonkwo-Vasquez 000417 of the Generated Company"
	users[0].Impersonable, users[0].NotImpersonableCode = false, api.CodeImpersonationDisabled
	users[0].NotImpersonableReason = "Generated Company 0042 has switched impersonation off for every one of its users; ask its admin"
	m := started(t, uitest.Profiles[0], 80, 24, users)
	uitest.Press(m, "i")
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	flat := strings.ReplaceAll(strings.Join(lines, ""), " ", "")
	for _, want := range []string{users[0].Name, users[0].NotImpersonableReason + " (impersonation_disabled)", users[0].ID, users[0].CompanyID} {
		if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
			t.Fatalf("%q is not whole:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if _, ok := uitest.Find[picker.Picked](uitest.Press(m, "enter")); ok {
		t.Fatal("enter in the details picked the user")
	}
	uitest.Press(m, "esc")
	if v := strings.Join(uitest.AssertFrame(t, m.View(), 80, 24), "\n"); !strings.Contains(v, "Pick a user to shadow") {
		t.Fatalf("esc does not go back to the list:\n%s", v)
	}
}

// TestRefusalIsNeverCutMidWord: the line about a user who cannot be shadowed, at 100
// columns and every height, either holds the whole reason with its code or ends with an
// ellipsis — never a word cut short without one (the "(t" of a new user's pass).
func TestRefusalIsNeverCutMidWord(t *testing.T) {
	users := uitest.Users(50)
	users[0].Impersonable, users[0].NotImpersonableCode = false, api.CodeTargetPrivileged
	users[0].NotImpersonableReason = "Alice Andersen is a company admin; admin accounts are never impersonated."
	for _, h := range []int{24, 7, 5} {
		m := started(t, uitest.Profiles[0], 100, h, users)
		uitest.Press(m, "enter")
		lines := uitest.AssertFrame(t, m.View(), 100, h)
		var said []string
		for _, l := range lines {
			if strings.Contains(l, "Cannot shadow") || len(said) > 0 {
				said = append(said, strings.TrimSpace(l))
			}
		}
		text := strings.Join(said, " ")
		if !strings.Contains(text, "(target_privileged)") && !strings.HasSuffix(text, "…") {
			t.Fatalf("height %d: the refusal is cut: %q", h, text)
		}
	}
}

// TestGBeforeTheFirstPageGoesToTheEnd: G pressed while the first page is on its way (the
// title then says no count, not "0 users", so nobody takes the list for drawn) is not
// lost: once the page comes, the picker goes on to the directory's real end. It used to
// be handled against the empty list, where there is no page after, and dropped.
func TestGBeforeTheFirstPageGoesToTheEnd(t *testing.T) {
	users := uitest.Users(2000)
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	ctx.Session = ""
	m := picker.New(ctx)
	m.SetSize(80, 24)
	req, ok := uitest.Find[picker.SearchRequested](uitest.Msgs(m.Init()))
	if !ok {
		t.Fatal("Init asked for no page")
	}
	if tl := title(m); strings.Contains(tl, "users") {
		t.Fatalf("before the first page the title gives a count: %q", tl)
	}
	uitest.Press(m, "G")
	_, cmd := m.Update(picker.PageLoaded{Tag: req.Tag, Page: directory(users, "", "", 50)})
	if got := answer(m, users, uitest.Msgs(cmd)); got != 39 {
		t.Fatalf("G before the first page fetched %d pages after it, want 39", got)
	}
	if m.Row() != 1999 || !strings.Contains(title(m), "row 2,000 of 2,000 users") {
		t.Fatalf("G before the first page ended on row %d: %q", m.Row(), title(m))
	}
}

// TestGWhileTypingGoesToTheEndOfTheNewList: G pressed while a typed query's answer is
// on its way goes to the end of that answer, not of the old list shown meanwhile.
func TestGWhileTypingGoesToTheEndOfTheNewList(t *testing.T) {
	users := uitest.Users(2000)
	m := started(t, uitest.Profiles[0], 80, 24, users)
	ticks := uitest.Press(m, "/", "0")
	uitest.Press(m, "enter") // keep the search: G is a key again
	if _, more := uitest.Find[picker.LoadMore](uitest.Press(m, "G")); more {
		t.Fatal("G while typing asked for a page of the old list")
	}
	pages := 0
	for _, tick := range ticks {
		_, cmd := m.Update(tick)
		pages += answer(m, users, uitest.Msgs(cmd))
	}
	want := directory(users, "0", "", 1<<30).Total
	if pages < 2 || m.Row() != want-1 || !strings.Contains(title(m), fmt.Sprintf("row %s of %s users", chart.Number(float64(want)), chart.Number(float64(want)))) {
		t.Fatalf("G while typing: %d pages, row %d of %d: %q", pages, m.Row(), want, title(m))
	}
}

// At 80 columns a team path is cut in the middle, so the team itself (its end) shows and
// rows of one region tell their crews apart ("Regi… 1", never "Region …" on every row),
// with the generated org's names (shadow serve --generate-users).
func TestTeamPathKeepsItsTeam(t *testing.T) {
	users := uitest.Users(8)
	for i := range users {
		users[i].Team = fmt.Sprintf("Region %c / Crew %d", 'A'+i/2, i%2+1)
	}
	m := started(t, uitest.Profiles[0], 80, 24, users)
	lines := uitest.AssertFrame(t, m.View(), 80, 24)
	view := strings.Join(lines, "\n")
	if strings.Contains(view, "Region …") {
		t.Fatalf("the team column loses the team's end:\n%s", view)
	}
	for _, crew := range []string{" Crew 1 ", " Crew 2 "} { // the team, its region elided when there is no room
		if !strings.Contains(view, crew) {
			t.Errorf("%q missing:\n%s", crew, view)
		}
	}
}

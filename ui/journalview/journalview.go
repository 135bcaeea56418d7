// Package journalview is the Journal page: this session's journal records in the
// columns an auditor expects — Timestamp · Action · User performing action ·
// Impersonated user · Details — each with its sync state, newest at the bottom and
// followed as they arrive.
//
// It draws Entry values, a view of journal records the root maps from the journal
// (audit) package; it must never read the journal itself, and draws every field through
// safetext since details can quote server text.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package journalview

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/detail"
	"github.com/shadowview/shadow/ui/grid"
)

// SyncState is where a record stands with the server's audit log.
type SyncState int

// Sync states.
const (
	Pending  SyncState = iota // durable locally, not yet acknowledged by the server
	Synced                    // covered by a verified receipt
	Rejected                  // the server refused it (a conflict the sync cannot mend)
)

// String is the state in words, as drawn.
func (s SyncState) String() string {
	switch s {
	case Synced:
		return "synced"
	case Rejected:
		return "REJECTED"
	}
	return "pending"
}

// Entry is one journal record as the page shows it.
type Entry struct {
	Seq uint64
	// EventID and SessionID are the record's ids (copyable in its detail view): what an
	// auditor quotes to find it in the server's log.
	EventID, SessionID string
	Time               time.Time
	Action             string // api.Action… ("view", "session.start" …)
	Actor              string // the user performing the action: the admin
	User               string // the impersonated user
	Details            string
	Sync               SyncState
}

// AuditRequested asks the root for the server's reconciliation of this session
// (GET /audit/sessions/{id}, with the admin's own token) and an AuditLoaded reply with
// the same Tag.
type AuditRequested struct{ common.Tag }

// AuditLoaded is the reply to AuditRequested.
type AuditLoaded struct {
	common.Tag
	Audit *api.SessionAudit
	Err   error
}

// Indexed carries the search's index of a journal too large to index between two
// frames, built by a command (the root hands it back to the Journal tab).
type Indexed struct {
	common.Tag
	hay []string
	of  []uint64
}

// Updated replaces the entries shown.
type Updated struct{ Entries []Entry }

// Appended brings the page up to the journal (the root sends it when the journal gains a
// record or the server acknowledges more): Entries are the session's records after the
// last the page holds (LastSeq), in order — any it holds already are skipped — and
// every record up to Acked is synced. Its cost is the new records', not the journal's.
type Appended struct {
	Entries []Entry
	Acked   uint64
}

// KeyMap is the page's keys.
type KeyMap struct {
	Grid  grid.KeyMap
	Open  key.Binding // the record under the cursor, whole
	Check key.Binding // set the journal against the server's log
	// Search types a search; EndSearch keeps it (n/N then go from match to match),
	// ClearSearch drops it.
	Search, EndSearch, ClearSearch key.Binding
	Next, Prev                     key.Binding
}

// Model is the Journal page; it is a common.Component.
type Model struct {
	ctx     *common.Context
	keys    KeyMap
	grid    *grid.Model[Entry]
	entries []Entry
	width   int
	height  int
	// oneActor and oneUser are set when every record names the same admin and the same
	// impersonated user (a session's journal): said once in the title, not on every row.
	oneActor, oneUser string
	// record is the record under the cursor, whole (enter): a detail view kept while it
	// is open, so it scrolls and copies; nil when closed.
	record    *detail.Model
	recordSeq uint64

	// find is the search over the records; input has the keyboard while one is typed.
	find      search
	input     textinput.Model
	searching bool
	indexReq  common.Latest // the index being built off the UI's goroutine, if any
	indexing  bool
	// pending and rejected count the entries in those states (counted as they arrive,
	// not at each frame: a journal can hold tens of thousands).
	pending, rejected int
	// unsynced is the index of the first entry that may still be pending: the ones
	// before it are acknowledged (acknowledgement only grows), so an Appended looks at
	// the entries from it on.
	unsynced int

	auditReq common.Latest
	audit    *api.SessionAudit // the server's reconciliation, once asked for (a)
	auditErr error
	checking bool
}

// New makes the page.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, keys: KeyMap{Grid: grid.DefaultKeyMap(),
		Open:        key.NewBinding(key.WithKeys("enter", "i"), key.WithHelp("enter", "whole record")),
		Check:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "check with server")),
		Search:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		EndSearch:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep search")),
		ClearSearch: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
		Next:        key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/previous match")),
		Prev:        key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous match"))}}
	m.input = textinput.New()
	m.input.Prompt = "Search: "
	m.input.Placeholder = "action, user, resource, details…"
	m.input.CharLimit = 100
	ctx.Styles.StyleInput(&m.input)
	m.grid = grid.New(ctx.Styles, columns(0, false, 0), m.cell)
	m.grid.Empty = "No records yet."
	return m
}

// fullTitlesFrom is the width from which the two users' columns fit their full titles;
// below it they are "Admin" (the user performing the action) and "As user" (the
// impersonated one), rather than titles cut short.
const fullTitlesFrom = 140

// columns are the journal's columns for a width; shared leaves out the two users'
// columns below fullTitlesFrom when every record names the same two (the title says
// them once).
func columns(width int, shared bool, lastSeq uint64) []grid.Column {
	timeW := 9 // 15:04:05Z
	if width >= 110 {
		timeW = 20 // 2006-01-02 15:04:05Z
	}
	actor, user := "Admin", "As user"
	if width >= fullTitlesFrom {
		actor, user = "User performing action", "Impersonated user"
	}
	userW := func(title string) int { return max(11, len(title)) }
	cols := []grid.Column{
		{Key: colSeq, Title: "#", Width: max(3, len(fmt.Sprint(lastSeq))), Align: grid.Right}, // a seq is never cut
		{Key: colTime, Title: "Timestamp", Width: timeW},
		{Key: colAction, Title: "Action", Width: 14},
	}
	if !shared || width >= fullTitlesFrom {
		cols = append(cols, grid.Column{Key: colActor, Title: actor, Width: userW(actor), Flex: 1},
			grid.Column{Key: colUser, Title: user, Width: userW(user), Flex: 1})
	}
	return append(cols, grid.Column{Key: colDetails, Title: "Details", Width: 14, Flex: 4},
		grid.Column{Key: colSync, Title: "Sync", Width: 8})
}

// The journal's column keys: the columns an auditor expects.
const (
	colSeq     = "seq"
	colTime    = "time"
	colAction  = "action"
	colActor   = "actor"
	colUser    = "user"
	colDetails = "details"
	colSync    = "sync"
)

func (m *Model) cell(e Entry, col int) grid.Cell {
	switch m.grid.Column(col).Key {
	case colSeq:
		return grid.Cell{Text: fmt.Sprint(e.Seq)}
	case colTime:
		layout := "15:04:05Z"
		if m.width >= 110 {
			layout = "2006-01-02 15:04:05Z"
		}
		return grid.Cell{Text: e.Time.UTC().Format(layout)}
	case colAction:
		return grid.Cell{Text: e.Action}
	case colActor:
		return grid.Cell{Text: e.Actor}
	case colUser:
		return grid.Cell{Text: e.User}
	case colDetails:
		return grid.Cell{Text: e.Details}
	case colSync:
		return m.syncCell(e)
	}
	return grid.Cell{}
}

// syncCell is an entry's sync state, painted by what it means.
func (m *Model) syncCell(e Entry) grid.Cell {
	st := m.ctx.Styles
	switch e.Sync {
	case Synced:
		return grid.Cell{Text: e.Sync.String(), Paint: st.OK}
	case Rejected:
		return grid.Cell{Text: e.Sync.String(), Paint: st.Error}
	}
	return grid.Cell{Text: e.Sync.String(), Paint: st.Warn}
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// TakesEsc reports whether esc closes the open record's view (or drops a kept search)
// rather than stopping what the tab waits for: the root gives the page esc first then.
func (m *Model) TakesEsc() bool { return m.record != nil || m.find.query != "" }

// Capturing reports whether the search input has the keyboard (so q, digits and tab are
// text, not the root's keys).
func (m *Model) Capturing() bool { return m.searching }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	var last uint64
	if n := len(m.entries); n > 0 {
		last = m.entries[n-1].Seq
	}
	m.grid.SetColumns(columns(width, m.oneActor != "" || m.oneUser != "", last))
	m.grid.SetSize(width, max(1, height-m.extraLines()))
	m.fitInput()
	if m.record != nil {
		m.record.SetSize(width, height)
	}
}

// extraLines is what the page draws besides the grid: the title line and the selected
// record's details, dropped on a short terminal so records still show.
func (m *Model) extraLines() int {
	switch {
	case m.height >= 8 && m.auditShown():
		return 3 // and the server's word on the journal
	case m.height >= 6:
		return 2
	case m.height >= 4:
		return 1 // the details go first
	}
	return 0
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case Updated:
		m.entries, m.pending, m.rejected, m.unsynced = nil, 0, 0, 0
		m.oneActor, m.oneUser = "", ""
		m.add(msg.Entries, 0)
	case Appended:
		m.add(msg.Entries, msg.Acked)
	case Indexed:
		if !m.indexReq.Current(msg) {
			return m, nil
		}
		m.indexing = false
		m.find.hay, m.find.hayOf = msg.hay, msg.of
		m.find.refresh(m.entries) // records that came meanwhile
		m.find.set(m.input.Value(), false)
		m.toMatch()
	case AuditLoaded:
		if !m.auditReq.Current(msg) {
			return m, nil
		}
		m.checking, m.audit, m.auditErr = false, msg.Audit, msg.Err
		m.SetSize(m.width, m.height)
	case tea.PasteMsg:
		if m.searching {
			return m, m.edit(msg)
		}
	case tea.KeyPressMsg:
		if m.searching {
			return m, m.searchKey(msg)
		}
		if cmd, ok := detail.Route(&m.record, msg); ok {
			return m, cmd
		}
		switch {
		case key.Matches(msg, m.keys.Search):
			m.searching = true
			m.input.SetValue("")
			m.fitInput()
			m.find.set("", false)
			return m, tea.Batch(m.input.Focus(), m.indexCmd())
		case m.find.query != "" && key.Matches(msg, m.keys.Next, m.keys.Prev):
			row, _ := m.grid.Cursor()
			if r := m.find.next(row, key.Matches(msg, m.keys.Prev)); r >= 0 {
				m.grid.SetCursor(r, 0)
			}
		case m.find.query != "" && key.Matches(msg, m.keys.ClearSearch):
			m.find.set("", false)
		case key.Matches(msg, m.keys.Check):
			m.checking = true
			m.SetSize(m.width, m.height)
			return m, common.Emit(AuditRequested{Tag: m.auditReq.Issue(m.ctx.Session)})
		case key.Matches(msg, m.keys.Open):
			m.openRecord()
		default:
			m.grid.Update(msg)
		}
	}
	return m, nil
}

// add takes the records after the last held (others are skipped), counts them, marks
// synced the held ones up to acked, and redraws: its work is the new records' and the
// ones waiting for the server, never the whole journal's.
func (m *Model) add(entries []Entry, acked uint64) {
	row, _ := m.grid.Cursor()
	follow := m.grid.Len() == 0 || row == m.grid.Len()-1
	last, had := m.LastSeq(), len(m.entries)
	for len(entries) > 0 && had > 0 && entries[0].Seq <= last {
		entries = entries[1:] // held already (a read that overlapped the last)
	}
	for _, e := range entries {
		switch e.Sync {
		case Pending:
			m.pending++
		case Rejected:
			m.rejected++
		}
	}
	m.entries = append(m.entries, entries...)
	for ; m.unsynced < len(m.entries) && m.entries[m.unsynced].Seq <= acked; m.unsynced++ {
		if e := &m.entries[m.unsynced]; e.Sync == Pending {
			e.Sync = Synced
			m.pending--
			m.refreshRecord(*e)
		}
	}
	for m.unsynced < len(m.entries) && m.entries[m.unsynced].Sync == Synced {
		m.unsynced++ // came synced already
	}
	switch {
	case had == 0:
		m.oneActor, m.oneUser = shared(m.entries)
	case m.oneActor != "":
		if a, _ := shared(append([]Entry{{Actor: m.oneActor, User: m.oneUser}}, entries...)); a == "" {
			m.oneActor, m.oneUser = "", ""
		}
	}
	m.SetSize(m.width, m.height)
	m.grid.SetRows(m.entries)
	if follow {
		m.grid.SetCursor(len(m.entries)-1, 0)
	}
	if (m.find.query != "" || m.searching) && !m.indexing {
		m.find.refresh(m.entries) // new records are searched as they come
	}
}

// LastSeq is the seq of the last record held, 0 for none: the root reads only the
// records after it.
func (m *Model) LastSeq() uint64 {
	if len(m.entries) == 0 {
		return 0
	}
	return m.entries[len(m.entries)-1].Seq
}

// searchKey is a key while the search is typed: enter keeps it, esc drops it, anything
// else edits it.
func (m *Model) searchKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.EndSearch):
		m.searching = false
		m.input.Blur()
	case key.Matches(msg, m.keys.ClearSearch):
		m.searching = false
		m.input.Blur()
		m.input.SetValue("")
		m.find.set("", false)
		m.indexing = false
		m.indexReq.Forget()
	default:
		return m.edit(msg)
	}
	return nil
}

// edit gives the search input a key or a paste, searches for what it then holds, and
// puts the cursor on the first match from where it is.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	m.fitInput()
	if v := m.input.Value(); v != before && !m.indexing {
		m.find.set(v, strings.HasPrefix(v, before))
		m.toMatch()
	}
	return cmd
}

// toMatch puts the cursor on the first match from where it is, if any.
func (m *Model) toMatch() {
	row, _ := m.grid.Cursor()
	if r := m.find.from(row); r >= 0 {
		m.grid.SetCursor(r, 0)
	}
}

// indexCmd brings the search's index up to the records: at once for a few, by a
// command for many (the page keeps taking keys; the search runs when it is built).
func (m *Model) indexCmd() tea.Cmd {
	if !m.find.stale(m.entries) {
		m.find.index(m.entries)
		return nil
	}
	m.indexing = true
	tag, entries := m.indexReq.Issue(m.ctx.Session), m.entries
	return func() tea.Msg {
		hay, of := build(entries)
		return Indexed{Tag: tag, hay: hay, of: of}
	}
}

// fitInput sizes the search input to what it holds, at most a third of the line: the
// rest says which match the cursor is on.
func (m *Model) fitInput() {
	w := safetext.Width(m.input.Value()) + 1
	if m.input.Value() == "" {
		w = safetext.Width(m.input.Placeholder)
	}
	m.input.SetWidth(max(1, min(w, max(8, m.width/3))))
}

// searchLine says where the search stands: what is searched, which match the cursor is
// on of how many, or that no record matches, in words.
func (m *Model) searchLine() string {
	st := m.ctx.Styles
	var what string
	if m.searching {
		what = m.input.View()
	} else {
		what = st.Muted.Apply("Search: ") + safetext.Clean(strings.TrimSpace(m.input.Value()))
	}
	q := m.find.query
	switch {
	case m.indexing:
		n := len(m.entries)
		return what + st.Muted.Apply(fmt.Sprintf(" · reading %d %s to search them…", n, words.Plural(n, "record", "records")))
	case q == "":
		return what + st.Muted.Apply(" · enter keep · esc clear")
	case len(m.find.matches) == 0:
		return what + " · " + st.Warn.Apply("no record matches") + st.Muted.Apply(" · esc clears")
	}
	n := len(m.find.matches)
	row, _ := m.grid.Cursor()
	where := fmt.Sprintf("%d %s · this row is none", n, words.Plural(n, "match", "matches"))
	if k := m.find.at(row); k >= 0 {
		where = fmt.Sprintf("match %d of %d", k+1, n)
	}
	return what + " · " + st.OK.Apply(where) + st.Muted.Apply(" · n/N next/previous · esc clears")
}

// searchShown reports whether the search line is drawn: while typed, and while kept.
func (m *Model) searchShown() bool { return m.searching || m.indexing || m.find.query != "" }

// auditShown reports whether the server's reconciliation has a line: asked for once.
func (m *Model) auditShown() bool { return m.checking || m.audit != nil || m.auditErr != nil }

// auditLine says what the server's log says of this journal: the reads it served that no
// record accounts for, and the records of reads it never served; said plainly when all
// agree, and with the caveat when records are still waiting to sync.
func (m *Model) auditLine() string {
	st := m.ctx.Styles
	label := st.Muted.Apply("Server's log: ")
	switch {
	case m.checking:
		return label + st.Muted.Apply("asking…")
	case m.auditErr != nil:
		return label + st.Error.Apply(safetext.Clean("could not check: "+m.auditErr.Error()))
	}
	s := m.audit.Summary
	pending := m.pending + m.rejected // not synced: counted as they come, not per frame
	n := func(v int, one, many string) string { return fmt.Sprintf("%d %s", v, words.Plural(v, one, many)) }
	var say []string
	if s.Unjournaled > 0 {
		say = append(say, st.Error.Apply(n(s.Unjournaled, "read", "reads")+" served that no record accounts for"))
	}
	if s.Unserved > 0 {
		say = append(say, st.Error.Apply(n(s.Unserved, "record", "records")+" of reads it never served"))
	}
	if s.Unrecognised > 0 {
		say = append(say, st.Warn.Apply(n(s.Unrecognised, "record", "records")+" it cannot match"))
	}
	if s.Findings > 0 {
		say = append(say, st.Error.Apply(n(s.Findings, "record", "records")+" whose page count it belies"))
	}
	if len(say) == 0 {
		say = append(say, st.OK.Apply(fmt.Sprintf("all %s served are journaled", n(s.Served, "read", "reads"))))
	}
	line := label + strings.Join(say, " · ")
	if pending > 0 {
		line += st.Muted.Apply(fmt.Sprintf(" · checked with %d not yet synced", pending))
	}
	return line + st.Muted.Apply(" · a again")
}

// shared is the admin and the impersonated user every entry names, "" for either when
// they differ (or when there are none).
func shared(entries []Entry) (actor, user string) {
	if len(entries) == 0 {
		return "", ""
	}
	actor, user = entries[0].Actor, entries[0].User
	for _, e := range entries[1:] {
		if e.Actor != actor {
			actor = ""
		}
		if e.User != user {
			user = ""
		}
	}
	if actor == "" || user == "" {
		return "", "" // both columns, or neither: a half-shared journal keeps its columns
	}
	return actor, user
}

// openRecord opens the record under the cursor with every field whole, the details
// wrapped, in the detail view every list opens (ui/detail): it scrolls, Y copies its
// ids (when copying is on), esc closes it.
func (m *Model) openRecord() {
	e, ok := m.grid.Selected()
	if !ok {
		return
	}
	m.recordSeq = e.Seq
	m.record = detail.New(m.ctx, fmt.Sprintf("Journal record %d", e.Seq), recordFields(e))
	m.record.SetSize(m.width, m.height)
}

// refreshRecord redraws the open record's fields when its entry has changed (its sync
// state, say), keeping where the view is.
func (m *Model) refreshRecord(e Entry) {
	if m.record != nil && e.Seq == m.recordSeq {
		m.record.SetFields(recordFields(e))
	}
}

// recordFields are a record's fields for the detail view, its ids copyable.
func recordFields(e Entry) []detail.Field {
	return []detail.Field{
		{Label: "Timestamp", Value: e.Time.UTC().Format(time.RFC3339Nano)},
		{Label: "Action", Value: e.Action},
		{Label: "User performing action", Value: e.Actor},
		{Label: "Impersonated user", Value: e.User},
		{Label: "Sync", Value: e.Sync.String()},
		{Label: "Event id", Value: e.EventID, Copy: true},
		{Label: "Session id", Value: e.SessionID, Copy: true},
		{Label: "Details", Value: e.Details},
	}
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	st := m.ctx.Styles
	pending, rejected := m.pending, m.rejected
	if m.record != nil {
		return m.record.View()
	}
	title := "This session's journal"
	if m.width < 100 {
		title = "Journal" // the room goes to who is in it
	}
	head := st.Title.Apply(title) + fmt.Sprintf(" · %d %s", len(m.entries), words.Plural(len(m.entries), "record", "records"))
	if r, _ := m.grid.Cursor(); len(m.entries) > 0 {
		head = st.Title.Apply(title) + fmt.Sprintf(" · row %d of %d %s", r+1, len(m.entries), words.Plural(len(m.entries), "record", "records"))
	}
	switch {
	case rejected > 0:
		head += " · " + st.Error.Apply(fmt.Sprintf("%d REJECTED by the server", rejected))
	case pending > 0:
		head += " · " + st.Warn.Apply(fmt.Sprintf("%d pending sync", pending))
	case len(m.entries) > 0:
		head += " · " + st.OK.Apply("all synced")
	}
	if m.oneActor != "" && m.width < fullTitlesFrom {
		head += st.Muted.Apply(" · " + safetext.Clean(m.oneActor) + " as " + safetext.Clean(m.oneUser))
	}
	var lines []string
	switch {
	case m.extraLines() == 1 && m.searchShown():
		lines = append(lines, common.FitLine(m.searchLine(), m.width)) // on a short terminal the search wins
	case m.extraLines() > 0:
		lines = append(lines, common.FitLine(head, m.width))
	}
	if m.extraLines() > 2 {
		lines = append(lines, common.FitLine(m.auditLine(), m.width))
	}
	lines = append(lines, common.Fill(m.grid.Lines(), m.width, m.grid.BodyHeight()+1)...)
	switch {
	case m.extraLines() > 1 && m.searchShown():
		lines = append(lines, common.FitLine(m.searchLine(), m.width))
	case m.extraLines() > 1:
		details := ""
		if e, ok := m.grid.Selected(); ok {
			// Cut with an ellipsis (safetext.Fit), so a cut never reads as the whole text.
			details = st.Muted.Apply(detailsLabel) + safetext.Fit(e.Details, m.width-len(detailsLabel))
		}
		lines = append(lines, common.FitLine(details, m.width))
	}
	return common.Join(common.Fill(lines, m.width, m.height))
}

const detailsLabel = "Details: "

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.record != nil:
		return m.record.ShortHelp()
	case m.searching:
		return []key.Binding{m.keys.EndSearch, m.keys.ClearSearch}
	case m.find.query != "":
		return []key.Binding{m.keys.Next, m.keys.ClearSearch, m.keys.Open}
	}
	return []key.Binding{m.keys.Grid.Down, m.keys.Search, m.keys.Open, m.keys.Check}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if m.record != nil {
		return m.record.FullHelp()
	}
	g := m.keys.Grid
	return [][]key.Binding{{g.Up, g.Down, g.PageUp, g.PageDown, g.Top, g.Bottom, g.Left, g.Right}, {m.keys.Open, m.keys.Check}, {m.keys.Search, m.keys.Next, m.keys.Prev, m.keys.ClearSearch}}
}

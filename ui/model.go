package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/chrome"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/login"
	"github.com/shadowview/shadow/ui/picker"
	"github.com/shadowview/shadow/ui/reason"
)

// Screen names, as Model.Screen reports them.
const (
	ScreenConnecting = "connecting"
	ScreenLogin      = "login"
	ScreenPicker     = "picker"
	ScreenReason     = "reason"
	ScreenSession    = "session"
	ScreenEnding     = "ending"
	ScreenFatal      = "fatal"
)

// Tab titles, in order; the number keys 1–3 pick them.
var tabTitles = []string{"Dashboards", "Permissions", "Journal"}

// Tab indexes.
const (
	TabDashboards = iota
	TabPermissions
	TabJournal
)

// Model is the root of the program: it owns the Context, decides which page is shown,
// handles the global keys, performs every request the pages ask for (client calls and
// journal writes, as tea.Cmds), and runs the session's lifecycle. Create it with New.
type Model struct {
	opts Options
	ctx  *common.Context

	admin   api.User
	journal *audit.Journal
	// stopStatus ends the journal status subscription.
	stopStatus func()

	screen string
	// connecting says what the connecting screen is waiting for.
	connecting string
	spin       spinner.Model
	login      *login.Model
	picker     *picker.Model
	reason     *reason.Model
	sess       *session // the active session; nil when none
	ending     *session // a session being ended (its banner stays until it has)

	status   *chrome.Status
	sync     audit.Status
	lastErr  error
	note     string // something to keep in mind, shown when there is no error
	help     bool
	confirm  bool    // "End the session?" is asked
	dialog   *dialog // a message that waits for enter
	quitting bool    // quit once the session is ended
	fatal    string  // why nothing more can be done (the journal failed)

	// checkingSignIn is set while the server is asked whether the sign-in still holds.
	checkingSignIn bool

	usersPending                 int // directory pages on their way
	noticesSeen                  int // the journal status's Notices already shown
	readingRecords, recordsDirty bool
	bodyHeight                   int // the pages' height at the last resize
	keys                         rootKeys

	started time.Time // when the program was made (a remote connection's start)
	lastKey time.Time // the last key or paste, for the idle timeout
	idled   bool      // ended for want of keys
}

// dialog is a framed message shown over the page until enter or esc.
type dialog struct {
	title string
	lines []string
}

// rootKeys are the bindings the root shows for itself beyond common.GlobalKeys.
type rootKeys struct {
	quit      key.Binding // q outside a session
	abort     key.Binding // ctrl+c outside a session, as hinted
	dismiss   key.Binding
	no        key.Binding
	closeHelp key.Binding
}

func defaultRootKeys() rootKeys {
	return rootKeys{
		quit:    key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		abort:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		dismiss: key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter", "close")),
		no:      key.NewBinding(key.WithKeys("n", "esc", "q"), key.WithHelp("n", "keep going")),
		// ? opens the help and closes it; esc is the hint, as everywhere else.
		closeHelp: key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("esc", "close help")),
	}
}

// New makes the root model. Nothing is sent until the program runs Init.
func New(opts Options) *Model {
	opts = opts.withDefaults()
	ctx := common.NewContext(opts.Profile)
	ctx.Now = opts.Now
	m := &Model{opts: opts, ctx: ctx, keys: defaultRootKeys(), started: time.Now()}
	m.lastKey = m.started
	m.status = chrome.NewStatus(ctx)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(ctx.Styles.Spinner))
	m.picker = picker.New(ctx)
	if opts.SearchDebounce > 0 {
		m.picker.Debounce = opts.SearchDebounce
	}
	m.reason = reason.New(ctx)
	m.login = login.New(ctx, opts.Client.BaseURL())
	if opts.TypedTokens {
		m.login.AcceptTokens()
	}
	return m
}

// Init signs in: with the demo's credentials, with the token, or by showing the login
// screen.
func (m *Model) Init() tea.Cmd {
	idle := m.idleAfter(m.opts.IdleTimeout)
	switch {
	case m.opts.Credentials != nil:
		m.screen, m.connecting = ScreenConnecting, "Signing in as "+m.opts.Credentials.Email+"…"
		return tea.Batch(idle, m.spin.Tick, m.signIn(common.Tag{}, m.opts.Credentials.Email, m.opts.Credentials.Password, ""))
	case m.opts.UseToken:
		m.screen, m.connecting = ScreenConnecting, "Checking the token…"
		return tea.Batch(idle, m.spin.Tick, m.signIn(common.Tag{}, "", "", ""))
	}
	m.screen = ScreenLogin
	return tea.Batch(idle, m.login.Init())
}

// Screen is the screen shown: one of the Screen… names.
func (m *Model) Screen() string { return m.screen }

// Tab is the session tab shown (TabDashboards…), or -1 outside a session.
func (m *Model) Tab() int {
	if m.sess == nil {
		return -1
	}
	return m.sess.tab
}

// SessionID is the active session's id, "" when none.
func (m *Model) SessionID() string {
	if m.sess == nil {
		return ""
	}
	return m.sess.id
}

// Banner is what the banner names while a session is active (or being ended); nil
// otherwise.
func (m *Model) Banner() *banner.Info {
	switch {
	case m.sess != nil:
		return &m.sess.info
	case m.ending != nil:
		return &m.ending.info
	}
	return nil
}

// Journal is this run's journal once signed in (nil before). Shutdown closes it, unless
// it is the caller's (Options.Journal).
func (m *Model) Journal() *audit.Journal { return m.journal }

// SyncStatus is the journal's last published status.
func (m *Model) SyncStatus() audit.Status { return m.sync }

// Busy reports whether anything the admin asked for is still on its way: a sign-in, a
// session start or end, a page load. Tests wait for it to settle.
func (m *Model) Busy() bool {
	switch {
	case m.screen == ScreenConnecting || m.screen == ScreenEnding:
		return true
	case m.usersPending > 0 || m.checkingSignIn || (m.screen == ScreenPicker && m.picker.Waiting()):
		return true
	case m.screen == ScreenLogin:
		return m.login.Busy()
	case m.screen == ScreenReason:
		return m.reason.Busy()
	case m.sess != nil:
		return m.sess.loading() || m.readingRecords
	}
	return false
}

// Dialog is the title of the dialog shown ("" when none): a message, the question
// before ending, or the fatal error.
func (m *Model) Dialog() string {
	switch {
	case m.confirm:
		return "End the session?"
	case m.dialog != nil:
		return m.dialog.title
	case m.fatal != "":
		return "shadow cannot go on"
	}
	return ""
}

// LastError is the error shown in the status line, nil when none.
func (m *Model) LastError() error { return m.lastErr }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tea.KeyPressMsg:
		m.lastKey = time.Now()
		return m, m.key(msg)
	case tea.PasteMsg:
		m.lastKey = time.Now()
		return m, m.paste(msg)
	case idleDue:
		return m, m.onIdleDue()
	case spinner.TickMsg:
		return m, m.spinTick(msg)
	}
	if cmd, ok := m.lifecycle(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.requests(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.replies(msg); ok {
		return m, cmd
	}
	return m, m.toPage(msg)
}

// spinTick keeps the spinner of whatever is waiting turning.
func (m *Model) spinTick(msg spinner.TickMsg) tea.Cmd {
	switch m.screen {
	case ScreenLogin:
		_, cmd := m.login.Update(msg)
		return cmd
	case ScreenReason:
		_, cmd := m.reason.Update(msg)
		return cmd
	case ScreenConnecting, ScreenEnding:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	}
	return nil
}

// page is the component shown now, nil when none takes keys.
func (m *Model) page() common.Component {
	switch m.screen {
	case ScreenLogin:
		return m.login
	case ScreenPicker:
		return m.picker
	case ScreenReason:
		return m.reason
	case ScreenSession:
		return m.sess.page()
	}
	return nil
}

func (m *Model) toPage(msg tea.Msg) tea.Cmd {
	if p := m.page(); p != nil {
		_, cmd := p.Update(msg)
		return cmd
	}
	return nil
}

func capturing(p common.Component) bool {
	c, ok := p.(common.Capturer)
	return ok && c.Capturing()
}

// paste gives pasted text to a page whose text input has the keyboard, and to nothing
// else: pasted words are never taken as keys.
func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	if m.fatal != "" || m.help || m.confirm || m.dialog != nil {
		return nil
	}
	if p := m.page(); p != nil && capturing(p) {
		_, cmd := p.Update(msg)
		return cmd
	}
	return nil
}

// key handles a key: the overlays first, then a page capturing text, then the global
// keys, then the page.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	g := m.ctx.Keys
	if key.Matches(msg, g.Quit) {
		return m.quit("ended: the admin quit shadow")
	}
	switch {
	case m.fatal != "":
		if key.Matches(msg, m.keys.quit, m.keys.dismiss) {
			return m.quit("ended: the admin quit shadow")
		}
		return nil
	case m.help:
		if key.Matches(msg, m.keys.closeHelp) {
			m.help = false
			return nil
		}
		if !m.rootKey(msg) {
			return nil // the page's keys do not act behind the help
		}
		m.help = false // q and the tab keys close it and act
	case m.confirm:
		switch {
		case key.Matches(msg, g.Confirm):
			m.confirm = false
			return m.endSession(api.ActionSessionEnd, "ended by the admin", "")
		case key.Matches(msg, m.keys.no):
			m.confirm = false
		}
		return nil
	case m.dialog != nil:
		if key.Matches(msg, m.keys.dismiss) {
			m.dialog = nil
		}
		return nil
	}
	p := m.page()
	if p == nil {
		return nil // connecting or ending: only ctrl+c counts
	}
	if capturing(p) {
		_, cmd := p.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, g.Help):
		m.help = true
		return nil
	case m.sess == nil && key.Matches(msg, m.keys.quit):
		return m.quit("ended: the admin quit shadow")
	}
	if m.sess != nil {
		switch {
		case key.Matches(msg, g.End):
			m.confirm = true
			return nil
		case key.Matches(msg, g.NextTab):
			return m.showTab((m.sess.tab + 1) % len(tabTitles))
		case key.Matches(msg, g.PrevTab):
			return m.showTab((m.sess.tab + len(tabTitles) - 1) % len(tabTitles))
		case key.Matches(msg, g.Tab1):
			return m.showTab(TabDashboards)
		case key.Matches(msg, g.Tab2):
			return m.showTab(TabPermissions)
		case key.Matches(msg, g.Tab3):
			return m.showTab(TabJournal)
		}
	}
	_, cmd := p.Update(msg)
	return cmd
}

// quit ends the session (if any) and then the program. A session start on its way is
// waited for, so a session the server is starting is ended rather than left running.
func (m *Model) quit(why string) tea.Cmd {
	m.quitting, m.help, m.confirm = true, false, false
	switch {
	case m.sess != nil:
		return m.endSession(api.ActionSessionEnd, why, "")
	case m.ending != nil:
		return nil // sessionEnded quits
	case m.screen == ScreenReason && m.reason.Busy():
		m.lastErr = errors.New("quitting once the server answers the session start (a session it started is ended at once)")
		return nil // the start's reply ends what it started, then quits
	}
	return tea.Quit
}

// resize gives every page the space it has under the banner and chrome.
func (m *Model) resize() {
	w := m.ctx.Width
	h := BodyHeight(m.ctx, m.Banner())
	m.bodyHeight = h
	m.login.SetSize(w, h)
	m.picker.SetSize(w, h)
	m.reason.SetSize(w, h)
	if m.sess != nil {
		m.sess.setSize(w, h)
	}
}

// View implements tea.Model: the frame (Frame) in the alternate screen (unless
// Options.Inline), under a window title that names the impersonated user while a
// session is active.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Frame())
	v.AltScreen = !m.opts.Inline
	v.WindowTitle = banner.Title(m.Banner())
	return v
}

// Frame is the text of the screen now: every frame goes through Screen, so while a
// session is active (or being ended) the banner is on top.
func (m *Model) Frame() string {
	ctx := m.ctx
	info := m.Banner()
	w, bodyH := ctx.Width, BodyHeight(ctx, info)
	var body string
	var keys help.KeyMap
	switch m.screen {
	case ScreenConnecting:
		body = common.Join(common.Center([]string{m.spin.View() + " " + safetext.Clean(m.connecting)}, w, bodyH))
		keys = quitKeys{m.keys.abort}
	case ScreenEnding:
		say := m.spin.View() + " Ending the session…"
		if m.ending == nil {
			say = "The session is ended; shadow is quitting." // the last frame, once it is
		}
		body = common.Join(common.Center([]string{say}, w, bodyH))
		keys = common.KeyMaps{}
	case ScreenFatal:
		keys = common.KeyMaps{}
	case ScreenSession:
		p := m.sess.page()
		body, keys = p.View(), common.KeyMaps{p, ctx.Keys}
		if capturing(p) {
			keys = common.KeyMaps{p, quitKeys{ctx.Keys.Quit}} // q, tab and digits are text now
		}
	default:
		p := m.page()
		body = p.View()
		if capturing(p) {
			keys = common.KeyMaps{p, quitKeys{m.keys.abort}}
		} else {
			keys = common.KeyMaps{p, quitKeys{m.keys.quit, ctx.Keys.Help}}
		}
	}
	switch {
	case m.fatal != "":
		body = chrome.Dialog(ctx, "shadow cannot go on", append(strings.Split(m.fatal, "\n"), "", "q or ctrl+c to quit"), w, bodyH)
		keys = quitKeys{m.keys.quit}
	case m.help:
		body = chrome.HelpView(ctx, keys, w, bodyH)
		keys = m.helpKeys()
	case m.confirm:
		body = chrome.Dialog(ctx, "End the session?", []string{
			"Stop shadowing " + m.sess.info.User + " and return to the picker?", "",
			"y end the session · n keep going"}, w, bodyH)
		keys = quitKeys{ctx.Keys.Confirm, m.keys.no}
	case m.dialog != nil:
		body = chrome.Dialog(ctx, m.dialog.title, append(append([]string(nil), m.dialog.lines...), "", "enter to close"), w, bodyH)
		keys = quitKeys{m.keys.dismiss}
	}
	return Screen(ctx, info, m.header(), body, m.statusLine(keys))
}

// helpKeys are the keys that work while the help is shown: closing it, and the root's
// own keys, which close it and act (the status line promises them).
func (m *Model) helpKeys() quitKeys {
	if m.sess != nil {
		return quitKeys{m.keys.closeHelp, m.ctx.Keys.End, m.ctx.Keys.Quit}
	}
	return quitKeys{m.keys.closeHelp, m.keys.quit}
}

// rootKey reports whether a key is one the root acts on itself, so it works over the
// help as the status line says: q, and during a session the tab keys.
func (m *Model) rootKey(msg tea.KeyPressMsg) bool {
	g := m.ctx.Keys
	if m.sess == nil {
		return key.Matches(msg, m.keys.quit)
	}
	return key.Matches(msg, g.End, g.NextTab, g.PrevTab, g.Tab1, g.Tab2, g.Tab3)
}

// quitKeys are hints the root gives for itself: outside a session, over the help and
// in dialogs.
type quitKeys []key.Binding

func (q quitKeys) ShortHelp() []key.Binding  { return q }
func (q quitKeys) FullHelp() [][]key.Binding { return [][]key.Binding{q} }

// header is the line above the page: the tabs during a session; otherwise who is
// signed in where. DEMO and connection warnings sit at its right end.
func (m *Model) header() string {
	st := m.ctx.Styles
	w := m.ctx.Width
	var tags []string
	if m.opts.Demo {
		tags = append(tags, st.Warn.Apply("DEMO"))
	}
	for _, n := range m.opts.Notices {
		if strings.Contains(n, "TLS") {
			tags = append(tags, st.Error.Apply("TLS NOT VERIFIED"))
		} else if strings.Contains(n, "plain http") {
			tags = append(tags, st.Error.Apply("UNENCRYPTED"))
		}
	}
	right := strings.Join(tags, " ")
	rw := ansi.StringWidth(right)
	if rw > 0 {
		rw++
	}
	left := m.whoAndWhere()
	if m.sess != nil && m.screen == ScreenSession {
		left = chrome.Tabs(st, tabTitles, m.sess.tab, max(0, w-rw))
	}
	if rw >= w {
		return common.FitLine(right, w)
	}
	if ansi.StringWidth(left) > w-rw {
		left = ansi.Truncate(left, w-rw, "…")
	}
	return common.FitLine(common.FitLine(left, w-rw)+" "+right, w)
}

func (m *Model) whoAndWhere() string {
	st := m.ctx.Styles
	where := safetext.Clean(m.opts.Client.BaseURL())
	if m.admin.ID == "" {
		return st.Title.Apply("shadow") + st.Muted.Apply(" · "+where)
	}
	return st.Title.Apply("shadow") + " · signed in as " + st.Bold.Apply(safetext.Clean(m.admin.Name)) +
		st.Muted.Apply(" <"+safetext.Clean(m.admin.Email)+"> · "+where)
}

// statusLine shows the journal's sync state, the last error (or the sync's), and hints.
func (m *Model) statusLine(keys help.KeyMap) string {
	s := m.sync
	m.status.SetSync(chrome.Sync{Pending: int(s.Pending), Offline: s.State == audit.SyncOffline,
		NotOpen: m.journal == nil, Failed: m.fatal != "" && m.journal != nil})
	switch {
	case m.fatal != "":
		m.status.SetError(nil) // the dialog says it all
	case m.lastErr != nil:
		m.status.SetError(m.lastErr)
	case s.State == audit.SyncFailing && s.LastError != nil:
		m.status.SetError(fmt.Errorf("journal sync failing: %w", s.LastError))
	case m.note != "":
		m.status.SetNote(m.note)
	case len(m.opts.Notices) > 0:
		m.status.SetNote(m.opts.Notices[0])
	case m.opts.DemoNotice != "":
		m.status.SetNote("throwaway demo: nothing of it is kept")
	default:
		m.status.SetError(nil)
	}
	return m.status.View(m.ctx.Width, keys)
}

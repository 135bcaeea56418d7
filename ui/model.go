package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	"github.com/shadowview/shadow/ui/shadowed"
)

// Screen is which step of the flow is shown.
type Screen int

// The screens, as Model.Screen reports them.
const (
	ScreenConnecting Screen = iota // signing in, opening the journal
	ScreenLogin
	ScreenPicker
	ScreenReason
	ScreenSession
	ScreenEnding
	ScreenFatal
	ScreenShadowed // who shadowed the admin (or their company's users)
)

var screenNames = [...]string{"connecting", "login", "picker", "reason", "session", "ending", "fatal", "shadowed"}

func (s Screen) String() string {
	if int(s) < len(screenNames) {
		return screenNames[s]
	}
	return "screen " + strconv.Itoa(int(s))
}

// overlayKind is what is shown over the page, if anything.
type overlayKind int

const (
	noOverlay      overlayKind = iota
	overlayDialog              // a message that waits for enter or esc
	overlayHelp                // every key of the page and the root
	overlayConfirm             // "End the session?"
	overlayFatal               // why nothing more can be done: nothing replaces it
)

// overlay is the one thing shown over the page: key (Update) and Frame (View) both read
// it, and show is the only place that decides which overlay wins.
type overlay struct {
	kind  overlayKind
	title string   // a dialog's, the fatal error's
	lines []string // a dialog's words; the fatal error's why, its first line the summary
}

// show puts o over the page, replacing what was there, except the fatal error, which
// stays until shadow quits.
func (m *Model) show(o overlay) {
	if m.over.kind != overlayFatal {
		m.over = o
	}
}

// closeOverlay takes away what is over the page, unless it is the fatal error.
func (m *Model) closeOverlay() { m.show(overlay{}) }

// failed reports whether the fatal error is shown: nothing more can be done.
func (m *Model) failed() bool { return m.over.kind == overlayFatal }

// Tab indexes: the session's tabs, in order (newSession); the number keys pick them.
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

	screen Screen
	// connecting says what the connecting screen is waiting for.
	connecting string
	spin       spinner.Model
	login      *login.Model
	picker     *picker.Model
	reason     *reason.Model
	shadowed   *shadowed.Model // who shadowed you, reached from the picker (w)
	sess       *session        // the active session; nil when none
	ending     *session        // a session being ended (its banner stays until it has)
	seconds    openSeconds     // the compares' sessions open on the server (seconds.go)

	status   *chrome.Status
	sync     audit.Status
	lastErr  error
	note     string       // something to keep in mind, shown when there is no error
	ended    *sessionKept // the session the admin ended themselves, said on the picker
	over     overlay      // what is shown over the page
	quitting bool         // quit once the session is ended

	// checkingSignIn is set while the server is asked whether the sign-in still holds.
	checkingSignIn bool

	// crash is the first panic recovered in Update or View; from then on the program only
	// ends the session and quits (crash.go).
	crash *crash

	usersPending                 int // directory pages on their way
	noticesSeen                  int // the journal status's Notices already shown
	readingRecords, recordsDirty bool
	bodyHeight                   int // the pages' height at the last resize
	keys                         rootKeys

	started time.Time // when the program was made (a remote connection's start)
	lastKey time.Time // the last key or paste, for the idle timeout
	idled   bool      // ended for want of keys
}

// rootKeys are the bindings the root shows for itself beyond common.GlobalKeys.
type rootKeys struct {
	quit      key.Binding // q outside a session
	abort     key.Binding // ctrl+c outside a session, as hinted
	dismiss   key.Binding
	no        key.Binding
	closeHelp key.Binding
	cancel    key.Binding // esc while a view of the shown tab is on its way
	shadowed  key.Binding // w on the picker: who shadowed you
}

func defaultRootKeys() rootKeys {
	return rootKeys{
		quit:    key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		abort:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		dismiss: key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter", "close")),
		no:      key.NewBinding(key.WithKeys("n", "esc", "q"), key.WithHelp("n", "keep going")),
		// ? opens the help and closes it; esc is the hint, as everywhere else.
		closeHelp: key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("esc", "close help")),
		cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel loading")),
		shadowed:  key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "who shadowed you")),
	}
}

// New makes the root model. Nothing is sent until the program runs Init.
func New(opts Options) *Model {
	opts = opts.withDefaults()
	ctx := common.NewContext(opts.Profile)
	ctx.Styles.ASCII = opts.ASCII
	ctx.Now = opts.Now
	ctx.Clipboard = clipboard(opts)
	m := &Model{opts: opts, ctx: ctx, keys: defaultRootKeys(), started: time.Now()}
	m.lastKey = m.started
	m.status = chrome.NewStatus(ctx)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(ctx.Styles.Spinner))
	m.picker = picker.New(ctx)
	if opts.SearchDebounce > 0 {
		m.picker.Debounce = opts.SearchDebounce
	}
	m.reason = reason.New(ctx)
	m.shadowed = shadowed.New(ctx)
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

// Screen is the screen shown.
func (m *Model) Screen() Screen { return m.screen }

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
	case m.screen == ScreenShadowed:
		return m.shadowed.Busy()
	case m.sess != nil:
		return m.sess.loading() || m.readingRecords
	}
	return false
}

// Dialog is the title of the dialog shown ("" when none): a message, the question
// before ending, or the fatal error.
func (m *Model) Dialog() string {
	if m.over.kind == overlayHelp {
		return ""
	}
	return m.over.title
}

// LastError is the error shown in the status line, nil when none.
func (m *Model) LastError() error { return m.lastErr }

// Update implements tea.Model. A panic in it (a page that could not draw or take what a
// server sent) is recovered: see crashed.
func (m *Model) Update(msg tea.Msg) (_ tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			cmd = m.crashed(r)
		}
	}()
	if m.crash != nil {
		return m, m.afterCrash(msg)
	}
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
	case ScreenShadowed:
		return m.shadowed
	}
	return nil
}

func (m *Model) toPage(msg tea.Msg) tea.Cmd {
	if t, ok := msg.(common.Tagged); ok && common.StaleFor(m.ctx.Session, t) {
		return nil // an answer for a session that is over never reaches a page
	}
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

// escTaker is a page that can have something open that esc closes (a detail view, the
// explain panel): while it has, esc is the page's, and only a second esc stops a load.
type escTaker interface{ TakesEsc() bool }

// takesEsc reports whether the page shown has something open that esc closes.
func takesEsc(p common.Component) bool {
	e, ok := p.(escTaker)
	return ok && e.TakesEsc()
}

// paste gives pasted text to a page whose text input has the keyboard, and to nothing
// else: pasted words are never taken as keys.
func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	if m.over.kind != noOverlay {
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
	switch m.over.kind {
	case overlayFatal:
		if key.Matches(msg, m.keys.quit, m.keys.dismiss) {
			return m.quit("ended: the admin quit shadow")
		}
		return nil
	case overlayHelp:
		if key.Matches(msg, m.keys.closeHelp) {
			m.closeOverlay()
			return nil
		}
		if !m.rootKey(msg) {
			return nil // the page's keys do not act behind the help
		}
		m.closeOverlay() // q and the tab keys close it and act
	case overlayConfirm:
		switch {
		case key.Matches(msg, g.Confirm):
			m.closeOverlay()
			return m.endByYou()
		case key.Matches(msg, m.keys.no):
			m.closeOverlay()
		}
		return nil
	case overlayDialog:
		if key.Matches(msg, m.keys.dismiss) {
			m.closeOverlay()
		}
		return nil
	}
	if m.sess != nil && m.sess.info.Lost {
		// The pages are hidden, so their keys do nothing; q still ends the session.
		if key.Matches(msg, g.End) {
			m.show(overlay{kind: overlayConfirm, title: "End the session?"})
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
	// Under the compare, esc is the compare's (it closes it): a tab's load behind it goes
	// on. A page with something open that esc closes takes it before the load does.
	if m.sess != nil && m.sess.compare == nil && key.Matches(msg, m.keys.cancel) && !takesEsc(p) && m.sess.cancelLoads(m.sess.tab) {
		return nil // esc stops what the tab waits for; the page hears of it in its reply
	}
	switch {
	case key.Matches(msg, g.Help):
		m.show(overlay{kind: overlayHelp})
		return nil
	case m.sess == nil && key.Matches(msg, m.keys.quit):
		return m.quit("ended: the admin quit shadow")
	case m.screen == ScreenPicker && key.Matches(msg, m.keys.shadowed):
		m.screen = ScreenShadowed
		m.resize()
		return m.shadowed.Init()
	}
	if m.sess != nil {
		switch {
		case key.Matches(msg, g.End):
			m.show(overlay{kind: overlayConfirm, title: "End the session?"})
			return nil
		case m.sess.compare != nil:
			// The compare view covers the tabs: tab and the digits switch nothing behind
			// it (the hints offer none); esc closes it first.
		case key.Matches(msg, g.NextTab):
			return m.showTab((m.sess.tab + 1) % len(m.sess.tabs))
		case key.Matches(msg, g.PrevTab):
			return m.showTab((m.sess.tab + len(m.sess.tabs) - 1) % len(m.sess.tabs))
		}
		for i, b := range g.TabKeys() {
			if m.sess.compare == nil && i < len(m.sess.tabs) && key.Matches(msg, b) {
				return m.showTab(i)
			}
		}
	}
	_, cmd := p.Update(msg)
	return cmd
}

// quit ends the session (if any) and then the program. A session start on its way is
// waited for, so a session the server is starting is ended rather than left running.
func (m *Model) quit(why string) tea.Cmd {
	m.quitting = true
	m.closeOverlay()
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
	m.shadowed.SetSize(w, h)
	if m.sess != nil {
		m.sess.setSize(w, h)
	}
}

// View implements tea.Model: the frame (Frame) in the alternate screen (unless
// Options.Inline), under a window title that names the impersonated user while a
// session is active.
func (m *Model) View() tea.View {
	v := tea.NewView(m.safeFrame())
	v.AltScreen = !m.opts.Inline
	v.WindowTitle = banner.Title(m.Banner())
	return v
}

// Frame is the text of the screen now: every frame goes through Compose, so while a
// session is active (or being ended) the banner is on top.
func (m *Model) Frame() string {
	ctx := m.ctx
	info := m.Banner()
	w, bodyH := ctx.Width, BodyHeight(ctx, info)
	var body string
	var keys help.KeyMap
	switch {
	case m.screen == ScreenConnecting:
		body = common.Join(common.Center([]string{m.spin.View() + " " + safetext.Clean(m.connecting)}, w, bodyH))
		keys = quitKeys{m.keys.abort}
	case m.screen == ScreenEnding:
		say := m.spin.View() + " Ending the session…"
		if m.ending == nil {
			say = "The session is ended; shadow is quitting." // the last frame, once it is
		}
		body = common.Join(common.Center([]string{say}, w, bodyH))
		keys = common.KeyMaps{}
	case m.screen == ScreenFatal:
		keys = common.KeyMaps{}
	case m.screen == ScreenSession && m.sess.info.Lost:
		// Nothing of the user's data while nobody can say the session still holds.
		body = common.Join(common.Center(m.lostLines(w), w, bodyH))
		keys = quitKeys{ctx.Keys.End, ctx.Keys.Quit}
	case m.screen == ScreenSession:
		p := m.sess.page()
		body, keys = p.View(), sessionKeys{p, ctx.Keys, m.sess.compare == nil}
		if capturing(p) {
			keys = common.KeyMaps{p, quitKeys{ctx.Keys.Quit}} // q, tab and digits are text now
		}
	default:
		p := m.page()
		body = p.View()
		switch {
		case capturing(p):
			keys = common.KeyMaps{p, quitKeys{m.keys.abort}}
		case m.screen == ScreenPicker:
			keys = common.KeyMaps{p, quitKeys{m.keys.quit, m.keys.shadowed, ctx.Keys.Help}}
		default:
			keys = common.KeyMaps{p, quitKeys{m.keys.quit, ctx.Keys.Help}}
		}
	}
	switch o := m.over; o.kind {
	case overlayFatal:
		body = chrome.Dialog(ctx, o.title, append(slices.Clone(o.lines), "", "q or ctrl+c to quit"), w, bodyH)
		keys = quitKeys{m.keys.quit}
	case overlayHelp:
		body = chrome.HelpView(ctx, keys, w, bodyH)
		keys = m.helpKeys()
	case overlayConfirm:
		body = chrome.Dialog(ctx, o.title, []string{
			"Stop shadowing " + m.sess.info.User + " and return to the picker?", "",
			"y end the session · n keep going"}, w, bodyH)
		keys = quitKeys{ctx.Keys.Confirm, m.keys.no}
	case overlayDialog:
		body = chrome.Dialog(ctx, o.title, append(slices.Clone(o.lines), "", "enter to close"), w, bodyH)
		keys = quitKeys{m.keys.dismiss}
	}
	return Compose(ctx, info, m.header(), body, m.statusLine(keys))
}

// loading says what the shown tab waits for and since when, "" when nothing: a hung
// server is never a silent "loading…".
func (m *Model) loading() string {
	if m.sess == nil || m.screen != ScreenSession || m.sess.info.Lost || m.sess.compare != nil {
		return "" // under the compare, esc closes it: the tab behind it says its loads itself
	}
	l := m.sess.oldestLoad(m.sess.tab)
	if l == nil {
		return ""
	}
	waited := max(0, m.ctx.Now().Sub(l.started)/time.Second)
	say := "loading " + l.label + "… " + strconv.Itoa(int(waited)) + " s"
	if takesEsc(m.sess.page()) {
		return say // esc closes what the page has open first (its hints say so)
	}
	return say + " · esc cancels"
}

// lostLines say why the user's data is not shown while the server does not answer.
func (m *Model) lostLines(w int) []string {
	st := m.ctx.Styles
	s := m.sess
	lines := []string{
		st.Error.Apply(banner.WordLost),
		"",
		"The server has not answered the last " + strconv.Itoa(s.failedPolls) + " checks of the session",
	}
	if s.lostErr != nil {
		lines = append(lines, "("+inWords(s.lostErr)+").")
	}
	lines = append(lines, "Nothing of the user's data is shown until it answers again;",
		"shadow keeps asking. q ends the session.")
	bw := 0
	for i, l := range lines[1:] {
		lines[i+1] = safetext.Fit(l, w)
		bw = max(bw, ansi.StringWidth(lines[i+1]))
	}
	for i, l := range lines {
		lines[i] = common.FitLine(l, bw) // Center takes a block of one width
	}
	return lines
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
	if m.sess.compare != nil {
		return key.Matches(msg, g.End) // the tab keys do nothing under the compare view
	}
	return key.Matches(msg, append(g.TabKeys(), g.End, g.NextTab, g.PrevTab)...)
}

// sessionKeys are the hints of a session's page: q end session first, so the way out is
// never the hint a narrow status line cuts, then the page's, then the other global keys.
// Without tabs (under the compare view) the tab keys are not offered: they do nothing.
type sessionKeys struct {
	page help.KeyMap
	g    common.GlobalKeys
	tabs bool
}

func (k sessionKeys) ShortHelp() []key.Binding {
	hs := append(append([]key.Binding{k.g.End}, k.page.ShortHelp()...), k.g.Help)
	if k.tabs {
		hs = append(hs, k.g.NextTab)
	}
	return hs
}

func (k sessionKeys) FullHelp() [][]key.Binding {
	if !k.tabs {
		return append(k.page.FullHelp(), []key.Binding{k.g.Help, k.g.End, k.g.Quit})
	}
	return append(k.page.FullHelp(), k.g.FullHelp()...)
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
	if m.sess != nil && m.screen == ScreenSession && m.sess.reason != "" && w >= 60 {
		// The reason given stays in view for the whole session (what it was for).
		tags = append([]string{st.Muted.Apply("reason: " + safetext.Fit(m.sess.reason, max(4, w-56)))}, tags...)
	}
	right := strings.Join(tags, " ")
	rw := ansi.StringWidth(right)
	if rw > 0 {
		rw++
	}
	left := m.whoAndWhere()
	if m.ended != nil && m.screen == ScreenPicker {
		left = m.ended.line(st, m.sync.Acked, max(0, w-rw)) // how the last session ended, whole
	}
	if m.sess != nil && m.screen == ScreenSession {
		left = chrome.Tabs(st, m.sess.titles(), m.sess.tab, max(0, w-rw))
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
	// On the login screen the sign-in is lost or not made yet: m.admin is kept only to
	// prefill the email, so the header must not say signed in.
	if m.admin.ID == "" || m.screen == ScreenLogin {
		return st.Title.Apply("shadow") + st.Muted.Apply(" · "+where)
	}
	return st.Title.Apply("shadow") + " · signed in as " + st.Bold.Apply(safetext.Clean(m.admin.Name)) +
		st.Muted.Apply(" <"+safetext.Clean(m.admin.Email)+"> · "+where)
}

// statusLine shows the journal's sync state, the last error (or the sync's), and hints.
func (m *Model) statusLine(keys help.KeyMap) string {
	s := m.sync
	m.status.SetSync(chrome.Sync{Pending: int(s.Pending), Offline: s.State == audit.SyncOffline,
		NotOpen: m.journal == nil, Failed: m.failed() && m.journal != nil})
	switch busy := m.loading(); {
	case m.failed():
		m.status.SetError(nil) // the dialog says it all
	case busy != "":
		m.status.SetBusy(busy)
	case m.lastErr != nil:
		m.status.SetError(m.lastErr)
	case s.State == audit.SyncFailing && s.LastError != nil:
		// A few words, not the chain (`shadow journal sync` has room for it).
		m.status.SetError(fmt.Errorf("journal sync failing: %s", audit.SyncFailureWords(s.LastError)))
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

// Package reason is the prompt shown after a user is picked and before a session
// starts: it asks why (a ticket or free text, recorded with every journal record of the
// session), submits with enter, cancels with esc, shows a spinner while the server
// starts the session, and shows the server's own words when it refuses.
//
// The client never decides whether a reason is good enough: the server does, and its
// refusal is shown as it said it. This package must never call the API.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package reason

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Submitted asks the root to start a session for User with Reason (POST
// /impersonation/sessions). On refusal or failure the root replies Refused with the same
// Tag; on success it leaves the prompt for the session.
type Submitted struct {
	common.Tag
	User   api.User
	Reason string
}

// Cancelled says the admin changed their mind; the root returns to the picker.
type Cancelled struct{ User api.User }

// Refused is the reply to Submitted when no session started. Err is best an
// api.ErrorBody (or wraps one), whose message is shown as the server's words.
type Refused struct {
	common.Tag
	Err error
}

// KeyMap is the prompt's keys.
type KeyMap struct {
	Submit, Cancel key.Binding
}

// DefaultKeyMap is the prompt's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "start session")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// Model is the reason prompt. Create it with New and call Open for each picked user; it
// is a common.Component and a common.Capturer.
type Model struct {
	ctx     *common.Context
	keys    KeyMap
	user    api.User
	input   textinput.Model
	spin    spinner.Model
	start   common.Latest
	busy    bool
	refusal error
	width   int
	height  int
}

// New makes the prompt.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap()}
	m.input = textinput.New()
	m.input.Prompt = "Reason: "
	m.input.Placeholder = "ticket number or why you need to see this"
	m.input.CharLimit = api.MaxReasonLength
	ctx.Styles.StyleInput(&m.input)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(ctx.Styles.Spinner))
	return m
}

// Open readies the prompt for a picked user, empty and focused.
func (m *Model) Open(u api.User) tea.Cmd {
	m.user, m.busy, m.refusal = u, false, nil
	m.start.Forget()
	m.input.SetValue("")
	return m.input.Focus()
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Capturing is true: every key but ctrl+c belongs to the prompt while it is shown.
func (m *Model) Capturing() bool { return true }

// Busy reports whether a start request is on its way.
func (m *Model) Busy() bool { return m.busy }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.SetWidth(max(1, common.BoxInner(m.boxWidth())-len(m.input.Prompt)-1))
}

func (m *Model) boxWidth() int { return min(m.width, 76) }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case Refused:
		if !m.start.Current(msg) {
			return m, nil
		}
		m.busy, m.refusal = false, msg.Err
		if msg.Err == nil {
			m.refusal = errors.New("the session did not start")
		}
		return m, m.input.Focus()
	case spinner.TickMsg:
		if !m.busy {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		if m.busy {
			return m, nil // the server is answering; the root decides what ctrl+c does
		}
		switch {
		case key.Matches(msg, m.keys.Cancel):
			m.input.Blur()
			return m, common.Emit(Cancelled{User: m.user})
		case key.Matches(msg, m.keys.Submit):
			m.busy, m.refusal = true, nil
			m.input.Blur()
			req := Submitted{Tag: m.start.Issue(m.ctx.Session), User: m.user, Reason: strings.TrimSpace(safetext.Clean(m.input.Value()))}
			return m, tea.Batch(common.Emit(req), m.spin.Tick)
		}
		return m, m.edit(msg)
	case tea.PasteMsg:
		if m.busy {
			return m, nil
		}
		return m, m.edit(msg)
	}
	return m, nil
}

// edit gives the reason's field a key or a paste.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if clean := safetext.Clean(m.input.Value()); clean != m.input.Value() {
		m.input.SetValue(clean) // what is journaled is what was shown
	}
	return cmd
}

// View implements tea.Model: a box in the middle of the space given.
func (m *Model) View() string {
	if m.width < 1 || m.height < 1 {
		return ""
	}
	st := m.ctx.Styles
	w := m.boxWidth()
	inner := common.BoxInner(w)
	name := safetext.Clean(m.user.Name)
	question := "Why are you shadowing " + st.Bold.Apply(name) + "?"
	var state []string
	switch {
	case m.busy:
		state = []string{m.spin.View() + " Starting the session…"}
	case m.refusal != nil:
		state = m.refusalLines(inner)
	default:
		state = []string{st.Muted.Apply("enter start · esc cancel")}
	}
	body := []string{question, ""}
	for _, l := range safetext.Wrap("You will see what they see, read-only. The reason is recorded with every step of the session.", inner, 2) {
		body = append(body, st.Muted.Apply(l))
	}
	body = append(body, "", st.InputView(m.input), "")
	body = append(body, state...)
	if len(body)+2 > m.height {
		// Short terminal: the question, the input and the server's answer come first.
		body = append([]string{question, st.InputView(m.input)}, state...)
	}
	box := st.Box("Shadow "+name+" · read-only", body, w, min(m.height, len(body)+2), true)
	return common.Join(common.Center(box, m.width, m.height))
}

// refusalLines says the server's refusal in its own words, with its code.
func (m *Model) refusalLines(width int) []string {
	st := m.ctx.Styles
	// Only the server's refusal is called one: a server out of reach refused nothing.
	head, msg := "✗ The session did not start:", m.refusal.Error()
	var body api.ErrorBody
	if errors.As(m.refusal, &body) {
		head, msg = "✗ The server refused:", body.Message
		switch {
		case msg == "":
			msg = string(body.Code)
		case body.Code != "":
			msg += " (" + string(body.Code) + ")"
		}
	}
	lines := []string{st.Error.Apply(head)}
	lines = append(lines, safetext.Wrap(msg, width, 3)...)
	for _, l := range safetext.Wrap("edit the reason and press enter to try again · esc to pick someone else", width, 2) {
		lines = append(lines, st.Muted.Apply(l))
	}
	return lines
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Submit, m.keys.Cancel} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

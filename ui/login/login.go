// Package login is the sign-in screen shown when shadow is pointed at a server with no
// token: an email field and a password field whose characters are never drawn, not
// even as dots, so neither the password nor its length reaches the screen.
//
// It hands the credentials to the root in one Submitted message and forgets the
// password at once: the field is emptied on submit, so a retry starts blank. It shows
// the root's sentence for a failure (wrong password, too many attempts, no server) as
// given. It must never call the API, keep the password after submitting, or draw
// server text without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package login

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Submitted asks the root to sign in (POST /auth/login), or, when Token is set, to
// take it as the admin's own API token (GET /me says whose). On failure the root
// replies Failed with the same Tag; on success it moves on to the picker.
type Submitted struct {
	common.Tag
	Email    string
	Password string
	Token    string
}

// Failed is the reply to Submitted when the sign-in did not succeed. Message is a
// sentence for a person ("Wrong email or password.").
type Failed struct {
	common.Tag
	Message string
}

// KeyMap is the screen's keys.
type KeyMap struct {
	Next, Prev, Submit key.Binding
}

// DefaultKeyMap is the screen's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "sign in")),
	}
}

const (
	fieldEmail = iota
	fieldPassword
)

// Model is the sign-in screen; it is a common.Component and a common.Capturer.
type Model struct {
	ctx      *common.Context
	keys     KeyMap
	server   string
	email    textinput.Model
	password textinput.Model
	focus    int
	spin     spinner.Model
	attempt  common.Latest
	busy     bool
	failure  string
	width    int
	height   int
	// tokens: the secret field takes an API token when the email is left empty.
	tokens bool
}

// New makes the screen for signing in to server (shown so the admin knows where the
// password goes).
func New(ctx *common.Context, server string) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), server: server}
	m.email = textinput.New()
	m.email.Prompt = "Email:    "
	m.email.Placeholder = "you@example.com"
	m.email.CharLimit = 254
	ctx.Styles.StyleInput(&m.email)
	m.password = textinput.New()
	m.password.Prompt = "Password: "
	m.password.Placeholder = "hidden as you type"
	m.password.CharLimit = 1024
	m.password.EchoMode = textinput.EchoNone
	ctx.Styles.StyleInput(&m.password)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(ctx.Styles.Spinner))
	return m
}

// AcceptTokens lets the admin sign in with an API token typed into the secret field,
// the email left empty (shadow ssh, where no SHADOW_TOKEN can be given). Like a
// password, the token is never drawn and is forgotten once submitted.
func (m *Model) AcceptTokens() {
	m.tokens = true
	m.password.Prompt = "Password: "
	m.email.Placeholder = "you@example.com, or none for a token"
	m.password.Placeholder = "or API token; hidden as you type"
}

// Init focuses the email field.
func (m *Model) Init() tea.Cmd { return m.setFocus(fieldEmail) }

// Capturing is true: every key but ctrl+c belongs to the form.
func (m *Model) Capturing() bool { return true }

// Busy reports whether a sign-in is on its way.
func (m *Model) Busy() bool { return m.busy }

// Reopen shows the form again for email (e.g. when the sign-in expired), saying why,
// with the password field empty and focused.
func (m *Model) Reopen(email, why string) tea.Cmd {
	m.email.SetValue(email)
	m.email.CursorEnd()
	m.password.SetValue("")
	m.busy, m.failure = false, why
	m.attempt.Forget()
	return m.setFocus(fieldPassword)
}

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	inner := common.BoxInner(m.boxWidth())
	m.email.SetWidth(max(1, inner-len(m.email.Prompt)-1))
	m.password.SetWidth(max(1, inner-len(m.password.Prompt)-1))
}

func (m *Model) boxWidth() int { return min(m.width, 64) }

func (m *Model) setFocus(f int) tea.Cmd {
	m.focus = f
	if f == fieldEmail {
		m.password.Blur()
		return m.email.Focus()
	}
	m.email.Blur()
	return m.password.Focus()
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case Failed:
		if !m.attempt.Current(msg) {
			return m, nil
		}
		m.busy, m.failure = false, msg.Message
		return m, m.setFocus(fieldPassword)
	case spinner.TickMsg:
		if !m.busy {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		if m.busy {
			return m, nil
		}
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.busy {
			return m, nil
		}
		return m, m.edit(msg)
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Next):
		return m.setFocus((m.focus + 1) % 2)
	case key.Matches(msg, m.keys.Prev):
		return m.setFocus((m.focus + 1) % 2)
	case key.Matches(msg, m.keys.Submit):
		email := strings.TrimSpace(safetext.Clean(m.email.Value()))
		switch {
		case email == "" && m.tokens && m.password.Value() != "":
			return m.submit(Submitted{Token: strings.TrimSpace(m.password.Value())})
		case email == "" && m.tokens && m.focus == fieldEmail:
			return m.setFocus(fieldPassword)
		case email == "" && m.tokens:
			m.failure = "Enter your email and password, or your API token alone."
			return nil
		case email == "":
			m.failure = "Enter your email."
			return m.setFocus(fieldEmail)
		case m.focus == fieldEmail && m.password.Value() == "":
			return m.setFocus(fieldPassword)
		case m.password.Value() == "":
			m.failure = "Enter your password."
			return nil
		}
		return m.submit(Submitted{Email: email, Password: m.password.Value()})
	}
	return m.edit(msg)
}

// submit sends req and forgets the secret: it now lives only in the request.
func (m *Model) submit(req Submitted) tea.Cmd {
	req.Tag = m.attempt.Issue(m.ctx.Session)
	m.password.SetValue("")
	m.password.Reset()
	m.busy, m.failure = true, ""
	m.email.Blur()
	m.password.Blur()
	return tea.Batch(common.Emit(req), m.spin.Tick)
}

// edit gives the focused field a key or a paste.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	if m.focus == fieldEmail {
		m.email, cmd = m.email.Update(msg)
	} else {
		m.password, cmd = m.password.Update(msg)
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
	body := []string{"Sign in to " + st.Bold.Apply(safetext.Fit(m.server, max(1, inner-11))), ""}
	body = append(body, st.InputView(m.email), st.InputView(m.password), "")
	switch {
	case m.busy:
		body = append(body, m.spin.View()+" Signing in…")
	case m.failure != "":
		for _, l := range safetext.Wrap(m.failure, inner, 5) { // room for the advice at its end
			body = append(body, st.Error.Apply(l))
		}
	default:
		body = append(body, st.Muted.Apply("tab next field · enter sign in · ctrl+c quit"))
	}
	body = append(body, "")
	secret := "Your password is sent to this server only and never stored or shown."
	if m.tokens {
		secret = "Your password or token is sent to this server only and never stored or shown."
	}
	for _, l := range safetext.Wrap(secret, inner, 2) {
		body = append(body, st.Muted.Apply(l))
	}
	if len(body)+2 > m.height {
		body = body[2:] // short terminal: the fields and the answer first
	}
	box := st.Box("shadow · sign in", body, w, min(m.height, len(body)+2), true)
	return common.Join(common.Center(box, m.width, m.height))
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Submit, m.keys.Next} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Next, m.keys.Prev, m.keys.Submit}}
}

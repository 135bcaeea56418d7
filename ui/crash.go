package ui

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// crash.go: what happens when shadow itself fails. A panic in Update or View (a page
// that could not draw or take something a server sent) must not leave a session
// running with a broken screen, nor print a stack over it and exit 0: the root recovers
// it, stops showing the user's data at once, ends the session on the server and
// journals why, then quits; Run restores the terminal (the program ends normally),
// prints the stack to stderr and returns ErrInternal, so shadow exits 1. A panic in a
// tea.Cmd is Bubble Tea's to recover (it restores the terminal and prints the stack);
// Run then ends the session the same way (Shutdown) and returns ErrInternal too.

// ErrInternal is what Run returns when shadow stopped on an error of its own (a
// recovered panic).
var ErrInternal = errors.New("shadow stopped on an internal error")

// crash is one recovered panic.
type crash struct {
	value string // the panic's value, one line
	stack []byte
	ended bool // the session's end (if there was one) has been asked for
}

func (c *crash) why() string { return "shadow hit an internal error (" + c.value + ")" }

// newCrash keeps a recovered value and the stack it came from.
func newCrash(r any) *crash {
	v := safetext.Fit(strings.Join(strings.Fields(fmt.Sprint(r)), " "), 200)
	return &crash{value: v, stack: debug.Stack()}
}

// crashed handles a panic recovered in Update: the first one ends the session and
// quits; any later one (the state is not to be trusted) just quits.
func (m *Model) crashed(r any) tea.Cmd {
	if m.crash != nil && m.crash.ended {
		return tea.Quit
	}
	if m.crash == nil {
		m.crash = newCrash(r)
	}
	return m.endAfterCrash()
}

// endAfterCrash ends the session, if one is active, journaling why; sessionEnded then
// quits (quitting is set). Without a session, the crash is journaled as an error and
// shadow quits.
func (m *Model) endAfterCrash() tea.Cmd {
	c := m.crash
	c.ended = true
	m.quitting = true
	if s := m.sess; s != nil {
		m.sess = nil
		m.ending = s
		m.ctx.Session = ""
		s.cancel()
		m.screen = ScreenEnding
		return m.endCmd(s, api.ActionSessionEnd, "ended: "+c.why(), "")
	}
	if m.ending != nil {
		return nil // its sessionEnded quits
	}
	if j := m.journal; j != nil {
		rec := m.record(api.ActionError, "", nil, c.why())
		return tea.Sequence(func() tea.Msg { _ = appendDurably(j, rec); return nil }, tea.Quit)
	}
	return tea.Quit
}

// afterCrash is all Update does once shadow has crashed: end what is to be ended (a
// panic in View is only seen here, at the next message), wait for the session's end,
// and quit; the pages get nothing more.
func (m *Model) afterCrash(msg tea.Msg) tea.Cmd {
	if !m.crash.ended {
		return m.endAfterCrash()
	}
	switch msg := msg.(type) {
	case sessionEnded:
		if m.ending != nil && m.ending.id == msg.id {
			m.ending = nil
			return tea.Quit
		}
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return tea.Quit
		}
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
	}
	return nil
}

// safeFrame is Frame, unless shadow has crashed or Frame panics: then a frame that
// draws nothing of the pages, only the banner (while a session is active or being
// ended) over what is happening.
func (m *Model) safeFrame() (frame string) {
	if m.crash == nil {
		defer func() {
			if r := recover(); r != nil {
				m.crash = newCrash(r) // Update ends the session at the next message (a tick comes every second)
				frame = m.crashFrame()
			}
		}()
		return m.Frame()
	}
	return m.crashFrame()
}

func (m *Model) crashFrame() (frame string) {
	say := []string{m.crash.why() + ".", "Ending the session and quitting…"}
	defer func() {
		if recover() != nil { // not even the banner could be drawn: plain words
			frame = strings.Join(say, "\n")
		}
	}()
	ctx := m.ctx
	info := m.Banner()
	body := common.Join(common.Center([]string{ctx.Styles.Error.Apply(safetext.Fit(say[0], ctx.Width)), say[1]}, ctx.Width, BodyHeight(ctx, info)))
	return Compose(ctx, info, "", body, "")
}

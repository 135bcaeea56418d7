package ui

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/server/org"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// testProgram is a real Bubble Tea program writing to a buffer, as teatest's TestModel
// is, but without teatest's ANSI compressor: the program writes a window title from its
// event loop while the renderer flushes from its own goroutine, and the compressor's
// state is not safe for that (a data race under -race, in the library pair, not here).
type testProgram struct {
	prog *tea.Program
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// lockedBuffer is the program's terminal: written by the program, read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// runProgram runs m on a terminal of w × h cells drawn with profile's colours, as Run
// does (the buffer is no terminal, so Bubble Tea would otherwise take it for one
// without colour, and of no size).
func runProgram(t *testing.T, m tea.Model, profile colorprofile.Profile, w, h int) *testProgram {
	tp := &testProgram{out: &lockedBuffer{}, done: make(chan struct{})}
	tp.prog = tea.NewProgram(m, tea.WithInput(&bytes.Buffer{}), tea.WithOutput(tp.out), tea.WithoutSignals(),
		tea.WithWindowSize(w, h), tea.WithColorProfile(profile))
	go func() {
		defer close(tp.done)
		_, tp.err = tp.prog.Run()
	}()
	return tp
}

// quit ends the program and waits for it.
func (tp *testProgram) quit(t *testing.T) {
	tp.prog.Quit()
	select {
	case <-tp.done:
		if tp.err != nil {
			t.Errorf("program: %v", tp.err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the program did not end")
	}
}

// output is everything written to the terminal so far.
func (tp *testProgram) output() []byte {
	tp.out.mu.Lock()
	defer tp.out.mu.Unlock()
	return append([]byte(nil), tp.out.buf.Bytes()...)
}

// program runs the real root model in a real Bubble Tea program, against the
// real server handler and a real journal, and checks every frame it draws: it fits the
// terminal, holds no escape sequence but colour, and while a session is active its top
// is the banner.
type program struct {
	t    *testing.T
	env  *testEnv
	m    *Model
	tm   *testProgram
	w, h int

	inflight atomic.Int64 // counted commands whose message the model has not taken yet

	mu       sync.Mutex
	frames   int
	sessions int // frames drawn with a session active
	problem  error
	done     bool
}

// probe runs fn on the program's own goroutine, between two updates, so it may read
// the model freely.
type probe struct {
	fn   func(*Model)
	done chan struct{}
}

// harness is the program's model: the root model as it is, plus probes, a check of
// every frame, and a count of the commands still on their way (so a test knows when the
// consequences of a key have all arrived). Timers that run for ever (the session's
// tick, the spinners) and the journal's status watch are not counted.
type harness struct{ p *program }

// tracked is a counted command's message, unwrapped before the model sees it.
type tracked struct {
	msg     tea.Msg
	counted bool
}

func (h harness) Init() tea.Cmd { return h.track(h.p.m.Init(), true) }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	counted := false
	if t, ok := msg.(tracked); ok {
		msg, counted = t.msg, t.counted
	}
	var cmd tea.Cmd
	if pr, ok := msg.(probe); ok {
		pr.fn(h.p.m)
		close(pr.done)
	} else if msg != nil {
		_, next := h.p.m.Update(msg)
		cmd = h.track(next, !isTimer(msg))
	}
	if counted {
		h.p.inflight.Add(-1) // after what it caused is counted
	}
	return h, cmd
}

// track wraps cmd so its message is counted until the model has taken it. Bubble Tea's
// own messages (quit, window title) go to the program as they are.
func (h harness) track(cmd tea.Cmd, counted bool) tea.Cmd {
	if cmd == nil {
		return nil
	}
	if isStatusWatch(cmd) || isTimerCmd(cmd) {
		counted = false
	}
	if counted {
		h.p.inflight.Add(1)
	}
	return func() tea.Msg {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			out := make(tea.BatchMsg, len(batch))
			for i, c := range batch {
				out[i] = h.track(c, counted)
			}
			if counted {
				h.p.inflight.Add(-1)
			}
			return out
		}
		if msg != nil && reflect.TypeOf(msg).PkgPath() == reflect.TypeOf(tea.QuitMsg{}).PkgPath() {
			if counted {
				h.p.inflight.Add(-1)
			}
			return msg
		}
		return tracked{msg: msg, counted: counted}
	}
}

// isTimerCmd reports a tea.Tick: the session's clock, the poll, the spinners and the
// search debounce never count as work on its way (the picker says when it is typing).
func isTimerCmd(cmd tea.Cmd) bool {
	f := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer())
	return f != nil && strings.HasPrefix(f.Name(), "charm.land/bubbletea/v2.Tick.")
}

func (h harness) View() tea.View {
	v := h.p.m.View()
	h.p.check(v.Content)
	return v
}

func startProgram(t *testing.T, e *testEnv, opts Options, w, h int) *program {
	t.Helper()
	p := &program{t: t, env: e, m: New(opts), w: w, h: h}
	p.tm = runProgram(t, harness{p}, opts.Profile, w, h)
	t.Cleanup(func() {
		p.tm.quit(t)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.done = true
		if p.problem != nil {
			t.Error(p.problem)
		}
	})
	return p
}

// check holds a frame to the invariants; the first broken one is kept and reported.
func (p *program) check(view string) {
	m := p.m
	if m.ctx.Width == 0 {
		return // drawn before the terminal's size is known
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || p.problem != nil {
		return
	}
	p.frames++
	fail := func(format string, args ...any) {
		p.problem = fmt.Errorf("frame %d (%s): %s\n%s", p.frames, m.Screen(), fmt.Sprintf(format, args...), view)
	}
	w, h := m.ctx.Width, m.ctx.Height // the terminal's size now: the walk resizes it
	if _, err := uitest.FrameProblem(view, w, h); err != nil {
		fail("%v", err)
		return
	}
	lines := strings.Split(view, "\n")
	info := m.Banner()
	if info == nil {
		if strings.Contains(uitest.Plain(view), "IMPERSONATING") {
			fail("the banner is shown with no session")
		}
		return
	}
	p.sessions++
	want := banner.Lines(m.ctx.Styles, *info, m.ctx.Now(), w)
	for i, l := range want[:min(len(want), h)] {
		if lines[i] != l {
			fail("line %d is not the banner: %q", i+1, lines[i])
			return
		}
	}
	top := uitest.Plain(strings.Join(lines[:min(len(want), h)], " "))
	if !strings.Contains(top, "IMPERSONATING") || !strings.Contains(top, "READ-ONLY") {
		fail("the banner lost its words: %q", top)
	}
}

// with runs fn on the model between updates and waits for it.
func (p *program) with(fn func(*Model)) {
	p.t.Helper()
	pr := probe{fn: fn, done: make(chan struct{})}
	p.tm.prog.Send(pr)
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("the program does not answer")
	}
}

// until waits for cond to hold on the model.
func (p *program) until(what string, cond func(*Model) bool) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		var screen, view string
		p.with(func(m *Model) {
			ok = cond(m)
			if !ok {
				screen, view = fmt.Sprintf("%s busy=%v inflight=%d sync=%v", m.Screen(), m.Busy(), p.inflight.Load(), m.SyncStatus()), uitest.Plain(m.Frame())
			}
		})
		if ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited 15s for %s; screen %q:\n%s", what, screen, view)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// settle waits for the screen named and for nothing to be on its way.
func (p *program) settle(screen Screen) {
	p.t.Helper()
	p.until(screen.String()+" to settle", func(m *Model) bool {
		return m.Screen() == screen && p.inflight.Load() == 0 && settled(m) && m.ctx.Width > 0 // the size comes as a message
	})
}

func (p *program) press(keys ...string) {
	for _, k := range keys {
		p.tm.prog.Send(uitest.Key(k))
	}
}

func (p *program) typeText(s string) {
	for _, r := range s {
		p.tm.prog.Send(uitest.Key(string(r)))
	}
}

// frame is the frame the model draws now.
func (p *program) frame() string {
	var v string
	p.with(func(m *Model) { v = m.Frame() })
	return v
}

// Things that differ between runs are replaced by fixed text of the same width: the
// test server's port and the journal's id.
var (
	portPattern    = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	journalPattern = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)
)

func stable(frame string) string {
	frame = portPattern.ReplaceAllStringFunc(frame, func(s string) string { return "127.0.0.1:" + strings.Repeat("N", len(s)-len("127.0.0.1:")) })
	return journalPattern.ReplaceAllStringFunc(frame, func(s string) string { return strings.Repeat("J", len(s)) })
}

// golden records the settled frame of a screen under testdata.
func (p *program) golden(name string, screen Screen) {
	p.t.Helper()
	p.settle(screen)
	frame := p.frame()
	p.t.Run(name, func(t *testing.T) { uitest.Golden(t, stable(frame)) })
}

// walk drives the program through every screen and state: the login screen and a
// wrong password, the picker and a search, the reason prompt and a refused start, each
// tab, the explain panel, the help, a failing server, the end question, an end,
// expiry, and a journal that stops writing. shot, when set, records each settled
// screen; the frame check runs on every frame either way.
func walk(p *program, shot func(name string, screen Screen)) {
	t, e := p.t, p.env
	record := shot != nil
	if shot == nil {
		shot = func(_ string, screen Screen) { p.settle(screen) }
	}
	shot("login", ScreenLogin)
	p.typeText(server.DemoSupportEmail)
	p.press("tab")
	p.typeText("wrong password")
	p.press("enter")
	p.until("the sign-in to fail", func(m *Model) bool { return !m.login.Busy() })
	shot("login-failed", ScreenLogin)
	p.typeText(server.DemoSupportPassword)
	p.press("enter")
	shot("picker", ScreenPicker)
	p.press("/")
	p.typeText("nora")
	p.until("the search", func(m *Model) bool { return m.picker.Query() == "nora" })
	shot("picker-search", ScreenPicker)
	p.press("enter", "enter")
	shot("reason", ScreenReason)
	p.press("enter")
	shot("refused", ScreenReason)
	p.typeText("TICKET-4411 cannot see the North dashboards")
	p.press("enter")
	shot("dashboards", ScreenSession)
	p.press("2")
	shot("permissions", ScreenSession)
	p.press("down", "right", "enter")
	shot("explain", ScreenSession)
	p.press("3")
	shot("journal", ScreenSession)
	p.press("?")
	shot("help", ScreenSession)
	// The terminal shrinks and grows back in the middle of a session.
	p.tm.prog.Send(tea.WindowSizeMsg{Width: max(banner.MinWidth, p.w/2), Height: max(6, p.h/2)})
	p.settle(ScreenSession)
	p.tm.prog.Send(tea.WindowSizeMsg{Width: p.w, Height: p.h})
	p.press("esc", "2", "esc")
	// Cached replies are served for a while, so the failure is shown on a cell not
	// asked about before.
	e.faults.failPermissions.Store(true)
	p.press("down", "enter")
	p.until("the failure", func(m *Model) bool { return m.LastError() != nil })
	shot("server-error", ScreenSession)
	e.faults.failPermissions.Store(false)
	p.press("esc")
	p.press("q")
	shot("end-question", ScreenSession)
	p.press("y")
	p.until("the end", func(m *Model) bool { return m.Screen() == ScreenPicker && m.Banner() == nil })

	p.press("enter")
	p.until("the prompt", func(m *Model) bool { return m.Screen() == ScreenReason })
	p.typeText("TICKET-4412")
	p.press("enter")
	p.settle(ScreenSession)
	// On the program's goroutine, so no frame is drawn with one time and checked with another.
	p.with(func(*Model) { e.clock.Advance(api.MaxSessionTTL) })
	shot("expired", ScreenPicker)
	p.press("enter", "enter")
	p.until("the prompt", func(m *Model) bool { return m.Screen() == ScreenReason })
	p.typeText("TICKET-4413")
	p.press("enter")
	p.settle(ScreenSession) // everything synced, so the status line is the same on every run
	p.with(func(m *Model) {
		if err := m.journal.Close(t.Context()); err != nil && !strings.Contains(err.Error(), "not yet synced") {
			t.Errorf("close the journal: %v", err)
		}
	})
	p.press("2")
	p.until("the journal failure", func(m *Model) bool { return m.Screen() == ScreenFatal })
	if record {
		p.t.Run("journal-failed", func(t *testing.T) { uitest.Golden(t, stable(p.frame())) })
	}
}

// TestProgramScreens drives the real program through every screen and state (see
// walk) at 120×40, 80×24, 40×12 and 20×6, without colour and with 256 colours. Every
// frame drawn is checked (program.check): it fits the terminal, carries no escape
// sequence but colour, and while a session is active its top lines are the banner.
// At 80×24 and 120×40 each settled screen is also compared with its golden file.
func TestProgramScreens(t *testing.T) {
	t.Parallel()
	for _, prof := range uitest.Profiles {
		for _, sz := range []uitest.Size{{W: 120, H: 40}, {W: 80, H: 24}, {W: 40, H: 12}, {W: 20, H: 6}} {
			t.Run(fmt.Sprintf("%s/%dx%d", prof.Name, sz.W, sz.H), func(t *testing.T) {
				t.Parallel()
				p := newWalk(t, prof.Profile, sz.W, sz.H)
				var shot func(name string, screen Screen)
				if slices.Contains(uitest.Sizes, sz) {
					shot = p.golden
				}
				walk(p, shot)
				p.mu.Lock()
				defer p.mu.Unlock()
				if p.sessions < 20 {
					t.Fatalf("only %d frames were drawn during sessions", p.sessions)
				}
			})
		}
	}
}

func newWalk(t *testing.T, profile colorprofile.Profile, w, h int) *program {
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(profile)
	opts.Credentials = nil
	opts.Tick, opts.Poll = 100*time.Millisecond, time.Hour
	return startProgram(t, e, opts, w, h)
}

// TestHostileTextEndToEnd runs the real program against a server whose names, titles
// and cells hold escape sequences, controls, bidi and zero-width characters: no frame
// may carry them (program.check), and neither may anything written to the terminal.
func TestHostileTextEndToEnd(t *testing.T) {
	t.Parallel()
	for _, sz := range []uitest.Size{{W: 120, H: 40}, {W: 80, H: 24}, {W: 40, H: 12}} {
		t.Run(fmt.Sprintf("%dx%d", sz.W, sz.H), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, server.Seed{Demo: true, Hostile: true})
			opts := e.options(colorprofile.ANSI256)
			opts.Tick, opts.Poll = 100*time.Millisecond, time.Hour
			p := startProgram(t, e, opts, sz.W, sz.H)
			p.settle(ScreenPicker)
			p.press("/")
			p.typeText("hostile")
			p.until("the hostile company", func(m *Model) bool { return m.picker.Query() == "hostile" })
			p.settle(ScreenPicker)
			p.press("/", "esc", "/")
			p.typeText(server.DemoHostileEmail)
			p.until("the search", func(m *Model) bool { return m.picker.Query() == server.DemoHostileEmail })
			p.settle(ScreenPicker)
			p.press("enter", "enter")
			p.settle(ScreenReason)
			p.typeText("hostile text check")
			p.press("enter")
			p.settle(ScreenSession)
			for i := 0; i < 7; i++ { // every dashboard of the list
				p.press("down", "enter")
				p.settle(ScreenSession)
				p.press("down", "down", "down", "esc")
			}
			p.press("2")
			p.settle(ScreenSession)
			for _, k := range []string{"enter", "right", "down", "enter", "G", "enter", "d", "enter"} {
				p.press(k)
				p.settle(ScreenSession)
			}
			p.press("3")
			p.settle(ScreenSession)
			p.press("?")
			p.settle(ScreenSession)
			p.press("esc", "q")
			p.settle(ScreenSession)
			p.press("y")
			p.settle(ScreenPicker)

			assertNoHostileBytes(t, p.tm.output())
		})
	}
}

// assertNoHostileBytes checks the bytes written to the terminal hold none of the hostile
// corpus's sequences, no C1 control and no bidi control.
func assertNoHostileBytes(t *testing.T, out []byte) {
	t.Helper()
	if len(out) == 0 {
		t.Fatal("nothing was written to the terminal")
	}
	for _, h := range hostileSequences() {
		if i := bytes.Index(out, []byte(h)); i >= 0 {
			t.Fatalf("the hostile sequence %q reached the terminal at byte %d", h, i)
		}
	}
	for _, r := range string(out) {
		switch {
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("C1 control %U reached the terminal", r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			t.Fatalf("bidi control %U reached the terminal", r)
		}
	}
}

// escapeRun is an escape sequence with the text after it, up to the next escape.
var escapeRun = regexp.MustCompile(`\x1b[^\x1b]{0,24}`)

// hostileSequences are the escape sequences of the hostile seed, each with the text it
// came with, so a match means hostile text reached the terminal raw (the renderer's own
// sequences, like a bare cursor home, do not count).
func hostileSequences() []string {
	texts := append([]string{"Mallory \x1b[31mCorp\x1b[0m", "Red\x1b[41m Team", "\x1b[5mBlinking\x1b[0m fleet",
		"Report \x1b[5mblink", "shared by \x1b[31mMallory\x1b[0m", "+1\x1b[8m555 0101", "\x1b[32mactive\x1b[0m"}, org.HostileStrings...)
	var out []string
	for _, s := range texts {
		for _, run := range escapeRun.FindAllString(s, -1) {
			if len(run) >= 6 {
				out = append(out, run)
			}
		}
	}
	return out
}

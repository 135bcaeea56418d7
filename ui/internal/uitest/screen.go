package uitest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
)

// Screen is a terminal emulator (charmbracelet/x/vt) showing what a program writes to
// its terminal, as a person would see it: the program's output is read from out, and
// what the terminal answers (its replies to the program's queries) goes to in.
//
// It tells the program it supports synchronized output (mode 2026), as current
// terminals do, so Bubble Tea wraps each frame between the sequences that begin and
// end an update; at the end of each one the frame is complete, and Check (if set)
// is run on it. Every byte written is kept (Raw) for checks of what reached the
// terminal.
type Screen struct {
	mu     sync.Mutex
	emu    *vt.Emulator
	in     io.Writer
	title  string
	raw    bytes.Buffer
	frames int
	check  func(lines []string) error
	bad    error
	done   chan struct{}
	// pending is output since the last complete update.
	pending []byte
	// changed is closed (and replaced) whenever the screen may have changed, so a
	// waiter checks again at once rather than on a timer.
	changed chan struct{}
}

// ScreenOptions tune a Screen.
type ScreenOptions struct {
	// Silent drops the terminal's replies: a terminal that answers no query (the
	// program must not wait for one).
	Silent bool
	// Check is run on every complete frame (the screen's lines, trailing spaces
	// trimmed); the first error it returns is kept (Problem).
	Check func(lines []string) error
}

// endUpdate ends a synchronized update: the frame before it is whole.
const endUpdate = "\x1b[?2026l"

// NewScreen starts a terminal of cols × rows reading out until it ends.
func NewScreen(out io.Reader, in io.Writer, cols, rows int, opts ScreenOptions) *Screen {
	s := &Screen{emu: vt.NewEmulator(cols, rows), in: in, check: opts.Check, done: make(chan struct{}), changed: make(chan struct{})}
	s.emu.SetCallbacks(vt.Callbacks{Title: func(t string) { s.title = t }})
	// DECRQM ?2026: "recognised, not set", so the program may use it.
	s.emu.RegisterCsiHandler(ansi.Command('?', '$', 'p'), func(params ansi.Params) bool {
		if n, _, ok := params.Param(0, 0); !ok || n != int(ansi.ModeSynchronizedOutput) {
			return false
		}
		_, _ = io.WriteString(s.emu.InputPipe(), ansi.ReportMode(ansi.ModeSynchronizedOutput, ansi.ModeReset))
		return true
	})
	go func() { // the terminal's replies
		buf := make([]byte, 4096)
		for {
			n, err := s.emu.Read(buf)
			if n > 0 && !opts.Silent {
				_, _ = in.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(s.done)
		// Ends the replies' reader. (Emulator.Close would too, but it writes a field
		// Read reads unguarded: a data race.)
		defer s.emu.InputPipe().(*io.PipeWriter).Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				s.feed(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// feed gives the emulator a chunk of output, checking each frame it completes.
func (s *Screen) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { close(s.changed); s.changed = make(chan struct{}) }()
	s.raw.Write(p)
	s.pending = append(s.pending, p...)
	for {
		i := bytes.Index(s.pending, []byte(endUpdate))
		if i < 0 {
			break
		}
		end := i + len(endUpdate)
		_, _ = s.emu.Write(s.pending[:end])
		s.pending = s.pending[end:]
		s.frames++
		if s.check != nil && s.bad == nil {
			if err := s.check(s.lines()); err != nil {
				s.bad = fmt.Errorf("frame %d: %w\n%s", s.frames, err, s.emu.String())
			}
		}
	}
	// What is not inside an update (the start, the end) is shown as it comes; an
	// unfinished update waits for its end, as a terminal holds it.
	if !bytes.Contains(s.pending, []byte("\x1b[?2026h")) {
		_, _ = s.emu.Write(s.pending)
		s.pending = s.pending[:0]
	}
}

func (s *Screen) lines() []string {
	lines := strings.Split(s.emu.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// Text is the screen now, trailing spaces trimmed.
func (s *Screen) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines(), "\n")
}

// Line is line y of the screen (0 is the top).
func (s *Screen) Line(y int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lines := s.lines(); y < len(lines) {
		return lines[y]
	}
	return ""
}

// Title is the window title the program set.
func (s *Screen) Title() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.title
}

// Frames is how many complete frames were drawn.
func (s *Screen) Frames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames
}

// Problem is the first frame Check refused, nil if none.
func (s *Screen) Problem() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

// Raw is every byte the program wrote.
func (s *Screen) Raw() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.raw.Bytes())
}

// Resize makes the emulator cols × rows (the program is told separately, as a pty or an
// SSH window change does).
func (s *Screen) Resize(cols, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emu.Resize(cols, rows)
}

// Done is closed once the program's output has ended.
func (s *Screen) Done() <-chan struct{} { return s.done }

// Type sends keys as a terminal sends them when they are typed ("\r" is enter, "\x03"
// ctrl+c, "\x1b[B" down).
func (s *Screen) Type(keys string) { _, _ = io.WriteString(s.in, keys) }

// WaitFor waits until every word is on the screen.
func (s *Screen) WaitFor(t testing.TB, what string, words ...string) {
	t.Helper()
	s.Until(t, fmt.Sprintf("%s (%q)", what, words), func(lines []string) bool {
		text := strings.Join(lines, "\n")
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	})
}

// Until waits (10 s at most) until cond holds for the screen's lines (trailing spaces
// trimmed), checking again as soon as output arrives.
func (s *Screen) Until(t testing.TB, what string, cond func(lines []string) bool) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		lines, changed := s.lines(), s.changed
		s.mu.Unlock()
		if cond(lines) {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("waited 10s for %s; the screen:\n%s", what, strings.Join(lines, "\n"))
		}
	}
}

// Bytes is how many bytes the program has written.
func (s *Screen) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.Len()
}

// Package common is what every piece of shadow's terminal UI shares: the program
// context (terminal size, styles built once for one colour profile, global keys, the
// clock, the current session), the Component interface, the convention for tagging
// asynchronous requests so stale replies are dropped, and line-layout helpers that keep
// every line within its width.
//
// It must never import a component, the client, the journal or the server: components
// import it, never the other way round.
//
// Imports: only internal/safetext.
package common

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/colorprofile"
)

// Context is the program context, in the manner of gh-dash's ProgramContext: one value,
// owned and mutated by the root model only (inside Update, so never concurrently with a
// View), and shared by pointer with every component so they read the same size, styles,
// keys and clock.
type Context struct {
	// Width and Height are the whole terminal's, from the last tea.WindowSizeMsg;
	// zero until the first one arrives.
	Width, Height int
	// Styles are built once for the colour profile, never inside a View.
	Styles *Styles
	// Keys are the root's global bindings, which components must leave alone.
	Keys GlobalKeys
	// Now is the clock every countdown and timestamp reads, so tests can fix it.
	Now func() time.Time
	// Session is the active impersonation session's id, "" when there is none.
	// Components stamp the requests they emit with it (see Tag).
	Session string
	// Clipboard says whether the admin opted in to copying to the terminal's clipboard
	// (OSC 52), and how to, when not.
	Clipboard Clipboard
}

// Clipboard is the admin's choice about OSC 52 copies: they write to a clipboard outside
// the program (over SSH the client's), so they are off unless asked for.
type Clipboard struct {
	On bool
	// TurnOn says how to turn copying on, for when it is off.
	TurnOn string
}

// NewContext builds a context for a colour profile: colorprofile.ASCII for no colour
// (what NO_COLOR gives), or a colour profile. Use DetectProfile for the terminal at hand.
func NewContext(profile colorprofile.Profile) *Context {
	return &Context{
		Styles: NewStyles(profile),
		Keys:   DefaultGlobalKeys(),
		Now:    time.Now,
	}
}

// DetectProfile is the colour profile of the terminal on stdout, from the process's
// environment (see ProfileFor).
func DetectProfile() colorprofile.Profile { return ProfileFor(os.Stdout, os.Environ()) }

// ProfileFor is the colour profile of a terminal written through out, with environ its
// environment (TERM, COLORTERM, CLICOLOR, CLICOLOR_FORCE, NO_COLOR): a remote terminal
// is judged by the environment its client sent. NO_COLOR with any non-empty value means
// no colour (https://no-color.org), where colorprofile alone takes only a true boolean,
// and a terminal that is not one (a pipe, TERM=dumb) gets no colour either.
func ProfileFor(out io.Writer, environ []string) colorprofile.Profile {
	if noColor(environ) {
		return colorprofile.ASCII
	}
	return eightColours(environ, max(colorprofile.Detect(out, environ), colorprofile.ASCII))
}

// eightColours caps p at 16 colours for GNU screen's own TERM (screen, screen.linux…,
// not screen-256color), which colorprofile takes for 256 colours: screen with such a
// TERM draws 8 colours, so a 256-colour red (48;5;124) would reach it as no red at all,
// and the banner would lose its colour. The 16-colour red (41) always shows.
func eightColours(environ []string, p colorprofile.Profile) colorprofile.Profile {
	term := termOf(environ)
	if (term == "screen" || strings.HasPrefix(term, "screen.")) && !strings.Contains(term, "256color") && p > colorprofile.ANSI {
		return colorprofile.ANSI
	}
	return p
}

// RemoteProfile is the colour profile of a terminal known only by the environment its
// client sent (an SSH session's, with TERM from its pty request): as ProfileFor, with
// the terminal taken to be one.
func RemoteProfile(environ []string) colorprofile.Profile {
	if noColor(environ) {
		return colorprofile.ASCII
	}
	return eightColours(environ, max(colorprofile.Env(environ), colorprofile.ASCII))
}

// NoLineDrawing reports whether a terminal's TERM names one that cannot draw box
// drawing, block or braille characters (a VT100 or VT220, the Linux console): it gets
// ASCII frames and charts (Styles.ASCII).
func NoLineDrawing(environ []string) bool {
	switch term := termOf(environ); {
	case term == "linux", strings.HasPrefix(term, "vt1"), strings.HasPrefix(term, "vt2"):
		return true
	}
	return false
}

// termOf is the environment's TERM ("" when unset), the last one if given twice.
func termOf(environ []string) string {
	term := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			term = v
		}
	}
	return term
}

// noColor reports NO_COLOR set to anything but "".
func noColor(environ []string) bool {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			return true
		}
	}
	return false
}

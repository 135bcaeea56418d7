// Package chrome draws what surrounds the pages: the tab bar, the status line (journal
// sync state, the last error, key hints), the full help overlay built with bubbles/help
// from the keys of the page and the root, and dialogs (e.g. "End the session?").
//
// It holds no state but the status line's, and must never decide anything: the root
// model tells it what to show.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package chrome

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Sync is the journal's sync state as the status line says it.
type Sync struct {
	// Pending counts records not yet acknowledged by the server.
	Pending int
	// Offline is set while the server cannot be reached.
	Offline bool
	// NotOpen is set before the journal is open (before sign-in).
	NotOpen bool
	// Failed is set once the journal cannot write.
	Failed bool
}

// String says the state in words: "synced", "3 pending", "offline · 3 pending".
func (s Sync) String() string {
	var out string
	switch {
	case s.Failed:
		return "NOT WRITING"
	case s.NotOpen:
		return "not open yet"
	case s.Pending == 0:
		out = "synced"
	default:
		out = fmt.Sprintf("%d pending", s.Pending)
	}
	if s.Offline {
		out = "offline · " + out
	}
	return out
}

// Status is the status line. The root sets what it shows; it has no Update.
type Status struct {
	st      *common.Styles
	sync    Sync
	err     string
	note    bool // err is a note (a warning to keep in mind), not an error
	busy    bool // err says what is loading, not an error
	help    help.Model
	helpKey key.Binding
}

// NewStatus makes a status line. The context's help key is pinned to its right end, so
// the way to the full help is never crowded out by an error or a page's hints.
func NewStatus(ctx *common.Context) *Status {
	h := help.New()
	h.Styles = ctx.Styles.Help
	return &Status{st: ctx.Styles, help: h, helpKey: ctx.Keys.Help}
}

// SetSync sets the journal's sync state.
func (s *Status) SetSync(sync Sync) { s.sync = sync }

// SetError shows an error until the next SetError; nil clears it. Its text may quote the
// server and is sanitised.
func (s *Status) SetError(err error) {
	s.err, s.note, s.busy = "", false, false
	if err != nil {
		s.err = strings.TrimSpace(safetext.Clean(err.Error()))
	}
}

// SetNote shows, in the error's place, something to keep in mind that is not an error
// (a connection warning, a throwaway demo); "" clears it, as does SetError.
func (s *Status) SetNote(note string) {
	s.err, s.note, s.busy = strings.TrimSpace(safetext.Clean(note)), note != "", false
}

// SetBusy shows, in the error's place, what is loading ("loading the permission matrix
// · 12 s · esc cancels"); "" clears it, as does SetError.
func (s *Status) SetBusy(what string) {
	s.err, s.note, s.busy = strings.TrimSpace(safetext.Clean(what)), false, what != ""
}

// pinFrom is the narrowest status line that still pins the help key at its right end.
const pinFrom = 30

// View is the status line, exactly width cells: sync state, then the error, then as many
// of keys' hints as fit, and the help key pinned at the right end when keys offer it. A
// page typing text takes ? as a letter and a dialog waits for its own answer, so their
// keys leave the help key out and the line does not promise it.
func (s *Status) View(width int, keys help.KeyMap) string {
	if width < 1 {
		return ""
	}
	var hints []key.Binding
	offersHelp := false
	if keys != nil {
		for _, b := range keys.ShortHelp() {
			if sameKeys(b, s.helpKey) {
				offersHelp = true
			} else {
				hints = append(hints, b)
			}
		}
	}
	pin := ""
	left := width
	if offersHelp && width >= pinFrom {
		pin = " │ " + s.help.ShortHelpView([]key.Binding{s.helpKey})
		left -= ansi.StringWidth(pin)
	}
	paint := s.st.OK
	switch {
	case s.sync.Offline || s.sync.Failed:
		paint = s.st.Error
	case s.sync.Pending > 0:
		paint = s.st.Warn
	}
	line := "journal: " + paint.Apply(s.sync.String())
	used := len("journal: ") + len([]rune(s.sync.String()))
	if s.err != "" {
		avail := left - used - 3
		room := avail
		// The first hint stays if the words keep 30 cells beside it (so at 80 columns the
		// way out stays), but never cuts what is loading when that fits alone: its words
		// end with its own key ("… 12 s · esc cancels"), which a cut would hide.
		keep := 30
		if s.busy && safetext.Width(s.err) <= room {
			keep = safetext.Width(s.err)
		}
		if len(hints) > 0 && room-hintWidth(hints[0])-3 >= keep {
			room -= hintWidth(hints[0]) + 3 // room for the most important hint
			if noteW := safetext.Width("note: " + s.err); s.note && noteW+3+hintsWidth(hints) > avail {
				// A note is to keep in mind, not to act on: the hints come first, in as much
				// as two thirds of the line for the note leave them (the first one always),
				// and the note has the rest, cut with "…".
				n := 1
				for n < len(hints) && hintsWidth(hints[:n+1])+2 <= avail-min(noteW, avail*2/3)-3 {
					n++
				}
				room = avail - hintsWidth(hints[:n]) - 2 - 3
			}
		} else {
			hints = nil // a narrow line is the error's
		}
		label, paint := "error: ", s.st.Error
		switch {
		case s.note:
			label, paint = "note: ", s.st.Warn
		case s.busy:
			label, paint = "", s.st.Accent
		}
		e := safetext.Fit(label+s.err, max(1, room))
		line += " │ " + paint.Apply(e)
		used += 3 + safetext.Width(e)
	}
	if len(hints) > 0 && left-used-3 >= hintWidth(hints[0]) {
		line += " │ " + s.shortHelp(hints, left-used-3)
	}
	return common.FitLine(common.FitLine(line, left)+pin, width)
}

// shortHelp is as many of hints as fit in room cells, whole, with " …" after them when
// some were cut and it fits. This is the one place hints are cut: bubbles/help's own
// cutting lets through a hint with no room for its ellipsis, which the line then cuts
// after its separator ("i cell details • │ ? help").
func (s *Status) shortHelp(hints []key.Binding, room int) string {
	const tail = 2 // " …" after them
	n, w := 0, 0
	for n < len(hints) && hintsWidth(hints[:n+1]) <= room {
		n, w = n+1, hintsWidth(hints[:n+1])
	}
	s.help.SetWidth(0)
	out := s.help.ShortHelpView(hints[:n])
	if n < len(hints) && w+tail <= room {
		out += " " + s.help.Styles.Ellipsis.Inline(true).Render(s.help.Ellipsis)
	}
	return out
}

// hintsWidth is the cells all of hints take in the short help, separators included.
func hintsWidth(hints []key.Binding) int {
	w := 0
	for i, b := range hints {
		if i > 0 {
			w += 3
		}
		w += hintWidth(b)
	}
	return w
}

// hintWidth is the cells a hint takes in the short help: its key, a space, its words.
func hintWidth(b key.Binding) int {
	h := b.Help()
	return ansi.StringWidth(h.Key) + 1 + ansi.StringWidth(h.Desc)
}

func sameKeys(a, b key.Binding) bool {
	ak, bk := a.Keys(), b.Keys()
	if len(ak) == 0 || len(ak) != len(bk) {
		return false
	}
	for i := range ak {
		if ak[i] != bk[i] {
			return false
		}
	}
	return true
}

// HelpView is the full help overlay for a page's keys and the root's, in a frame
// centred in width × height.
func HelpView(ctx *common.Context, keys help.KeyMap, width, height int) string {
	closing := ctx.Styles.Muted.Apply("? or esc to close")
	body := append(helpColumns(ctx, keys, common.BoxInner(width)), "", closing)
	if len(body)+2 > height {
		// No room for the frame: the keys alone, and how to close.
		return common.Join(bare(append(helpColumns(ctx, keys, width), closing), width, height))
	}
	bw := 0
	for _, l := range body {
		bw = max(bw, safetext.Width(l))
	}
	w := min(width, bw+4)
	return common.Join(common.Center(ctx.Styles.Box("Keys", body, w, min(height, len(body)+2), true), width, height))
}

// helpColumns draws each key group as a column with bubbles/help and packs the columns
// into as many rows as the width needs, so no group is cut off (bubbles/help would end
// the line with an ellipsis instead).
func helpColumns(ctx *common.Context, keys help.KeyMap, width int) []string {
	h := help.New()
	h.Styles = ctx.Styles.Help
	const gap = "    "
	var out, row []string
	rowW := 0
	flush := func() {
		if len(row) > 0 {
			if len(out) > 0 {
				out = append(out, "")
			}
			out = append(out, row...)
		}
		row, rowW = nil, 0
	}
	for _, group := range keys.FullHelp() {
		col := strings.Split(h.FullHelpView([][]key.Binding{group}), "\n")
		cw := 0
		for _, l := range col {
			cw = max(cw, ansi.StringWidth(l))
		}
		if len(row) > 0 && rowW+len(gap)+cw > width {
			flush()
		}
		col = common.FitLines(col, cw, len(col))
		if len(row) == 0 {
			row, rowW = col, cw
			continue
		}
		row = common.JoinColumns(gap, common.FitLines(row, rowW, max(len(row), len(col))), common.FitLines(col, cw, max(len(row), len(col))))
		rowW += len(gap) + cw
	}
	flush()
	return out
}

// Dialog is a framed message centred in width × height, e.g. the question before a
// session ends. Title and lines are sanitised.
func Dialog(ctx *common.Context, title string, lines []string, width, height int) string {
	st := ctx.Styles
	bw := safetext.Width(title) + 6
	for _, l := range lines {
		bw = max(bw, safetext.Width(l)+4)
	}
	w := min(width, bw)
	var body []string
	for _, l := range lines {
		body = append(body, safetext.Wrap(l, common.BoxInner(w), 0)...)
	}
	if len(body)+2 > height {
		// No room for the frame: the title and the words, the last line (the keys to
		// answer with) kept whatever is cut.
		out := []string{st.Title.Apply(safetext.Fit(title, width))}
		for i, l := range lines {
			if i == len(lines)-1 {
				out = append(out, safetext.Fit(l, width))
				break
			}
			out = append(out, safetext.Wrap(l, width, 0)...)
		}
		return common.Join(bare(out, width, height))
	}
	return common.Join(common.Center(st.Box(title, body, w, min(height, len(body)+2), true), width, height))
}

// bare fits lines to width × height without their blank lines, for overlays whose
// frame does not fit; what does not fit is cut, the last line kept.
func bare(lines []string, width, height int) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) > height && height > 0 {
		out = append(out[:height-1], out[len(out)-1])
	}
	return common.FitLines(out, width, height)
}

// Tabs is the tab bar, exactly width cells: each tab numbered, the active one
// bracketed so it shows without colour. Where the titles do not fit, the other tabs
// shrink to their numbers, then only the active one is shown: it is never cut off.
func Tabs(st *common.Styles, titles []string, active int, width int) string {
	for _, style := range []tabStyle{tabsFull, tabsNumbers, tabsActive} {
		bar, w := tabs(st, titles, active, style)
		if w <= width || style == tabsActive {
			return common.FitLine(bar, width)
		}
	}
	return ""
}

// tabStyle is how much of the idle tabs the bar shows.
type tabStyle int

const (
	tabsFull    tabStyle = iota // " 1 Dashboards  [2 Permissions]  3 Journal "
	tabsNumbers                 // "1 [2 Permissions] 3"
	tabsActive                  // "[2 Permissions]"
)

// tabs draws the bar in a style and says its width.
func tabs(st *common.Styles, titles []string, active int, style tabStyle) (string, int) {
	var b strings.Builder
	w := 0
	add := func(paint common.Paint, s string) {
		b.WriteString(paint.Apply(s))
		w += safetext.Width(s)
	}
	for i, t := range titles {
		label := fmt.Sprintf("%d %s", i+1, safetext.Clean(t))
		switch {
		case i == active:
			add(st.TabActive, "["+label+"]")
		case style == tabsFull:
			add(st.TabIdle, " "+label+" ")
		case style == tabsNumbers:
			add(st.TabIdle, strconv.Itoa(i+1))
		default:
			continue
		}
		add(common.Paint{}, " ")
	}
	return b.String(), w - 1 // the last space is padding
}

// Package banner draws the impersonation banner and composes every frame under it.
//
// While a session is active the root model passes each frame it would show — any page,
// the help overlay, a dialog, an error — through Compose, which puts the banner on the
// top lines and clips the rest to what is left of the terminal: the banner wins over
// content at every size. The banner reads
//
//	IMPERSONATING <display name> · READ-ONLY · as <admin> · <mm:ss> left
//
// (with CONNECTION LOST before the time while the server does not answer)
// in white on red, shortened to fit one line; below 40 columns it may take two, and
// IMPERSONATING and READ-ONLY survive down to 20 columns. Without colour it keeps its
// words and gains a frame (side bars and a rule under it).
//
// It owns the banner's words and layout and nothing else; it must never be skipped for
// a frame while a session is active, and never draw server text without safetext.
//
// Imports: never client, audit, cache, server/... or ui (the root): it gets what it shows in messages.
package banner

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/common"
)

// Info is what the banner names. User and Admin are display names from the server
// (untrusted); ExpiresAt is the session's expiry.
type Info struct {
	User      string
	Admin     string
	ExpiresAt time.Time
	// Lost says the server has stopped answering: the banner says CONNECTION LOST
	// before the countdown, which is then only this machine's word.
	Lost bool
}

// WordLost is what the banner says while the server does not answer.
const WordLost = "CONNECTION LOST"

// MinWidth is the narrowest terminal at which both IMPERSONATING and READ-ONLY are
// promised in full.
const MinWidth = 20

// OneLineWidth is the width from which the banner always takes a single line of words.
const OneLineWidth = 40

const (
	wordImpersonating = "IMPERSONATING"
	wordReadOnly      = "READ-ONLY"
	sep               = " · "
	minName           = 4 // cells of a shortened display name, ellipsis included
)

// Remaining is the time left as mm:ss (minutes may exceed 59), 00:00 once expired.
func Remaining(expiresAt, now time.Time) string {
	left := expiresAt.Sub(now)
	if left < 0 {
		left = 0
	}
	secs := int(left.Round(time.Second) / time.Second)
	return fmt.Sprintf("%02d:%02d", secs/60, secs%60)
}

// Lines draws the banner for a terminal width cells wide: one or two lines of words,
// plus a rule under them without colour. Every line is exactly width cells (for width
// ≥ 1).
func Lines(st *common.Styles, info Info, now time.Time, width int) []string {
	if width < 1 {
		return nil
	}
	noColor := st.NoColor()
	margin := 1
	if width < MinWidth {
		margin = 0
	}
	frame := noColor && width >= 6
	avail := width - 2*margin
	if frame {
		avail -= 2
	}
	remaining := Remaining(info.ExpiresAt, now)
	if info.Lost {
		remaining = WordLost + sep + remaining
	}
	// While the connection is lost the banner takes a second line below 64 columns
	// rather than drop those words.
	words := compose(info, remaining, avail, width < OneLineWidth || (info.Lost && width < 64))
	out := make([]string, 0, len(words)+1)
	for _, w := range words {
		text := safetext.Fit(w, avail) // the words are clean already; Fit only guards the width
		pad := common.Spaces(margin) + text + common.Spaces(avail-ansi.StringWidth(text)+margin)
		switch {
		case frame && st.ASCII:
			out = append(out, "|"+pad+"|")
		case frame:
			out = append(out, "┃"+pad+"┃")
		case noColor:
			out = append(out, pad)
		default:
			out = append(out, st.Banner.Apply(pad))
		}
	}
	if noColor {
		h, corner, end := "━", "┗", "┛"
		if st.ASCII {
			h, corner, end = "=", "+", "+"
		}
		rule := strings.Repeat(h, width)
		if frame {
			rule = corner + strings.Repeat(h, width-2) + end
		}
		out = append(out, st.BannerRule.Apply(rule))
	}
	return out
}

// compose picks the most informative wording that fits avail cells: one line if it can
// keep the name and the time, else (when two lines are allowed) two, else one line that
// gives up the least important parts first (admin, then the name's tail, "left", the
// time, the name).
func compose(info Info, remaining string, avail int, twoLines bool) []string {
	name := strings.TrimSpace(safetext.Clean(info.User))
	admin := strings.TrimSpace(safetext.Clean(info.Admin))
	if name == "" {
		name = "(no name)"
	}
	left := remaining + " left"
	fits := func(s string) bool { return ansi.StringWidth(s) <= avail }
	// nameIn fits the name into what the other words leave; "" if under minName cells.
	nameIn := func(other int) string {
		room := avail - other
		if room < minName {
			return ""
		}
		return safetext.Fit(name, room)
	}
	head := wordImpersonating + " "
	if admin != "" {
		full := head + name + sep + wordReadOnly + sep + "as " + admin + sep + left
		if fits(full) {
			return []string{full}
		}
		withoutAdmin := ansi.StringWidth(head + name + sep + wordReadOnly + sep + "as " + sep + left)
		if room := avail - withoutAdmin; room >= 6 {
			return []string{head + name + sep + wordReadOnly + sep + "as " + safetext.Fit(admin, room) + sep + left}
		}
	}
	for _, tail := range []string{sep + wordReadOnly + sep + left, sep + wordReadOnly + sep + remaining} {
		if n := nameIn(ansi.StringWidth(head + tail)); n != "" {
			return []string{head + n + tail}
		}
	}
	if twoLines {
		first := wordImpersonating
		if n := nameIn(len(head)); n != "" {
			first = head + n
		}
		for _, second := range []string{wordReadOnly + sep + left, wordReadOnly + sep + remaining, wordReadOnly + " " + remaining, wordReadOnly} {
			if fits(second) {
				return []string{first, second}
			}
		}
		return []string{first, wordReadOnly}
	}
	if n := nameIn(ansi.StringWidth(head + sep + wordReadOnly)); n != "" {
		return []string{head + n + sep + wordReadOnly}
	}
	for _, s := range []string{wordImpersonating + sep + wordReadOnly + sep + remaining, wordImpersonating + sep + wordReadOnly + sep + WordLost, wordImpersonating + sep + wordReadOnly} {
		if s == wordImpersonating+sep+wordReadOnly+sep+WordLost && !info.Lost {
			continue
		}
		if fits(s) {
			return []string{s}
		}
	}
	return []string{wordImpersonating + " " + wordReadOnly}
}

// Compose returns the frame to show for a terminal ctx.Width × ctx.Height: the banner
// on top when info is non-nil (a session is active), then body clipped to the lines and
// cells left. Body lines are also stripped of any escape sequence that is not colour, so
// even a component's bug cannot move the cursor over the banner. Before the terminal's
// size is known, the frame is the banner alone at MinWidth.
func Compose(ctx *common.Context, info *Info, body string) string {
	width, height := ctx.Width, ctx.Height
	var top []string
	if info != nil {
		if width < 1 || height < 1 {
			return common.Join(Lines(ctx.Styles, *info, ctx.Now(), MinWidth))
		}
		top = Lines(ctx.Styles, *info, ctx.Now(), width)
		if len(top) > height {
			top = top[:height]
		}
	}
	if width < 1 || height < 1 {
		return body
	}
	room := height - len(top)
	lines := top
	if room > 0 {
		for _, l := range strings.SplitN(body, "\n", room+1)[:min(room, strings.Count(body, "\n")+1)] {
			l = safetext.KeepColour(l)
			if common.Width(l) > width {
				l = ansi.Truncate(l, width, "")
			}
			lines = append(lines, l)
		}
	}
	return common.Join(lines)
}

// Title is the terminal window title: it says who is being impersonated while a
// session is active (info non-nil), and just "shadow" otherwise.
func Title(info *Info) string {
	if info == nil {
		return "shadow"
	}
	return safetext.Fit("shadow · "+wordImpersonating+" "+strings.TrimSpace(safetext.Clean(info.User))+" · "+wordReadOnly, 120)
}

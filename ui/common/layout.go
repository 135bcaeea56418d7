package common

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/shadowview/shadow/internal/safetext"
)

// Views are built as lists of lines, each exactly as wide as the space given to it, so
// blocks can be placed side by side by joining lines and nothing ever wraps. The helpers
// here work on lines the UI styled itself; untrusted text must have gone through
// safetext before it was styled.

// FitLine cuts a styled line to width cells (escape sequences kept whole) and pads it
// with spaces to exactly width.
func FitLine(line string, width int) string {
	if width < 1 {
		return ""
	}
	w := Width(line)
	if w > width {
		line = ansi.Truncate(line, width, "")
		w = Width(line)
	}
	return line + Spaces(width-w)
}

// Width is the cells a line the UI drew takes: ansi.StringWidth's answer, found without
// its grapheme segmentation when the line holds only colour (SGR) sequences, printable
// ASCII and characters that always take one cell (the letters, box drawing, blocks,
// braille, arrows and marks the UI draws with) — nearly every line of a frame, which is
// measured again on its way to the screen. Anything else is left to ansi.StringWidth.
func Width(s string) int {
	w := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			w++
			i++
		case c == 0x1b:
			n := sgrLen(s[i:])
			if n == 0 {
				return ansi.StringWidth(s)
			}
			i += n
		case c < 0x80:
			return ansi.StringWidth(s) // a control character
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !oneCell(r) {
				return ansi.StringWidth(s)
			}
			w++
			i += size
		}
	}
	return w
}

// oneCell reports runes that take one cell on their own and never join a neighbour
// into one grapheme (TestWidthMatchesAnsi checks every one against ansi.StringWidth).
func oneCell(r rune) bool {
	switch {
	case r >= 0x00a1 && r <= 0x02ff && r != 0x00ad: // Latin-1 to IPA, not the soft hyphen
	case r >= 0x2010 && r <= 0x2027: // dashes, quotes, bullet, ellipsis
	case r >= 0x2190 && r <= 0x22ff: // arrows, mathematical operators
	case r >= 0x2500 && r <= 0x25fc: // box drawing, blocks, geometric shapes (not ◽◾)
	case r == 0x25ff:
	case r >= 0x2800 && r <= 0x28ff: // braille
	case r == 0x2713 || r == 0x2717 || r == 0x276f: // ✓ ✗ ❯
	default:
		return false
	}
	return true
}

// sgrLen is the length of the colour sequence (ESC [ parameters m) s starts with, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case (c >= '0' && c <= '9') || c == ';' || c == ':':
		default:
			return 0
		}
	}
	return 0
}

// Block splits s into lines and fits it to exactly width × height: lines cut or padded,
// missing lines blank, extra lines dropped.
func Block(s string, width, height int) []string {
	return FitLines(strings.Split(s, "\n"), width, height)
}

// FitLines fits lines to exactly width × height.
func FitLines(lines []string, width, height int) []string {
	if height < 1 {
		return nil
	}
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = FitLine(lines[i], width)
		} else {
			out[i] = Spaces(width)
		}
	}
	return out
}

// Fill makes exactly height lines of lines that are already width cells each: extra
// lines dropped, missing ones blank. Unlike FitLines it measures nothing, for views that
// build exact lines and must stay cheap.
func Fill(lines []string, width, height int) []string {
	if height < 1 {
		return nil
	}
	if len(lines) >= height {
		return lines[:height]
	}
	blank := Spaces(width)
	for len(lines) < height {
		lines = append(lines, blank)
	}
	return lines
}

// JoinColumns places blocks side by side with gap between them. Blocks shorter than the
// tallest are padded with blank lines as wide as their first line.
func JoinColumns(gap string, blocks ...[]string) []string {
	height := 0
	for _, b := range blocks {
		height = max(height, len(b))
	}
	out := make([]string, height)
	for i := range out {
		var sb strings.Builder
		for j, b := range blocks {
			if j > 0 {
				sb.WriteString(gap)
			}
			switch {
			case i < len(b):
				sb.WriteString(b[i])
			case len(b) > 0:
				sb.WriteString(Spaces(ansi.StringWidth(b[0])))
			}
		}
		out[i] = sb.String()
	}
	return out
}

// Join turns lines into a view.
func Join(lines []string) string { return strings.Join(lines, "\n") }

// BoxInner is the content width of a Box of width w.
func BoxInner(w int) int { return max(0, w-4) }

// BoxTitle is the most cells a Box of width w shows of its title.
func BoxTitle(w int) int { return max(0, w-6) }

// Box draws lines in a frame of exactly width × height with title set in the top edge.
// A focused box has a heavy frame, so focus shows without colour. Content lines are
// fitted to BoxInner(width) and one space of padding each side; the title is untrusted
// text and is sanitised here.
func (s *Styles) Box(title string, lines []string, width, height int, focused bool) []string {
	if width < 4 || height < 2 {
		return FitLines(lines, width, height)
	}
	h, v, tl, tr, bl, br := "─", "│", "╭", "╮", "╰", "╯"
	paint := s.Border
	if focused {
		h, v, tl, tr, bl, br = "━", "┃", "┏", "┓", "┗", "┛"
		paint = s.FocusBorder
	}
	if s.ASCII {
		h, v, tl, tr, bl, br = "-", "|", "+", "+", "+", "+"
		if focused {
			h, tl, tr, bl, br = "=", "#", "#", "#", "#" // focus still shows without colour
		}
	}
	out := make([]string, 0, height)
	top := tl + h
	rest := width - 3
	if t := safetext.Fit(title, BoxTitle(width)); t != "" {
		tw := ansi.StringWidth(t)
		out = append(out, paint.Apply(top+" ")+s.Title.Apply(t)+paint.Apply(" "+strings.Repeat(h, max(0, rest-tw-2))+tr))
	} else {
		out = append(out, paint.Apply(top+strings.Repeat(h, rest)+tr))
	}
	inner := BoxInner(width)
	side := paint.Apply(v)
	for _, l := range FitLines(lines, inner, height-2) {
		out = append(out, side+" "+l+" "+side)
	}
	out = append(out, paint.Apply(bl+strings.Repeat(h, width-2)+br))
	return out
}

// Problem is what a page shows when it could not get something: what failed and the
// error's words, wrapped rather than cut (they may quote the server: sanitised here), as
// an error, then a hint of what to do ("" for none).
func (s *Styles) Problem(what string, err error, width int, hint string) []string {
	if err != nil {
		what += " " + err.Error()
	}
	var lines []string
	for _, l := range safetext.Wrap(what, width, 5) {
		lines = append(lines, s.Error.Apply(l))
	}
	if hint != "" {
		lines = append(lines, s.Muted.Apply(safetext.Fit(hint, width)))
	}
	return lines
}

// Center places a block of exact-width lines in the middle of width × height (a third
// of the way down, where the eye goes), cutting it if it does not fit.
func Center(block []string, width, height int) []string {
	if width < 1 || height < 1 {
		return nil
	}
	bw := 0
	if len(block) > 0 {
		bw = ansi.StringWidth(block[0])
	}
	if bw > width {
		return FitLines(block, width, height)
	}
	left := Spaces((width - bw) / 2)
	right := Spaces(width - bw - (width-bw)/2)
	lines := make([]string, 0, height)
	for i := max(0, (height-len(block))/3); i > 0; i-- {
		lines = append(lines, Spaces(width))
	}
	for _, l := range block {
		lines = append(lines, left+l+right)
	}
	return Fill(lines, width, height)
}

// Spaces is n spaces (none for n < 1).
func Spaces(n int) string {
	if n < 1 {
		return ""
	}
	return strings.Repeat(" ", n)
}

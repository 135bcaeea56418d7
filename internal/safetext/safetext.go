// Package safetext turns untrusted text (anything a server sent: names, titles, table
// cells, reasons, error messages) into text that is safe to draw in a terminal, and
// measures and fits it in terminal cells.
//
// It owns the one rule for drawing untrusted text: every string that came from outside
// the process passes through Clean, Fit, FitMiddle, Pad or Wrap before it reaches a
// View. The output never holds an escape sequence, a C0 or C1 control, a bidi override
// or isolate, or any other invisible format character, is always valid UTF-8, is one
// line, and — for Fit, FitMiddle, Pad and Wrap — never wider than the cells asked for.
//
// It must never style anything (styling is the caller's, added after fitting) and never
// trust its input to be valid UTF-8.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Ellipsis marks text cut to fit. It is one cell wide.
const Ellipsis = "…"

// Replacement stands in for bytes and code points that cannot be shown honestly:
// invalid UTF-8, private-use and unassigned code points, surrogates.
const Replacement = "\uFFFD"

// maxMarks caps the combining marks kept after one base character, so "Zalgo" text
// cannot pile marks into neighbouring lines on terminals that draw them tall.
const maxMarks = 3

// Clean returns s as one line of printable text: escape sequences (CSI, OSC, DCS, APC,
// PM, SOS and two-byte escapes, in 7-bit and 8-bit form) are removed whole, C0 and C1
// controls and invisible format characters (bidi overrides and isolates, zero-width
// spaces and joiners, BOM, tags, variation selectors) are dropped, line breaks and tabs
// become a space, and code points that cannot be shown become U+FFFD. Plain printable
// ASCII is returned as is, without allocating.
func Clean(s string) string { return clean(s, false) }

// KeepColour is Clean for lines the UI styled itself: SGR sequences (colour, bold,
// reverse …) are kept, everything else Clean removes is removed. It is the last guard
// before a frame is written, so no cursor movement or OSC can reach the terminal even
// through a bug.
func KeepColour(s string) string { return clean(s, true) }

func clean(s string, keepSGR bool) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	marks := 0
	based := false // a base character has been written, so a combining mark has something to sit on
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteString(Replacement)
			i++
			marks, based = 0, true
			continue
		}
		switch {
		case r == 0x1b: // ESC: a 7-bit escape sequence
			if n := sgrLen(s[i:]); keepSGR && n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // CSI in its 8-bit form
			i = skipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
			continue
		}
		i += size
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' ||
			r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
			marks, based = 0, true
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			// other C0 and C1 controls (BEL, BS, DEL, …): nothing to show
		case unicode.Is(unicode.Cf, r) || isVariationSelector(r):
			// bidi controls, zero-width characters, BOM, tags: invisible by design
		case unicode.IsSpace(r):
			b.WriteByte(' ')
			marks, based = 0, true
		case unicode.In(r, unicode.Mn, unicode.Me):
			if based && marks < maxMarks {
				b.WriteRune(r)
				marks++
			}
		case !unicode.IsPrint(r):
			b.WriteString(Replacement)
			marks, based = 0, true
		default:
			b.WriteRune(r)
			marks, based = 0, true
		}
	}
	return trimJoiners(b.String())
}

// trimJoiners drops runes at either end that would fuse with whatever is drawn next to
// the text (a mark or spacing mark with no base, a prepended letter at the end). Widths
// are summed cell by cell when a line is laid out, so a string must measure the same
// wherever it is put.
func trimJoiners(c string) string {
	for c != "" {
		r, n := utf8.DecodeRuneInString(c)
		if r < 0x80 || ansi.StringWidth(" "+c[:n]) == 1+ansi.StringWidth(c[:n]) {
			break
		}
		c = c[n:]
	}
	for c != "" {
		r, n := utf8.DecodeLastRuneInString(c)
		last := c[len(c)-n:]
		if r < 0x80 || ansi.StringWidth(last+" ") == ansi.StringWidth(last)+1 {
			break
		}
		c = c[:len(c)-n]
	}
	return c
}

// Width is the number of terminal cells s takes once cleaned.
func Width(s string) int {
	if isPlainASCII(s) {
		return len(s)
	}
	return ansi.StringWidth(Clean(s))
}

// Fit cleans s and cuts it to at most width cells, ending with an ellipsis when cut.
// A width below 1 gives "".
func Fit(s string, width int) string {
	if width < 1 {
		return ""
	}
	if isPlainASCII(s) {
		if len(s) <= width {
			return s
		}
		return s[:width-1] + Ellipsis
	}
	return fitClean(Clean(s), width)
}

// PathSeparator joins the parts of a path such as a team's ("North / North-East").
const PathSeparator = " / "

// FitPath fits a path to width keeping what tells it apart, its last part: "…/North-East"
// rather than "North / No…" or "Nort…ast". A path whose last part alone does not fit, and
// text that is no path, are cut at the end as Fit does ("Head Of…").
func FitPath(s string, width int) string {
	c := Clean(s)
	if widthOfClean(c) <= width {
		return c
	}
	i := strings.LastIndex(c, PathSeparator)
	if i < 0 {
		return Fit(c, width)
	}
	last := c[i+len(PathSeparator):]
	if short := Ellipsis + "/" + last; widthOfClean(short) <= width {
		return short
	}
	return Fit(last, width)
}

// FitMiddle is Fit for ids and names, whose ends both matter ("Ava Eriksen 000417",
// "usr_7f3a…e9c1"): it cleans s and, when it is wider than width cells, keeps its start
// and its end with an ellipsis between them ("Ava Eri…00417"), cutting between
// graphemes (a wide character or a letter with its marks is kept whole or dropped
// whole). The start gets the extra cell. A width below 1 gives "".
func FitMiddle(s string, width int) string {
	if width < 1 {
		return ""
	}
	c := s
	if !isPlainASCII(s) {
		c = Clean(s)
	}
	total := widthOfClean(c)
	if total <= width {
		return c
	}
	if width < 3 {
		return fitClean(c, width) // no room for both ends: the start, as Fit does
	}
	tail := max(1, (width-2)/2)
	if isPlainASCII(c) {
		return c[:width-1-tail] + Ellipsis + c[len(c)-tail:]
	}
	head := ansi.Truncate(c, width-1-tail, "")
	// The end gets what the start left (a wide character at the cut leaves a cell).
	tailW := width - 1 - ansi.StringWidth(head)
	end := ansi.TruncateLeft(c, total-tailW, "")
	for end != "" && ansi.StringWidth(end) > tailW {
		// A wide character straddled the cut: drop it whole.
		_, n := utf8.DecodeRuneInString(end)
		end = trimJoiners(end[n:])
	}
	return trimJoiners(head) + Ellipsis + end
}

// fitClean cuts an already clean string to width cells.
func fitClean(c string, width int) string {
	if ansi.StringWidth(c) <= width {
		return c
	}
	return ansi.Truncate(c, width, Ellipsis)
}

// Pad cleans and fits s, then pads it with spaces on the right to exactly width cells.
func Pad(s string, width int) string {
	if width < 1 {
		return ""
	}
	f := Fit(s, width)
	return f + spaces(width-widthOfClean(f))
}

// PadLeft is Pad aligned right: spaces first, for numbers.
func PadLeft(s string, width int) string {
	if width < 1 {
		return ""
	}
	f := Fit(s, width)
	return spaces(width-widthOfClean(f)) + f
}

// Center is Pad with the text centred (extra space on the right).
func Center(s string, width int) string {
	if width < 1 {
		return ""
	}
	f := Fit(s, width)
	gap := width - widthOfClean(f)
	return spaces(gap/2) + f + spaces(gap-gap/2)
}

// Wrap cleans s and breaks it into lines of at most width cells, at spaces where it
// can and inside words only where a word is wider than a whole line. It returns at most
// maxLines lines (0: no limit); the last one ends with an ellipsis when text was left
// over.
//
// Spaces are the only break points: a hyphen, a colon or a slash is part of its word, so
// an id ("dashboard:d-acme-fuel", "usr_7f3a-e9c1") or a path is never split across lines
// while it fits on one (ansi.Wrap, used before, always breaks after a hyphen).
func Wrap(s string, width, maxLines int) []string {
	if width < 1 {
		return nil
	}
	c := strings.TrimSpace(Clean(s))
	if c == "" {
		return []string{""}
	}
	var lines []string
	line, lineW := "", 0
	for _, word := range strings.Split(c, " ") { // Clean made every tab and break a space
		if word == "" {
			continue // a run of spaces is one break
		}
		ww := widthOfClean(word)
		switch {
		case lineW > 0 && lineW+1+ww <= width:
			line, lineW = line+" "+word, lineW+1+ww
			continue
		case lineW > 0:
			lines = append(lines, line)
		}
		line, lineW = word, ww
		if ww > width {
			// Wider than a line: the one case a word is cut, at grapheme boundaries.
			parts := strings.Split(ansi.Hardwrap(word, width, false), "\n")
			lines = append(lines, parts[:len(parts)-1]...)
			line = parts[len(parts)-1]
			lineW = ansi.StringWidth(line)
		}
	}
	lines = append(lines, line)
	for i, l := range lines {
		// Every line is within width by construction; Fit is the belt to its braces, since
		// a wide character at a boundary is the one case where wrappers have erred.
		lines[i] = fitClean(l, width)
	}
	if maxLines > 0 && len(lines) > maxLines {
		last := lines[maxLines-1]
		if ansi.StringWidth(last)+1 > width {
			last = ansi.Truncate(last, width-1, "")
		}
		lines = append(lines[:maxLines-1], last+Ellipsis)
	}
	return lines
}

func widthOfClean(c string) int {
	if isPlainASCII(c) {
		return len(c)
	}
	return ansi.StringWidth(c)
}

const spaceRun = "                                                                                                                                "

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(spaceRun) {
		return spaceRun[:n]
	}
	return strings.Repeat(" ", n)
}

// isPlainASCII reports whether s is only printable ASCII, the common case that needs
// no work at all.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func isVariationSelector(r rune) bool {
	return (r >= 0xfe00 && r <= 0xfe0f) || (r >= 0xe0100 && r <= 0xe01ef) || (r >= 0x180b && r <= 0x180f)
}

// sgrLen is the length of the SGR sequence (ESC [ digits and separators m) s starts
// with, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case (c < '0' || c > '9') && c != ';' && c != ':':
			return 0
		}
	}
	return 0
}

// skipEscape returns the index just past the escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then one final byte (e.g. ESC ( B)
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // a two-byte escape: ESC 7, ESC c, ESC M, …
		return i + 1
	}
	return i // a lone ESC: drop it, keep what follows
}

// skipCSI returns the index just past a control sequence's final byte. Parameter and
// intermediate bytes are skipped; anything else ends the sequence without being eaten,
// so a stray "ESC [" cannot swallow the text after it.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past a control string (OSC, DCS, APC, PM, SOS),
// which ends at BEL, ST (ESC \) or 8-bit ST; another ESC aborts it; otherwise it runs to
// the end of s, as a terminal would swallow it.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // ESC inside a string aborts it and starts a new sequence, as in a terminal
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c: // U+009C, ST
			return i + 2
		}
		i++
	}
	return i
}

// Exports: text that leaves the process in a file an auditor opens.
//
// The terminal functions above drop what cannot be shown; an export must lose nothing.
// So Invisible names the characters an export may not write as they are — they act on
// a terminal or hide text from a reader: every C0 control, DEL, every C1 control,
// and every format character (bidi embeddings, overrides, isolates and marks, zero-width
// spaces and joiners, the BOM, tag characters, the soft hyphen) plus the line and
// paragraph separators. EscapeJSON writes them as JSON escapes (the parsed value is
// exact, the bytes inert); Visible shows them as <U+XXXX> for people.

// Invisible reports whether r is a character an export writes escaped, never raw.
func Invisible(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r)
}

// EscapeJSON rewrites JSON text so that it holds no Invisible character and no byte that
// is not UTF-8: each becomes a \uXXXX escape (a pair of them past U+FFFF; U+FFFD for a
// stray byte). Such characters can only stand inside JSON strings, where the escape
// parses to the same character, so the document's value is unchanged; JSON's own
// escapes are left as they are.
func EscapeJSON(src []byte) []byte {
	clean := true
	for i := 0; i < len(src); i++ {
		if c := src[i]; c < 0x20 && c != '\n' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return src
	}
	out := make([]byte, 0, len(src)+len(src)/8)
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, `\ufffd`...)
		case r == '\n' || !Invisible(r):
			out = append(out, src[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			out = appendU(appendU(out, r1), r2)
		default:
			out = appendU(out, r)
		}
		i += size
	}
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

const hexDigits = "0123456789abcdef"

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// Visible returns s with every Invisible character written as <U+XXXX> (an escape
// sequence's ESC is <U+001B>, a tab <U+0009>) and every byte that is not UTF-8 as
// <0xXX>, so a person sees that they were there and a terminal or spreadsheet acts on
// none of them. Everything else is kept as it is.
func Visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString("<0x")
			b.WriteByte(hexUpper[s[i]>>4])
			b.WriteByte(hexUpper[s[i]&0xf])
			b.WriteByte('>')
		case Invisible(r):
			b.WriteString("<U+")
			h := strings.ToUpper(strconv.FormatInt(int64(r), 16))
			b.WriteString(strings.Repeat("0", max(0, 4-len(h))) + h)
			b.WriteByte('>')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexUpper = "0123456789ABCDEF"

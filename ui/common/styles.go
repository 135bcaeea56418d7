package common

import (
	"image/color"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// Paint is a style reduced to the escape sequences before and after the text, so a View
// can colour thousands of cells by concatenation instead of running lipgloss for each.
// The zero Paint leaves text as it is, which is what every Paint is under no colour.
// Paints do not nest: a Paint's suffix resets all attributes, so paint side by side
// segments, never a painted segment inside another.
type Paint struct{ pre, post string }

// Apply paints s. Apply on text from a server only after safetext has fitted it.
func (p Paint) Apply(s string) string {
	if p.pre == "" {
		return s
	}
	return p.pre + s + p.post
}

// IsZero reports whether the paint changes nothing (always so without colour).
func (p Paint) IsZero() bool { return p.pre == "" && p.post == "" }

const paintSentinel = "\uE000"

// PaintOf reduces a lipgloss style without padding, margins, borders or size to a Paint.
func PaintOf(s lipgloss.Style) Paint {
	out := s.Render(paintSentinel)
	i := strings.Index(out, paintSentinel)
	if i < 0 {
		return Paint{}
	}
	return Paint{pre: out[:i], post: out[i+len(paintSentinel):]}
}

// Palette colours (xterm-256 indices; NewStyles converts them for 16-colour terminals).
const (
	colourRed       = "160"
	colourBannerBg  = "124"
	colourWhite     = "231"
	colourGreen     = "35"
	colourYellow    = "178"
	colourGrey      = "245"
	colourDarkGrey  = "240"
	colourAccent    = "38"
	colourMagenta   = "170"
	colourSelection = "237"
)

// Styles is the theme for one colour profile, built once by NewStyles. Paints are for
// text inside lines; Border and the Help/Input styles are for the bubbles that take
// lipgloss styles.
type Styles struct {
	// Profile is the colour profile the styles were built for.
	Profile colorprofile.Profile
	// ASCII draws frames, rules and charts with ASCII (+ - | = # *) instead of box
	// drawing and braille, for terminals without them (VT100s, the Linux console): see
	// NoLineDrawing.
	ASCII bool

	Bold, Dim, Muted, Header, Title, Accent Paint
	// Selected is the cursor row; CursorCell the cursor cell of a grid in cell mode.
	Selected, CursorCell Paint
	// Allow, Deny and None paint permission cells.
	Allow, Deny, None   Paint
	Error, Warn, OK     Paint
	Up, Down            Paint // a KPI's change against the previous period
	Redacted            Paint
	Banner              Paint // white on red: the impersonation banner
	BannerRule          Paint // the banner's frame under no colour
	TabActive, TabIdle  Paint
	Border, FocusBorder Paint
	// Series colours the lines of a chart in turn.
	Series []Paint

	// Help is for bubbles/help; InputPrompt, InputText, InputPlaceholder and InputCursor
	// for bubbles/textinput (see StyleInput); Spinner for bubbles/spinner.
	Help                                     help.Styles
	InputPrompt, InputText, InputPlaceholder lipgloss.Style
	Spinner                                  lipgloss.Style
	// InputCursor colours a text input's cursor block (nil: the text's own colour, reversed).
	InputCursor color.Color
}

// NoColor reports whether the styles draw without colour (and so without bold and
// reverse, which colour-free terminals lose too): words and frames must carry meaning.
func (s *Styles) NoColor() bool { return s.Profile <= colorprofile.ASCII }

// NewStyles builds the theme for a profile: colours converted to what the profile can
// show (so the styles carry only sequences the terminal understands, whatever the
// renderer does with them), and under no colour (colorprofile.ASCII or below) no
// attribute at all, as a terminal without colour may lose bold and reverse too. It
// never queries the terminal.
func NewStyles(profile colorprofile.Profile) *Styles {
	if profile <= colorprofile.ASCII {
		return plainStyles(profile)
	}
	colour := func(c string) color.Color { return profile.Convert(lipgloss.Color(c)) }
	style := lipgloss.NewStyle
	fg := func(c string) lipgloss.Style { return style().Foreground(colour(c)) }
	p := PaintOf
	st := &Styles{
		Profile:     profile,
		Bold:        p(style().Bold(true)),
		Dim:         p(fg(colourDarkGrey).Faint(true)),
		Muted:       p(fg(colourGrey)),
		Header:      p(style().Bold(true).Underline(true)),
		Title:       p(fg(colourAccent).Bold(true)),
		Accent:      p(fg(colourAccent)),
		Selected:    p(style().Background(colour(colourSelection)).Bold(true)),
		CursorCell:  p(style().Reverse(true).Bold(true)),
		Allow:       p(fg(colourGreen)),
		Deny:        p(fg(colourRed).Bold(true)),
		None:        p(fg(colourDarkGrey)),
		Error:       p(fg(colourRed).Bold(true)),
		Warn:        p(fg(colourYellow)),
		OK:          p(fg(colourGreen)),
		Up:          p(fg(colourGreen)),
		Down:        p(fg(colourRed)),
		Redacted:    p(fg(colourMagenta).Italic(true)),
		Banner:      p(style().Background(colour(colourBannerBg)).Foreground(colour(colourWhite)).Bold(true)),
		BannerRule:  p(fg(colourRed)),
		TabActive:   p(fg(colourAccent).Bold(true).Underline(true)),
		TabIdle:     p(fg(colourGrey)),
		Border:      p(fg(colourDarkGrey)),
		FocusBorder: p(fg(colourAccent)),
		Series: []Paint{
			p(fg(colourAccent)), p(fg(colourYellow)), p(fg(colourMagenta)), p(fg(colourGreen)),
		},
		InputPrompt:      fg(colourAccent).Bold(true),
		InputText:        style(),
		InputPlaceholder: fg(colourDarkGrey),
		Spinner:          fg(colourAccent),
	}
	key, desc, sep := fg(colourAccent), fg(colourGrey), fg(colourDarkGrey)
	st.Help = help.Styles{
		Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep,
	}
	return st
}

// plainStyles are the styles without colour: every Paint the zero one, every lipgloss
// style empty, so nothing but text is drawn.
func plainStyles(profile colorprofile.Profile) *Styles {
	plain := lipgloss.NewStyle()
	return &Styles{
		Profile: profile, Series: make([]Paint, 4),
		InputPrompt: plain, InputText: plain, InputPlaceholder: plain, Spinner: plain,
		Help: help.Styles{Ellipsis: plain, ShortKey: plain, ShortDesc: plain, ShortSeparator: plain,
			FullKey: plain, FullDesc: plain, FullSeparator: plain},
	}
}

// StyleInput gives a bubbles text input the theme's styles and a steady cursor (a
// blinking one would make every frame differ, and tells nothing more).
func (s *Styles) StyleInput(in *textinput.Model) {
	state := textinput.StyleState{Text: s.InputText, Placeholder: s.InputPlaceholder,
		Suggestion: s.InputPlaceholder, Prompt: s.InputPrompt}
	in.SetStyles(textinput.Styles{Focused: state, Blurred: state,
		Cursor: textinput.CursorStyle{Color: s.InputCursor, Blink: false}})
}

// NoColorCursor marks the cursor of a focused text input drawn without colour, where
// the reverse-video cursor bubbles draws would vanish along with every other attribute.
const NoColorCursor = "█"

// InputView draws a text input. With colour it is the input's own View. Without colour
// a focused input shows its cursor as NoColorCursor, inserted at the cursor's place
// (the text keeps every character), with the text scrolled so the cursor stays in
// view; a hidden field (EchoNone) shows the cursor alone, so its length never shows.
func (s *Styles) InputView(in textinput.Model) string {
	if !s.NoColor() || !in.Focused() {
		return in.View()
	}
	value := []rune(in.Value())
	pos := min(max(in.Position(), 0), len(value))
	var before, after string
	switch in.EchoMode {
	case textinput.EchoNone:
	case textinput.EchoPassword:
		before = strings.Repeat(string(in.EchoCharacter), pos)
		after = strings.Repeat(string(in.EchoCharacter), len(value)-pos)
	default:
		before, after = string(value[:pos]), string(value[pos:])
	}
	if len(value) == 0 && in.EchoMode != textinput.EchoNone && in.Placeholder != "" {
		after = in.Placeholder
	}
	if w := in.Width(); w > 0 {
		if bw := ansi.StringWidth(before); bw > w-1 {
			before = tailCells(before, w-1)
		}
		after = ansi.Truncate(after, max(0, w-1-ansi.StringWidth(before)), "")
		rest := w - ansi.StringWidth(before) - 1 - ansi.StringWidth(after)
		after += Spaces(rest + 1)
	}
	return in.Prompt + before + NoColorCursor + after
}

// tailCells is the end of s that fits in n cells.
func tailCells(s string, n int) string {
	for ansi.StringWidth(s) > n && s != "" {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	return s
}

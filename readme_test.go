package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's screens from the UI's golden files")

// screenMark names, above a fenced block of the README, the golden file the block shows and
// optionally which of its lines: <!-- screen: PATH --> or <!-- screen: PATH lines=A-B -->.
var screenMark = regexp.MustCompile(`^<!-- screen: (\S+)(?: lines=(\d+)-(\d+))? -->$`)

// TestReadmeScreensAreRealScreens keeps the README's tour true: every screen it shows is a
// golden file of the UI tests (the real program against the real reference server), as
// that file says it today, and no screen is shown without naming the golden it comes from.
// `go test -run TestReadmeScreensAreRealScreens -update-readme .` rewrites the screens.
func TestReadmeScreensAreRealScreens(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	var out []string
	marked, changed := 0, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		out = append(out, line)
		if strings.HasPrefix(line, "```") && line != "```" {
			// A block with a language (sh, json, …) is not a screen: copy it whole.
			for i++; i < len(lines); i++ {
				out = append(out, lines[i])
				if lines[i] == "```" {
					break
				}
			}
			continue
		}
		if line == "```" {
			// An unmarked plain block: it must not look like a screen.
			start := i
			for i++; i < len(lines) && lines[i] != "```"; i++ {
				out = append(out, lines[i])
			}
			if i < len(lines) {
				out = append(out, lines[i])
			}
			if block := strings.Join(lines[start+1:min(i, len(lines))], "\n"); looksLikeScreen(block) {
				t.Errorf("README.md:%d: a screen with no <!-- screen: … --> naming its golden file", start+1)
			}
			continue
		}
		m := screenMark.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		marked++
		want, err := goldenScreen(m[1], m[2], m[3])
		if err != nil {
			t.Errorf("README.md:%d: %v", i+1, err)
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "```" {
			t.Errorf("README.md:%d: a screen mark not followed by a ``` block", i+1)
			continue
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end >= len(lines) {
			t.Fatalf("README.md:%d: the screen's block never ends", i+2)
		}
		got := strings.Join(lines[i+2:end], "\n")
		if got != want {
			changed = true
			if !*updateReadme {
				t.Errorf("README.md:%d: the screen is not what %s shows today (run with -update-readme):\n--- README\n%s\n--- golden\n%s", i+2, m[1], got, want)
			}
		}
		out = append(out, "```")
		out = append(out, strings.Split(want, "\n")...)
		out = append(out, "```")
		i = end
	}
	if marked < 5 {
		t.Errorf("the README's tour shows %d screens from golden files; it had at least 5", marked)
	}
	if *updateReadme && changed {
		if err := os.WriteFile("README.md", []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// looksLikeScreen tells a captured frame from a command's output: the status line's help
// key, the banner, or a dialog's frame.
func looksLikeScreen(block string) bool {
	return strings.Contains(block, "│ ? help") || strings.Contains(block, "IMPERSONATING") || strings.Contains(block, "┏━")
}

// goldenScreen is the golden file at path as a reader sees it: without colour codes and
// trailing blanks, optionally only lines a to b (1-based, inclusive).
func goldenScreen(path, a, b string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("screen: %w", err)
	}
	lines := strings.Split(strings.TrimRight(ansi.Strip(string(raw)), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if a != "" {
		from, _ := strconv.Atoi(a)
		to, _ := strconv.Atoi(b)
		if from < 1 || to < from || to > len(lines) {
			return "", fmt.Errorf("screen %s has %d lines, not %s-%s", path, len(lines), a, b)
		}
		lines = lines[from-1 : to]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n"), nil
}

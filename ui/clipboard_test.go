package ui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/server"
)

// isClipboard reports Bubble Tea's set-clipboard message (its type is unexported: the
// program writes it to the terminal as OSC 52) and the text it carries.
func isClipboard(msg tea.Msg) (string, bool) {
	if fmt.Sprintf("%T", msg) != "tea.setClipboardMsg" {
		return "", false
	}
	return reflect.ValueOf(msg).String(), true
}

// copyUserID opens the details of the first user matching q on the picker and presses Y
// on the user id; it returns what was sent to the clipboard and the user id shown.
func copyUserID(t *testing.T, opts Options, q string) (d *driver, sent []string, id string) {
	t.Helper()
	m := New(opts)
	d = newDriver(t, m, 100, 30)
	d.hold = func(msg tea.Msg) bool { _, ok := isClipboard(msg); return ok }
	d.press("/")
	d.typeText(q)
	d.press("enter", "i", "down", "down")
	if !strings.Contains(d.view(), "❯ User id") {
		t.Fatalf("the cursor is not on the user id:\n%s", d.view())
	}
	for _, l := range strings.Split(d.view(), "\n") {
		if _, v, ok := strings.Cut(l, "❯ User id"); ok {
			id = strings.TrimSpace(v)
		}
	}
	d.press("Y")
	for _, msg := range d.held {
		text, _ := isClipboard(msg)
		sent = append(sent, text)
	}
	return d, sent, id
}

// TestCopySendsTheFocusedID: with copying on (Options.OSC52), Y on a user's id in the
// picker's details sends exactly that id to the terminal's clipboard and the view says
// it was sent, not that it landed; the frame itself never carries the OSC sequence.
func TestCopySendsTheFocusedID(t *testing.T) {
	e := newTestEnv(t, server.DemoSeed)
	opts := e.options(colorprofile.ANSI256)
	opts.OSC52 = true
	d, sent, id := copyUserID(t, opts, "Ada Okafor")
	if id == "" || len(sent) != 1 || sent[0] != id {
		t.Fatalf("sent %q for the id %q", sent, id)
	}
	view := d.view()
	if !strings.Contains(view, "sent the user id by OSC 52; the terminal decides if it takes it") {
		t.Fatalf("the view does not say what was sent:\n%s", view)
	}
	if strings.Contains(d.m.Frame(), "\x1b]52") {
		t.Fatal("the frame carries OSC 52")
	}
	d.press("down")
	if strings.Contains(d.view(), "sent the user id") {
		t.Fatal("the word on the copy outlives the next key")
	}
}

// TestCopyIsOffUnlessAskedFor: without OSC52 nothing is sent, and the view says how to
// turn copying on.
func TestCopyIsOffUnlessAskedFor(t *testing.T) {
	e := newTestEnv(t, server.DemoSeed)
	d, sent, _ := copyUserID(t, e.options(colorprofile.ANSI256), "Ada Okafor")
	if len(sent) != 0 {
		t.Fatalf("copying is off, yet %q was sent", sent)
	}
	if !strings.Contains(d.view(), "copying is off: start shadow with --osc52") {
		t.Fatalf("the view does not say copying is off:\n%s", d.view())
	}
}

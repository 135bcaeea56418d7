package sshserve_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// userIDOnScreen is the value of the detail view's "User id" line under the cursor.
func userIDOnScreen(tm *terminal) string {
	for _, l := range strings.Split(tm.Text(), "\n") {
		if _, v, ok := strings.Cut(l, "❯ User id"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// openUserID signs in, finds Nora and puts the cursor on her user id in the details.
func openUserID(t *testing.T, tm *terminal) string {
	t.Helper()
	tm.signIn(t)
	tm.Type("/nora")
	tm.WaitFor(t, "the search", `1 user matching "nora"`)
	tm.Type("\ri\x1b[B\x1b[B")
	tm.WaitFor(t, "the user id in the details", "❯ User id")
	id := userIDOnScreen(tm)
	if id == "" {
		t.Fatalf("no user id on screen:\n%s", tm.Text())
	}
	return id
}

// TestCopyOverSSHGoesToTheClientsTerminal: a client that sends SHADOW_OSC52=1 gets the id
// under the cursor as OSC 52 on its own terminal when it presses Y, and the screen says
// it was sent; one that does not gets no OSC 52 at all, and is told how to turn it on.
func TestCopyOverSSHGoesToTheClientsTerminal(t *testing.T) {
	t.Parallel()
	b := newBox(t, []string{"sam"}, nil)

	on := b.connect(t, "sam", 100, 30, map[string]string{"SHADOW_OSC52": "1"})
	id := openUserID(t, on)
	on.Type("Y")
	on.WaitFor(t, "the copy's word", "sent the user id by OSC 52; the terminal decides if it takes it")
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(id))
	if !bytes.Contains(on.Raw(), []byte(want)) {
		t.Fatalf("the client's terminal did not get %q", want)
	}
	on.Type("\x03")
	on.ended(t)

	off := b.connect(t, "sam", 100, 30, nil)
	openUserID(t, off)
	off.Type("Y")
	off.WaitFor(t, "the refusal", "copying is off: connect with ssh -o SetEnv=SHADOW_OSC52=1")
	if bytes.Contains(off.Raw(), []byte("\x1b]52;")) {
		t.Fatal("OSC 52 reached a terminal that did not ask for it")
	}
	off.Type("\x03")
	off.ended(t)
}

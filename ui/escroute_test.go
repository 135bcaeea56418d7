package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/ui/matrix"
)

// holdMorePage keeps back the reply to the next page of the matrix, once: until it is
// let go the tab's load is on its way, as for a slow server.
func holdMorePage(d *driver) {
	held := false
	d.hold = func(msg tea.Msg) bool {
		if r, ok := msg.(viewReply); ok && !held {
			if _, page := r.reply.(matrix.MoreLoaded); page {
				held = true
				return true
			}
		}
		return false
	}
}

// TestEscClosesTheInnermostWhilePagesLoad (R9): while a later page of the matrix is on
// its way, esc closes what the page has open — the cell's detail view, then the explain
// panel — and only the esc after that stops the load. At each point the hints say what
// esc does: the status line offers "esc cancels" only when it does.
func TestEscClosesTheInnermostWhilePagesLoad(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, pagedSeed)
	d := openPaged(t, e, e.options(colorprofile.ASCII))
	more := d.held[0]
	d.held = nil
	holdMorePage(d)
	d.send(more)
	loading := func() bool { return d.m.sess.oldestLoad(TabPermissions) != nil }
	if !loading() {
		t.Fatal("the later page is not on its way")
	}

	d.press("i")
	if v := d.view(); !strings.Contains(v, "Resource id") || !strings.Contains(v, "esc close") {
		t.Fatalf("i did not open the cell's detail:\n%s", v)
	}
	if s := d.statusLine(); strings.Contains(s, "esc cancels") {
		t.Fatalf("over the detail view the status line says esc cancels the load: %q", s)
	}
	d.press("esc")
	if v := d.view(); strings.Contains(v, "Resource id") || !loading() {
		t.Fatalf("esc did not close the detail view alone (load on its way: %v):\n%s", loading(), v)
	}
	// i opened the explain panel too (the detail view shows its chain): esc closes it next.
	if v := d.view(); !strings.Contains(v, "Why? view on") {
		t.Fatalf("the explain panel i opened is not shown:\n%s", v)
	}
	if s := d.statusLine(); strings.Contains(s, "esc cancels") {
		t.Fatalf("with the explain panel open the status line says esc cancels the load: %q", s)
	}
	d.press("esc")
	if v := d.view(); strings.Contains(v, "Why? view on") || !loading() {
		t.Fatalf("esc did not close the explain panel alone (load on its way: %v):\n%s", loading(), v)
	}
	if s := d.statusLine(); !strings.Contains(s, "esc cancels") {
		t.Fatalf("with nothing open the status line does not say esc cancels: %q", s)
	}
	d.press("esc")
	if loading() {
		t.Fatal("the esc with nothing open did not stop the load")
	}
}

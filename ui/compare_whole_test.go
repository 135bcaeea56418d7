package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// flat is a frame's words with the boxes' sides and the line breaks gone, so a step's
// text wrapped over lines reads as one.
func flat(frame string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("│", " ", "|", " ").Replace(uitest.Plain(frame))), " ")
}

func decisiveText(e api.Explanation) string {
	for _, s := range e.Steps {
		if s.Decisive {
			return strings.Join(strings.Fields(s.Text), " ")
		}
	}
	return ""
}

// At 80×24, on the demo's cell whose two chains are the longest, each user's decisive
// step is on screen whole, what is cut says so, and i opens both whole (the banner on
// every frame); esc goes back to the list, a second esc closes the compare.
func TestCompareAt80x24ShowsEachDecisiveStepWhole(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := compareDriver(t, e, colorprofile.ASCII, 80, 24)
	pickToCompare(d, server.DemoTechnicianEmail)
	d.settle()
	s := d.m.sess
	diff := s.compare.Diff()
	ctx := context.Background()
	longest, size := -1, 0
	var a, b api.Explanation
	for i, r := range diff.Rows {
		if r.Kind != compare.Differs {
			continue
		}
		x, err := s.view.Explain(ctx, r.Resource.ID, r.Action)
		if err != nil {
			t.Fatal(err)
		}
		y, err := s.second.view.Explain(ctx, r.Resource.ID, r.Action)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, st := range append(append([]api.ExplainStep{}, x.Steps...), y.Steps...) {
			n += len(st.Text) + 40
		}
		if n > size {
			longest, size, a, b = i, n, x, y
		}
	}
	d.hold = isExplainDue
	d.press("g")
	for range longest {
		d.press("j")
	}
	d.hold = nil
	if held := d.held; len(held) > 0 {
		d.held = nil
		d.send(held[len(held)-1])
	}
	d.settle()
	f := d.m.Frame()
	uitest.AssertFrame(t, f, 80, 24)
	v := flat(f)
	for _, text := range []string{decisiveText(a), decisiveText(b)} {
		if !strings.Contains(v, "(decisive) "+text) {
			t.Fatalf("the decisive step %q is not whole on screen:\n%s", text, f)
		}
	}
	if !strings.Contains(v, "i shows both whole") {
		t.Fatalf("the longest chains fit at 80×24, or what is cut is not said:\n%s", f)
	}
	d.press("i")
	f = d.m.Frame()
	if !strings.Contains(uitest.Plain(f), "IMPERSONATING") || !strings.Contains(f, "Compare: ") || !strings.Contains(f, "esc close") {
		t.Fatalf("i does not open the row whole, under the banner:\n%s", f)
	}
	seen := flat(f)
	for range 10 {
		d.press("pgdown")
		seen += " " + flat(d.m.Frame())
	}
	for _, st := range append(append([]api.ExplainStep{}, a.Steps...), b.Steps...) {
		if w := strings.Fields(st.Text); len(w) > 0 && !strings.Contains(seen, w[len(w)-1]) {
			t.Fatalf("the whole view lacks the step %q", st.Text)
		}
	}
	d.press("esc")
	if d.m.sess.compare == nil || !strings.Contains(d.view(), "row ") {
		t.Fatalf("esc over the whole view does not go back to the list:\n%s", d.view())
	}
	d.press("esc")
	if d.m.sess.compare != nil {
		t.Fatal("a second esc does not close the compare")
	}
}

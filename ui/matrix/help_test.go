package matrix_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// The hints offer only keys that do something: while the matrix loads, nothing to
// explain; when it failed, r to try again, as the page says.
func TestHintsFollowTheLoad(t *testing.T) {
	keys := func(m *matrix.Model) string {
		var out []string
		for _, b := range m.ShortHelp() {
			out = append(out, b.Help().Key)
		}
		for _, col := range m.FullHelp() {
			for _, b := range col {
				out = append(out, b.Help().Key)
			}
		}
		return " " + strings.Join(out, " ") + " "
	}
	m := matrix.New(uitest.Context(uitest.Profiles[0].Profile, 120, 40))
	m.SetSize(120, 40)
	req, ok := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
	if !ok {
		t.Fatal("Init did not ask for the matrix")
	}
	if k := keys(m); strings.Contains(k, "enter") || strings.Contains(k, " / ") {
		t.Errorf("while loading the hints offer %q", k)
	}
	m.Update(matrix.Loaded{Tag: req.Tag, Err: errors.New("connection refused")})
	if k := keys(m); strings.Contains(k, "enter") || !strings.Contains(k, " r ") {
		t.Errorf("after a failed load the hints offer %q", k)
	}
	loaded := loaded(t, uitest.Profiles[0], 120, 40, uitest.Matrix(3, 2))
	if k := keys(loaded); !strings.Contains(k, "enter") {
		t.Errorf("a loaded matrix does not offer explain: %q", k)
	}
}

// The explain panel never splits an id across lines while it fits on one: the tester saw
// "(dashboard:d-acme-" on one line and "fuel)" on the next.
func TestExplainKeepsIdsWhole(t *testing.T) {
	for _, sz := range uitest.Sizes {
		for w := 60; w <= sz.W; w += 7 { // from 60 the wrapped text has room for the id
			m := loaded(t, uitest.Profiles[0], w, sz.H, uitest.Matrix(3, 2))
			req, ok := uitest.Find[matrix.ExplainRequested](uitest.Press(m, "enter"))
			if !ok {
				t.Fatal("enter did not ask for an explanation")
			}
			ex := uitest.Explanation()
			ex.Steps[2].Text = "Team North holds role Fleet Manager on (dashboard:d-acme-fuel), which allows view of every North-East widget"
			m.Update(matrix.ExplainLoaded{Tag: req.Tag, Explanation: ex})
			v := uitest.Plain(m.View())
			for _, id := range []string{"(dashboard:d-acme-fuel),", "North-East"} {
				if !strings.Contains(v, id) {
					t.Errorf("%dx%d: %q split:\n%s", w, sz.H, id, v)
				}
			}
		}
	}
}

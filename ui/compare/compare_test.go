package compare_test

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

func explanation(subject, kind, text, effect string) *api.Explanation {
	return &api.Explanation{Subject: api.UserRef{Name: subject}, Action: "share", Effect: effect,
		Resource: api.Resource{Name: "Fuel"},
		Steps: []api.ExplainStep{
			{Kind: "membership", Text: subject + " is a member of team North"},
			{Kind: kind, Text: text, Effect: effect, Decisive: true},
		}}
}

func TestFirstDifference(t *testing.T) {
	a := explanation("Nora", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	b := explanation("Tomás", "default", "Nothing grants share", "")
	if got := compare.FirstDifference(a, b); got != 1 {
		t.Fatalf("first difference %d, want 1 (the same membership, named for each user, is alike)", got)
	}
	c := explanation("Tomás", "role", "Role Fleet Manager allows share", api.EffectNameAllow)
	if got := compare.FirstDifference(a, c); got != -1 {
		t.Fatalf("alike chains differ at %d", got)
	}
	short := &api.Explanation{Subject: api.UserRef{Name: "Tomás"}, Steps: b.Steps[:1]}
	if got := compare.FirstDifference(a, short); got != 1 {
		t.Fatalf("a missing step: %d, want 1", got)
	}
	if compare.FirstDifference(nil, a) != -1 {
		t.Fatal("nothing to compare is no difference")
	}
}

// shown is a compare view with both chains shown, at w×h.
func shown(t *testing.T, w, h int, first string, second api.User, a, b *api.Explanation) *compare.Model {
	t.Helper()
	ctx := uitest.Context(uitest.Profiles[1].Profile, w, h)
	m := compare.New(ctx, api.Resource{ID: "dashboard:x", Name: a.Resource.Name}, "share", first)
	m.SetSize(w, h)
	tag := m.Starting(second)
	m.Update(compare.Loaded{Tag: tag, User: second, First: a, Second: b})
	return m
}

func TestHostileTextIsCleaned(t *testing.T) {
	for name, s := range hostile.Strings {
		t.Run(name, func(t *testing.T) {
			a := explanation(s, "role", s, api.EffectNameAllow)
			a.Resource.Name = s
			b := explanation(s, s, s, "")
			for _, sz := range [][2]int{{80, 24}, {120, 40}, {20, 6}} {
				m := shown(t, sz[0], sz[1], s, api.User{ID: "u", Name: s}, a, b)
				uitest.AssertFrame(t, m.View(), sz[0], sz[1])
				if v := uitest.Plain(m.View()); strings.ContainsFunc(v, func(r rune) bool { return r == 0x1b || r == 0x07 || r == 0x9b || r == '\r' }) {
					t.Fatalf("%dx%d: a control character reached the frame: %q", sz[0], sz[1], v)
				}
			}
		})
	}
}

func TestStartingIgnoresEscAndAStaleReplyIsDropped(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	m := compare.New(ctx, api.Resource{Name: "Fuel"}, "share", "Nora")
	m.SetSize(80, 24)
	old := m.Starting(api.User{Name: "A"})
	if _, cmd := m.Update(uitest.Key("esc")); cmd != nil {
		t.Fatal("esc closes the view while its session is being started (it would be left behind)")
	}
	m.Update(compare.Loaded{Tag: old, Err: errRefused{}})
	m.Starting(api.User{Name: "B"})
	m.Update(compare.Loaded{Tag: old, First: explanation("Nora", "role", "x", "allow"), Second: explanation("A", "role", "x", "allow")})
	if !m.Busy() || m.Picking() {
		t.Fatal("a reply to an older start was taken")
	}
	var _ tea.Msg = compare.Closed{}
}

type errRefused struct{}

func (errRefused) Error() string { return "not allowed" }

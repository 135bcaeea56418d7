package ui_test

import (
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/matrix"
	"github.com/shadowview/shadow/ui/picker"
)

// TestPagesLeaveTheGlobalKeysAlone checks no page binds a key the root owns, so tab,
// the tab numbers, q, y, ? and ctrl+c always reach the root (outside text input).
func TestPagesLeaveTheGlobalKeysAlone(t *testing.T) {
	ctx := uitest.Context(uitest.Profiles[0].Profile, 80, 24)
	global := map[string]bool{}
	for _, group := range ctx.Keys.FullHelp() {
		for _, b := range group {
			for _, k := range b.Keys() {
				global[k] = true
			}
		}
	}
	for name, page := range map[string]common.Component{
		"picker": picker.New(ctx), "dashboards": dashboards.New(ctx), "matrix": matrix.New(ctx), "journal": journalview.New(ctx),
	} {
		var all []key.Binding
		for _, group := range page.FullHelp() {
			all = append(all, group...)
		}
		for _, b := range append(all, page.ShortHelp()...) {
			for _, k := range b.Keys() {
				if global[k] {
					t.Errorf("%s binds %q, which the root owns", name, k)
				}
			}
		}
	}
}

package ui

import (
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/common"
)

// chromeLines is what a screen spends besides the banner and the page: the tab bar and
// the status line.
const chromeLines = 2

// BodyHeight is the height a page gets on a screen of ctx's size: what the banner (when
// info is non-nil), the tab bar and the status line leave, never below one line.
func BodyHeight(ctx *common.Context, info *banner.Info) int {
	used := chromeLines
	if info != nil {
		used += len(banner.Lines(ctx.Styles, *info, ctx.Now(), ctx.Width))
	}
	return max(1, ctx.Height-used)
}

// Compose composes one frame: the tab bar (omitted when ""), the page, and the status
// line under it, all under the banner when a session is active. The page is fitted to
// BodyHeight so the status line keeps its place; banner.Compose then guarantees the
// banner wins over everything at any size.
func Compose(ctx *common.Context, info *banner.Info, tabs, page, status string) string {
	h := BodyHeight(ctx, info)
	if tabs == "" {
		h++
	}
	lines := make([]string, 0, ctx.Height)
	if tabs != "" {
		lines = append(lines, tabs)
	}
	lines = append(lines, common.Block(page, ctx.Width, h)...)
	lines = append(lines, status)
	return banner.Compose(ctx, info, common.Join(lines))
}

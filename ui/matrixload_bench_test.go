package ui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// BenchmarkMatrixFirstFrame (docs/BENCHMARKS.md, "Scale (issue 10)") measures opening
// the Permissions tab of a fresh session until its first frame with the matrix, over
// loopback against the reference server's real handler, for the Fleet Manager of a
// generated organisation of 5,055 and 50,055 resources × 6 actions: the request, the
// durable journal record, the reply decoded, and the root's Frame at 120×40.
//
//   - paged: as the tab loads now: a first page of 100 rows, shown at once (the later
//     pages are asked for in the background; the timer stops at the first frame).
//   - whole: the baseline, in the same run: the whole matrix in one GET /permissions,
//     journaled and shown by the same view path, as the tab loaded before.
//
// It also reports the heap the model holds once the matrix is shown (after GC, less
// what was held before the session), for the paged tab with every page loaded and
// for the whole matrix.
//
//	go test -run '^$' -bench MatrixFirstFrame -benchtime 20x ./ui/
func BenchmarkMatrixFirstFrame(b *testing.B) {
	for _, n := range []int{5_000, 50_000} {
		e := newTestEnv(b, server.Seed{Demo: true, GenerateResources: n})
		rows := chart.Number(float64(n + 55))
		for _, mode := range []string{"paged", "whole"} {
			b.Run(fmt.Sprintf("resources=%d/%s", n+55, mode), func(b *testing.B) {
				d := newDriver(b, New(e.options(colorprofile.ANSI256)), 120, 40)
				var ds []time.Duration
				var held float64
				for i := 0; i < b.N; i++ {
					d.startSession(server.DemoFleetManagerEmail, fmt.Sprintf("bench %d", i))
					before := heapInUse()
					start := time.Now()
					frame := openMatrix(b, d, mode)
					ds = append(ds, time.Since(start))
					want := "of " + rows + " resources"
					if mode == "paged" {
						want = " of " + rows + " resources × 6 actions · loading"
					}
					if !strings.Contains(uitest.Plain(frame), want) {
						b.Fatalf("no matrix (%q):\n%s", want, uitest.Plain(frame))
					}
					if mode == "paged" { // the rest, untimed, for the heap it then holds
						d.hold = nil
						rest := d.held
						d.held = nil
						for _, msg := range rest {
							d.send(msg)
						}
						if v := d.view(); !strings.Contains(v, "of "+rows+" resources") || strings.Contains(v, "rows 1–") {
							b.Fatalf("the rest did not load:\n%s", v)
						}
					}
					held = float64(heapInUse()-min(before, heapInUse())) / (1 << 20)
					d.press("q", "y")
				}
				uitest.Percentiles(b, ds)
				b.ReportMetric(held, "heap-MiB")
			})
		}
	}
}

// openMatrix presses 2 and returns the first frame with the matrix: in the paged mode
// with the request for the second page held back; in the whole mode through view with
// the whole matrix, as requests.go read it before it paged.
func openMatrix(b *testing.B, d *driver, mode string) string {
	if mode == "paged" {
		d.hold = func(msg tea.Msg) bool { _, ok := msg.(matrix.MoreRequested); return ok }
		d.press("2")
		return d.m.Frame()
	}
	d.hold = func(msg tea.Msg) bool { _, ok := msg.(matrix.Requested); return ok }
	d.press("2")
	d.hold = nil
	if len(d.held) != 1 {
		b.Fatalf("%d messages held", len(d.held))
	}
	req := d.held[0].(matrix.Requested)
	d.held = nil
	d.feed(view(d.m, TabPermissions, req.Tag,
		func(ctx context.Context, v *client.View) (api.PermissionMatrix, error) { return v.Permissions(ctx) },
		func(p api.PermissionMatrix) string { return describeMatrix(p, matrix.MorePage) },
		"permissions", "the permission matrix",
		func(p *api.PermissionMatrix, err error) tea.Msg {
			return matrix.Loaded{Tag: req.Tag, Matrix: p, Err: err}
		}))
	return d.m.Frame()
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

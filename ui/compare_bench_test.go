package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/picker"
)

// BenchmarkCompareFirstFrame (docs/BENCHMARKS.md, UI) measures the compare as the admin
// meets it, over loopback against the reference server's real handler: from `c` on the
// Permissions tab and the pick of the second user to the root's first frame with the
// diff at 120×40 — the directory's first page for the compare's picker, the second
// session's start (journaled), both users' whole matrices (each a GET /permissions
// through its own session, journaled before it is shown), the diff and the frame. The
// typing of the search is left out: the pick is the picker's Picked message. The Fleet
// Manager of a generated organisation of 5,055 resources × 6 actions (50,055 too with
// SHADOW_BENCH_LARGE) is compared with the technician, in a fresh session each time.
//
// Its baseline, in the same run, is the part the earlier figure measured: setting the
// same two matrices (read beforehand as the two users) side by side and drawing the
// compare view's first frame.
//
//	go test -run '^$' -bench CompareFirstFrame -benchtime 10x ./ui/
func BenchmarkCompareFirstFrame(b *testing.B) {
	sizes := []int{5_000}
	if os.Getenv(benchlat.LargeEnv) != "" {
		sizes = append(sizes, 50_000)
	}
	for _, n := range sizes {
		e := newTestEnv(b, server.Seed{Demo: true, GenerateResources: n})
		tech := pickable(b, e, server.DemoTechnicianEmail)
		b.Run(fmt.Sprintf("resources=%d/c-pick-to-diff-frame", n+55), func(b *testing.B) {
			d := newDriver(b, New(e.options(colorprofile.ANSI256)), 120, 40)
			var ds []time.Duration
			for i := 0; i < b.N; i++ {
				d.startSession(server.DemoFleetManagerEmail, fmt.Sprintf("bench %d", i))
				d.press("2")
				start := time.Now()
				d.press("c")
				if d.m.sess.compare == nil {
					b.Fatalf("c does not open the compare:\n%s", d.view())
				}
				d.send(picker.Picked{User: tech})
				frame := d.m.Frame()
				ds = append(ds, time.Since(start))
				if d.m.sess.second == nil || !strings.Contains(uitest.Plain(frame), "cells differ") {
					b.Fatalf("no diff:\n%s", uitest.Plain(frame))
				}
				d.press("esc", "q", "y")
			}
			uitest.Percentiles(b, ds)
		})
		a := ownMatrix(b, e, server.DemoFleetManagerEmail)
		t := ownMatrix(b, e, server.DemoTechnicianEmail)
		b.Run(fmt.Sprintf("resources=%d/baseline-diff-to-frame", n+55), func(b *testing.B) {
			ctx := uitest.Context(colorprofile.ANSI256, 120, 40)
			var ds []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				m := compare.New(ctx, api.Resource{}, "", a.Subject.Name)
				m.SetSize(120, 40)
				tag := m.Starting(tech)
				m.Update(compare.Loaded{Tag: tag, User: tech, Diff: compare.Compute(a, t)})
				_ = m.View()
				ds = append(ds, time.Since(start))
			}
			uitest.Percentiles(b, ds)
			b.ReportMetric(float64(len(a.Rows)), "rows-first")
			b.ReportMetric(float64(len(t.Rows)), "rows-second")
		})
	}
}

// ownMatrix is the user's whole matrix, read signed in as them.
func ownMatrix(b *testing.B, e *testEnv, email string) *api.PermissionMatrix {
	pm, err := e.staff(b, email).Permissions(context.Background())
	if err != nil {
		b.Fatalf("%s's matrix: %v", email, err)
	}
	return &pm
}

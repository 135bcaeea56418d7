package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
)

// The scale rows of docs/BENCHMARKS.md (issue 10): the same requests at 10k, 100k and
// 1M users and at 500, 5k and 50k generated resources, through the real handler in
// process, p50/p99/max per request with GC pauses counted; the largest size only with
// benchlat.LargeEnv set.
//
//	SHADOW_BENCH_LARGE=1 go test -run '^$' -bench 'Scale(Users|Matrix)' -benchtime 200x ./server/

// BenchmarkScaleUsers: GET /users?q= pages of 50 for the support admin (every user)
// at 10k, 100k and 1M generated users (goal: p99 ≤ 5 ms at 1M for every shape).
func BenchmarkScaleUsers(b *testing.B) {
	for _, n := range benchlat.Sizes(10_000, 100_000, 1_000_000) {
		e := newBenchEnv(b, Seed{Demo: true, GenerateUsers: n})
		for _, q := range []struct{ name, query string }{
			{"first page", ""},
			{"one letter", "e"},
			{"one char no match", "~"},
			{"common name", "zoe"},
			{"rare (1 match)", "nora"},
			{"two words", "ava gen007"},
			{"company", "generated co 013"},
			{"no match", "zzzz"},
		} {
			b.Run(fmt.Sprintf("users=%d/%s", n, q.name), func(b *testing.B) {
				path := "/api/v1/users?limit=50&q=" + url.QueryEscape(q.query)
				benchlat.Loop(b, func() { e.serve(b, "GET", path, e.support, nil, 200) })
			})
		}
		e.s.Close()
	}
}

// BenchmarkScaleMatrix: GET /permissions for Nora over Acme's 55 resources plus 500,
// 5k and 50k generated ones: the whole matrix (goal ≤ 20 ms at 50k) and a page of
// 500 rows, the first and one from the middle (?limit=&cursor=).
func BenchmarkScaleMatrix(b *testing.B) {
	for _, n := range benchlat.Sizes(500, 5_000, 50_000) {
		e := newBenchEnv(b, Seed{Demo: true, GenerateResources: n})
		rec := e.serve(b, "GET", "/api/v1/permissions?limit=500", e.nora, nil, 200)
		b.Run(fmt.Sprintf("resources=%d/whole", n), func(b *testing.B) {
			size := 0
			benchlat.Loop(b, func() { size = e.serve(b, "GET", "/api/v1/permissions", e.nora, nil, 200).Body.Len() })
			b.ReportMetric(float64(size)/(1<<10), "body-KiB")
		})
		b.Run(fmt.Sprintf("resources=%d/first page of 500", n), func(b *testing.B) {
			benchlat.Loop(b, func() { e.serve(b, "GET", "/api/v1/permissions?limit=500", e.nora, nil, 200) })
			b.ReportMetric(float64(rec.Body.Len())/(1<<10), "body-KiB")
		})
		b.Run(fmt.Sprintf("resources=%d/middle page of 500", n), func(b *testing.B) {
			cursor := middleCursor(b, e, n)
			benchlat.Loop(b, func() { e.serve(b, "GET", "/api/v1/permissions?limit=500&cursor="+cursor, e.nora, nil, 200) })
		})
		e.s.Close()
	}
}

// middleCursor is the cursor of a page that starts about halfway through the matrix,
// found by walking pages of api.MaxMatrixPage rows.
func middleCursor(b *testing.B, e *benchEnv, n int) string {
	cursor := ""
	for walked := 0; walked < n/2; walked += api.MaxMatrixPage {
		step := min(api.MaxMatrixPage, n/2-walked)
		var m api.PermissionMatrix
		rec := e.serve(b, "GET", fmt.Sprintf("/api/v1/permissions?limit=%d&cursor=%s", step, url.QueryEscape(cursor)), e.nora, nil, 200)
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		cursor = m.NextCursor
	}
	return url.QueryEscape(cursor)
}

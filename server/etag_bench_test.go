package server

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
)

// BenchmarkRevalidate: a GET answered in full beside the same GET revalidated with
// If-None-Match and answered 304, through the real handler in process: with the
// versioned tag (etags.go: no render) and, in the same run, with the tag of before (the
// route taken out of versionedRoutes: the view rendered, encoded and hashed to compare).
// Over the permission matrix (Nora: Acme's 55 resources and the generated ones), a
// dashboard, and a page of the directory of 100,044 users, with 500 and 5,000 generated
// resources, and 50,000 with SHADOW_BENCH_LARGE set (benchlat.Sizes).
func BenchmarkRevalidate(b *testing.B) {
	for _, n := range benchlat.Sizes(500, 5_000, 50_000) {
		e := newBenchEnv(b, Seed{Demo: true, GenerateUsers: 100_000, GenerateResources: n})
		b.Run(fmt.Sprintf("%d resources", n), func(b *testing.B) { revalidate(b, e) })
	}
}

func revalidate(b *testing.B, e *benchEnv) {
	for _, c := range []struct {
		name, route, path, token string
	}{
		{"permissions", api.RoutePermissions, "/api/v1/permissions", e.nora},
		{"dashboard", api.RouteDashboard, "/api/v1/dashboards/d-acme-maintenance", e.nora},
		{"users page", api.RouteUsers, "/api/v1/users?limit=50&q=zoe", e.support},
	} {
		get := func(b *testing.B, tag string, want int) {
			req := httptest.NewRequest("GET", "http://127.0.0.1"+c.path, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			if tag != "" {
				req.Header.Set("If-None-Match", tag)
			}
			rec := httptest.NewRecorder()
			if e.h.ServeHTTP(rec, req); rec.Code != want {
				b.Fatalf("GET %s: %d, want %d", c.path, rec.Code, want)
			}
		}
		b.Run(c.name+"/full fetch", func(b *testing.B) {
			for b.Loop() {
				get(b, "", 200)
			}
		})
		b.Run(c.name+"/304 versioned", func(b *testing.B) {
			tag := e.serve(b, "GET", c.path, c.token, nil, 200).Header().Get("ETag")
			for b.Loop() {
				get(b, tag, 304)
			}
		})
		b.Run(c.name+"/304 body hash (before)", func(b *testing.B) {
			delete(versionedRoutes, c.route)
			defer func() { versionedRoutes[c.route] = true }()
			tag := e.serve(b, "GET", c.path, c.token, nil, 200).Header().Get("ETag")
			if tag == "" || tag[1] == 'v' {
				b.Fatalf("tag %s is not a body hash", tag)
			}
			for b.Loop() {
				get(b, tag, 304)
			}
		})
	}
}

package compare_test

import (
	"os"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/benchlat"
	"github.com/shadowview/shadow/ui/internal/uitest"
	"github.com/shadowview/shadow/ui/matrix"
)

// benchSizes is 5,000 resources, and 50,000 too with SHADOW_BENCH_LARGE set.
func benchSizes() []int {
	if os.Getenv(benchlat.LargeEnv) == "" {
		return []int{5000}
	}
	return []int{5000, 50000}
}

// matrixFirstFrame is the matrix page taking pm and drawing its first frame.
func matrixFirstFrame(b *testing.B, pm *api.PermissionMatrix) {
	ctx := uitest.Context(uitest.Profiles[1].Profile, 120, 40)
	for b.Loop() {
		m := matrix.New(ctx)
		m.SetSize(120, 40)
		req, _ := uitest.Find[matrix.Requested](uitest.Msgs(m.Init()))
		m.Update(matrix.Loaded{Tag: req.Tag, Matrix: pm})
		_ = m.View()
	}
}

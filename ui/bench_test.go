package ui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/list"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/chart"
	"github.com/shadowview/shadow/ui/grid"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// The UI benchmarks of docs/BENCHMARKS.md (## UI), against the reference server with
// the generated organisation: 100,000 users, 5,000 resources.
//
//	go test -run '^$' -bench . -benchtime 200x ./ui/

var scaleSeed = server.Seed{Demo: true, GenerateUsers: 100_000, GenerateResources: 5_000}

// typing is what the benchmarks type, a key at a time: a query built up and taken back,
// so every keystroke asks something new.
var typing = func() []string {
	word := "ava becker 0001"
	var keys []string
	for _, r := range word {
		keys = append(keys, string(r))
	}
	for range word {
		keys = append(keys, "backspace")
	}
	return keys
}()

// BenchmarkKeystrokeToPicker measures one keystroke in the picker's search box until
// the updated list is drawn: the key, the search (GET /users?q= on the reference
// server over loopback, 100,044 users, no response cache), the reply, and View. The
// debounce pause is set to nothing, so it is excluded.
func BenchmarkKeystrokeToPicker(b *testing.B) {
	e := newTestEnv(b, scaleSeed)
	opts := e.options(colorprofile.ANSI256)
	opts.Client = uncached(b, e)
	opts.SearchDebounce = time.Nanosecond
	d := newDriver(b, New(opts), 120, 40)
	d.press("/")
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		d.press(typing[i%len(typing)])
		_ = d.m.Frame()
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	if !strings.Contains(d.view(), "users") {
		b.Fatalf("the picker shows no users:\n%s", d.view())
	}
	uitest.Percentiles(b, ds)
}

func uncached(b *testing.B, e *testEnv) *client.Client {
	c, err := client.New(client.Options{BaseURL: e.ts.URL, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// nameItem is one directory name for bubbles/list.
type nameItem string

func (n nameItem) FilterValue() string { return string(n) }
func (n nameItem) Title() string       { return string(n) }
func (n nameItem) Description() string { return "" }

// BenchmarkKeystrokeBubblesList is the baseline: the same keystrokes in bubbles/list's
// built-in filter over the same 100,044 names (fetched from the same server), until
// its filtered list is drawn.
func BenchmarkKeystrokeBubblesList(b *testing.B) {
	e := newTestEnv(b, scaleSeed)
	c := e.staff(b, server.DemoSupportEmail)
	var items []list.Item
	for cursor := ""; ; {
		page, err := c.Users(context.Background(), client.UsersQuery{Cursor: cursor, Limit: 200})
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range page.Users {
			items = append(items, nameItem(u.Name+" "+u.Email+" "+u.Company))
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(items) < 100_000 {
		b.Fatalf("%d names", len(items))
	}
	delegate := list.NewDefaultDelegate()
	delegate.ShowDescription = false
	l := list.New(items, delegate, 120, 40)
	l, _ = l.Update(uitest.Key("/"))
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var cmd tea.Cmd
		l, cmd = l.Update(uitest.Key(typing[i%len(typing)]))
		for _, msg := range uitest.Msgs(cmd) {
			if _, ok := msg.(list.FilterMatchesMsg); ok {
				l, _ = l.Update(msg)
			}
		}
		_ = l.View()
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	uitest.Percentiles(b, ds)
}

// BenchmarkMatrixLoad measures opening the Permissions tab of a fresh session until its
// first frame with the matrix: GET /permissions for a user of 5,055 resources × 6
// actions, the durable journal record, and View.
func BenchmarkMatrixLoad(b *testing.B) {
	e := newTestEnv(b, scaleSeed)
	d := newDriver(b, New(e.options(colorprofile.ANSI256)), 120, 40)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d.startSession(server.DemoFleetManagerEmail, fmt.Sprintf("bench %d", i))
		b.StartTimer()
		start := time.Now()
		d.press("2")
		view := d.m.Frame()
		ds = append(ds, time.Since(start))
		b.StopTimer()
		if !strings.Contains(view, chart.Number(5055)+" resources") {
			b.Fatalf("no matrix:\n%s", uitest.Plain(view))
		}
		d.press("q", "y")
		b.StartTimer()
	}
	b.StopTimer()
	uitest.Percentiles(b, ds)
}

// BenchmarkDemoHeap starts the demo in process as Run does — the embedded server with
// the demo organisation, the cache, the client, the model signed in with the picker's
// first page — and reports the heap in use at the first frame.
func BenchmarkDemoHeap(b *testing.B) {
	var heap uint64
	for i := 0; i < b.N; i++ {
		state, cacheDir := b.TempDir(), b.TempDir()
		demo, err := startDemo(DemoServer{Start: func(dir string) (string, func() error, error) {
			srv, err := server.New(server.Options{DataDir: dir, Seed: server.DemoSeed})
			if err != nil {
				return "", nil, err
			}
			url, err := srv.Start("")
			return url, srv.Close, err
		}, Credentials: demoSupport}, state, cacheDir)
		if err != nil {
			b.Fatal(err)
		}
		c, err := client.New(client.Options{BaseURL: demo.url})
		if err != nil {
			b.Fatal(err)
		}
		m := New(Options{Client: c, Credentials: &demoSupport, StateDir: demo.stateDir, Demo: true, Profile: colorprofile.ANSI256,
			Tick: time.Nanosecond, Poll: time.Nanosecond})
		d := newDriver(b, m, 120, 40)
		if !strings.Contains(d.view(), "44 users") {
			b.Fatalf("no picker:\n%s", d.view())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapAlloc
		b.StopTimer()
		m.Shutdown(discard{})
		demo.close()
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkFrame measures a whole frame of the root model (banner, tabs, page, status
// line) at 120×40 with 256 colours: the picker over the 100,044-user directory (the
// first page loaded), and the Permissions tab with 5,055 resources × 6 actions.
func BenchmarkFrame(b *testing.B) {
	e := newTestEnv(b, scaleSeed)
	d := newDriver(b, New(e.options(colorprofile.ANSI256)), 120, 40)
	b.Run("picker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = d.m.Frame()
		}
	})
	d.startSession(server.DemoFleetManagerEmail, "bench")
	d.press("2", "down", "right")
	if !strings.Contains(d.view(), chart.Number(5055)+" resources") {
		b.Fatalf("no matrix:\n%s", d.view())
	}
	b.Run("matrix", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = d.m.Frame()
		}
	})
}

// BenchmarkPickerFullScroll goes to the end of the 100,044-user directory in the
// picker of the root model (G: every page fetched from the reference server in turn,
// as a scroll through the whole directory does) and reports the heap the picker then
// holds (in use after GC, less what was in use before), next to the baseline measured
// in the same run: the same pages from the same server kept in one grid, as the picker
// did before it let go of pages far from the cursor.
func BenchmarkPickerFullScroll(b *testing.B) {
	e := newTestEnv(b, scaleSeed)
	heapNow := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var held, baseline float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		opts := e.options(colorprofile.ANSI256)
		opts.Client = uncached(b, e)
		d := newDriver(b, New(opts), 120, 40)
		before := heapNow()
		b.StartTimer()
		d.press("G")
		b.StopTimer()
		if title := strings.SplitN(d.view(), "\n", 3)[1]; !strings.Contains(title, "row 100,044 of 100,044 users") {
			b.Fatalf("G did not reach the end: %q", title)
		}
		held = float64(heapNow()-min(before, heapNow())) / (1 << 20)
		runtime.KeepAlive(d)

		// The baseline: every page kept, in the grid the picker draws with.
		c := opts.Client
		g := grid.New(d.m.ctx.Styles, nil, func(api.User, int) grid.Cell { return grid.Cell{} })
		before = heapNow()
		cursor := ""
		for {
			page, err := c.Users(context.Background(), client.UsersQuery{Cursor: cursor, Limit: DefaultPageSize})
			if err != nil {
				b.Fatal(err)
			}
			g.AppendRows(page.Users...)
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if g.Len() != 100_044 {
			b.Fatalf("the baseline holds %d users", g.Len())
		}
		baseline = float64(heapNow()-min(before, heapNow())) / (1 << 20)
		runtime.KeepAlive(g)
		d.m.Shutdown(discard{})
	}
	b.ReportMetric(held, "picker-heap-MiB")
	b.ReportMetric(baseline, "keep-all-heap-MiB")
}

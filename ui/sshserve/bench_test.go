package sshserve_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/internal/uitest"
)

// The SSH benchmarks of docs/BENCHMARKS.md (## Over SSH): the served program as staff
// meet it, a real SSH client (golang.org/x/crypto/ssh) on loopback with an 80×24 PTY,
// the screen read through a terminal emulator. The baseline (Bubble Tea v1, before the
// move) is testdata/v1bench, run by testdata/v1bench/run.sh in the same run:
//
//	ui/sshserve/testdata/v1bench/run.sh

const benchCols, benchRows = 80, 24

// BenchmarkSSHStartup measures from dialling to the first frame of the login screen on
// the client's terminal: the TCP and SSH handshakes, public-key authentication, the PTY
// and shell requests, the program's start and its first frame over the connection.
func BenchmarkSSHStartup(b *testing.B) {
	box := newBox(b, []string{"ada"}, nil)
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tm := benchConnect(b, box, "ada")
		tm.WaitFor(b, "the login screen", "Sign in to", "Password:")
		ds = append(ds, time.Since(start))
		tm.close()
	}
	uitest.Percentiles(b, ds)
}

// BenchmarkSSHKeystroke measures a keystroke in the picker (the demo's 44 users, signed
// in by typing) until the client's terminal shows the moved cursor: down and up in turn,
// each waited for. bytes/key is what the server wrote per keystroke, as the client read
// it (the SSH channel's payload).
func BenchmarkSSHKeystroke(b *testing.B) {
	box := newBox(b, []string{"ada"}, nil)
	tm := benchConnect(b, box, "ada")
	tm.WaitFor(b, "the login screen", "Sign in to", "Password:")
	tm.Type(server.DemoSupportEmail + "\t" + server.DemoSupportPassword + "\r")
	tm.WaitFor(b, "the picker", "Pick a user to shadow", "44 users")
	top := cursorRow(tm.Screen)
	if top < 0 {
		b.Fatalf("no cursor in the picker:\n%s", tm.Text())
	}
	var ds []time.Duration
	before := tm.Bytes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key, want := "\x1b[B", top+1 // down
		if i%2 == 1 {
			key, want = "\x1b[A", top // up
		}
		start := time.Now()
		tm.Type(key)
		tm.Until(b, "the cursor to move", func(lines []string) bool { return cursorIn(lines) == want })
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(tm.Bytes()-before)/float64(b.N), "bytes/key")
	uitest.Percentiles(b, ds)
	tm.close()
}

func benchConnect(b *testing.B, box *box, name string) *terminal {
	b.Helper()
	return box.open(b, name, benchCols, benchRows, nil, uitest.ScreenOptions{})
}

// cursorRow is the screen line of the picker's cursor (❯), -1 when none.
func cursorRow(s *uitest.Screen) int { return cursorIn(strings.Split(s.Text(), "\n")) }

func cursorIn(lines []string) int {
	return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "❯") })
}

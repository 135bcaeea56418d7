package server

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunServe: `shadow serve` prints its URL and the demo credentials, serves, and
// shuts down cleanly when its context ends (as on SIGINT/SIGTERM).
func TestRunServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- RunServe(ctx, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, &out, &errs, "test")
	}()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL printed; stdout %q stderr %q", out.String(), errs.String())
	}
	if !strings.Contains(out.String(), DemoSupportEmail+" / "+DemoSupportPassword) {
		t.Fatalf("the banner does not give the demo credentials: %q", out.String())
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if err := RunServe(context.Background(), []string{"--addr", "10.1.2.3:0"}, &out, &errs, "test"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("a non-loopback address: %v", err)
	}
	if err := RunServe(context.Background(), []string{"extra"}, &out, &errs, "test"); err == nil {
		t.Fatal("stray arguments accepted")
	}
}

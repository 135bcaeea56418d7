package client

import (
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	ts := newTLSTestServer(t)

	// The system roots do not know the test CA: refused, and said so.
	plain, err := New(testOptions(ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = plain.Health(ctxT(t))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if e.Attempts != 1 {
		t.Fatalf("a certificate failure was retried (%d attempts); retrying cannot fix it", e.Attempts)
	}
	if ts.reached.Load() != 0 {
		t.Fatal("a request crossed an unverified TLS connection")
	}

	// --ca-file: the system roots plus the given CA.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(ts.URL)
	opts.CAFile = caFile
	trusted := signIn(t, ts, opts, "support@shadow.demo")
	if w := trusted.Warning(); w != "" {
		t.Fatalf("a verified connection warns: %q", w)
	}
	if _, err := trusted.Users(ctxT(t), UsersQuery{Query: "acme"}); err != nil {
		t.Fatal(err)
	}

	// --insecure: works, and says so every time a client is made.
	opts = testOptions(ts.URL)
	opts.InsecureSkipVerify = true
	insecure, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insecure.Health(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(insecure.Warning(), "TLS certificate verification is OFF") {
		t.Fatalf("warning %q", insecure.Warning())
	}
}

// A server that accepts the connection but never completes the TLS handshake is given
// up on after ConnectTimeout, not after the (longer) RequestTimeout, and the message
// says which limit it was.
func TestConnectTimeoutBoundsTheHandshake(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() }) // held open, silent
		}
	}()
	opts := testOptions("https://" + ln.Addr().String())
	opts.ConnectTimeout, opts.RequestTimeout, opts.MaxAttempts = 200*time.Millisecond, 10*time.Second, 1
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Health(ctxT(t))
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("gave up after %v; the connect timeout is 200ms", took)
	}
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "could not connect") || !strings.Contains(err.Error(), "within 200ms") {
		t.Fatalf("got %v", err)
	}
}

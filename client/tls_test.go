package client

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

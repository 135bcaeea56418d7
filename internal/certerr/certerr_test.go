package certerr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A real TLS server with a certificate nobody trusts: the client's error is one; a
// refused connection is not.
func TestTellsAnUntrustedCertificateFromOtherFailures(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL, nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil || !Is(fmt.Errorf("sync: %w", err)) {
		t.Fatalf("untrusted certificate not recognised: %v", err)
	}
	addr := srv.Listener.Addr().String()
	srv.Close()
	_, err = http.Get("https://" + addr)
	if err == nil || Is(err) {
		t.Fatalf("a refused connection taken for a certificate error: %v", err)
	}
	if Is(errors.New("x509: certificate signed by unknown authority")) {
		t.Fatal("words alone are not a certificate error")
	}
}

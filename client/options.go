package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/shadowview/shadow/cache"
)

// Defaults for Options.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultRequestTimeout   = 15 * time.Second
	DefaultMaxAttempts      = 3
	DefaultBackoffBase      = 250 * time.Millisecond
	DefaultBackoffMax       = 4 * time.Second
	DefaultMaxRetryAfter    = 20 * time.Second
	DefaultMaxResponseBytes = 8 << 20
)

// Options configures New. Zero values take the defaults.
type Options struct {
	// BaseURL is the server, e.g. "https://shadow.example.com" (routes are appended).
	BaseURL string
	// Version goes into the User-Agent: "shadow/<version>".
	Version string

	// CAFile adds the PEM certificates in this file to the system roots.
	CAFile string
	// InsecureSkipVerify turns off TLS certificate checks. Only ever set from an
	// explicit flag; Warning then says so, and the CLI prints it on every start.
	InsecureSkipVerify bool

	// ConnectTimeout bounds dialling and the TLS handshake.
	ConnectTimeout time.Duration
	// RequestTimeout bounds one attempt, from sending to the last byte of the reply.
	RequestTimeout time.Duration
	// MaxAttempts bounds the requests one call may send (1 disables retries). Only
	// safe methods and the idempotent journal PUT are ever retried.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait between attempts: a random duration
	// in [0, min(BackoffMax, BackoffBase·2^(attempt-1))] ("full jitter").
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter is the longest Retry-After a call waits out itself; a longer one
	// is returned to the caller (see ErrRateLimited and RetryAfter) instead.
	MaxRetryAfter time.Duration
	// MaxResponseBytes caps a reply body; a larger one is ErrResponseTooLarge.
	MaxResponseBytes int64

	// Cache, when set, keeps replies to directory and impersonated reads (see
	// package cache). The client never stores a token in it.
	Cache *cache.Cache

	// Debug, when set, receives one line per attempt (method, path, status, time,
	// cache use). Tokens never appear in it: Authorization is shown as [redacted].
	Debug io.Writer
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	return o
}

// parseBaseURL accepts http and https URLs without query or fragment and returns the
// URL with no trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("no server address given")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server address %q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server address %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("server address %q: must not carry a query, fragment or credentials", raw)
	}
	return u, nil
}

// tlsConfig builds the TLS settings: the system roots, plus CAFile's certificates.
func tlsConfig(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true // the caller asked explicitly; Warning says so on every start
	}
	return cfg, nil
}

// warnings lists what the person starting shadow must be told about this connection.
func warnings(o Options, base *url.URL) []string {
	var out []string
	if o.InsecureSkipVerify && base.Scheme == "https" {
		out = append(out, "WARNING: TLS certificate verification is OFF (--insecure): anyone on the "+
			"network path can impersonate "+base.Host+" and read your tokens")
	}
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		out = append(out, "WARNING: "+base.Host+" is reached over plain http: tokens and data cross the network unencrypted")
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newHTTPClient builds the transport: connect timeout on dial and handshake, no
// redirects followed (a redirect would carry credentials somewhere the user did not
// name), and the read-only guard as the last thing before the wire.
func newHTTPClient(o Options, tlsCfg *tls.Config, guard *readOnlyGuard) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	base.DialContext = dialer.DialContext
	base.TLSHandshakeTimeout = o.ConnectTimeout
	base.TLSClientConfig = tlsCfg
	base.MaxIdleConnsPerHost = 8
	return &http.Client{
		Transport: guardedTransport{next: base, guard: guard},
		Timeout:   o.RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

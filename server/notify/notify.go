// Package notify delivers the reference server's session notifications: a signed webhook
// per company (Standard Webhooks: api.SignWebhook) when a session on one of its users
// starts and when it ends, so the customer learns of every shadowing as it happens.
//
// It owns the per-company queues, the signing and the retries: each company's
// notifications go out in order, one at a time, each retried with backoff (honouring
// Retry-After) until the receiver answers 2xx or the attempts run out.
//
// It must never block the request that caused a notification (delivery is
// asynchronous), never carry a token (a notification holds the session, never its
// token), never write a secret to a log, never follow a redirect, and never drop a
// notification silently: one it gives up on, or cannot queue, is logged with why.
// Notifications live in memory: those still pending when the server stops are logged as
// undelivered, not kept.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/backoff"
)

// Endpoint is one company's receiver.
type Endpoint struct {
	URL    string
	Secret []byte // the HMAC key (api.ParseWebhookSecret)
}

// Config is the endpoints by company id.
type Config map[string]Endpoint

// LoadConfig reads a webhooks file: a JSON object of company id to
// {"url": "https://…", "secret": "whsec_…"}. It holds secrets, so a file that group or
// others may read is refused (as ssh refuses a key file).
func LoadConfig(path string) (Config, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("webhooks file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("webhooks file %s has mode %v: it holds secrets, so it must be readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhooks file: %w", err)
	}
	var entries map[string]struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("webhooks file %s: want {\"<company id>\": {\"url\": …, \"secret\": \"whsec_…\"}}: %w", path, err)
	}
	cfg := Config{}
	for company, e := range entries {
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("webhooks file %s: company %s: url %q is not an absolute http(s) URL", path, company, e.URL)
		}
		key, err := api.ParseWebhookSecret(e.Secret)
		if err != nil {
			return nil, fmt.Errorf("webhooks file %s: company %s: %w", path, company, err)
		}
		cfg[company] = Endpoint{URL: e.URL, Secret: key}
	}
	return cfg, nil
}

// Options configure a Notifier. Zero fields take the defaults below.
type Options struct {
	Endpoints   Config
	Logger      *slog.Logger
	Now         func() time.Time
	Timeout     time.Duration // one attempt (10 s)
	MaxAttempts int           // per notification (8)
	BackoffBase time.Duration // wait before the second attempt, at most (1 s)
	BackoffMax  time.Duration // longest wait between attempts (1 min)
	QueueSize   int           // pending notifications per company (256)
}

// Notifier sends session notifications. Its methods are safe for concurrent use.
type Notifier struct {
	opts    Options
	client  *http.Client
	ctx     context.Context // cancelled by Close when its deadline passes
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	workers map[string]*worker
	wg      sync.WaitGroup
}

type delivery struct {
	id   string
	body []byte
	what string // for logs: "impersonation.session.started ses_…"
}

type worker struct {
	company string
	ep      Endpoint
	queue   chan delivery
}

// New starts a Notifier with one worker per configured company.
func New(o Options) *Notifier {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Minute
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{
		opts: o, ctx: ctx, cancel: cancel, workers: map[string]*worker{},
		client: &http.Client{
			Timeout: o.Timeout,
			// A redirect would send the signed body somewhere the company did not name.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for company, ep := range o.Endpoints {
		w := &worker{company: company, ep: ep, queue: make(chan delivery, o.QueueSize)}
		n.workers[company] = w
		n.wg.Add(1)
		go n.run(w)
	}
	return n
}

// Companies lists the companies with an endpoint.
func (n *Notifier) Companies() []string {
	out := make([]string, 0, len(n.workers))
	for c := range n.workers {
		out = append(out, c)
	}
	return out
}

// Session queues a notification of event (api.WebhookSessionStarted or
// api.WebhookSessionEnded) to the session's company, if it has an endpoint. It never
// blocks: a full queue, or a closed notifier, is logged.
func (n *Notifier) Session(event, companyID string, sess api.Session) {
	if n == nil {
		return
	}
	w := n.workers[companyID]
	if w == nil {
		return
	}
	body, err := json.Marshal(api.WebhookEvent{Type: event, Timestamp: n.opts.Now().UTC(), Data: api.WebhookData{CompanyID: companyID, Session: sess}})
	if err != nil { // plain strings and times: unreachable
		n.opts.Logger.Error("webhook not sent: could not encode it", "company", companyID, "event", event, "session", sess.ID, "err", err)
		return
	}
	d := delivery{id: "msg_" + randomHex(12), body: body, what: event + " " + sess.ID}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.opts.Logger.Error("webhook not sent: the server is stopping", "company", companyID, "event", event, "session", sess.ID)
		return
	}
	select {
	case w.queue <- d:
	default:
		n.opts.Logger.Error("webhook not sent: the company's queue is full (its receiver is slow or down)",
			"company", companyID, "event", event, "session", sess.ID, "queued", cap(w.queue))
	}
}

// Close stops taking notifications and waits for the queued ones until ctx is done;
// those still undelivered then are logged, one line each.
func (n *Notifier) Close(ctx context.Context) error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	for _, w := range n.workers {
		close(w.queue)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		n.cancel()
		return nil
	case <-ctx.Done():
		n.cancel() // workers log what they drop, then return
		<-done
		return fmt.Errorf("notify: stopped with webhooks undelivered (logged): %w", ctx.Err())
	}
}

func (n *Notifier) run(w *worker) {
	defer n.wg.Done()
	for d := range w.queue {
		if n.ctx.Err() != nil {
			n.opts.Logger.Error("webhook not delivered: the server stopped", "company", w.company, "event", d.what, "id", d.id)
			continue
		}
		n.deliver(w, d)
	}
}

// deliver sends one notification until it is answered 2xx or the attempts run out.
func (n *Notifier) deliver(w *worker, d delivery) {
	var last error
	for attempt := 1; attempt <= n.opts.MaxAttempts; attempt++ {
		wait, err := n.attempt(w.ep, d)
		if err == nil {
			n.opts.Logger.Info("webhook delivered", "company", w.company, "event", d.what, "id", d.id, "attempt", attempt)
			return
		}
		last = err
		if attempt == n.opts.MaxAttempts {
			break
		}
		if wait <= 0 {
			wait = backoff.FullJitter(attempt, n.opts.BackoffBase, n.opts.BackoffMax)
		}
		n.opts.Logger.Warn("webhook attempt failed; retrying", "company", w.company, "event", d.what, "id", d.id,
			"attempt", attempt, "wait", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-n.ctx.Done():
			t.Stop()
			n.opts.Logger.Error("webhook not delivered: the server stopped", "company", w.company, "event", d.what, "id", d.id, "last_error", err)
			return
		case <-t.C:
		}
	}
	n.opts.Logger.Error("webhook not delivered: giving up", "company", w.company, "event", d.what, "id", d.id,
		"attempts", n.opts.MaxAttempts, "last_error", last)
}

// attempt signs and sends d once. A Retry-After on the answer (capped at BackoffMax) is
// the wait before the next attempt.
func (n *Notifier) attempt(ep Endpoint, d delivery) (time.Duration, error) {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, ep.URL, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	now := n.opts.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shadow-reference-webhooks")
	req.Header.Set(api.WebhookIDHeader, d.id)
	req.Header.Set(api.WebhookTimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(api.WebhookSignatureHeader, api.SignWebhook(ep.Secret, d.id, now, d.body))
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the log line already
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	var wait time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		wait = min(time.Duration(secs)*time.Second, n.opts.BackoffMax)
	}
	return wait, fmt.Errorf("answered %d", resp.StatusCode)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a real HTTP receiver that checks every delivery's signature, as a
// customer's would, and answers with the statuses it is told to, in turn.
type receiver struct {
	t       *testing.T
	key     []byte
	mu      sync.Mutex
	answers []int // status per attempt; 204 once they run out
	got     []api.WebhookEvent
	ids     []string
	bad     []string // deliveries that did not verify, and why
	arrived chan struct{}
}

func newReceiver(t *testing.T, answers ...int) (*receiver, *httptest.Server) {
	key, err := api.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t, key: key, answers: answers, arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		defer func() { rc.arrived <- struct{}{} }()
		if err := api.VerifyWebhook(rc.key, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			rc.bad = append(rc.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		status := http.StatusNoContent
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		rc.ids = append(rc.ids, r.Header.Get(api.WebhookIDHeader))
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		if status < 300 {
			var ev api.WebhookEvent
			if err := json.Unmarshal(body, &ev); err != nil {
				rc.bad = append(rc.bad, "body: "+err.Error())
			}
			rc.got = append(rc.got, ev)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) wait(n int) {
	rc.t.Helper()
	for range n {
		select {
		case <-rc.arrived:
		case <-time.After(10 * time.Second):
			rc.t.Fatalf("waited 10 s for a delivery")
		}
	}
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func newNotifier(t *testing.T, url string, log io.Writer, tweak ...func(*Options)) *Notifier {
	key, _ := api.ParseWebhookSecret(secret)
	o := Options{Endpoints: Config{"c-acme": {URL: url, Secret: key}}, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range tweak {
		f(&o)
	}
	n := New(o)
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

var sess = api.Session{ID: "ses_1", User: api.UserRef{ID: "u-acme-nora", Name: "Nora"}, Impersonator: api.UserRef{ID: "u-staff-sam", Name: "Sam"},
	Reason: "TICKET-1", StartedAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Minute).UTC(), State: api.SessionActive}

// TestDeliveriesAreSignedRetriedAndInOrder: a receiver that fails twice (500, then 429
// with Retry-After) gets the start notification on the third attempt, with the same
// webhook-id each time, and the end notification after it; every delivery verifies.
func TestDeliveriesAreSignedRetriedAndInOrder(t *testing.T) {
	rc, srv := newReceiver(t, 500, 429)
	n := newNotifier(t, srv.URL, io.Discard)
	n.Session(api.WebhookSessionStarted, "c-acme", sess)
	ended := sess
	ended.State = api.SessionEnded
	n.Session(api.WebhookSessionEnded, "c-acme", ended)
	n.Session(api.WebhookSessionStarted, "c-other", sess) // no endpoint: nothing sent
	rc.wait(4)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Fatalf("deliveries that did not verify: %v", rc.bad)
	}
	if len(rc.got) != 2 || rc.got[0].Type != api.WebhookSessionStarted || rc.got[1].Type != api.WebhookSessionEnded {
		t.Fatalf("received %+v, want started then ended", rc.got)
	}
	if rc.got[0].Data.Session.ID != "ses_1" || rc.got[0].Data.CompanyID != "c-acme" || rc.got[1].Data.Session.State != api.SessionEnded {
		t.Errorf("bodies: %+v", rc.got)
	}
	if rc.ids[0] != rc.ids[1] || rc.ids[1] != rc.ids[2] || rc.ids[2] == rc.ids[3] {
		t.Errorf("webhook ids %v: one per event, the same on its retries", rc.ids)
	}
}

// TestAWrongSecretIsRefusedByTheReceiver: the receiver's check is real — a notifier
// with another key is refused every time, and gives up saying so.
func TestAWrongSecretIsRefusedByTheReceiverAndGivingUpIsLogged(t *testing.T) {
	rc, srv := newReceiver(t)
	var log logBuf
	n := newNotifier(t, srv.URL, &log, func(o *Options) {
		o.Endpoints["c-acme"] = Endpoint{URL: srv.URL, Secret: bytes.Repeat([]byte("k"), 32)}
		o.MaxAttempts = 2
	})
	n.Session(api.WebhookSessionStarted, "c-acme", sess)
	rc.wait(2)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "giving up") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "webhook not delivered: giving up") || !strings.Contains(log.String(), "answered 401") {
		t.Errorf("log does not say it gave up and why:\n%s", log.String())
	}
	if strings.Contains(log.String(), "MfKQ9r8") {
		t.Error("the secret reached the log")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) != 2 || len(rc.got) != 0 {
		t.Errorf("bad %v, got %v", rc.bad, rc.got)
	}
}

// TestARedirectIsNotFollowed: a 307 to another receiver is a failed attempt, and the
// other receiver hears nothing.
func TestARedirectIsNotFollowed(t *testing.T) {
	other, otherSrv := newReceiver(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	var log logBuf
	n := newNotifier(t, redirect.URL, &log, func(o *Options) { o.MaxAttempts = 1 })
	n.Session(api.WebhookSessionStarted, "c-acme", sess)
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "answered 307") {
		t.Errorf("log: %s", log.String())
	}
	select {
	case <-other.arrived:
		t.Error("the redirect was followed")
	default:
	}
}

// TestCloseLogsWhatIsLeft: a receiver that never answers in time leaves the queued
// notifications undelivered at Close's deadline, and each is logged.
func TestCloseLogsWhatIsLeft(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	var log logBuf
	n := newNotifier(t, slow.URL, &log, func(o *Options) { o.Timeout = 5 * time.Second })
	for range 3 {
		n.Session(api.WebhookSessionStarted, "c-acme", sess)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := n.Close(ctx); err == nil {
		t.Error("Close said all was delivered")
	}
	if got := strings.Count(log.String(), "webhook not delivered: the server stopped"); got != 3 {
		t.Errorf("%d undelivered notifications logged, want 3:\n%s", got, log.String())
	}
	n.Session(api.WebhookSessionEnded, "c-acme", sess)
	if !strings.Contains(log.String(), "webhook not sent: the server is stopping") {
		t.Error("a notification after Close was dropped silently")
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"c-acme": {"url": "https://hooks.example/acme", "secret": "`+secret+`"}}`, 0o600)
	cfg, err := LoadConfig(good)
	if err != nil || cfg["c-acme"].URL != "https://hooks.example/acme" || len(cfg["c-acme"].Secret) != 24 {
		t.Fatalf("LoadConfig: %v %+v", err, cfg)
	}
	for name, c := range map[string]struct {
		body string
		mode os.FileMode
		want string
	}{
		"readable.json": {`{}`, 0o644, "chmod 600"},
		"url.json":      {`{"c-acme": {"url": "ftp://x", "secret": "` + secret + `"}}`, 0o600, "not an absolute http(s) URL"},
		"secret.json":   {`{"c-acme": {"url": "https://x", "secret": "hunter2"}}`, 0o600, "whsec_"},
		"field.json":    {`{"c-acme": {"url": "https://x", "secret": "` + secret + `", "extra": 1}}`, 0o600, "unknown field"},
	} {
		_, err := LoadConfig(write(name, c.body, c.mode))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "MfKQ9r8") {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}

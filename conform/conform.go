// Package conform is shadow's conformance kit: a black-box run against any server that
// claims to speak the contract in docs/API.md, proving from the outside that it keeps the
// guarantees shadow relies on — every unsafe method refused to an impersonation token on
// every path, the impersonation rules, immediate revocation, the token's claims, the
// error envelope, redaction, ETags, the journal protocol and its receipts, and an audit
// log naming both identities — plus the optional parts (transparency, webhooks, the
// OpenAPI document). `shadow conform` is its command; docs/CONFORMANCE.md says what each
// check means.
//
// It owns the checks (one table, checks.go: adding a check is adding an entry), the
// requests they send, and the report. It is a client of the contract and nothing more:
// it may use package api's types and functions, and must never import the reference
// server (it would stop being black-box) nor shadow's client (which refuses by design the
// very requests the kit must send). It must never change what the server keeps beyond
// what a run needs — the sessions it starts (every one ended before it returns), the
// journal it creates for the run, and the audit events every request makes — never
// write a token anywhere (not to the report, not to a log), and never call a check
// passed that it did not see pass.
package conform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/words"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Credentials are one identity the kit acts as: a token, or an email and password it
// signs in with (POST /auth/login). The zero value is "not given".
type Credentials struct {
	Token    string
	Email    string
	Password string
}

func (c Credentials) given() bool { return c.Token != "" || c.Email != "" }

// Config is one run.
type Config struct {
	Server string // base URL, e.g. https://staging.example.com
	// Admin is required: an identity that may impersonate (support staff, or a
	// customer's admin).
	Admin Credentials
	// User is a user Admin may impersonate, with their own token: the target, and the
	// one told of the session (transparency). Optional: without it the target is
	// Target, or the first impersonable user of the directory.
	User Credentials
	// UserAdmin is an admin of User's company, for the company view of transparency.
	UserAdmin Credentials
	// OtherAdmin is an admin of another company, who must not reach the target.
	OtherAdmin Credentials
	// OptedOutUser is the id of a user whose company switched impersonation off.
	OptedOutUser string
	// Target is the id of the user to impersonate when User is not given.
	Target string
	// WebhookListen is where the kit receives the server's session notifications
	// (host:port); the server must be set to send the target's company's there, signed
	// with WebhookSecret ("whsec_…"). Empty: the webhook check is skipped.
	WebhookListen string
	WebhookSecret string
	// WaitExpiry lets the expiry check wait out a full-length session when the server
	// does not shorten one for ttl_seconds (up to 31 minutes).
	WaitExpiry bool
	// HTTPClient sends the requests (nil: one with a 15 s timeout).
	HTTPClient *http.Client

	webhookListener net.Listener // tests: a listener made before the server, in place of WebhookListen
}

// Result is one check's outcome.
type Result struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Required bool   `json:"required"`
	Status   Status `json:"status"`
	// Detail says why: what was seen for a PASS, what was wrong for a FAIL, what was
	// missing for a SKIP.
	Detail     string  `json:"detail"`
	DurationMS float64 `json:"duration_ms"`
}

// Report is a whole run.
type Report struct {
	Server    string    `json:"server"`
	StartedAt time.Time `json:"started_at"`
	// OK is true only when every required check passed and no check failed.
	OK      bool     `json:"ok"`
	Checks  []Result `json:"checks"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	// Notes are what the run did that is not a check: the sessions it ended, the
	// Retry-After waits it honoured, the journal it left.
	Notes []string `json:"notes,omitempty"`
}

// FailedIDs lists the ids of the checks that failed.
func (r Report) FailedIDs() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

// Run runs every check against cfg.Server, in the order of the table, and ends every
// session it started before it returns.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	if strings.TrimSpace(cfg.Server) == "" {
		return Report{}, errors.New("conform: no server given")
	}
	if !cfg.Admin.given() {
		return Report{}, errors.New("conform: no admin identity given")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	r := &run{cfg: cfg, p: newProber(cfg.Server, client), id: randomID(), ctx: ctx, passed: map[string]bool{}}
	rep = Report{Server: cfg.Server, StartedAt: time.Now().UTC()}
	if cfg.WebhookListen != "" || cfg.webhookListener != nil {
		stop, err := r.listenWebhooks()
		if err != nil {
			return Report{}, fmt.Errorf("conform: webhook receiver: %w", err)
		}
		defer stop()
	}
	defer func() { rep.Notes = append(r.endAll(), rep.Notes...) }() // named results: the notes reach the caller
	for _, c := range checks {
		res := Result{ID: c.id, Title: c.title, Required: c.required}
		start := time.Now()
		var o outcome
		if missing := r.unmet(c.needs); missing != "" {
			o = skip("needs %s, which did not pass", missing)
		} else if ctx.Err() != nil {
			o = skip("the run was stopped")
		} else {
			o = c.run(r)
		}
		res.Status, res.Detail = o.status, o.detail
		res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
		if o.status == Pass {
			r.passed[c.id] = true
		}
		rep.Checks = append(rep.Checks, res)
	}
	rep.OK = true
	for _, c := range rep.Checks {
		switch c.Status {
		case Pass:
			rep.Passed++
		case Fail:
			rep.Failed++
			rep.OK = false
		case Skip:
			rep.Skipped++
			if c.Required {
				rep.OK = false
			}
		}
	}
	if r.p.waits > 0 {
		rep.Notes = append(rep.Notes, "waited out Retry-After "+words.Count(r.p.waits, "time", "times"))
	}
	if r.journal.id != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("journal %s holds the run's records (the contract keeps journals forever)", r.journal.id))
	}
	return rep, ctx.Err()
}

// outcome is what a check function returns.
type outcome struct {
	status Status
	detail string
}

func pass(format string, a ...any) outcome { return outcome{Pass, fmt.Sprintf(format, a...)} }
func fail(format string, a ...any) outcome { return outcome{Fail, fmt.Sprintf(format, a...)} }
func skip(format string, a ...any) outcome { return outcome{Skip, fmt.Sprintf(format, a...)} }

// failed turns a list of problems into an outcome: PASS with ok when there are none.
func failed(problems []string, ok string) outcome {
	if len(problems) == 0 {
		return pass("%s", ok)
	}
	const most = 5
	more := ""
	if len(problems) > most {
		more = fmt.Sprintf("; and %d more", len(problems)-most)
		problems = problems[:most]
	}
	return fail("%s%s", strings.Join(problems, "; "), more)
}

func (r *run) unmet(needs []string) string {
	var missing []string
	for _, n := range needs {
		if !r.passed[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return strings.Join(missing, ", ")
}

func randomID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}

// CheckInfo describes one check of the table, for --list and the docs.
type CheckInfo struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Required bool   `json:"required"`
}

// Checks lists the table.
func Checks() []CheckInfo {
	out := make([]CheckInfo, len(checks))
	for i, c := range checks {
		out[i] = CheckInfo{c.id, c.title, c.required}
	}
	return out
}

// describeSessions says which sessions the kit ended, and which it could not.
func describeSessions(ended, failed []string) []string {
	var notes []string
	if len(ended) > 0 {
		notes = append(notes, fmt.Sprintf("ended the %s it started: %s", words.Count(len(ended), "session", "sessions"), strings.Join(ended, ", ")))
	}
	for _, f := range failed {
		notes = append(notes, "COULD NOT END "+f)
	}
	return notes
}

// apiPath joins the contract's prefix and a path.
func apiPath(p string) string { return api.Prefix + p }

package conform

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
)

// ErrNotConformant is returned when a required check did not pass or any check failed:
// exit status 1, after the report.
var ErrNotConformant = errors.New("the server does not conform")

const usage = `usage: shadow conform --server URL [flags]

Run the conformance kit against a server that implements docs/API.md: every unsafe
method refused to an impersonation token, the impersonation rules, revocation, the
token's claims, errors, redaction, ETags, the journal protocol and receipts, the audit
log; and the optional parts (OpenAPI, transparency, webhooks). It starts sessions and
ends every one; it writes one journal, named after the run. See docs/CONFORMANCE.md.

Identities come from the environment, each as a token or as an email and password:
  SHADOW_CONFORM_ADMIN_TOKEN, or _EMAIL and _PASSWORD        required: may impersonate
  SHADOW_CONFORM_USER_TOKEN (or _EMAIL, _PASSWORD)           a user the admin may impersonate
  SHADOW_CONFORM_USER_ADMIN_TOKEN (or _EMAIL, _PASSWORD)     an admin of that user's company
  SHADOW_CONFORM_OTHER_ADMIN_TOKEN (or _EMAIL, _PASSWORD)    an admin of another company
  SHADOW_CONFORM_OPTED_OUT_USER                              id of a user whose company opted out
  SHADOW_CONFORM_WEBHOOK_SECRET                              whsec_…, for --webhook-listen
Only the admin is required; each other one unlocks optional checks.

Exit status: 0 the server conforms (every required check passed, none failed);
1 it does not, or it could not be reached; 2 a command line not understood.

Flags:
`

// RunCLI is `shadow conform`: parse flags and the environment, run the kit, print the
// report (a table, or JSON with --json) on stdout. It returns nil only when every
// required check passed and none failed; ErrNotConformant otherwise, a cli.UsageError
// for a command line it does not understand.
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCLI(ctx, args, os.Getenv, stdout, stderr, nil)
}

func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, client *http.Client) error {
	cmd := cli.Command{Name: "conform", Help: usage}
	fs := cmd.Flags()
	server := fs.String("server", getenv("SHADOW_SERVER"), "the server's base `URL`, without /api/v1 (default $SHADOW_SERVER)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	list := fs.Bool("list", false, "list the checks and exit")
	target := fs.String("user", "", "`ID` of the user to impersonate (default: the SHADOW_CONFORM_USER_* identity, else the first impersonable user of the directory)")
	listen := fs.String("webhook-listen", "", "`HOST:PORT` to receive the server's session notifications on (the webhook check)")
	waitExpiry := fs.Bool("wait-expiry", false, "let the expiry check wait out a full-length session when the server does not shorten one")
	caFile := fs.String("ca-file", "", "trust the PEM certificates in `FILE` too (a private CA)")
	timeout := fs.Duration("timeout", 15*time.Second, "how long one request may take at most")
	positional, help, err := cmd.Parse(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if err := cmd.NoArgs(positional); err != nil {
		return err
	}
	if *list {
		return printList(stdout, *asJSON)
	}
	cfg := Config{
		Server: *server, Target: *target, WebhookListen: *listen, WaitExpiry: *waitExpiry,
		Admin: creds(getenv, "ADMIN"), User: creds(getenv, "USER"), UserAdmin: creds(getenv, "USER_ADMIN"),
		OtherAdmin: creds(getenv, "OTHER_ADMIN"), OptedOutUser: getenv("SHADOW_CONFORM_OPTED_OUT_USER"),
		WebhookSecret: getenv("SHADOW_CONFORM_WEBHOOK_SECRET"),
	}
	if err := halfGiven(getenv); err != nil {
		return cmd.Usagef("%v", err)
	}
	if cfg.Server != "" {
		if err := cmd.ServerURL("--server", cfg.Server); err != nil {
			return err
		}
	}
	switch {
	case cfg.Server == "":
		return cmd.Usagef("no server: give --server URL (or SHADOW_SERVER)")
	case !cfg.Admin.given():
		return cmd.Usagef("no admin: set SHADOW_CONFORM_ADMIN_TOKEN, or SHADOW_CONFORM_ADMIN_EMAIL and SHADOW_CONFORM_ADMIN_PASSWORD")
	case cfg.WebhookListen != "" && cfg.WebhookSecret == "":
		return cmd.Usagef("--webhook-listen needs SHADOW_CONFORM_WEBHOOK_SECRET (the whsec_… secret the server signs with)")
	}
	if client == nil {
		var err error
		if client, err = httpClient(*caFile, *timeout); err != nil {
			return err
		}
	}
	cfg.HTTPClient = client
	rep, err := Run(ctx, cfg)
	if err != nil && len(rep.Checks) == 0 {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(rep); werr != nil {
			return fmt.Errorf("conform: %w", werr)
		}
	} else {
		printReport(stdout, rep)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("conform: interrupted, the report is of the checks run before (%w)", err)
	}
	if err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if !rep.OK {
		if err := reachable(ctx, client, cfg.Server, rep); err != nil {
			return err
		}
		return fmt.Errorf("conform: %w: %s", ErrNotConformant, verdict(rep))
	}
	return nil
}

// roles are the identities of the environment, by the middle of their variables' names.
var roles = []string{"ADMIN", "USER", "USER_ADMIN", "OTHER_ADMIN"}

// halfGiven refuses an identity given by email without a password, or the other way
// round: it would fail to sign in, and the checks it unlocks would only be skipped.
func halfGiven(getenv func(string) string) error {
	for _, role := range roles {
		c := creds(getenv, role)
		p := "SHADOW_CONFORM_" + role + "_"
		switch {
		case c.Token != "":
		case c.Email != "" && c.Password == "":
			return fmt.Errorf("%sEMAIL is set but %sPASSWORD is not: set both, or %sTOKEN", p, p, p)
		case c.Email == "" && c.Password != "":
			return fmt.Errorf("%sPASSWORD is set but %sEMAIL is not: set both, or %sTOKEN", p, p, p)
		}
	}
	return nil
}

// baseURL reports whether s is an http or https URL with a host.
// reachable tells a server that could not be reached from one that does not conform:
// when the first check failed, one more request says which.
func reachable(ctx context.Context, client *http.Client, server string, rep Report) error {
	if len(rep.Checks) == 0 || rep.Checks[0].ID != "server.health" || rep.Checks[0].Status != Fail {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/healthz", nil)
	if err != nil {
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("conform: cannot reach the server at %s, so nothing could be checked: %w", safetext.Clean(server), err)
	}
	resp.Body.Close()
	return nil
}

// creds reads one identity's variables: SHADOW_CONFORM_<ROLE>_TOKEN, or _EMAIL and _PASSWORD.
func creds(getenv func(string) string, role string) Credentials {
	p := "SHADOW_CONFORM_" + role + "_"
	return Credentials{Token: strings.TrimSpace(getenv(p + "TOKEN")), Email: strings.TrimSpace(getenv(p + "EMAIL")), Password: getenv(p + "PASSWORD")}
}

func httpClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("conform: --ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("conform: --ca-file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

func verdict(rep Report) string {
	var failedReq, failedOpt, skippedReq []string
	for _, c := range rep.Checks {
		switch {
		case c.Status == Fail && c.Required:
			failedReq = append(failedReq, c.ID)
		case c.Status == Fail:
			failedOpt = append(failedOpt, c.ID)
		case c.Status == Skip && c.Required:
			skippedReq = append(skippedReq, c.ID)
		}
	}
	var parts []string
	if len(failedReq) > 0 {
		parts = append(parts, words.Count(len(failedReq), "required check", "required checks")+" failed ("+strings.Join(failedReq, ", ")+")")
	}
	if len(failedOpt) > 0 {
		parts = append(parts, words.Count(len(failedOpt), "optional check", "optional checks")+" failed ("+strings.Join(failedOpt, ", ")+")")
	}
	if len(skippedReq) > 0 {
		// Skipped because a check they need failed (named above), or for what they say:
		// a few names are enough to find them in the table.
		parts = append(parts, words.Count(len(skippedReq), "required check", "required checks")+" could not run ("+firstFew(skippedReq, 3)+")")
	}
	return strings.Join(parts, "; ")
}

// firstFew joins ids, the first n of them and how many more.
func firstFew(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:n], ", ") + fmt.Sprintf(" and %d more", len(ids)-n)
}

// printReport is the table: one line per check, and beneath it what was seen (PASS),
// what was wrong (FAIL) or what was missing (SKIP). Server text in it is cleaned: a hostile server must not drive the
// terminal it is tested from.
func printReport(w io.Writer, rep Report) {
	fmt.Fprintf(w, "shadow conform: %s\n\n", safetext.Clean(rep.Server))
	idW := 0
	for _, c := range rep.Checks {
		idW = max(idW, len(c.ID))
	}
	for _, c := range rep.Checks {
		kind := "required"
		if !c.Required {
			kind = "optional"
		}
		fmt.Fprintf(w, "%s  %-*s  %s  %s\n", c.Status, idW, c.ID, kind, c.Title)
		label := "seen"
		switch c.Status {
		case Fail:
			label = "why"
		case Skip:
			label = "skipped"
		}
		for i, line := range safetext.Wrap(label+": "+c.Detail, 100, 12) {
			if i == 0 {
				fmt.Fprintf(w, "      %*s  %s\n", idW, "", line)
				continue
			}
			fmt.Fprintf(w, "      %*s    %s\n", idW, "", line)
		}
	}
	fmt.Fprintln(w)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", safetext.Clean(n))
	}
	result := "CONFORMS"
	if !rep.OK {
		result = "DOES NOT CONFORM: " + verdict(rep)
	}
	fmt.Fprintf(w, "%d checks: %d passed, %d failed, %d skipped. %s\n", len(rep.Checks), rep.Passed, rep.Failed, rep.Skipped, result)
}

func printList(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(Checks())
	}
	for _, c := range Checks() {
		kind := "required"
		if !c.Required {
			kind = "optional"
		}
		fmt.Fprintf(w, "%-26s %s  %s\n", c.ID, kind, c.Title)
	}
	return nil
}

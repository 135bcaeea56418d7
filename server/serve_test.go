package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/server/org"
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
	if err := RunServe(context.Background(), []string{"extra"}, &out, &errs, "test"); !cli.IsUsage(err) {
		t.Fatalf("stray arguments: %v", err)
	}
}

// TestServeHelpAndBadFlags: --help is an answer, not a failure: the flags on stdout and
// no error. A flag serve does not know is an error that says where help is.
func TestServeHelpAndBadFlags(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var out, errs syncBuffer
		if err := RunServe(context.Background(), []string{arg}, &out, &errs, "test"); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		for _, want := range []string{"shadow serve", "-addr", "-data", "-generate-users", "-generate-resources"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: stdout lacks %q:\n%s", arg, want, out.String())
			}
		}
	}
	var out, errs syncBuffer
	err := RunServe(context.Background(), []string{"--no-such-flag"}, &out, &errs, "test")
	if !cli.IsUsage(err) || !strings.Contains(err.Error(), "no-such-flag") || !strings.Contains(err.Error(), "shadow serve --help") {
		t.Fatalf("an unknown flag: %v", err)
	}
}

// TestDemoDocListsEveryAccount: docs/DEMO.md has a row for every seeded account, with
// its name, company and role, and names every well-known constant.
func TestDemoDocListsEveryAccount(t *testing.T) {
	raw, err := os.ReadFile("../docs/DEMO.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	o, err := org.Build(org.DemoSeed, testEpoch, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") && strings.Count(line, "|") == 6 {
			rows++
		}
	}
	if rows != len(o.Users()) {
		t.Errorf("DEMO.md lists %d accounts, the seed has %d", rows, len(o.Users()))
	}
	for _, u := range o.Users() {
		role := u.RoleName()
		if role == "" {
			role = "(no role)"
		}
		row := fmt.Sprintf("| `%s` | %s | ", u.Email, u.Name)
		i := strings.Index(doc, row)
		if i < 0 {
			t.Errorf("DEMO.md has no row for %s", u.Email)
			continue
		}
		line := doc[i : i+strings.Index(doc[i:], "\n")]
		if !strings.HasSuffix(line, "| "+role+" |") || (u.CompanyID != "" && !strings.Contains(line, o.CompanyName(u.CompanyID))) {
			t.Errorf("DEMO.md row for %s is stale: %s", u.Email, line)
		}
	}
	for _, c := range []string{"DemoSupportEmail", "DemoFleetManagerEmail", "DemoTechnicianEmail", "DemoCompanyAdminEmail",
		"DemoOptedOutEmail", "DemoOutOfScopeEmail", "DemoHostileEmail", "DemoOpsLeadEmail", "DemoPeerOpsLeadEmail", "DemoNarrowAgentEmail"} {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("DEMO.md does not mention %s", c)
		}
	}
}

// TestAPIDocCoversTheContract: docs/API.md has a section for every route of the table
// and a row for every error code with its status, so the contract a SaaS team reads
// cannot fall behind api/.
func TestAPIDocCoversTheContract(t *testing.T) {
	raw, err := os.ReadFile("../docs/API.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, rt := range api.Routes {
		path := rt.Path
		if rt.Name == api.RouteUsers {
			path += "?q=&cursor=&limit="
		}
		if rt.Name == api.RouteExplain {
			path += "?resource=&action="
		}
		if rt.Name == api.RouteAuditEvents {
			path += "?session=&user=&actor=&kind=&since=&until=&cursor=&limit="
		}
		if !strings.Contains(doc, "### `"+rt.Method+" "+path+"`") {
			t.Errorf("API.md has no section for %s %s", rt.Method, path)
		}
	}
	for _, c := range api.Codes() {
		row := fmt.Sprintf("| %d | `%s` |", c.Status(), c)
		if !strings.Contains(doc, row) {
			t.Errorf("API.md's error table has no row %q", row)
		}
	}
	for _, kind := range []string{api.EventRequest, api.EventSessionStart, api.EventSessionEnd, api.EventSessionExpire,
		api.EventSessionRefused, api.EventSessionRevoke, api.EventJournalRecord, api.EventLogin, api.EventLoginFailed, api.EventPasswordChange} {
		if !strings.Contains(doc, "`"+kind+"`") {
			t.Errorf("API.md does not describe audit event kind %s", kind)
		}
	}
}

// TestServeAllowHost: `shadow serve` answers loopback names, and the names given with
// --allow-host, and refuses any other Host with an envelope naming the flag.
func TestServeAllowHost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- RunServe(ctx, []string{"--addr", "127.0.0.1:0", "--allow-host", "shadow.test,alias.test:8443", "--allow-host", "support-box"}, &out, &errs, "test")
	}()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no URL printed; stdout %q stderr %q", out.String(), errs.String())
	}
	if !strings.Contains(out.String(), "answers to: localhost, 127.0.0.1, ::1, shadow.test,alias.test:8443, support-box") {
		t.Errorf("the banner does not say which hosts it answers to:\n%s", out.String())
	}
	get := func(host string) int {
		req, _ := http.NewRequest("GET", url+"/healthz", nil)
		req.Host = host
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for host, want := range map[string]int{"shadow.test": 200, "alias.test": 200, "SUPPORT-BOX:80": 200, "localhost": 200,
		"rebind.attacker.example": 421, "shadow.test.attacker.example": 421} {
		if got := get(host); got != want {
			t.Errorf("Host %s: %d, want %d", host, got, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := RunServe(context.Background(), []string{"--allow-host", "a/b"}, &out, &errs, "test"); !cli.IsUsage(err) {
		t.Fatalf("a bad --allow-host: %v", err)
	}
}

// TestServeRefusesOutOfRangeNumbers: every numeric flag refuses a value outside the
// range its help gives as a usage error (exit 2) in one sentence, before a server is
// built; -1 ("no cap") stays valid for the limits. A canceled context makes a server
// that did start return at once, so a missed refusal fails rather than hangs.
func TestServeRefusesOutOfRangeNumbers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		args []string
		want string // "" starts
	}{
		{[]string{"--max-open-sessions", "0"}, "serve: --max-open-sessions must be 1 or more, or -1 for no cap (see shadow serve --help)"},
		{[]string{"--max-open-sessions", "-5"}, "--max-open-sessions must be 1 or more, or -1 for no cap"},
		{[]string{"--max-open-sessions", "-1"}, ""},
		{[]string{"--journal-records-per-minute", "0"}, "--journal-records-per-minute must be 1 or more, or -1 for no cap"},
		{[]string{"--uploader-records-per-minute", "-2"}, "--uploader-records-per-minute must be 1 or more, or -1 for no cap"},
		{[]string{"--new-journals-per-hour", "0"}, "--new-journals-per-hour must be 1 or more, or -1 for no cap"},
		{[]string{"--new-journals-per-hour", "-1"}, ""},
		{[]string{"--generate-users", "-3"}, "serve: --generate-users must be between 0 and 1,000,000 (see shadow serve --help)"},
		{[]string{"--generate-users", "1000001"}, "--generate-users must be between 0 and 1,000,000"},
		{[]string{"--generate-resources", "-1"}, "--generate-resources must be between 0 and 200,000"},
	} {
		var out, errs syncBuffer
		err := RunServe(ctx, append([]string{"--addr", "127.0.0.1:0"}, c.args...), &out, &errs, "test")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v refused: %v", c.args, err)
		case c.want != "" && (cli.ExitCode(err) != cli.ExitUsage || err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: %v (exit %d), want a usage error %q", c.args, err, cli.ExitCode(err), c.want)
		case c.want != "" && out.String() != "":
			t.Errorf("%v: a server started: %s", c.args, out.String())
		}
	}
}

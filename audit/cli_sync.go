package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
)

// The network commands: `journal sync` and `journal verify --server`.

// signer is a Remote that can sign in with an email and password (the client's staff
// client is one).
type signer interface {
	Login(ctx context.Context, email, password string) (api.User, error)
}

// whoami is a Remote that can say who its token is.
type whoami interface {
	Me(ctx context.Context) (api.Me, error)
}

// maxSignInTries bounds how often a wrong password is asked again.
const maxSignInTries = 3

// connect builds the client for the server the command line and environment name, and
// signs in: with SHADOW_TOKEN when it is set (checked with the server first, so a
// revoked or expired token fails at once), else by asking an email and password on the
// terminal. It returns who is signed in.
func connect(ctx context.Context, env CommandEnv, cmd string, o RemoteOptions) (Remote, api.UserRef, error) {
	fail := func(format string, args ...any) (Remote, api.UserRef, error) {
		return nil, api.UserRef{}, fmt.Errorf("journal "+cmd+": "+format, args...)
	}
	if o.ServerURL == "" {
		o.ServerURL = env.Getenv("SHADOW_SERVER")
	}
	o.Token = strings.TrimSpace(env.Getenv("SHADOW_TOKEN"))
	terminal := env.Stdin != nil && term.IsTerminal(int(env.Stdin.Fd()))
	c := cli.Command{Name: "journal " + cmd}
	if o.ServerURL != "" {
		if err := c.ServerURL("--server", o.ServerURL); err != nil {
			return nil, api.UserRef{}, err
		}
	}
	switch {
	case o.ServerURL == "":
		return nil, api.UserRef{}, c.Usagef("give the API server with --server URL (or SHADOW_SERVER)")
	case o.Token == "" && !terminal:
		return fail("SHADOW_TOKEN is not set and standard input is not a terminal to sign in on: set SHADOW_TOKEN to an admin token (it is never taken on the command line)")
	case env.NewRemote == nil:
		return fail("no server client is built into this shadow")
	}
	remote, err := env.NewRemote(o)
	if err != nil {
		return fail("%w", err)
	}
	if o.Token != "" {
		who, ok := remote.(whoami)
		if !ok {
			return remote, api.UserRef{}, nil
		}
		me, err := who.Me(ctx)
		if err != nil {
			// Only a server that answered can have refused the token.
			switch classify(err) {
			case failSignIn, failRefused:
				return fail("the server at %s does not accept SHADOW_TOKEN: %w", o.ServerURL, err)
			case failCertificate:
				return fail("the server at %s: %w", o.ServerURL, err)
			}
			if answered(err) {
				return fail("the server at %s failed to say who SHADOW_TOKEN is: %w", o.ServerURL, err)
			}
			return fail("%w", err) // the client's words: it could not reach the server, and why
		}
		if me.Impersonating {
			return fail("SHADOW_TOKEN is an impersonation token; journals sync with the admin's own token")
		}
		return remote, me.User.Ref(), nil
	}
	s, ok := remote.(signer)
	if !ok {
		return fail("this server client cannot sign in with a password; set SHADOW_TOKEN")
	}
	in := bufio.NewReader(env.Stdin)
	fmt.Fprintf(env.Stderr, "Sign in to %s (nothing is stored; set SHADOW_TOKEN to skip this)\n", o.ServerURL)
	for try := 1; ; try++ {
		fmt.Fprint(env.Stderr, "Email: ")
		email, err := in.ReadString('\n')
		if err != nil && email == "" {
			return fail("sign in: no email given: %w", err)
		}
		fmt.Fprint(env.Stderr, "Password: ")
		password, err := term.ReadPassword(int(env.Stdin.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return fail("sign in: read the password: %w", err)
		}
		user, err := s.Login(ctx, strings.TrimSpace(email), string(password))
		clear(password)
		if err == nil {
			fmt.Fprintf(env.Stderr, "Signed in as %s <%s>\n", safetext.Clean(user.Name), safetext.Clean(user.Email))
			return remote, user.Ref(), nil
		}
		var body api.ErrorBody
		if errors.As(err, &body) && body.Code == api.CodeInvalidCredentials && try < maxSignInTries {
			fmt.Fprintln(env.Stderr, "Wrong email or password; try again.")
			continue
		}
		return fail("sign in: %w", err)
	}
}

// answered reports whether err is a reply of the server's (an error status), not a
// failure to reach it.
func answered(err error) bool {
	var status interface{ StatusCode() int }
	return errors.As(err, &api.ErrorBody{}) || (errors.As(err, &status) && status.StatusCode() > 0)
}

func cmdSync(ctx context.Context, w io.Writer, env CommandEnv, dir string, o RemoteOptions, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	remote, actor, err := connect(ctx, env, "sync", o)
	if err != nil {
		return err
	}
	report, err := Drain(ctx, dir, remote, SyncOptions{Actor: actor})
	printSyncReport(w, report, err)
	if err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	return nil
}

// printSyncReport prints each journal's state, what was found, and last the counts.
func printSyncReport(w io.Writer, r SyncReport, drainErr error) {
	byJournal := map[string][]Finding{}
	for _, f := range r.Findings {
		byJournal[f.JournalID] = append(byJournal[f.JournalID], f)
	}
	for _, j := range r.Journals {
		line := "journal " + j.ID + ": "
		switch {
		case j.Err != nil:
			line += "unreadable: " + j.Err.Error()
		case j.Pending() == 0:
			line += words.Count(j.Records, "record", "records") + ", all synced"
		default:
			line += fmt.Sprintf("%s, %d synced, %d pending: %s", words.Count(j.Records, "record", "records"), j.Acked, j.Pending(),
				pendingWhy(j, byJournal[j.ID], drainErr))
		}
		fmt.Fprintln(w, safetext.Clean(line))
		printFindings(w, byJournal[j.ID])
		delete(byJournal, j.ID)
	}
	for _, id := range sortedKeys(byJournal) { // journals that are no longer journals: set aside now
		fmt.Fprintf(w, "journal %s: set aside\n", id)
		printFindings(w, byJournal[id])
	}
	if r.Dropped > 0 {
		fmt.Fprintf(w, "        … and %s not listed\n", words.Count(r.Dropped, "finding", "findings"))
	}
	for _, p := range r.SetAside {
		fmt.Fprintf(w, "note: damaged journal set aside (kept; `shadow journal verify` reports it): %s\n", p)
	}
	records, synced, pending := r.Totals()
	summary := fmt.Sprintf("%s, %s: %d synced, %d pending", words.Count(len(r.Journals), "journal", "journals"),
		words.Count(records, "record", "records"), synced, pending)
	if n := len(r.Blocking()); n > 0 {
		summary += "; " + words.Count(n, "finding", "findings")
	}
	if drainErr == nil {
		summary += ": everything is acknowledged by the server"
	}
	fmt.Fprintln(w, summary)
}

// pendingWhy says why a journal's records are still pending.
func pendingWhy(j JournalState, findings []Finding, drainErr error) string {
	for _, f := range findings {
		if f.Blocking() && f.Kind != FindingMissing {
			return string(f.Kind) + " (below)"
		}
	}
	switch {
	case j.Live:
		return "in use by another shadow process, which syncs it"
	case drainErr != nil:
		return drainErr.Error()
	}
	return "not sent"
}

// maxFindingLines bounds the findings printed per journal; the count of the rest is said.
const maxFindingLines = 50

func printFindings(w io.Writer, fs []Finding) {
	for i, f := range fs {
		if i == maxFindingLines {
			fmt.Fprintf(w, "        … and %s more about journal %s\n", words.Count(len(fs)-i, "finding", "findings"), f.JournalID)
			return
		}
		fmt.Fprintf(w, "        %s\n", safetext.Clean(f.String()))
	}
}

// onlineResult is verify --server's comparison of every journal with the server, and
// of every session with what the server served it.
type onlineResult struct {
	findings map[string][]Finding
	problems []string // journals and sessions that could not be compared, and why
	compared int
	sessions []sessionResult
}

func (o *onlineResult) print(w io.Writer, journalID string) { printFindings(w, o.findings[journalID]) }

// blocking counts the differences found: every one, even a lost record sent again (the
// server lost it: the auditor must know).
func (o *onlineResult) blocking() int {
	n := 0
	for _, fs := range o.findings {
		n += len(fs)
	}
	return n
}

func (o *onlineResult) summary() string {
	s := fmt.Sprintf("%s compared, %s", words.Count(o.compared, "journal", "journals"), words.Count(o.blocking(), "difference", "differences"))
	resent := 0
	for _, fs := range o.findings {
		for _, f := range fs {
			if f.Resent {
				resent++
			}
		}
	}
	if resent > 0 {
		s += fmt.Sprintf(" (%s the server lost sent to it again: the one thing verify writes)", words.Count(resent, "record", "records"))
	}
	if len(o.problems) > 0 {
		s += fmt.Sprintf(", %d not compared", len(o.problems))
	}
	if len(o.sessions) > 0 {
		consistent, findings := sessionCounts(o.sessions)
		s += fmt.Sprintf("; %s set against what the server served: %d consistent, %s", words.Count(len(o.sessions), "session", "sessions"),
			consistent, words.Count(findings, "finding", "findings"))
	}
	return s
}

// cmdVerifyOnline is verify --server: the offline checks, then every journal compared
// with the server's copy. The one thing it writes: records the server lost, that its
// own receipt covered, are sent to it again (said per record; never to a server whose
// key the journal did not pin). Nothing local is written.
func cmdVerifyOnline(ctx context.Context, w io.Writer, env CommandEnv, dir, key string, o RemoteOptions, timeout time.Duration) error {
	opts, err := verifyOptions(key)
	if err != nil {
		return err
	}
	reports, err := VerifyAll(dir, opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	remote, _, err := connect(ctx, env, "verify", o)
	if err != nil {
		return err
	}
	online := &onlineResult{findings: map[string][]Finding{}}
	var key0 *api.AuditKey
	kctx, kcancel := context.WithTimeout(ctx, 30*time.Second)
	if k, err := remote.AuditKey(kctx); err == nil {
		key0 = &k
	} else {
		online.problems = append(online.problems, fmt.Sprintf("the server's audit key could not be fetched: %v", err))
	}
	kcancel()
	for _, r := range reports {
		if r.SetAside {
			continue
		}
		fs, err := verifyOnline(ctx, remote, r, key0, 30*time.Second)
		var other elsewhereError
		if errors.As(err, &other) {
			online.problems = append(online.problems, other.f.String())
			continue
		}
		if err != nil {
			online.problems = append(online.problems, fmt.Sprintf("journal %s not compared: %v", r.JournalID, err))
			if k := classify(err); k == failSignIn || k == failCertificate || ctx.Err() != nil {
				break
			}
			continue
		}
		online.compared++
		online.findings[r.JournalID] = fs
	}
	// Then each session of the journals beside what the server served its token.
	a, err := LoadArchive(dir)
	if err != nil {
		online.problems = append(online.problems, fmt.Sprintf("the journals' sessions could not be read: %v", err))
		return printReports(w, reports, online)
	}
	var set sessionSet
	for _, jd := range a.Journals {
		for _, e := range jd.Entries {
			set.add(jd.ID, e)
		}
	}
	results, problems := auditSessions(ctx, remote, set.list, 30*time.Second)
	online.sessions = results
	online.problems = append(online.problems, problems...)
	return printReports(w, reports, online)
}

// elsewhereError says a journal belongs to another server (its pinned key): it was
// neither compared nor sent.
type elsewhereError struct{ f Finding }

func (e elsewhereError) Error() string { return e.f.String() }

// verifyOnline compares one journal file with the server's copy, once its pinned key is
// shown to be the server's, and sends again the records the server lost: the records
// its receipt covered, so only to the server that signed for them.
func verifyOnline(ctx context.Context, remote Remote, r Report, serverKey *api.AuditKey, timeout time.Duration) ([]Finding, error) {
	v, err := openView(r.Source)
	if err != nil {
		return nil, err
	}
	defer v.close()
	l, err := readLocal(v.db, r.Source)
	if err != nil {
		return nil, err
	}
	// Whose journal it is comes first: one pinned to another server's key is that
	// server's, and comparing it here would call every record lost (and send it).
	switch {
	case serverKey == nil:
		return nil, errors.New("the server's audit key is unknown, so whose journal this is cannot be told")
	case l.key != nil && !sameKey(*l.key, *serverKey):
		return nil, elsewhereError{elsewhere(l.id, *l.key)}
	case l.head.Seq == 0:
		return nil, nil
	}
	cmp, err := compareWithServer(ctx, remote, l, timeout)
	if err != nil {
		return nil, err
	}
	out := cmp.findings
	if cmp.resendFrom == 0 {
		return out, nil
	}
	through, err := resend(ctx, remote, v, l.id, cmp.resendFrom, cmp.resendTo, timeout)
	for i := range out {
		if out[i].Kind == FindingMissing && out[i].Seq <= through {
			out[i].Resent = true
		}
	}
	if err != nil {
		out = append(out, Finding{JournalID: l.id, Kind: FindingMissing, Seq: through + 1,
			Message: fmt.Sprintf("sending the lost records again failed: %v; `shadow journal sync` tries again", err)})
	}
	return out, nil
}

// resend sends records from..to of a journal again, from a read-only view; it returns
// the last seq the server acknowledged.
func resend(ctx context.Context, remote Remote, v *fileView, id string, from, to uint64, timeout time.Duration) (uint64, error) {
	f := &journalFile{id: id, path: v.path, db: v.db}
	acked := from - 1
	for next := from; next <= to; {
		recs, err := f.readRange(next, api.MaxJournalBatch, maxWireBatchBytes)
		if err != nil {
			return acked, err
		}
		if len(recs) == 0 {
			return acked, nil
		}
		wire := make([]api.WireRecord, 0, len(recs))
		for _, r := range recs {
			if r.Seq > to {
				break
			}
			wire = append(wire, r.Wire())
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		resp, err := remote.PutJournalRecords(rctx, id, wire)
		cancel()
		if err != nil {
			return acked, err
		}
		acked = resp.Head.Seq
		next = acked + 1
	}
	return acked, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

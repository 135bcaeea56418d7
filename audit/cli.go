package audit

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
)

// CommandEnv is what `shadow journal …` needs from main.
type CommandEnv struct {
	Stdout, Stderr io.Writer
	// Stdin is where `journal sync` and `verify --server` ask for an email and password
	// when SHADOW_TOKEN is unset; only a terminal is asked. Nil: never ask.
	Stdin  *os.File
	Getenv func(string) string
	// NewRemote builds the server client `journal sync` pushes through. Nil when no
	// client is wired in.
	NewRemote func(RemoteOptions) (Remote, error)
	// DemoStateDir is where the demo keeps its state under a state dir, so that `journal
	// list` can say where the demo's journals are. Nil: not said.
	DemoStateDir func(stateDir string) string
}

// RemoteOptions is the server `journal sync` pushes to, as its command line and
// environment give it.
type RemoteOptions struct {
	ServerURL string
	Token     string // the admin token: from the environment, never a flag
	CAFile    string // PEM certificates trusted as well as the system's (a private CA)
	Insecure  bool   // no TLS certificate checks; the client warns about it
}

// CommandUsage is the help text of `shadow journal`.
const CommandUsage = `usage: shadow journal <command> [flags]

Commands (offline unless said):
  list                          sessions in every journal: when, admin, user, reason, records, sync state
  show SESSION                  one session's records (a journal id shows the whole journal)
  show --server[=URL] SESSION [--ca-file FILE] [--insecure] [--timeout D]
                                also the server's side: every request the session's token
                                made, and the journal record accounting for it (network)
  export [--format jsonl|csv|ocsf] [--session S] [--out FILE]
                                JSONL carries hashes and receipts, so it verifies offline;
                                OCSF is one event per line for a SIEM
  verify [--key BASE64] [FILE]  check chain, contiguity, receipts and bbolt consistency of
                                every journal, or of FILE (a journal .db or a JSONL export)
  verify --server[=URL] [--key BASE64] [--ca-file FILE] [--insecure] [--timeout D]
                                also compare every journal with the server's copy, and
                                every session with what the server served it (network);
                                records the server lost that its own receipt covered are
                                sent to it again, and said so: the one thing verify writes,
                                never to a server whose key the journal did not pin
  sync [--server URL] [--ca-file FILE] [--insecure] [--timeout D]
                                push unsynced records (network)

sync, verify --server and show --server use SHADOW_SERVER and SHADOW_TOKEN; without a
token they ask for an email and password on the terminal.
Every command takes --state-dir DIR (default $XDG_STATE_HOME/shadow), and --demo: the
demo's journals (under <state dir>/demo), which sync while the demo runs.
Every command exits 1 while any record is pending (not yet acknowledged by the server),
or a journal is unreadable or unverified, and its last line says how many and why.
`

// journalCommand is `shadow journal` itself: its usage errors point at its help.
var journalCommand = cli.Command{Name: "journal", Help: CommandUsage}

// RunCommand runs `shadow journal ARGS…`. A command line it does not understand is a
// cli.UsageError; --help after a command prints that command's flags.
func RunCommand(ctx context.Context, args []string, env CommandEnv) error {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, CommandUsage)
		if len(args) == 0 {
			return journalCommand.Usagef("give a command")
		}
		return nil
	}
	name, rest := args[0], args[1:]
	cmd := cli.Command{Name: "journal " + name, Help: fmt.Sprintf("usage: shadow journal %s [flags]\n", name), Interspersed: true}
	fs := cmd.Flags()
	stateDir := fs.String("state-dir", "", "state directory (default $XDG_STATE_HOME/shadow)")
	demo := new(bool)
	if env.DemoStateDir != nil {
		fs.BoolVar(demo, "demo", false, "the demo's journals (under <state dir>/demo) instead of your own; they sync to the demo's server while the demo runs")
	}
	var (
		format, session, out, key *string
		remote                    RemoteOptions
		online                    serverFlag
		timeout                   *time.Duration
	)
	network := func() {
		fs.StringVar(&remote.CAFile, "ca-file", "", "trust the PEM certificates in `FILE` too (a private CA)")
		fs.BoolVar(&remote.Insecure, "insecure", false, "do not verify the server's TLS certificate (warned about)")
		timeout = fs.Duration("timeout", time.Minute, "give up after this long")
	}
	switch name {
	case "export":
		format = fs.String("format", FormatJSONL, "jsonl, csv or ocsf")
		session = fs.String("session", "", "only this session")
		out = fs.String("out", "", "write to FILE instead of standard output")
	case "verify":
		key = fs.String("key", "", "the server's audit public key (base64), to check receipts against")
		fs.Var(&online, "server", "also compare with the server's copy, and each session with what the server served it: --server alone uses $SHADOW_SERVER, --server=URL that server")
		network()
	case "show":
		fs.Var(&online, "server", "also show the server's side: every request the session's token made, set against the journals: --server alone uses $SHADOW_SERVER, --server=URL that server")
		network()
	case "sync":
		fs.StringVar(&remote.ServerURL, "server", "", "server URL (default $SHADOW_SERVER)")
		network()
	case "list":
	default:
		return journalCommand.Usagef("unknown command %q", name)
	}
	positional, help, err := cmd.Parse(fs, rest, env.Stdout)
	if help || err != nil {
		return err
	}
	if online.set {
		remote.ServerURL = online.url
		// `--server URL` (a space, not '='): the URL arrives as an argument.
		if i := slices.IndexFunc(positional, func(a string) bool { return strings.Contains(a, "://") }); remote.ServerURL == "" && i >= 0 {
			remote.ServerURL = positional[i]
			positional = slices.Delete(positional, i, i+1)
		}
	}
	switch {
	case name == "show" && len(positional) != 1:
		return cmd.Usagef("give one session id (`shadow journal list` lists them)")
	case name == "verify" && online.set && len(positional) > 0:
		return cmd.Usagef("--server compares the journals of the state dir; give no FILE")
	case name == "verify" && len(positional) > 1:
		return cmd.Usagef("give at most one FILE")
	case name == "export" && *format != FormatJSONL && *format != FormatCSV && *format != FormatOCSF:
		return cmd.Usagef("--format %q: want %s, %s or %s", *format, FormatJSONL, FormatCSV, FormatOCSF)
	case name != "show" && name != "verify":
		if err := cmd.NoArgs(positional); err != nil {
			return err
		}
	}
	if *demo && name == "sync" {
		return cmd.Usagef("the demo's journals sync to the demo's own server while the demo runs (`shadow` with no --server): there is no server to sync them to here")
	}
	dir := *stateDir
	if dir == "" {
		if dir, err = DefaultStateDir(); err != nil {
			return err
		}
	}
	if *demo {
		dir = env.DemoStateDir(dir)
	}
	w := env.Stdout
	switch name {
	case "list":
		return cmdList(w, env, dir)
	case "show":
		if online.set {
			return cmdShowOnline(ctx, w, env, dir, positional[0], remote, *timeout)
		}
		return cmdShow(w, dir, positional[0])
	case "export":
		return cmdExport(w, env.Stderr, dir, *format, *session, *out)
	case "verify":
		if online.set {
			return cmdVerifyOnline(ctx, w, env, dir, *key, remote, *timeout)
		}
		return cmdVerify(w, dir, *key, positional)
	}
	return cmdSync(ctx, w, env, dir, remote, *timeout)
}

// serverFlag is verify's --server: alone it means "the server of $SHADOW_SERVER",
// --server=URL names one.
type serverFlag struct {
	set bool
	url string
}

func (f *serverFlag) String() string   { return f.url }
func (f *serverFlag) IsBoolFlag() bool { return true }
func (f *serverFlag) Set(v string) error {
	f.set = true
	switch v {
	case "true":
		f.url = ""
	case "false":
		f.set = false
	default:
		f.url = v
	}
	return nil
}

func cmdList(w io.Writer, env CommandEnv, dir string) error {
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	sessions := a.Sessions()
	if len(sessions) == 0 {
		fmt.Fprintf(w, "no journal records under %s\n", JournalsDir(dir))
		if env.DemoStateDir != nil {
			demo := env.DemoStateDir(dir)
			if d, err := LoadArchive(demo); err == nil && len(d.Sessions()) > 0 {
				fmt.Fprintf(w, "the demo's journals are under %s: `shadow journal list --demo` lists them (%s)\n",
					JournalsDir(demo), words.Count(len(d.Sessions()), "session", "sessions"))
			}
		}
		return printArchiveNotes(w, a, "list")
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tSTARTED (UTC)\tADMIN\tIMPERSONATED USER\tREASON\tRECORDS\tSYNC")
	for _, s := range sessions {
		id, reason := s.SessionID, s.Reason
		switch {
		case s.Refused != "": // no session: the server refused to start one
			id, reason = "(refused start)", strings.TrimSpace("refused: "+string(s.Refused)+"  "+reason)
		case id == "":
			id = "(journal " + s.JournalID + ")"
		}
		sync := "synced"
		if s.Pending > 0 {
			sync = fmt.Sprintf("%d pending", s.Pending)
		}
		if s.Live {
			sync += ", live"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", safetext.Clean(id), s.Started.UTC().Format("2006-01-02 15:04:05"),
			safetext.Clean(userLabel(&s.Admin)), safetext.Clean(userLabel(s.User)), safetext.Clean(truncate(reason, 60)), s.Records, sync)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("journal list: %w", err)
	}
	return printArchiveNotes(w, a, "list")
}

// printArchiveNotes ends list and show: the set-aside and unreadable journals, then the
// counts, last.
func printArchiveNotes(w io.Writer, a *Archive, cmd string) error {
	for _, p := range a.SetAside {
		fmt.Fprintf(w, "note: damaged journal set aside (kept; `shadow journal verify` reports it): %s\n", p)
	}
	for _, err := range a.Unreadable {
		fmt.Fprintf(w, "error: %s\n", safetext.Clean(err.Error()))
	}
	records, pending := 0, 0
	for _, jd := range a.Journals {
		for _, e := range jd.Entries {
			records++
			if !e.Synced {
				pending++
			}
		}
	}
	if records > 0 || len(a.Unreadable) > 0 {
		sessions, refused := 0, 0
		for _, s := range a.Sessions() {
			if s.Refused != "" {
				refused++
			} else {
				sessions++
			}
		}
		starts := ""
		if refused > 0 {
			starts = ", " + words.Count(refused, "refused start", "refused starts")
		}
		fmt.Fprintf(w, "%s, %s%s, %s: %s", words.Count(len(a.Journals), "journal", "journals"),
			words.Count(sessions, "session", "sessions"), starts, words.Count(records, "record", "records"), syncCounts(records, pending))
		if len(a.Unreadable) > 0 {
			fmt.Fprintf(w, "; %s unreadable", words.Count(len(a.Unreadable), "journal", "journals"))
		}
		fmt.Fprintln(w)
	}
	if len(a.Unreadable) > 0 {
		return fmt.Errorf("journal %s: %s could not be read; run `shadow journal verify`", cmd, words.Count(len(a.Unreadable), "journal", "journals"))
	}
	return pendingError("journal "+cmd, a.Journals)
}

// pendingErr is a command's error for records pending: errors.Is(err, ErrUnsynced).
type pendingErr string

func (e pendingErr) Error() string { return string(e) }
func (e pendingErr) Unwrap() error { return ErrUnsynced }

// pendingError is the error of list, show and export when records of journals are
// pending: how many, and why.
func pendingError(cmd string, journals []*JournalData) error {
	pending, live := 0, 0
	for _, jd := range journals {
		for _, e := range jd.Entries {
			if e.Synced {
				continue
			}
			pending++
			if jd.Live {
				live++
			}
		}
	}
	if pending == 0 {
		return nil
	}
	why := "not yet acknowledged by the server: `shadow journal sync` sends them"
	switch {
	case live == pending:
		why = "in a journal a running shadow has open, which syncs it"
	case live > 0:
		why += fmt.Sprintf(" (%d of them are in a journal a running shadow has open, which syncs it)", live)
	}
	return pendingErr(fmt.Sprintf("%s: %s pending, %s", cmd, words.Count(pending, "record", "records"), why))
}

func cmdShow(w io.Writer, dir, id string) error {
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	jd, entries, err := a.Select(id)
	if err != nil {
		return fmt.Errorf("journal show: %w", err)
	}
	if err := showRecords(w, jd, entries); err != nil {
		return err
	}
	fmt.Fprintln(w, showCounts(entries))
	return selectionPending(jd, entries)
}

// selectionPending is show's error when records it showed are pending.
func selectionPending(jd *JournalData, entries []Entry) error {
	return pendingError("journal show", []*JournalData{{ID: jd.ID, Live: jd.Live, Entries: entries}})
}

// cmdShowOnline is show --server: the records, then the server's side of each session
// among them (what it served the session's token, set against the journals), and last
// the counts of both. Any finding is an error.
func cmdShowOnline(ctx context.Context, w io.Writer, env CommandEnv, dir, id string, o RemoteOptions, timeout time.Duration) error {
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	jd, entries, err := a.Select(id)
	if err != nil {
		return fmt.Errorf("journal show: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	remote, _, err := connect(ctx, env, "show", o)
	if err != nil {
		return err
	}
	if err := showRecords(w, jd, entries); err != nil {
		return err
	}
	var set sessionSet
	for _, e := range entries {
		set.add(jd.ID, e)
	}
	results, problems := auditSessions(ctx, remote, set.list, 30*time.Second)
	for _, r := range results {
		if err := printServerSide(w, r); err != nil {
			return err
		}
	}
	for _, p := range problems {
		fmt.Fprintf(w, "error: %s\n", safetext.Clean(p))
	}
	consistent, findings := sessionCounts(results)
	fmt.Fprintf(w, "%s; %s set against what the server served: %d consistent, %s", showCounts(entries),
		words.Count(len(set.list), "session", "sessions"), consistent, words.Count(findings, "finding", "findings"))
	if len(problems) > 0 {
		fmt.Fprintf(w, ", %d not compared", len(problems))
	}
	fmt.Fprintln(w)
	switch {
	case findings > 0:
		return fmt.Errorf("journal show: %s setting the session against what the server served", words.Count(findings, "finding", "findings"))
	case len(problems) > 0:
		return fmt.Errorf("journal show: %s", problems[0])
	}
	return selectionPending(jd, entries)
}

// showRecords prints the heading and the table of show.
func showRecords(w io.Writer, jd *JournalData, entries []Entry) error {
	synced := 0
	for _, e := range entries {
		if e.Synced {
			synced++
		}
	}
	if head := sessionHeading(entries); head != "" {
		fmt.Fprintln(w, head)
	}
	fmt.Fprintf(w, "journal %s · %s · %d synced\n\n", jd.ID, words.Count(len(entries), "record", "records"), synced)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIMESTAMP (UTC)\tACTION\tUSER PERFORMING ACTION\tIMPERSONATED USER\tDETAILS")
	for _, e := range entries {
		details := e.Data.Details
		if e.Data.Action == api.ActionSessionStart && e.Data.Reason != "" {
			details = strings.TrimSpace("reason: " + e.Data.Reason + "  " + details)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Data.Time.UTC().Format("2006-01-02 15:04:05"),
			safetext.Clean(e.Data.Action), safetext.Clean(userLabel(&e.Data.Actor)), safetext.Clean(userLabel(e.Data.User)), safetext.Clean(details))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("journal show: %w", err)
	}
	return nil
}

// sessionHeading heads show of one session with the session itself, before its journal:
// "session S · Ada Admin <ada@…> shadowing Bob User <bob@…> · 2026-12-08 04:01:02 to
// 04:09:10 UTC · reason: TICKET-42". "" when entries are not one session's (a whole
// journal was asked for).
func sessionHeading(entries []Entry) string {
	if len(entries) == 0 || entries[0].Data.SessionID == "" {
		return ""
	}
	id := entries[0].Data.SessionID
	var admin api.UserRef
	var user *api.UserRef
	reason := ""
	for _, e := range entries {
		if e.Data.SessionID != id {
			return ""
		}
		if admin.ID == "" && admin.Name == "" {
			admin = e.Data.Actor
		}
		if user == nil {
			user = e.Data.User
		}
		if reason == "" {
			reason = e.Data.Reason
		}
	}
	const stamp = "2006-01-02 15:04:05"
	from, to := entries[0].Data.Time.UTC(), entries[len(entries)-1].Data.Time.UTC()
	when := from.Format(stamp) + " UTC"
	if !to.Equal(from) {
		end := to.Format(stamp)
		if to.Format("2006-01-02") == from.Format("2006-01-02") {
			end = to.Format("15:04:05")
		}
		when = from.Format(stamp) + " to " + end + " UTC"
	}
	whom := cmp.Or(userLabel(user), "(no user)")
	head := fmt.Sprintf("session %s · %s shadowing %s · %s", id, userLabel(&admin), whom, when)
	if reason != "" {
		head += " · reason: " + truncate(reason, 200)
	}
	return safetext.Clean(head)
}

// showCounts is show's last line: how many records, how many synced.
func showCounts(entries []Entry) string {
	pending := 0
	for _, e := range entries {
		if !e.Synced {
			pending++
		}
	}
	return fmt.Sprintf("%s: %s", words.Count(len(entries), "record", "records"), syncCounts(len(entries), pending))
}

// syncCounts says how many of records are synced, and how many pending when any are: a
// line that says "pending" always means something is.
func syncCounts(records, pending int) string {
	if pending == 0 {
		return fmt.Sprintf("%d synced", records)
	}
	return fmt.Sprintf("%d synced, %d pending", records-pending, pending)
}

func cmdExport(w, stderr io.Writer, dir, format, session, out string) (err error) {
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	if out != "" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("journal export: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("journal export: %w", cerr)
			}
		}()
		w = f
	}
	n, pending, err := a.Export(w, format, session)
	if err != nil {
		return err
	}
	// The summary goes to standard error: standard output is the export.
	fmt.Fprintf(stderr, "exported %s (%d synced, %d pending) of %s as %s\n", words.Count(n, "record", "records"),
		n-pending, pending, words.Count(len(a.Journals), "journal", "journals"), format)
	if len(a.Unreadable) > 0 {
		return fmt.Errorf("journal export: %s unreadable, left out of the export: %w",
			words.Count(len(a.Unreadable), "journal", "journals"), errors.Join(a.Unreadable...))
	}
	if pending > 0 {
		// Exactly the records exported: a selection by session keeps its own.
		picked := a.Journals
		if session != "" {
			if jd, entries, err := a.Select(session); err == nil {
				picked = []*JournalData{{ID: jd.ID, Live: jd.Live, Entries: entries}}
			}
		}
		return pendingError("journal export", picked)
	}
	return nil
}

// ErrVerifyFailed is returned by `journal verify` when anything was found wrong, or
// could not be proven.
var ErrVerifyFailed = errors.New("verification failed")

func verifyOptions(key string) (VerifyOptions, error) {
	var opts VerifyOptions
	if key != "" {
		pub, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return opts, fmt.Errorf("journal verify: --key: %w", err)
		}
		if len(pub) != ed25519.PublicKeySize {
			return opts, fmt.Errorf("journal verify: --key: %d bytes, an Ed25519 public key has %d", len(pub), ed25519.PublicKeySize)
		}
		opts.ServerKey = &api.AuditKey{Algorithm: "ed25519", PublicKey: pub}
	}
	return opts, nil
}

func verifyReports(dir string, opts VerifyOptions, positional []string) ([]Report, error) {
	if len(positional) == 1 {
		return VerifyFile(positional[0], opts)
	}
	return VerifyAll(dir, opts)
}

func cmdVerify(w io.Writer, dir, key string, positional []string) error {
	opts, err := verifyOptions(key)
	if err != nil {
		return err
	}
	reports, err := verifyReports(dir, opts, positional)
	if err != nil {
		return err
	}
	return printReports(w, reports, nil)
}

// offlineLimits is what verify says, every time, about what it cannot prove.
const offlineLimits = `Offline, verify proves that each record matches its hash and chains to the one before, and that
the records up to each receipt are exactly the ones the server signed for (with --key, the key you
trust). It cannot prove that records after the last receipt were not rewritten or cut off, that a
deleted receipt, record or journal ever existed, or that a file is not an older copy of itself:
` + "`shadow journal verify --server`" + ` compares every journal with the server's copy.
`

// printReports prints each report, what offline verification cannot prove, and last the
// counts. online holds the comparison with the server per journal id, when there was one.
func printReports(w io.Writer, reports []Report, online *onlineResult) error {
	if len(reports) == 0 {
		fmt.Fprintln(w, "no journals to verify")
		if online != nil && len(online.problems) > 0 {
			for _, p := range online.problems {
				fmt.Fprintf(w, "error: %s\n", safetext.Clean(p))
			}
			return fmt.Errorf("%w: %s", ErrVerifyFailed, online.problems[0])
		}
		return nil
	}
	failed, partly, records, unproven := 0, 0, uint64(0), uint64(0)
	var firstBad *Report
	for i, r := range reports {
		records += r.Records
		what := "journal " + r.JournalID
		if r.Live {
			what += " (in use; verified from a snapshot)"
		}
		if r.SetAside {
			what = "set-aside file " + filepath.Base(r.Source) + " (journal " + r.JournalID + ")"
		}
		receipt := "no receipt"
		if r.Acked > 0 {
			receipt = fmt.Sprintf("receipt to seq %d, key %s %s", r.Acked, r.KeyID, r.KeyPrint)
		}
		kind := "chain"
		if r.Partial {
			kind = "partial export: each record's hash"
		}
		open := r.Unreceipted()
		unproven += open
		switch {
		case !r.OK():
			failed++
			if r.FirstBad != 0 && (firstBad == nil || firstBad.FirstBad == 0) {
				firstBad = &reports[i]
			}
			fmt.Fprintf(w, "FAIL    %s (%s): %s", what, r.Source, words.Count(r.Records, "record", "records"))
			if r.FirstBad != 0 {
				fmt.Fprintf(w, ", first bad seq %d", r.FirstBad)
			}
			fmt.Fprintln(w)
		case open > 0:
			partly++
			fmt.Fprintf(w, "PARTLY  %s: %s, head %d, %s ok, %s; %s\n", what, words.Count(r.Records, "record", "records"),
				r.Head.Seq, kind, receipt, unreceiptedWords(r))
		default:
			fmt.Fprintf(w, "ok      %s: %s, head %d, %s ok, %s\n", what, words.Count(r.Records, "record", "records"), r.Head.Seq, kind, receipt)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(w, "        %s\n", safetext.Clean(p))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "        note: %s\n", safetext.Clean(n))
		}
		if online != nil {
			online.print(w, r.JournalID)
		}
	}
	if online != nil {
		if len(online.sessions) > 0 {
			fmt.Fprintln(w)
		}
		for _, r := range online.sessions {
			r.print(w)
		}
		for _, p := range online.problems {
			fmt.Fprintf(w, "error: %s\n", safetext.Clean(p))
		}
	} else {
		fmt.Fprint(w, "\n"+offlineLimits+"\n")
	}
	summary := fmt.Sprintf("%s, %s: %d covered by a receipt, %d by none; %d failed", words.Count(len(reports), "journal", "journals"),
		words.Count(records, "record", "records"), records-min(unproven, records), unproven, failed)
	if online != nil {
		summary += fmt.Sprintf("; compared with the server: %s", online.summary())
	}
	fmt.Fprintln(w, summary)
	switch {
	case failed > 0 && firstBad != nil:
		return fmt.Errorf("%w: journal %s, first bad seq %d", ErrVerifyFailed, firstBad.JournalID, firstBad.FirstBad)
	case failed > 0:
		return fmt.Errorf("%w: %s", ErrVerifyFailed, words.Count(failed, "journal", "journals"))
	case online != nil && online.blocking() > 0:
		return fmt.Errorf("%w: %s with the server's copies", ErrVerifyFailed, words.Count(online.blocking(), "difference", "differences"))
	case online != nil && sessionFindings(online.sessions) > 0:
		return fmt.Errorf("%w: %s setting the sessions against what the server served", ErrVerifyFailed,
			words.Count(sessionFindings(online.sessions), "finding", "findings"))
	case online != nil && len(online.problems) > 0:
		return fmt.Errorf("%w: %s", ErrVerifyFailed, online.problems[0])
	case unproven > 0:
		return fmt.Errorf("%w: %s covered by no receipt (not yet synced), in %s: nothing proves them offline",
			ErrVerifyFailed, words.Count(unproven, "record", "records"), words.Count(partly, "journal", "journals"))
	}
	return nil
}

func unreceiptedWords(r Report) string {
	if r.Partial {
		return "tying these records to the receipt needs the full journal's export"
	}
	from := r.Acked + 1
	if from == r.Head.Seq {
		return fmt.Sprintf("seq %d is covered by no receipt yet (not synced): nothing proves it offline", from)
	}
	return fmt.Sprintf("seqs %d-%d are covered by no receipt yet (not synced): nothing proves them offline", from, r.Head.Seq)
}

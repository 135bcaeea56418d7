package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/internal/words"
)

// CommandEnv is what `shadow journal …` needs from main.
type CommandEnv struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// NewRemote builds the server client `journal sync` pushes through. Nil when no
	// client is wired in.
	NewRemote func(RemoteOptions) (Remote, error)
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
  export [--format jsonl|csv] [--session S] [--out FILE]
                                JSONL carries hashes and receipts, so it verifies offline
  verify [--key BASE64] [FILE]  check chain, contiguity, receipts and bbolt consistency of
                                every journal, or of FILE (a journal .db or a JSONL export)
  sync [--server URL] [--ca-file FILE] [--insecure] [--timeout D]
                                push unsynced records (network); token from SHADOW_TOKEN

Every command takes --state-dir DIR (default $XDG_STATE_HOME/shadow).
`

// ErrUsage marks a command line `shadow journal` does not understand (an unknown
// command or flag, a missing or extra argument): main exits 2 for it, as for its own.
var ErrUsage = errors.New("command line not understood")

// usageError is an error that says what was not understood and is ErrUsage.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...) + " (see shadow journal help)"}
}

// RunCommand runs `shadow journal ARGS…`. A command line it does not understand is an
// error that is ErrUsage; --help after a command prints that command's flags.
func RunCommand(ctx context.Context, args []string, env CommandEnv) error {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, CommandUsage)
		if len(args) == 0 {
			return usagef("journal: give a command")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("journal "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a bad flag is returned as an error; --help is printed below
	stateDir := fs.String("state-dir", "", "state directory (default $XDG_STATE_HOME/shadow)")
	var (
		format, session, out, key *string
		remote                    RemoteOptions
		timeout                   *time.Duration
	)
	switch cmd {
	case "export":
		format = fs.String("format", FormatJSONL, "jsonl or csv")
		session = fs.String("session", "", "only this session")
		out = fs.String("out", "", "write to FILE instead of standard output")
	case "verify":
		key = fs.String("key", "", "the server's audit public key (base64), to check receipts against")
	case "sync":
		fs.StringVar(&remote.ServerURL, "server", "", "server URL (default $SHADOW_SERVER)")
		fs.StringVar(&remote.CAFile, "ca-file", "", "trust the PEM certificates in `FILE` too (a private CA)")
		fs.BoolVar(&remote.Insecure, "insecure", false, "do not verify the server's TLS certificate (warned about)")
		timeout = fs.Duration("timeout", time.Minute, "give up after this long")
	case "list", "show":
	default:
		return usagef("journal: unknown command %q", cmd)
	}
	positional, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(env.Stdout, "usage: shadow journal %s [flags]\n\nFlags:\n", cmd)
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return err
	}
	dir := *stateDir
	if dir == "" {
		if dir, err = DefaultStateDir(); err != nil {
			return err
		}
	}
	w := env.Stdout
	switch cmd {
	case "list":
		return cmdList(w, dir, positional)
	case "show":
		if len(positional) != 1 {
			return usagef("journal show: give one session id (`shadow journal list` lists them)")
		}
		return cmdShow(w, dir, positional[0])
	case "export":
		return cmdExport(w, dir, *format, *session, *out, positional)
	case "verify":
		return cmdVerify(w, dir, *key, positional)
	}
	return cmdSync(ctx, w, env, dir, remote, *timeout, positional)
}

// parseInterspersed parses flags wherever they are among the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		switch err := fs.Parse(args); {
		case errors.Is(err, flag.ErrHelp):
			return nil, err
		case err != nil:
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func noArgs(cmd string, positional []string) error {
	if len(positional) > 0 {
		return usagef("journal %s: unexpected argument %q", cmd, positional[0])
	}
	return nil
}

func cmdList(w io.Writer, dir string, positional []string) error {
	if err := noArgs("list", positional); err != nil {
		return err
	}
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	sessions := a.Sessions()
	if len(sessions) == 0 {
		fmt.Fprintf(w, "no journal records under %s\n", JournalsDir(dir))
		return printArchiveNotes(w, a)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tSTARTED (UTC)\tADMIN\tIMPERSONATED USER\tREASON\tRECORDS\tSYNC")
	for _, s := range sessions {
		id := s.SessionID
		if id == "" {
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
			safetext.Clean(userLabel(&s.Admin)), safetext.Clean(userLabel(s.User)), safetext.Clean(truncate(s.Reason, 60)), s.Records, sync)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("journal list: %w", err)
	}
	return printArchiveNotes(w, a)
}

func printArchiveNotes(w io.Writer, a *Archive) error {
	for _, p := range a.SetAside {
		fmt.Fprintf(w, "note: damaged journal set aside (kept, not read): %s\n", p)
	}
	for _, err := range a.Unreadable {
		fmt.Fprintf(w, "error: %v\n", err)
	}
	if len(a.Unreadable) > 0 {
		return fmt.Errorf("%s could not be read; run `shadow journal verify`", words.Count(len(a.Unreadable), "journal", "journals"))
	}
	return nil
}

func cmdShow(w io.Writer, dir, id string) error {
	a, err := LoadArchive(dir)
	if err != nil {
		return err
	}
	jd, entries, err := a.Select(id)
	if err != nil {
		return err
	}
	synced := 0
	for _, e := range entries {
		if e.Synced {
			synced++
		}
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

func cmdExport(w io.Writer, dir, format, session, out string, positional []string) (err error) {
	if err := noArgs("export", positional); err != nil {
		return err
	}
	if format != FormatJSONL && format != FormatCSV {
		return usagef("journal export: --format %q: want %s or %s", format, FormatJSONL, FormatCSV)
	}
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
	if err := a.Export(w, format, session); err != nil {
		return err
	}
	if len(a.Unreadable) > 0 {
		return fmt.Errorf("journal export: %s unreadable, left out of the export: %w",
			words.Count(len(a.Unreadable), "journal", "journals"), errors.Join(a.Unreadable...))
	}
	return nil
}

// ErrVerifyFailed is returned by `journal verify` when anything was found wrong.
var ErrVerifyFailed = errors.New("verification failed")

func cmdVerify(w io.Writer, dir, key string, positional []string) error {
	var opts VerifyOptions
	if key != "" {
		pub, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			return fmt.Errorf("journal verify: --key: %w", err)
		}
		opts.ServerKey = &api.AuditKey{Algorithm: "ed25519", PublicKey: pub}
	}
	var reports []Report
	var err error
	switch len(positional) {
	case 0:
		reports, err = VerifyAll(dir, opts)
	case 1:
		reports, err = VerifyFile(positional[0], opts)
	default:
		return usagef("journal verify: give at most one FILE")
	}
	if err != nil {
		return err
	}
	return printReports(w, reports)
}

func printReports(w io.Writer, reports []Report) error {
	if len(reports) == 0 {
		fmt.Fprintln(w, "no journals to verify")
		return nil
	}
	failed, records := 0, uint64(0)
	var firstBad *Report
	for i, r := range reports {
		records += r.Records
		what := "journal " + r.JournalID
		if r.Live {
			what += " (in use; verified from a snapshot)"
		}
		receipt := "no receipt yet"
		if r.Acked > 0 {
			receipt = fmt.Sprintf("receipt to seq %d, key %s %s", r.Acked, r.KeyID, r.KeyPrint)
		}
		kind := "chain"
		if r.Partial {
			kind = "partial export: each record's hash"
		}
		if r.OK() {
			fmt.Fprintf(w, "ok    %s: %s, head %d, %s ok, %s\n", what, words.Count(r.Records, "record", "records"), r.Head.Seq, kind, receipt)
			continue
		}
		failed++
		if r.FirstBad != 0 && (firstBad == nil || firstBad.FirstBad == 0) {
			firstBad = &reports[i]
		}
		fmt.Fprintf(w, "FAIL  %s (%s): %s", what, r.Source, words.Count(r.Records, "record", "records"))
		if r.FirstBad != 0 {
			fmt.Fprintf(w, ", first bad seq %d", r.FirstBad)
		}
		fmt.Fprintln(w)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "      %s\n", safetext.Clean(p))
		}
	}
	fmt.Fprintf(w, "%s, %s, %d failed\n", words.Count(len(reports), "journal", "journals"), words.Count(records, "record", "records"), failed)
	if failed == 0 {
		return nil
	}
	if firstBad != nil {
		return fmt.Errorf("%w: journal %s, first bad seq %d", ErrVerifyFailed, firstBad.JournalID, firstBad.FirstBad)
	}
	return fmt.Errorf("%w: %s", ErrVerifyFailed, words.Count(failed, "journal", "journals"))
}

func cmdSync(ctx context.Context, w io.Writer, env CommandEnv, dir string, o RemoteOptions, timeout time.Duration, positional []string) error {
	if err := noArgs("sync", positional); err != nil {
		return err
	}
	if o.ServerURL == "" {
		o.ServerURL = env.Getenv("SHADOW_SERVER")
	}
	o.Token = env.Getenv("SHADOW_TOKEN")
	switch {
	case o.ServerURL == "":
		return errors.New("journal sync: give --server URL or set SHADOW_SERVER")
	case o.Token == "":
		return errors.New("journal sync: set SHADOW_TOKEN to an admin token (it is never taken on the command line)")
	case env.NewRemote == nil:
		return errors.New("journal sync: no server client is built into this shadow")
	}
	remote, err := env.NewRemote(o)
	if err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := Drain(ctx, dir, remote, SyncOptions{})
	paths, _, lerr := journalFiles(JournalsDir(dir))
	if lerr != nil {
		return lerr
	}
	for _, p := range paths {
		if v, verr := openView(p); verr == nil {
			if v.Live {
				fmt.Fprintf(w, "journal %s is in use by another shadow process, which syncs it\n", journalIDFromPath(p))
			}
			v.close()
		}
	}
	for _, n := range st.Notices {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	fmt.Fprintln(w, "synced: every journal this shadow may sync is acknowledged by the server")
	return nil
}

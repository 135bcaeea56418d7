package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"github.com/shadowview/shadow/internal/cli"
	"github.com/shadowview/shadow/server/notify"
	"github.com/shadowview/shadow/server/org"
)

const serveUsage = `usage: shadow serve [flags]

Run the reference API server with the demo organisation until interrupted.
`

// generatedMemoryLimit is the soft memory limit `shadow serve --generate-users` sets
// when GOMEMLIMIT does not. A million generated users are ~600 MiB that all stay live,
// built in one burst; the collector's default pacing lets the heap reach twice what
// it last found live before collecting, which near the end of the build overshoots
// 1 GiB. The limit makes it collect a little earlier instead (a few hundred ms of CPU
// at a million users, nothing below: a smaller org never comes near it).
const generatedMemoryLimit = 960 << 20

// RunServe is `shadow serve`: parse flags, start the reference server, print where it
// listens and the demo credentials, serve until ctx is done, then shut down
// gracefully (requests in flight finish). A command line it does not understand is a
// cli.UsageError.
func RunServe(ctx context.Context, args []string, stdout, stderr io.Writer, version string) error {
	cmd := cli.Command{Name: "serve", Help: serveUsage}
	fs := cmd.Flags()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback unless --allow-remote)")
	data := fs.String("data", "", "data directory (bbolt state, audit signing key); empty: a throwaway store")
	users := fs.Int("generate-users", 0, fmt.Sprintf("add this many generated users, for scale tests (0..%s)", cli.Grouped(org.MaxGeneratedUsers)))
	resources := fs.Int("generate-resources", 0, fmt.Sprintf("add this many generated resources to Acme Logistics (0..%s)", cli.Grouped(org.MaxGeneratedResources)))
	hostile := fs.Bool("hostile", false, "add a company whose names and cells hold escape sequences and other hostile text")
	remote := fs.Bool("allow-remote", false, "allow a non-loopback --addr (plain HTTP and a public demo password: think twice)")
	var hosts []string
	fs.Func("allow-host", "also answer requests for this host `name` (any port; repeat, or separate with commas); by default only localhost, 127.0.0.1 and ::1, against DNS rebinding",
		func(v string) error {
			if _, err := newHostAllowList([]string{v}); err != nil {
				return err
			}
			hosts = append(hosts, v)
			return nil
		})
	maxOpen := fs.Int("max-open-sessions", DefaultMaxOpenSessions, "impersonation sessions one identity may have open at once (1 or more; -1: no cap)")
	journalRate := fs.Int("journal-records-per-minute", DefaultJournalRecordsPerMinute,
		fmt.Sprintf("new records one journal may take a minute, beyond a burst of %d (1 or more; -1: no cap)", DefaultJournalRecordBurst))
	uploaderRate := fs.Int("uploader-records-per-minute", DefaultUploaderRecordsPerMinute,
		fmt.Sprintf("new records one identity may upload a minute across all its journals, beyond a burst of %d (1 or more; -1: no cap)", DefaultUploaderRecordBurst))
	newJournals := fs.Int("new-journals-per-hour", DefaultNewJournalsPerHour, "journals one identity may start an hour, beyond a burst of as many (1 or more; -1: no cap)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	webhooks := fs.String("webhooks", "", "JSON file of company id -> {url, secret}: signed notifications of session start and end (mode 0600)")
	positional, help, err := cmd.Parse(fs, args, stdout)
	if help || err != nil {
		return err
	}
	if err := cmd.NoArgs(positional); err != nil {
		return err
	}
	// Every numeric flag says its range in its help and refuses others here, so a 0 or
	// -5 is a command line to mend, not a server started with a limit it never meant.
	const maxInt = int(^uint(0) >> 1)
	for _, f := range []struct {
		name      string
		v, lo, hi int
		noCap     bool
	}{
		{"--generate-users", *users, 0, org.MaxGeneratedUsers, false},
		{"--generate-resources", *resources, 0, org.MaxGeneratedResources, false},
		{"--max-open-sessions", *maxOpen, 1, maxInt, true},
		{"--journal-records-per-minute", *journalRate, 1, maxInt, true},
		{"--uploader-records-per-minute", *uploaderRate, 1, maxInt, true},
		{"--new-journals-per-hour", *newJournals, 1, maxInt, true},
	} {
		if err := cmd.InRange(f.name, f.v, f.lo, f.hi, f.noCap); err != nil {
			return err
		}
	}
	// A non-loopback --addr without --allow-remote is a command line to mend: say how.
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return cmd.Usagef("--addr %q: %v", *addr, err)
	}
	if err := (&Server{}).checkListenAddr(*addr); err != nil && !*remote {
		return cmd.Usagef("--addr %s is not a loopback address: the server speaks plain HTTP and the demo password is public, so it listens there only with --allow-remote (put TLS in front)", *addr)
	}
	if *users > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(generatedMemoryLimit)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	var hooks notify.Config
	if *webhooks != "" {
		var err error
		if hooks, err = notify.LoadConfig(*webhooks); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	srv, err := New(Options{
		DataDir:                  *data,
		Seed:                     Seed{Demo: true, GenerateUsers: *users, GenerateResources: *resources, Hostile: *hostile},
		Logger:                   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		AllowRemote:              *remote,
		Version:                  version,
		Webhooks:                 hooks,
		AllowedHosts:             hosts,
		MaxOpenSessions:          *maxOpen,
		JournalRecordsPerMinute:  *journalRate,
		UploaderRecordsPerMinute: *uploaderRate,
		NewJournalsPerHour:       *newJournals,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	url, err := srv.Start(*addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprint(stdout, Banner(url, srv.DataDir(), *data == "", hosts))
	<-ctx.Done()
	fmt.Fprintln(stderr, "shadow: shutting down")
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Banner is what `shadow serve` prints on start: where it listens, the host names it
// answers to, the demo credentials (public, demo only) and where state lives.
func Banner(baseURL, dataDir string, throwaway bool, allowedHosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "shadow reference server listening on %s\n", baseURL)
	fmt.Fprintf(&b, "  answers to: %s (others with --allow-host NAME)\n", strings.Join(append([]string{"localhost", "127.0.0.1", "::1"}, allowedHosts...), ", "))
	fmt.Fprintf(&b, "  demo sign-in: %s / %s  (demo only: this password is public)\n", DemoSupportEmail, DemoSupportPassword)
	fmt.Fprintf(&b, "  every demo account uses the same password; see docs/DEMO.md\n")
	if throwaway {
		fmt.Fprintf(&b, "  state: throwaway (%s, removed on exit)\n", dataDir)
	} else {
		fmt.Fprintf(&b, "  state: %s\n", dataDir)
	}
	fmt.Fprintf(&b, "  try: curl -s %s/healthz\n", baseURL)
	fmt.Fprintf(&b, "  stop with Ctrl-C\n")
	return b.String()
}

// Package cli is shadow's one command-line layer: flag sets that print nothing of
// their own, one usage error for a command line shadow does not understand (exit
// status 2, with a pointer to the command's help), --help printed the same way for
// every command, the exit statuses, and the signals that stop a command. main and each
// subcommand (serve, journal, ssh) parse with it, so a command line is understood,
// refused and answered alike everywhere.
//
// Imports: nothing of shadow's: everything imports it.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Exit statuses (docs/OPERATIONS.md).
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// StopSignals end a long-running command (the program, serve, ssh) as a quit does:
// SIGINT from elsewhere (ctrl+c is a key to the program), SIGTERM, SIGHUP.
var StopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// UsageError is a command line shadow does not understand.
type UsageError struct{ Err error }

func (u UsageError) Error() string { return u.Err.Error() }
func (u UsageError) Unwrap() error { return u.Err }

// Usagef makes a UsageError.
func Usagef(format string, a ...any) error { return UsageError{fmt.Errorf(format, a...)} }

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool { return errors.As(err, new(UsageError)) }

// ExitCode is the exit status for a command's error.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case IsUsage(err):
		return ExitUsage
	}
	return ExitError
}

// Command is one command line: its name as typed after "shadow" ("" for shadow itself,
// "serve", "journal sync", "ssh") and its help, printed above the flags for --help.
type Command struct {
	Name string
	Help string
	// Interspersed takes flags after positional arguments too.
	Interspersed bool
}

// Flags is a flag set for the command that prints nothing itself: a bad flag comes
// back from Parse as a UsageError, --help is printed by Parse.
func (c Command) Flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.display(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func (c Command) display() string {
	if c.Name == "" {
		return "shadow"
	}
	return "shadow " + c.Name
}

// Usagef is a UsageError of this command, named by it and pointing at its help:
// "ssh: unexpected argument "x" (see shadow ssh --help)" (main prints "shadow: " first).
func (c Command) Usagef(format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if c.Name != "" {
		msg = c.Name + ": " + msg
	}
	return Usagef("%s (see %s --help)", msg, c.display())
}

// Parse parses args with fs. With --help (or -h) it prints the help and the flags to
// stdout and reports help; a flag it does not understand is a UsageError. It returns
// the positional arguments.
func (c Command) Parse(fs *flag.FlagSet, args []string, stdout io.Writer) (positional []string, help bool, err error) {
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			fmt.Fprint(stdout, c.Help)
			if hasFlags(fs) && !strings.Contains(c.Help, "\nFlags:\n") { // a help that lists them itself
				fmt.Fprint(stdout, "\nFlags:\n")
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
			}
			return nil, true, nil
		case err != nil:
			return nil, false, c.Usagef("%v", err)
		}
		args = fs.Args()
		if !c.Interspersed || len(args) == 0 {
			return append(positional, args...), false, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// NoArgs refuses positional arguments.
func (c Command) NoArgs(positional []string) error {
	if len(positional) > 0 {
		return c.Usagef("unexpected argument %q", positional[0])
	}
	return nil
}

// ServerURL refuses a server address (flag name, e.g. "--server") that is not an
// absolute http:// or https:// URL with a host, as a usage error: "ftp://x" and
// "http//x" are typing slips to mend, not servers that could not be reached.
func (c Command) ServerURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.Usagef("%s %q is not a URL: give it with http:// or https://, e.g. https://shadow.example.com", name, raw)
	}
	return nil
}

// NoCap is the value of a limit flag that means "no cap" (its help says "-1: no cap").
const NoCap = -1

// InRange refuses a numeric flag (name, e.g. "--generate-users") whose value v is
// outside lo..hi as a usage error that says the range in one sentence; noCap also lets
// NoCap through. hi of math.MaxInt is "or more".
func (c Command) InRange(name string, v, lo, hi int, noCap bool) error {
	if (v >= lo && v <= hi) || (noCap && v == NoCap) {
		return nil
	}
	want := fmt.Sprintf("between %s and %s", Grouped(lo), Grouped(hi))
	if hi == int(^uint(0)>>1) {
		want = Grouped(lo) + " or more"
	}
	if noCap {
		want += fmt.Sprintf(", or %d for no cap", NoCap)
	}
	return c.Usagef("%s must be %s", name, want)
}

// Grouped writes n with thousands separators: 1000000 as "1,000,000".
func Grouped(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// EnvOn reports whether the environment environ ("NAME=value" entries, the last one of a
// name winning, as os.Environ or an SSH client's sent environment gives them) turns the
// switch name on: 1, true, yes or on, in any case. Anything else, or unset, is off, so a
// switch that reaches outside the program (SHADOW_OSC52 writes the clipboard) is never
// on by accident.
func EnvOn(environ []string, name string) bool {
	on := false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "1", "true", "yes", "on":
				on = true
			default:
				on = false
			}
		}
	}
	return on
}

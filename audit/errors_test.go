package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// diskFullAppender appends under a small file size limit until the disk "fills", and
// reports every durable record and then the error it got.
func diskFullAppender() error {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG from write, not a signal
	j, _, err := Open(Options{StateDir: os.Getenv("DISK_STATE_DIR"), Actor: testAdmin})
	if err != nil {
		return err
	}
	fmt.Printf("journal %s\n", j.Path())
	limit := &syscall.Rlimit{Cur: 256 << 10, Max: 256 << 10}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, limit); err != nil {
		return err
	}
	for i := 0; i < 100000; i++ {
		rec, err := j.Append(context.Background(), sampleBody("s", i))
		if err != nil {
			fmt.Printf("error %v\n", err)
			// The journal stays usable for reading, and says the same again.
			if _, err2 := j.Append(context.Background(), sampleBody("s", i)); err2 == nil {
				fmt.Printf("error an append after a failed commit succeeded past the limit\n")
			}
			return nil
		}
		fmt.Printf("durable %d %s\n", rec.Seq, rec.Hash)
	}
	return errors.New("never ran out of room")
}

func TestDiskFullIsAClearErrorAndLosesNothingDurable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := childCommand(t, "disk-full", "DISK_STATE_DIR="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	var errLine string
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "error ") {
			if errLine != "" {
				t.Fatalf("more than one error: %q then %q", errLine, l)
			}
			errLine = l
			continue
		}
		lines = append(lines, l)
	}
	if !strings.Contains(errLine, "commit") || !strings.Contains(errLine, "file too large") {
		t.Fatalf("the disk error is not clear: %q", errLine)
	}
	t.Log(errLine)
	if n := checkCrashRound(t, 0, dir, lines); n < 100 {
		t.Fatalf("only %d records before the limit", n)
	}
}

// openJournalChild tries to open a journal under DENIED_STATE_DIR and prints the error.
func openJournalChild() error {
	_, _, err := Open(Options{StateDir: os.Getenv("DENIED_STATE_DIR")})
	fmt.Printf("%v", err)
	return nil
}

func TestPermissionDeniedIsAClearError(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		dir := filepath.Join(t.TempDir(), "state")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		_, _, err := Open(Options{StateDir: dir})
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "journal dir") {
			t.Fatalf("error %v", err)
		}
		return
	}
	// As root, permissions do not bind: run the child as nobody against a root-owned
	// 0700 dir. The binary goes where nobody may run it.
	root, err := os.MkdirTemp("", "shadow-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	bin := filepath.Join(root, "audit.test")
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := childCommand(t, "open-journal", "DENIED_STATE_DIR="+state)
	cmd.Path, cmd.Args[0] = bin, bin
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if msg := string(out); !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "journal dir") {
		t.Fatalf("the permission error is not clear: %q", msg)
	}
	t.Log(string(out))
}

func copyFile(from, to string, mode os.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

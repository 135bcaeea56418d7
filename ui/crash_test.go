package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
	"github.com/shadowview/shadow/ui/common"
)

// panicky is a page that panics in View or in Update, as a page could on a value no
// test foresaw.
type panicky struct {
	common.Component
	inView bool
}

func (p panicky) View() string {
	if p.inView {
		panic("index out of range [7] with length 3")
	}
	return p.Component.View()
}

func (p panicky) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	if _, ok := msg.(tea.KeyPressMsg); ok && !p.inView {
		var s []int
		_ = s[7] // a real runtime panic, not a staged one
	}
	return p.Component.Update(msg)
}

// A panic in a page, in Update or in View, ends the session on the server, journals
// why, quits, and Shutdown says so and returns ErrInternal (so shadow exits 1).
func TestPanicEndsTheSessionAndExitsWithAnError(t *testing.T) {
	t.Parallel()
	for _, inView := range []bool{false, true} {
		e := newTestEnv(t, server.DemoSeed)
		d := signedInDriver(t, e)
		d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
		id := d.m.SessionID()
		d.m.sess.tabs[TabDashboards].page = panicky{Component: d.m.sess.dash, inView: inView}
		if inView {
			frame := d.m.View().Content
			if !strings.Contains(frame, "internal error") || !strings.Contains(frame, "READ-ONLY") {
				t.Fatalf("the frame after a panic in View does not say so under the banner:\n%s", frame)
			}
			d.send(tick{session: id})
		} else {
			d.press("j")
		}
		if !d.quit {
			t.Fatalf("inView=%v: shadow did not quit after the panic: %q", inView, d.m.Screen())
		}
		if s, err := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id); err != nil || s.State != api.SessionEnded {
			t.Fatalf("inView=%v: the session is %+v (%v) on the server", inView, s, err)
		}
		entries, err := e.journal.SessionRecords(id)
		if err != nil {
			t.Fatal(err)
		}
		last := entries[len(entries)-1].Data
		if last.Action != api.ActionSessionEnd || !strings.Contains(last.Details, "internal error (") || !strings.Contains(last.Details, "index out of range") {
			t.Fatalf("inView=%v: the end is journaled as %s %q", inView, last.Action, last.Details)
		}
		var out strings.Builder
		err = d.m.Shutdown(&out)
		if !errors.Is(err, ErrInternal) || !strings.Contains(out.String(), "internal error") || !strings.Contains(out.String(), "goroutine") {
			t.Fatalf("inView=%v: Shutdown = %v, said %q", inView, err, out.String())
		}
	}
}

// A panic Bubble Tea recovered (in a command) is a crash too: the session still
// active is ended and journaled as such, and Shutdown returns ErrInternal.
func TestPanicInACommandEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, server.DemoSeed)
	d := signedInDriver(t, e)
	d.startSession(server.DemoFleetManagerEmail, "TICKET-1")
	id := d.m.SessionID()
	d.m.ProgramEnded(errors.Join(tea.ErrProgramKilled, tea.ErrProgramPanic))
	if err := d.m.Shutdown(&strings.Builder{}); !errors.Is(err, ErrInternal) {
		t.Fatalf("Shutdown = %v", err)
	}
	got := sessionActions(t, e.journal, id)
	entries, _ := e.journal.SessionRecords(id)
	if got[len(got)-1] != api.ActionSessionEnd || !strings.Contains(entries[len(entries)-1].Data.Details, "internal error") {
		t.Fatalf("journaled %v %q", got, entries[len(entries)-1].Data.Details)
	}
	if s, _ := e.staff(t, server.DemoSupportEmail).GetSession(context.Background(), id); s.State != api.SessionEnded {
		t.Fatalf("the session is %s on the server", s.State)
	}
}

package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
)

// The calls the UI makes: open this run's journal, append without stalling, read a
// session back with its sync state, watch the status, close.
func Example() {
	dir, _ := os.MkdirTemp("", "shadow-example-")
	defer os.RemoveAll(dir)
	admin := api.UserRef{ID: "u-sam", Name: "Sam Support"}

	j, recovered, err := audit.Open(audit.Options{StateDir: dir, Actor: admin})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recovered {
		fmt.Println("tell the user:", r) // a damaged journal was set aside
	}
	statuses, stop := j.Subscribe() // always holds the latest Status
	defer stop()

	p := j.Submit(api.RecordBody{SessionID: "s-1", Action: api.ActionView, Actor: admin,
		User: &api.UserRef{ID: "u-alice", Name: "Alice"}, Details: "dashboard d-fleet: Fleet overview"})
	<-p.Done() // or select on it in a tea.Cmd; Submit itself never waits
	rec, err := p.Wait(context.Background())
	fmt.Println(rec.Seq, err)

	entries, _ := j.SessionRecords("s-1")
	fmt.Println(len(entries), entries[0].Data.Action, entries[0].Synced)
	fmt.Println(<-statuses)

	// No sync was started (StartSync), so Close says the record waits for a later run.
	err = j.Close(context.Background())
	fmt.Println(errors.Is(err, audit.ErrUnsynced))
	// Output:
	// 1 <nil>
	// 1 view false
	// local only · 1 not synced
	// true
}

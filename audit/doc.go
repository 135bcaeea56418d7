// Package audit owns shadow's local audit journal: an append-only, hash-chained record of
// every step taken while impersonating, kept durably on disk, synced to the server's
// audit log, and reviewable offline (list, show, export, verify).
//
// It must never import ui, never write a token or password (a record whose text looks
// like a bearer token is redacted before it is written), never delete a journal (a
// corrupt one is set aside), and never turn bbolt's NoSync on.
//
// # Files
//
// Each process run writes its own journal, one bbolt file per journal id:
//
//	$XDG_STATE_HOME/shadow/journals/<journal-id>.db     (dir 0700, files 0600)
//
// bbolt holds an exclusive lock on a file while it is open for writing, so two shadow
// processes on one machine never share a file: each has its own journal and both sync.
// A journal whose run ended (or crashed) is unlocked; the next run's sync loop picks it up
// and pushes what is pending. The offline commands read every file: an unlocked one under
// a shared lock, one still in use through a consistent lock-free snapshot (see
// snapshot.go), so a live journal can be listed and verified while its owner runs.
//
// bbolt trusts its pages and crashes or loops on damaged ones, some of it on goroutines
// no recover reaches; so before an offline command lets bbolt read a file, checkPages
// (pages.go) checks every page bbolt would trust from the raw file, and damage is
// reported as a finding, never a crash.
//
// A file that cannot be read as a journal is renamed to <name>.corrupt-<UTC time>, never
// deleted, and the new run's journal starts with a journal.recovered record naming the
// old journal and its last known head. Open returns a Recovery for each, so the caller
// can tell the user.
//
// # Invariants
//
// For every journal file, at every commit:
//
//  1. bbolt's NoSync is never on: a commit is on disk when Update returns.
//  2. Records are keyed by big-endian seq; seqs are contiguous from 1 (no gaps).
//  3. Each record's prev_hash is the previous record's hash (ZeroHash for seq 1) and its
//     hash is api.RecordHash(journal id, seq, prev_hash, exact body) — in format v2 the
//     body rebuilt from its stored pieces, which the writer checks before it stores them.
//  4. meta head {seq, hash} is the last record.
//  5. acknowledged.seq <= head.seq, acknowledged.hash is the hash stored at that seq,
//     and acknowledged.receipt verifies with the pinned server key for exactly that
//     journal, seq and hash. Acknowledged never moves backwards.
//  6. Records are immutable: a seq once written is never overwritten or removed; so are
//     the strings of format v2 (codec.go), which records' bodies are rebuilt from.
//  7. The pinned server key, once set, never changes.
//
// They are enforced in one place: batch.apply in writer.go, the function every write
// transaction runs. Nothing else in the package opens a write transaction on a journal.
//
// # Writing
//
// One writer goroutine per open file drains a queue of appends (and the sync loop's
// acknowledgements) into a single bbolt transaction: group commit. A caller learns its
// record is durable only after that transaction commits.
//
// # The API the UI calls
//
//	j, recovered, err := audit.Open(audit.Options{StateDir: dir, Actor: admin})
//	// tell the user about each Recovery in recovered
//	p := j.Submit(body)        // never blocks; p.Done() closes when durable (or failed)
//	rec, err := p.Wait(ctx)    // or j.Append(ctx, body): submit and wait
//	entries, err := j.SessionRecords(sessionID) // with per-record Synced state
//	more, acked, err := j.SessionRecordsAfter(sessionID, lastSeq) // only the new ones
//	ch, cancel := j.Subscribe()                 // Status: synced / N pending / offline since T / last error
//	j.StartSync(remote, audit.SyncOptions{})    // background sync of this and ended runs' journals
//	err = j.Close(ctx)         // flushes, tries a final sync bounded by ctx, releases the file
//
// # Sync
//
// The sync loop (sync.go) pushes contiguous ranges of at most api.MaxJournalBatch records,
// one request in flight, at least once; the server accepts exact duplicates, so a reply
// lost after the server committed costs only a resend. Failures back off exponentially
// with full jitter, Retry-After is honoured, and the loop never gives up. A journal_gap
// reply rewinds to the server's head. Each reply's receipt is checked with the server's
// Ed25519 key, pinned in the journal on first use; a different key later is an error
// shown in Status, never accepted.
package audit

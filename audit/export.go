package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/safetext"
)

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
	FormatOCSF  = "ocsf"
)

// Exports are safe to open by construction. Every byte of them is written by this file,
// and text that came from a server is either escaped (JSONL and OCSF: safetext.EscapeJSON,
// so the parsed value is exact and the bytes are inert in a terminal) or shown visibly
// (CSV: safetext.Visible, then csvSafe against formulas).

// exportFormat names the JSONL export's layout: per journal, one header line then one
// line per record. The records carry their exact bodies (base64) and hashes, and the
// header the server's receipt and key, so an export verifies offline.
const exportFormat = "shadow.journal.export.v1"

type exportHeader struct {
	Type         string           `json:"type"` // "journal"
	Format       string           `json:"format"`
	JournalID    string           `json:"journal_id"`
	Created      time.Time        `json:"created"`
	Head         api.JournalHead  `json:"head"`
	Acknowledged *Acknowledgement `json:"acknowledged,omitempty"`
	ServerKey    *api.AuditKey    `json:"server_key,omitempty"`
	// Partial marks an export of one session's records: each record's hash is
	// checkable, but the chain up to the receipt needs the whole journal.
	Partial bool   `json:"partial,omitempty"`
	Session string `json:"session,omitempty"`
}

type exportRecord struct {
	Type      string `json:"type"` // "record"
	JournalID string `json:"journal_id"`
	Seq       uint64 `json:"seq"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
	Body      []byte `json:"body"` // the exact hashed bytes
	Synced    bool   `json:"synced"`
	// Record is Body decoded, for people and jq; verify checks it says the same.
	Record api.RecordBody `json:"record"`
}

// Export writes the archive (or one session of it) as JSONL, CSV or OCSF, and says how
// many records it wrote and how many of them the server has not acknowledged.
func (a *Archive) Export(w io.Writer, format, session string) (records, pending int, err error) {
	type part struct {
		jd      *JournalData
		entries []Entry
	}
	var parts []part
	if session == "" {
		for _, jd := range a.Journals {
			parts = append(parts, part{jd, jd.Entries})
		}
	} else {
		_, entries, err := a.Select(session)
		if err != nil {
			return 0, 0, err
		}
		byJournal := map[string]int{}
		for _, e := range entries {
			i, ok := byJournal[e.JournalID]
			if !ok {
				i = len(parts)
				byJournal[e.JournalID] = i
				parts = append(parts, part{jd: a.journal(e.JournalID)})
			}
			parts[i].entries = append(parts[i].entries, e)
		}
	}
	var all []Entry
	for _, p := range parts {
		all = append(all, p.entries...)
	}
	for _, e := range all {
		if !e.Synced {
			pending++
		}
	}
	bw := bufio.NewWriter(w)
	switch format {
	case FormatJSONL, "":
		for _, p := range parts {
			partial := session != "" && len(p.entries) != len(p.jd.Entries)
			if err := writeJSONL(bw, p.jd, p.entries, partial, session); err != nil {
				return 0, 0, err
			}
		}
	case FormatCSV:
		if err := writeCSV(bw, all); err != nil {
			return 0, 0, err
		}
	case FormatOCSF:
		if err := writeOCSF(bw, all); err != nil {
			return 0, 0, err
		}
	default:
		return 0, 0, fmt.Errorf("export: unknown format %q (want %s, %s or %s)", format, FormatJSONL, FormatCSV, FormatOCSF)
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, fmt.Errorf("export: %w", err)
	}
	return len(all), pending, nil
}

// writeLine writes v as one JSON line, every invisible character escaped.
func writeLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := w.Write(append(safetext.EscapeJSON(data), '\n')); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func (a *Archive) journal(id string) *JournalData {
	for _, jd := range a.Journals {
		if jd.ID == id {
			return jd
		}
	}
	return nil
}

func writeJSONL(w io.Writer, jd *JournalData, entries []Entry, partial bool, session string) error {
	h := exportHeader{Type: "journal", Format: exportFormat, JournalID: jd.ID, Created: jd.Created,
		Head: jd.Head, ServerKey: jd.Key, Partial: partial}
	if partial {
		h.Session = session
	}
	if jd.Acked.Seq > 0 {
		ack := jd.Acked
		h.Acknowledged = &ack
	}
	if err := writeLine(w, h); err != nil {
		return err
	}
	for _, e := range entries {
		line := exportRecord{Type: "record", JournalID: e.JournalID, Seq: e.Seq, PrevHash: e.PrevHash.String(),
			Hash: e.Hash.String(), Body: e.Body, Synced: e.Synced, Record: e.Data}
		if err := writeLine(w, line); err != nil {
			return err
		}
	}
	return nil
}

// CSVHeader is the first row of a CSV export: the columns an auditor expects first,
// then the ones that place each record (in the order earlier exports had them), then the
// identities split into their parts. Company is the impersonated user's; Reason is the
// session's, on every row of it.
var CSVHeader = []string{"Timestamp", "Action", "User performing action", "Impersonated user", "Details",
	"Session", "Reason", "Journal", "Seq", "Hash", "Synced",
	"Event ID", "Company", "Admin ID", "Admin email", "User ID", "User email"}

// sessionFacts are what a session's records say once, for every row of it.
type sessionFacts struct{ reason, company string }

func sessionsOf(entries []Entry) map[string]sessionFacts {
	out := map[string]sessionFacts{}
	for _, e := range entries {
		id := e.Data.SessionID
		if id == "" {
			continue
		}
		f := out[id]
		if f.reason == "" {
			f.reason = e.Data.Reason
		}
		if f.company == "" && e.Data.User != nil {
			f.company = e.Data.User.Company
		}
		out[id] = f
	}
	return out
}

// writeCSV writes the human view: one row per record, every invisible character shown
// as <U+XXXX> and no cell a spreadsheet would run as a formula.
func writeCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	sessions := sessionsOf(entries)
	for _, e := range entries {
		d := e.Data
		facts := sessions[d.SessionID]
		reason, company := d.Reason, facts.company
		if reason == "" {
			reason = facts.reason
		}
		user := api.UserRef{}
		if d.User != nil {
			user = *d.User
			if user.Company != "" {
				company = user.Company
			}
		}
		row := []string{
			d.Time.UTC().Format(time.RFC3339), d.Action, userLabel(&d.Actor), userLabel(d.User),
			d.Details, d.SessionID, reason, e.JournalID, strconv.FormatUint(e.Seq, 10),
			e.Hash.String(), strconv.FormatBool(e.Synced),
			d.EventID, company, d.Actor.ID, d.Actor.Email, user.ID, user.Email,
		}
		for i := range row {
			row[i] = csvSafe(safetext.Visible(row[i]))
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from running a cell as a formula, as OWASP recommends:
// a cell that starts with = + - @, a tab or a carriage return (or a NUL, or the
// full-width = + - @ some spreadsheets read alike) gets a leading apostrophe, which
// spreadsheets take for "text" and do not show.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', 0, '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return "'" + s
	}
	return s
}

// userLabel is how a person is named in show and CSV: "Name <email>", or the id.
func userLabel(u *api.UserRef) string {
	switch {
	case u == nil:
		return ""
	case u.Name != "" && u.Email != "":
		return u.Name + " <" + u.Email + ">"
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.ID
}

// verifyExport checks a JSONL export journal by journal.
func verifyExport(r io.Reader, path string, opts VerifyOptions) ([]Report, error) {
	var (
		out    []Report
		cur    *Report
		c      *chain
		header exportHeader
	)
	finish := func() {
		if cur == nil {
			return
		}
		ack := Acknowledgement{}
		if header.Acknowledged != nil {
			ack = *header.Acknowledged
		}
		c.finish(header.Head, ack, header.ServerKey, opts)
		out = append(out, *cur)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), api.MaxRequestBody)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff")) // an editor's byte-order mark
		}
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var probe struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return out, fmt.Errorf("verify %s line %d: not JSON: %w (%s)", path, n, err, firstLine(line))
		}
		switch probe.Type {
		case "journal":
			finish()
			header = exportHeader{}
			if err := json.Unmarshal(line, &header); err != nil || header.Format != exportFormat {
				return out, fmt.Errorf("verify %s line %d: not a %s journal header", path, n, exportFormat)
			}
			cur = &Report{Source: path, JournalID: header.JournalID, Partial: header.Partial}
			ackSeq := uint64(0)
			if header.Acknowledged != nil {
				ackSeq = header.Acknowledged.Seq
			}
			c = newChain(cur, header.JournalID, header.Partial, ackSeq)
		case "record":
			var rec exportRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return out, fmt.Errorf("verify %s line %d: bad record: %w", path, n, err)
			}
			if cur == nil {
				return out, fmt.Errorf("verify %s line %d: a record before any journal header", path, n)
			}
			checkExportRecord(cur, c, header.JournalID, rec)
		default:
			return out, fmt.Errorf("verify %s line %d: unknown line type %q", path, n, probe.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("verify %s: %w", path, err)
	}
	finish()
	if len(out) == 0 {
		return nil, fmt.Errorf("verify %s: no journal in it", path)
	}
	return out, nil
}

func checkExportRecord(r *Report, c *chain, journalID string, rec exportRecord) {
	if rec.JournalID != journalID {
		r.bad(rec.Seq, "belongs to journal %q, inside the export of %q", rec.JournalID, journalID)
		return
	}
	prev, err1 := api.ParseHash(rec.PrevHash)
	hash, err2 := api.ParseHash(rec.Hash)
	if err1 != nil || err2 != nil {
		r.bad(rec.Seq, "unreadable hash")
		return
	}
	c.add(rec.Seq, prev, hash, rec.Body)
	var body api.RecordBody
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		r.bad(rec.Seq, "body is not a record: %v", err)
		return
	}
	// The readable copy is what a person or jq looks at: it must say what was hashed.
	if !reflect.DeepEqual(normalise(body), normalise(rec.Record)) {
		r.bad(rec.Seq, "the readable \"record\" differs from the hashed body")
	}
}

// normalise drops what JSON does not carry (a time's monotonic reading and location).
func normalise(b api.RecordBody) api.RecordBody {
	b.Time = b.Time.UTC().Round(0)
	return b
}

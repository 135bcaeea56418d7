package audit

import (
	"io"
	"strings"

	"github.com/shadowview/shadow/api"
)

// The OCSF export: one event per line, for a SIEM to ingest as it is.
//
// Each record becomes an event of the Open Cybersecurity Schema Framework, version
// ocsfVersion: the session's start, refusal, end and expiry are Authentication events
// (Logon, Logoff: the admin logging on as the user), each view, explanation or failed
// read an API Activity event (Read) made as the impersonated user. Either way actor.user
// is who the request ran as and actor.invoked_by names the admin who acted, so a SIEM
// rule on the user sees the impersonation and one on invoked_by sees the admin. An
// explanation carries its decision in actor.authorizations. What OCSF has no attribute
// for (journal, seq, hashes, sync state, reason, shadow's action) is under unmapped, so
// an event can be traced to the record and its hash.
//
// audit/testdata/ocsf holds the parts of the schema the tests validate these events
// against, with their source.

const ocsfVersion = "1.3.0"

// OCSF classes and their categories.
const (
	ocsfCategoryIAM         = 3
	ocsfCategoryApplication = 6
	ocsfClassAuthentication = 3002
	ocsfClassAPIActivity    = 6003
)

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
}

type ocsfMetadata struct {
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
	UID            string      `json:"uid,omitempty"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LogName        string      `json:"log_name"`
	Sequence       uint64      `json:"sequence"`
	OriginalTime   string      `json:"original_time"`
}

type ocsfOrg struct {
	Name string `json:"name"`
}

type ocsfUser struct {
	UID       string   `json:"uid,omitempty"`
	Name      string   `json:"name,omitempty"`
	FullName  string   `json:"full_name,omitempty"`
	EmailAddr string   `json:"email_addr,omitempty"`
	Org       *ocsfOrg `json:"org,omitempty"`
}

type ocsfSession struct {
	UID string `json:"uid"`
}

type ocsfAuthorization struct {
	Decision string `json:"decision"`
}

type ocsfActor struct {
	User           *ocsfUser           `json:"user,omitempty"`
	InvokedBy      string              `json:"invoked_by,omitempty"`
	AppName        string              `json:"app_name"`
	Session        *ocsfSession        `json:"session,omitempty"`
	Authorizations []ocsfAuthorization `json:"authorizations,omitempty"`
}

type ocsfService struct {
	Name string `json:"name"`
}

type ocsfAPI struct {
	Operation string       `json:"operation"`
	Service   *ocsfService `json:"service,omitempty"`
}

type ocsfEndpoint struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
}

type ocsfUnmapped struct {
	Action    string `json:"shadow_action"`
	JournalID string `json:"journal_id"`
	Seq       uint64 `json:"seq"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
	Synced    bool   `json:"synced"`
	Reason    string `json:"reason,omitempty"`
}

type ocsfEvent struct {
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	Time         int64  `json:"time"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	StatusDetail string `json:"status_detail,omitempty"`
	Message      string `json:"message,omitempty"`

	Metadata    ocsfMetadata `json:"metadata"`
	Actor       ocsfActor    `json:"actor"`
	User        *ocsfUser    `json:"user,omitempty"`    // Authentication
	Service     *ocsfService `json:"service,omitempty"` // Authentication
	Session     *ocsfSession `json:"session,omitempty"` // Authentication
	API         *ocsfAPI     `json:"api,omitempty"`     // API Activity
	SrcEndpoint ocsfEndpoint `json:"src_endpoint"`
	Unmapped    ocsfUnmapped `json:"unmapped"`
}

func writeOCSF(w io.Writer, entries []Entry) error {
	sessions := sessionsOf(entries)
	for _, e := range entries {
		if err := writeLine(w, ocsfOf(e, sessions[e.Data.SessionID])); err != nil {
			return err
		}
	}
	return nil
}

func ocsfUserOf(u *api.UserRef, company string) *ocsfUser {
	if u == nil {
		return nil
	}
	out := &ocsfUser{UID: u.ID, Name: u.Name, FullName: u.Name, EmailAddr: u.Email}
	if out.Name == "" {
		out.Name = u.ID
	}
	if u.Company != "" {
		company = u.Company
	}
	if company != "" {
		out.Org = &ocsfOrg{Name: company}
	}
	return out
}

// ocsfOf maps one record to its OCSF event.
func ocsfOf(e Entry, facts sessionFacts) ocsfEvent {
	d := e.Data
	reason := d.Reason
	if reason == "" {
		reason = facts.reason
	}
	ev := ocsfEvent{
		Time: d.Time.UnixMilli(), SeverityID: 1, Severity: "Informational", StatusID: 1, Status: "Success",
		Message: d.Details,
		Metadata: ocsfMetadata{Version: ocsfVersion, Product: ocsfProduct{Name: "shadow", VendorName: "shadow"},
			UID: d.EventID, CorrelationUID: d.SessionID, LogName: "shadow journal " + e.JournalID, Sequence: e.Seq,
			OriginalTime: d.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")},
		Actor:       ocsfActor{InvokedBy: userLabel(&d.Actor), AppName: "shadow"},
		SrcEndpoint: ocsfEndpoint{UID: e.JournalID, Name: "shadow"},
		Unmapped: ocsfUnmapped{Action: d.Action, JournalID: e.JournalID, Seq: e.Seq, PrevHash: e.PrevHash.String(),
			Hash: e.Hash.String(), Synced: e.Synced, Reason: reason},
	}
	if ev.Actor.InvokedBy == "" {
		ev.Actor.InvokedBy = d.Actor.ID
	}
	if d.SessionID != "" {
		ev.Actor.Session = &ocsfSession{UID: d.SessionID}
	}
	switch d.Action {
	case api.ActionSessionStart, api.ActionSessionRefused, api.ActionSessionEnd, api.ActionSessionExpire:
		ev.ClassUID, ev.ClassName = ocsfClassAuthentication, "Authentication"
		ev.CategoryUID, ev.CategoryName = ocsfCategoryIAM, "Identity & Access Management"
		ev.ActivityID, ev.ActivityName = 1, "Logon"
		if d.Action == api.ActionSessionEnd || d.Action == api.ActionSessionExpire {
			ev.ActivityID, ev.ActivityName = 2, "Logoff"
		}
		ev.Actor.User = ocsfUserOf(&d.Actor, "")
		ev.User = ocsfUserOf(d.User, facts.company)
		if ev.User == nil { // a refusal before the user was known: the subject is unknown
			ev.User = &ocsfUser{Name: "unknown"}
		}
		ev.Service = &ocsfService{Name: "shadow read-only impersonation"}
		ev.Session = ev.Actor.Session
		switch d.Action {
		case api.ActionSessionRefused:
			ev.StatusID, ev.Status = 2, "Failure"
			if code, _, ok := strings.Cut(d.Details, ":"); ok {
				ev.StatusDetail = code
			}
		case api.ActionSessionExpire:
			ev.StatusDetail = "session expired or revoked"
		case api.ActionSessionEnd:
			ev.StatusDetail = "ended by the admin"
		}
	default:
		ev.ClassUID, ev.ClassName = ocsfClassAPIActivity, "API Activity"
		ev.CategoryUID, ev.CategoryName = ocsfCategoryApplication, "Application Activity"
		ev.ActivityID, ev.ActivityName = 2, "Read"
		ev.API = &ocsfAPI{Operation: d.Action, Service: &ocsfService{Name: "shadow read-only impersonation"}}
		ev.Actor.User = ocsfUserOf(d.User, facts.company)
		switch d.Action {
		case api.ActionError:
			ev.StatusID, ev.Status = 2, "Failure"
		case api.ActionExplain:
			if decision := explainDecision(d.Details); decision != "" {
				ev.Actor.Authorizations = []ocsfAuthorization{{Decision: decision}}
			}
		case api.ActionView:
		default: // journal.recovered, and actions of later builds: the journal's own doing
			ev.ActivityID, ev.ActivityName = 99, "Other"
			ev.Actor.User = ocsfUserOf(&d.Actor, "")
		}
	}
	ev.TypeUID = ev.ClassUID*100 + ev.ActivityID
	ev.TypeName = ev.ClassName + ": " + ev.ActivityName
	return ev
}

// explainDecision is the effect an explain record ends with ("explain view on
// dashboard:d-1 (Billing): allow"), or "" when it names none.
func explainDecision(details string) string {
	i := strings.LastIndex(details, ": ")
	if i < 0 {
		return ""
	}
	switch effect := details[i+2:]; effect {
	case api.EffectNameAllow, api.EffectNameDeny, api.EffectNameNone:
		return effect
	}
	return ""
}

package conform

import (
	"context"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
)

// check is one entry of the table. needs names checks that must have passed first
// (else this one is skipped, saying which). A required check must pass for the run to
// pass; an optional one may be skipped (the server does not offer it, or an identity it
// needs was not given) but must not fail.
type check struct {
	id       string
	title    string
	required bool
	needs    []string
	run      func(*run) outcome
}

// checks is the kit, in the order it runs. Adding a check is adding an entry here (and
// its function); docs/CONFORMANCE.md describes each (TestConformanceDocCoversEveryCheck).
var checks = []check{
	{"server.health", "GET /healthz answers 200 {\"status\":\"ok\"}", true, nil, (*run).health},
	{"contract.openapi", "the server serves its OpenAPI 3.1 document, listing every route of the contract", false, []string{"server.health"}, (*run).openAPI},
	{"identity.admin", "the admin identity signs in and may impersonate", true, []string{"server.health"}, (*run).adminIdentity},
	{"identity.others", "the optional identities sign in as what they are said to be", false, []string{"identity.admin"}, (*run).otherIdentities},
	{"errors.envelope", "errors are the envelope with a code sent with its status: 404, 405 with Allow, 401, 400, 415", true, []string{"identity.admin"}, (*run).envelope},
	{"headers.security", "replies carry nosniff, a restrictive CSP, no-referrer and a request id", false, []string{"identity.admin"}, (*run).securityHeaders},
	{"session.start", "a session starts: 201, Location, the session as the contract describes it, at most 30 minutes, no refresh token", true, []string{"identity.admin"}, (*run).startSession},
	{"token.claims", "the impersonation token's claims: sub, act.sub, sid, scope read_only, exp = the session's expiry", false, []string{"session.start"}, (*run).tokenClaims},
	{"me.impersonated", "GET /me with the session's token names the user, the admin as actor, the session, read_only", true, []string{"session.start"}, (*run).meImpersonated},
	{"session.readable", "the session is readable with its own token and the admin's", true, []string{"session.start"}, (*run).sessionReadable},
	{"readonly.unsafe_methods", "every unsafe method on every route, and on paths that are no route, is 403 read_only_impersonation", true, []string{"session.start"}, (*run).unsafeMethods},
	{"readonly.safe_methods", "HEAD and OPTIONS work with the session's token", true, []string{"session.start"}, (*run).safeMethods},
	{"readonly.nested", "GET /users with the session's token is 403 nested_impersonation", true, []string{"session.start"}, (*run).nested},
	{"redaction.markers", "withheld fields are empty and marked: the user's phone, sensitive columns, KPIs and charts", true, []string{"session.start"}, (*run).redactionMarkers},
	{"redaction.own_view", "the user's own token gets the values the session's token was refused", false, []string{"redaction.markers", "identity.others"}, (*run).redactionOwnView},
	{"cache.etag", "200 GET replies carry an ETag, private caching, Vary: Authorization; If-None-Match gets 304", true, []string{"session.start"}, (*run).etag},
	{"cache.scoped", "the user's own view and the session's view of the same reply never share an ETag", false, []string{"cache.etag", "identity.others"}, (*run).etagScoped},
	{"rules.self", "impersonating oneself is 403 self_impersonation", true, []string{"identity.admin"}, (*run).ruleSelf},
	{"rules.reason_required", "a start without a reason is 422 reason_required", true, []string{"identity.admin", "session.start"}, (*run).ruleReasonRequired},
	{"rules.reason_too_long", "a reason over 500 characters is 422 validation_failed on field reason", true, []string{"identity.admin", "session.start"}, (*run).ruleReasonTooLong},
	{"rules.unknown_user", "a start on an unknown user is refused as one outside the caller's scope: 403 target_out_of_scope", true, []string{"identity.admin"}, (*run).ruleUnknownUser},
	{"rules.directory_agrees", "each user the directory says may not be impersonated is refused with the code it gives", true, []string{"identity.admin"}, (*run).ruleDirectoryAgrees},
	{"rules.opted_out", "a user of a company that switched impersonation off is 403 impersonation_disabled", false, []string{"identity.admin"}, (*run).ruleOptedOut},
	{"rules.out_of_scope", "another company's admin gets 403 target_out_of_scope, and 404 for the session", false, []string{"session.start", "identity.others"}, (*run).ruleOutOfScope},
	{"rules.no_permission", "an identity without the impersonate permission is 403 impersonation_forbidden, to start and to list users", false, []string{"identity.others"}, (*run).ruleNoPermission},
	{"journal.empty_head", "an empty range on a new journal answers head {0, 64 zeros} with a receipt", true, []string{"session.start"}, (*run).journalEmptyHead},
	{"journal.append", "genuine records are stored: 200, accepted, the new head", true, []string{"session.start"}, (*run).journalAppend},
	{"journal.duplicate", "an exact resend is accepted as duplicates and stores nothing", true, []string{"journal.append"}, (*run).journalDuplicate},
	{"journal.conflict", "a different record for a held seq is 409 journal_conflict with the head", true, []string{"journal.append"}, (*run).journalConflict},
	{"journal.gap", "a range that skips ahead is 409 journal_gap with the head", true, []string{"journal.append"}, (*run).journalGap},
	{"journal.fork", "a range that does not chain to the head is 409 journal_conflict with the head", true, []string{"journal.append"}, (*run).journalFork},
	{"journal.invalid", "a record whose hash is wrong is 422 validation_failed", true, []string{"journal.append"}, (*run).journalInvalid},
	{"journal.receipt", "every receipt is for the head it came with and verifies with the key of GET /audit/key", true, []string{"journal.append"}, (*run).journalReceipt},
	{"journal.foreign_writer", "another company's admin may not write to the run's journal: 403 forbidden, no head", false, []string{"journal.append", "identity.others"}, (*run).journalForeignWriter},
	{"transparency.user", "the user shadowed is told of the session: who, their organisation, the reason, what was viewed", false, []string{"session.start", "identity.others"}, (*run).transparencyUser},
	{"transparency.company", "the user's company admin is told of it too; another company's admin is not", false, []string{"session.start", "identity.others"}, (*run).transparencyCompany},
	{"revoke.delete", "DELETE ends the session: 204, its token is 401 session_expired at once, state ended", true, []string{"session.start"}, (*run).revokeDelete},
	{"revoke.expiry", "a session past its expiry is refused 401 session_expired, state expired", false, []string{"identity.admin"}, (*run).revokeExpiry},
	{"audit.both_identities", "every request made with the session's token is in the audit log with both identities", true, []string{"session.start"}, (*run).auditBothIdentities},
	{"audit.journal_records", "each journal record synced is one journal.record event, synced by the admin", true, []string{"journal.append"}, (*run).auditJournalRecords},
	{"webhook.delivery", "the target's company is told, signed, of the session's start and end", false, []string{"session.start"}, (*run).webhookDelivery},
}

// identity is one signed-in identity.
type identity struct {
	token string
	me    api.Me
}

func (i *identity) ref() api.UserRef { return i.me.User.Ref() }

// session is a session the kit started.
type session struct {
	api.StartSessionResponse
	received time.Time // when the 201 arrived, by this machine's clock
}

// run is the state the checks share, in table order.
type run struct {
	cfg    Config
	p      *prober
	id     string // this run's id: in the reason, the journal id
	ctx    context.Context
	passed map[string]bool

	admin, user, userAdmin, other *identity
	target                        api.UserRef
	extraPaths                    map[string][]string // from the server's OpenAPI document, beyond api.Routes

	main   *session
	expiry *session
	expErr outcome // why the expiry session could not be had, when it could not

	mu      sync.Mutex
	started []string // every session id the kit got a 201 for
	dash    string   // a dashboard the session may read, for the ETag check

	journal journalState

	hooks *hookReceiver
}

func (r *run) get(path, token string, headers ...string) reply {
	return r.p.do(r.ctx, call{method: "GET", path: path, token: token, headers: headers})
}

func (r *run) send(method, path, token string, body any) reply {
	return r.p.do(r.ctx, call{method: method, path: path, token: token, body: body})
}

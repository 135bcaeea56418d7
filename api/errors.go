package api

import (
	"fmt"
	"net/http"
	"time"
)

// Code is a machine-readable error code. Every error response carries one; clients
// switch on the code, never on the message.
type Code string

// Error codes of the contract, with the HTTP status each is sent with (see Status).
const (
	// 400
	CodeBadRequest Code = "bad_request" // malformed JSON, bad query parameter
	// 401
	CodeUnauthenticated    Code = "unauthenticated"     // no token, bad signature, unknown identity
	CodeInvalidCredentials Code = "invalid_credentials" // login failed
	CodeTokenExpired       Code = "token_expired"       // a staff/user token past its exp
	CodeSessionExpired     Code = "session_expired"     // impersonation session ended, revoked or expired
	// 403
	CodeForbidden              Code = "forbidden"               // the identity may not do this
	CodeReadOnlyImpersonation  Code = "read_only_impersonation" // unsafe method with an impersonation token
	CodeImpersonationForbidden Code = "impersonation_forbidden" // caller lacks the impersonate permission
	CodeTargetOutOfScope       Code = "target_out_of_scope"     // target's company is not one the caller supports
	CodeSelfImpersonation      Code = "self_impersonation"      // target is the caller
	CodeTargetPrivileged       Code = "target_privileged"       // target is admin/staff or not strictly below the caller
	CodeImpersonationDisabled  Code = "impersonation_disabled"  // target's company switched impersonation off
	CodeNestedImpersonation    Code = "nested_impersonation"    // the request already impersonates
	// 404
	CodeNotFound     Code = "not_found"
	CodeUserNotFound Code = "user_not_found"
	// 405
	CodeMethodNotAllowed Code = "method_not_allowed"
	// 409
	CodeJournalConflict Code = "journal_conflict" // a different record already holds that seq
	CodeJournalGap      Code = "journal_gap"      // the range does not start right after the server's head
	// 413
	CodePayloadTooLarge Code = "payload_too_large"
	// 415
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	// 422
	CodeValidation     Code = "validation_failed"
	CodeReasonRequired Code = "reason_required"
	// 429
	CodeRateLimited Code = "rate_limited"
	// 500 / 503
	CodeInternal    Code = "internal"
	CodeUnavailable Code = "unavailable"

	// Journal ingest refuses a record it can prove forged (403): a genuine client never
	// sends one, so a journal that meets one is not this identity's to sync.
	CodeJournalActorMismatch   Code = "journal_actor_mismatch"   // a record's actor is another identity than the uploader
	CodeJournalSessionMismatch Code = "journal_session_mismatch" // a record names a session another identity started
	CodeJournalUserMismatch    Code = "journal_user_mismatch"    // a record's user is not its session's impersonated user
	// 421
	CodeHostNotAllowed Code = "host_not_allowed" // the Host header names no host the server answers to
)

var codeStatus = map[Code]int{
	CodeBadRequest:             http.StatusBadRequest,
	CodeUnauthenticated:        http.StatusUnauthorized,
	CodeInvalidCredentials:     http.StatusUnauthorized,
	CodeTokenExpired:           http.StatusUnauthorized,
	CodeSessionExpired:         http.StatusUnauthorized,
	CodeForbidden:              http.StatusForbidden,
	CodeReadOnlyImpersonation:  http.StatusForbidden,
	CodeImpersonationForbidden: http.StatusForbidden,
	CodeTargetOutOfScope:       http.StatusForbidden,
	CodeSelfImpersonation:      http.StatusForbidden,
	CodeTargetPrivileged:       http.StatusForbidden,
	CodeImpersonationDisabled:  http.StatusForbidden,
	CodeNestedImpersonation:    http.StatusForbidden,
	CodeNotFound:               http.StatusNotFound,
	CodeUserNotFound:           http.StatusNotFound,
	CodeMethodNotAllowed:       http.StatusMethodNotAllowed,
	CodeJournalConflict:        http.StatusConflict,
	CodeJournalGap:             http.StatusConflict,
	CodePayloadTooLarge:        http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType:   http.StatusUnsupportedMediaType,
	CodeValidation:             http.StatusUnprocessableEntity,
	CodeReasonRequired:         http.StatusUnprocessableEntity,
	CodeRateLimited:            http.StatusTooManyRequests,
	CodeInternal:               http.StatusInternalServerError,
	CodeUnavailable:            http.StatusServiceUnavailable,
	CodeJournalActorMismatch:   http.StatusForbidden,
	CodeJournalSessionMismatch: http.StatusForbidden,
	CodeJournalUserMismatch:    http.StatusForbidden,
	CodeHostNotAllowed:         http.StatusMisdirectedRequest,
}

// Codes lists every code of the contract, for tests that must cover them all.
func Codes() []Code {
	out := make([]Code, 0, len(codeStatus))
	for c := range codeStatus {
		out = append(out, c)
	}
	return out
}

// Status is the HTTP status a code is sent with; unknown codes are 500.
func (c Code) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ImpersonationRefusal reports whether the code is one of the reasons a server refuses
// to start an impersonation session (the policy rules, not transport failures).
func (c Code) ImpersonationRefusal() bool {
	switch c {
	case CodeImpersonationForbidden, CodeTargetOutOfScope, CodeSelfImpersonation,
		CodeTargetPrivileged, CodeImpersonationDisabled, CodeNestedImpersonation,
		CodeReasonRequired:
		return true
	}
	return false
}

// ErrorResponse is the body of every non-2xx reply:
//
//	{"error":{"code":"target_privileged","message":"..."}}
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody carries the code, a message written for a person, and optional details.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Head is the server's journal head, sent with journal_gap and journal_conflict so
	// the client can rewind to it.
	Head *JournalHead `json:"head,omitempty"`
	// Field names the offending field of a validation error.
	Field string `json:"field,omitempty"`
	// RetryAfterSeconds mirrors the Retry-After header on 429 and 503.
	RetryAfterSeconds int `json:"retry_after_seconds,omitempty"`
}

// Error makes an ErrorBody an error, so any layer that turned a server reply into an
// error can keep it reachable with errors.As(err, &body) — the journal's sync loop finds
// a journal_gap's Head this way without knowing the client's own error types.
func (b ErrorBody) Error() string {
	if b.Message == "" {
		return string(b.Code)
	}
	return string(b.Code) + ": " + b.Message
}

// NewError builds an ErrorResponse.
func NewError(code Code, format string, args ...any) ErrorResponse {
	return ErrorResponse{Error: ErrorBody{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// Size limits of the contract.
const (
	// MaxRequestBody is the largest request body a server accepts (413 beyond).
	MaxRequestBody = 1 << 20
	// DefaultPageLimit and MaxPageLimit bound ?limit= on paginated routes; larger values
	// are capped, not refused.
	DefaultPageLimit = 50
	MaxPageLimit     = 200
	// MaxJournalBatch is the most records one journal PUT may carry.
	MaxJournalBatch = 500
	// MaxSessionTTL is the longest an impersonation session (and its token) may live.
	MaxSessionTTL = 30 * time.Minute
	// MaxReasonLength bounds the reason a session is started with.
	MaxReasonLength = 500
	// MaxRecordBody is the largest journal record body a server accepts (the shadow
	// client writes at most 1,400 bytes).
	MaxRecordBody = 16 << 10
)

// JournalRefusal reports whether the code is one of the refusals of a journal record the
// server can prove forged. Like forbidden on a journal, it means the journal is not this
// identity's to sync: a client leaves it for its owner rather than retrying.
func (c Code) JournalRefusal() bool {
	switch c {
	case CodeJournalActorMismatch, CodeJournalSessionMismatch, CodeJournalUserMismatch:
		return true
	}
	return false
}

package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// Kinds of failure. Every error a method returns (other than a cancelled context) is an
// *Error whose Kind is one of these, so callers switch with errors.Is:
//
//	if errors.Is(err, client.ErrSessionExpired) { … }
var (
	// ErrUnauthenticated: no token, a token the server does not accept, an expired
	// sign-in, or wrong credentials at login. Sign in again.
	ErrUnauthenticated = errors.New("not signed in")
	// ErrSessionExpired: the impersonation session ended, expired or was revoked; its
	// token is dead and the view is closed.
	ErrSessionExpired = errors.New("impersonation session has ended")
	// ErrNotAllowed: the identity may not do this, including every reason a session
	// may not be started; the server's reason is in the message (and in api.ErrorBody).
	ErrNotAllowed = errors.New("not allowed")
	// ErrReadOnly: a change was attempted with an impersonation token, refused by the
	// server or, before anything was sent, by this client.
	ErrReadOnly = errors.New("impersonation is read-only")
	// ErrNotFound: no such user, dashboard, session or route.
	ErrNotFound = errors.New("not found")
	// ErrValidation: the server refused the request as invalid (bad parameter, missing
	// reason, body too large, unsupported method).
	ErrValidation = errors.New("request refused as invalid")
	// ErrConflict: a journal range conflicts with what the server holds; the server's
	// head is in api.ErrorBody.Head.
	ErrConflict = errors.New("conflict with the server's state")
	// ErrRateLimited: the server asked to slow down; see RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrServer: the server failed (5xx) or answered in a way the contract does not
	// allow (an unexpected status or redirect).
	ErrServer = errors.New("server error")
	// ErrUnreachable: no reply — the connection failed, was refused, or dropped.
	ErrUnreachable = errors.New("server unreachable")
	// ErrTimeout: the server did not answer within the request timeout. A timeout is
	// also ErrUnreachable: for the person at the keyboard both mean "no answer".
	ErrTimeout = errors.New("server did not answer in time")
	// ErrResponseTooLarge: the reply was larger than Options.MaxResponseBytes and was
	// not read.
	ErrResponseTooLarge = errors.New("reply too large")
	// ErrMalformedResponse: the reply was not the JSON the contract promises (invalid,
	// truncated, wrong content type, wrong shape).
	ErrMalformedResponse = errors.New("malformed reply")
)

// Error is what every method returns on failure. Its message is written for a person;
// its fields are for code.
type Error struct {
	Op       string // what was being done, e.g. "open dashboard d-fleet"
	Kind     error  // one of the Err* kinds above
	Status   int    // HTTP status of the reply; 0 when there was none
	Attempts int    // how many requests were sent (0 when refused locally)
	// Body is the server's error envelope, when it sent one. It is also reachable with
	// errors.As(err, &body) for a body of type api.ErrorBody.
	Body *api.ErrorBody
	// RetryAfterDelay is the server's Retry-After, when it sent one. It is also
	// reachable with errors.As(err, &ra) for ra of type interface{ RetryAfter() time.Duration }.
	RetryAfterDelay time.Duration
	// Local is true when the client refused or gave up before sending anything.
	Local bool
	// Err is the underlying cause (transport or decoding error), if any.
	Err error

	// detail is the sentence after Op when the code that met the failure wrote it;
	// otherwise describe writes one from Kind, Status and Body.
	detail string
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.detail
	}
	return e.Op + ": " + e.detail
}

// Unwrap exposes the kind (so errors.Is works), the server's envelope and Retry-After
// (so errors.As works for callers that know only the api package), and the cause.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 5)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Kind == ErrTimeout {
		out = append(out, ErrUnreachable)
	}
	if e.Body != nil {
		out = append(out, *e.Body)
	}
	if e.RetryAfterDelay > 0 {
		out = append(out, retryAfter(e.RetryAfterDelay))
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// StatusCode is the HTTP status of the reply, 0 when there was none. Callers that know
// only the api package (the journal's sync) reach it with errors.As(err, &sc) for sc of
// type interface{ StatusCode() int }.
func (e *Error) StatusCode() int { return e.Status }

// Code is the server's error code, or "" when the server sent none.
func (e *Error) Code() api.Code {
	if e.Body == nil {
		return ""
	}
	return e.Body.Code
}

// retryAfter carries a server's Retry-After through errors.As without making every
// *Error claim to have one.
type retryAfter time.Duration

func (r retryAfter) Error() string             { return "retry after " + time.Duration(r).String() }
func (r retryAfter) RetryAfter() time.Duration { return time.Duration(r) }

// codeKind maps every code of the contract to its kind. A test walks api.Codes(), so a
// code added to the contract without a kind here fails the build's tests.
var codeKind = map[api.Code]error{
	api.CodeBadRequest:             ErrValidation,
	api.CodeUnauthenticated:        ErrUnauthenticated,
	api.CodeInvalidCredentials:     ErrUnauthenticated,
	api.CodeTokenExpired:           ErrUnauthenticated,
	api.CodeSessionExpired:         ErrSessionExpired,
	api.CodeForbidden:              ErrNotAllowed,
	api.CodeReadOnlyImpersonation:  ErrReadOnly,
	api.CodeImpersonationForbidden: ErrNotAllowed,
	api.CodeTargetOutOfScope:       ErrNotAllowed,
	api.CodeSelfImpersonation:      ErrNotAllowed,
	api.CodeTargetPrivileged:       ErrNotAllowed,
	api.CodeImpersonationDisabled:  ErrNotAllowed,
	api.CodeNestedImpersonation:    ErrNotAllowed,
	api.CodeNotFound:               ErrNotFound,
	api.CodeUserNotFound:           ErrNotFound,
	api.CodeMethodNotAllowed:       ErrValidation,
	api.CodeJournalConflict:        ErrConflict,
	api.CodeJournalGap:             ErrConflict,
	api.CodePayloadTooLarge:        ErrValidation,
	api.CodeUnsupportedMediaType:   ErrValidation,
	api.CodeValidation:             ErrValidation,
	api.CodeReasonRequired:         ErrValidation,
	api.CodeRateLimited:            ErrRateLimited,
	api.CodeInternal:               ErrServer,
	api.CodeUnavailable:            ErrServer,
	api.CodeJournalActorMismatch:   ErrNotAllowed,
	api.CodeJournalSessionMismatch: ErrNotAllowed,
	api.CodeJournalUserMismatch:    ErrNotAllowed,
	api.CodeHostNotAllowed:         ErrNotAllowed,
}

// kindOf is the kind for a server reply: by its code when the code is known, else by
// its status, so a server speaking a newer contract still gets a sensible kind.
func kindOf(status int, code api.Code) error {
	if k, ok := codeKind[code]; ok {
		return k
	}
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthenticated
	case status == http.StatusForbidden:
		return ErrNotAllowed
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 400 && status < 500:
		return ErrValidation
	}
	return ErrServer
}

// describe writes the sentence a person reads after the operation's name.
func describe(e *Error) string {
	var msg string
	if e.Body != nil {
		msg = strings.TrimSpace(e.Body.Message)
	}
	or := func(fallback string) string {
		if msg != "" {
			return msg
		}
		return fallback
	}
	var s string
	switch {
	case e.detail != "":
		s = e.detail // written where the failure was understood
	case e.Kind == ErrUnauthenticated:
		switch e.Code() {
		case api.CodeInvalidCredentials:
			s = "wrong email or password"
		case api.CodeTokenExpired:
			s = "your sign-in has expired; sign in again"
		default:
			s = "not signed in, or the server did not accept the sign-in (" + or("no reason given") + "); sign in again"
		}
	case e.Kind == ErrSessionExpired:
		s = "the impersonation session has ended (ended, expired or revoked); start a new session to continue"
		if e.Local {
			s = "the impersonation session has ended; start a new session to continue"
		}
	case e.Kind == ErrNotAllowed:
		s = "not allowed: " + or("the server refused without a reason")
	case e.Kind == ErrReadOnly:
		if e.Local {
			s = "refused before sending: an impersonation session is read-only, so shadow never sends a change with its token"
		} else {
			s = "the server refused a change: an impersonation session is read-only"
		}
	case e.Kind == ErrNotFound:
		s = "not found: " + or("the server has no such thing")
	case e.Kind == ErrValidation:
		s = "the server refused the request: " + or("invalid request")
		if e.Body != nil && e.Body.Field != "" {
			s += " (field " + e.Body.Field + ")"
		}
	case e.Kind == ErrConflict:
		s = "the server holds something different: " + or("conflict")
	case e.Kind == ErrRateLimited:
		s = "the server is busy and asked to slow down"
		if e.RetryAfterDelay > 0 {
			s += "; try again in " + roundDelay(e.RetryAfterDelay)
		} else {
			s += "; try again shortly"
		}
	case e.Kind == ErrServer:
		s = fmt.Sprintf("the server failed (HTTP %d): %s", e.Status, or("no details given"))
		if e.RetryAfterDelay > 0 {
			s += "; it asked to retry in " + roundDelay(e.RetryAfterDelay)
		}
	default:
		s = or("failed")
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func roundDelay(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// newError finishes an *Error: it settles the sentence a person reads.
func newError(e *Error) *Error {
	e.detail = describe(e)
	return e
}

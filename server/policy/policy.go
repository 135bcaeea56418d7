// Package policy decides who may impersonate whom. Each rule that can refuse has its
// own api code and a sentence a person can act on, and the same decision serves both
// the start request and the directory's "impersonable" flag, so the two never
// disagree.
//
// The rules, in the order they are checked:
//  1. a request that already impersonates cannot start another (nested_impersonation);
//  2. the actor must hold the impersonate permission (impersonation_forbidden);
//  3. never yourself (self_impersonation);
//  4. only users of companies the actor may support (target_out_of_scope): staff, the
//     supported companies of their scope; a customer, their own company. It is checked
//     before anything is said about the target, and answered as for an id no user has
//     (Unknown): a refusal must not tell who, or whether anyone, is outside one's
//     scope. Staff asking about staff are told the next rule instead: the vendor's
//     staff are no other tenant's;
//  5. never an admin or staff account (target_privileged);
//  6. never in a company that switched impersonation off (impersonation_disabled);
//  7. only targets whose rank is strictly below the actor's (target_privileged);
//  8. for a customer's impersonator (not vendor staff, whose scope is contractual):
//     only targets holding no permission the actor lacks, and reading nothing the
//     actor cannot read (authz.Subject.Reads: rules, shares and ownership alike) —
//     impersonating must never let someone read what they could not read themselves
//     (target_privileged);
//  9. a reason is required, and bounded (reason_required, validation_failed).
//
// It owns the decision only: no HTTP, no storage, no auditing (the caller audits).
package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
)

// Decision is the outcome of one check: allowed when Code is empty.
type Decision struct {
	Code   api.Code
	Reason string
	// Field names the offending request field for validation refusals.
	Field string
}

// Allowed reports whether the decision lets the session start.
func (d Decision) Allowed() bool { return d.Code == "" }

func refuse(code api.Code, format string, args ...any) Decision {
	return Decision{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Policy is one actor's impersonation rights, computed once and checked against many
// targets (a directory page asks for each of its users).
type Policy struct {
	org    *org.Org
	actor  *org.User
	perms  *authz.Subject // the actor's permissions, for rule 8
	nested *org.User      // the user the request already impersonates, if any
	can    Decision
	scope  map[string]bool // company ids the actor may support
}

// For computes the actor's rights. nestedTarget is the user the request already
// impersonates (nil for the actor's own token).
func For(o *org.Org, actor *org.User, nestedTarget *org.User) *Policy {
	p := &Policy{org: o, actor: actor, nested: nestedTarget, scope: map[string]bool{}, perms: authz.Compile(o, actor)}
	allowed, deny := p.perms.AllowsType(org.ActionImpersonate, org.TypeUser)
	switch {
	case nestedTarget != nil:
		p.can = refuse(api.CodeNestedImpersonation,
			"This request already impersonates %s; sessions cannot be nested. End it and start from your own account.", nestedTarget.Name)
	case deny != nil:
		p.can = refuse(api.CodeImpersonationForbidden,
			"An explicit deny (%s) removes your permission to impersonate.", deny.Name)
	case !allowed:
		p.can = refuse(api.CodeImpersonationForbidden,
			"Your account does not hold the impersonate permission.")
	}
	if !p.can.Allowed() {
		return p
	}
	if actor.Staff() {
		for _, c := range o.Companies() {
			if c.Supported && actor.InSupportScope(c.ID) {
				p.scope[c.ID] = true
			}
		}
	} else if actor.CompanyID != "" {
		p.scope[actor.CompanyID] = true
	}
	return p
}

// Actor says whether the actor may start sessions at all.
func (p *Policy) Actor() Decision { return p.can }

// MaySupport reports whether the actor may impersonate in that company (scope only).
func (p *Policy) MaySupport(companyID string) bool { return p.scope[companyID] }

// Target checks every rule about the target, in order; the first refusal wins.
func (p *Policy) Target(t *org.User) Decision {
	if !p.can.Allowed() {
		return p.can
	}
	if t.ID == p.actor.ID {
		return refuse(api.CodeSelfImpersonation, "You cannot impersonate yourself.")
	}
	company := p.org.Company(t.CompanyID)
	switch {
	case t.Staff() && p.actor.Staff():
		return refuse(api.CodeTargetPrivileged, "%s is support staff; staff accounts are never impersonated.", t.Name)
	case company == nil || !p.scope[company.ID]:
		return Unknown()
	case t.Admin():
		return refuse(api.CodeTargetPrivileged, "%s is a company admin; admin accounts are never impersonated.", t.Name)
	}
	if !company.ImpersonationEnabled {
		return refuse(api.CodeImpersonationDisabled, "%s has switched impersonation off for its users.", company.Name)
	}
	if t.Rank() >= p.actor.Rank() {
		return refuse(api.CodeTargetPrivileged,
			"%s holds privileges equal to or above yours (%s); you may only impersonate users with fewer privileges.", t.Name, t.RoleName())
	}
	if !p.actor.Staff() {
		target := authz.Compile(p.org, t)
		if action, r, missing := target.Missing(p.perms); missing {
			return refuse(api.CodeTargetPrivileged,
				"%s holds a permission you do not (%s on %s); you may only impersonate users whose permissions are within yours.", t.Name, action, r.Name)
		}
		if r, owned, beyond := target.ReadsBeyond(p.perms); beyond {
			how := "may read"
			if owned {
				how = "owns and reads"
			}
			return refuse(api.CodeTargetPrivileged,
				"%s %s %s %s, which you cannot read; impersonating must never let you read what you could not read yourself.", t.Name, how, r.Type, quoted(r.Name))
		}
	}
	return Decision{}
}

// Unknown is the answer for a target outside the actor's scope and for an id no user
// has, alike: the same code and words, naming no one.
func Unknown() Decision {
	return Decision{Code: api.CodeTargetOutOfScope, Field: "user_id",
		Reason: "The user is outside the companies you may support, or there is no such user."}
}

func quoted(s string) string { return "\u201c" + s + "\u201d" }

// Reason validates the reason a session is started with: required, at most
// api.MaxReasonLength characters, and display text by org.TextProblem's rule (it is
// shown in audit logs and terminals).
func Reason(reason string) Decision {
	switch {
	case strings.TrimSpace(reason) == "":
		return Decision{Code: api.CodeReasonRequired, Field: "reason",
			Reason: "A reason is required: a ticket number or a sentence saying why."}
	case utf8.ValidString(reason) && utf8.RuneCountInString(reason) > api.MaxReasonLength:
		return Decision{Code: api.CodeValidation, Field: "reason",
			Reason: fmt.Sprintf("The reason is longer than %d characters.", api.MaxReasonLength)}
	}
	if problem := org.TextProblem(reason); problem != "" {
		return Decision{Code: api.CodeValidation, Field: "reason", Reason: "The reason " + problem + "."}
	}
	return Decision{}
}

// Package authz evaluates permissions: for one user, which actions on which resources
// are allowed, denied or not granted, where each effect comes from (a role held
// directly, a role held through a team or a parent team, a direct grant, an explicit
// deny), and the chain of rules that decided one cell.
//
// The rule of evaluation is: an explicit deny that applies always wins; otherwise the
// first allow that applies decides; otherwise nothing grants it. Row-level data
// visibility is the "view" decision on the row's resource, so dashboards ask here too.
//
// It owns evaluation only. It never mutates the org and never imports net/http.
package authz

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/org"
)

// Subject is one user's compiled rules, ready to decide many cells quickly. Compile
// it once per request; it holds pointers into the org, so build and use it under the
// same read lock.
type Subject struct {
	org  *org.Org
	user *org.User

	rules   []rule
	actions map[string]int    // action -> slot in ruleIndex
	byType  map[string]*slots // resource type -> rules naming every resource of it
	byID    map[string]*slots // resource id -> rules naming that resource
	sources []api.PermissionSource
	steps   []api.ExplainStep // membership and parent-team steps, referenced by rules
}

// slots holds, per action slot, the indices of the allows and denies about one
// target, ascending (priority order). Matrix walks resources sorted by type, so one
// lookup of byType serves a run of rows and cells cost no map access at all.
type slots struct {
	allow, deny [][]int
}

func (s *Subject) slot(action string) int {
	if i, ok := s.actions[action]; ok {
		return i
	}
	return -1
}

// rule is one allow or deny that can apply to the subject.
type rule struct {
	effect org.Effect
	action string
	target org.Target
	scope  *org.Team // team-scoped: only resources of this team's subtree; nil: company-wide
	source int       // index into Subject.sources
	lead   []int     // indices into Subject.steps that lead to this rule
	kind   string    // explain step kind: "role", "grant" or "deny"
	text   string    // explain sentence for the rule itself
}

// Compile gathers every rule that can apply to u: direct grants and denies, roles held
// directly, and for each team u belongs to, that team's and its ancestors' roles,
// grants and denies. Order is priority among allows: direct grants, then direct roles,
// then team rules nearest first.
func Compile(o *org.Org, u *org.User) *Subject {
	s := &Subject{org: o, user: u, actions: map[string]int{}, byType: map[string]*slots{}, byID: map[string]*slots{}}
	for i, a := range org.MatrixActions {
		s.actions[a] = i
	}
	srcIndex := map[api.PermissionSource]int{}
	source := func(ps api.PermissionSource) int {
		if i, ok := srcIndex[ps]; ok {
			return i
		}
		srcIndex[ps] = len(s.sources)
		s.sources = append(s.sources, ps)
		return len(s.sources) - 1
	}
	for _, r := range o.RulesForUser(u.ID) {
		s.addRule(r, nil, nil, source)
	}
	for _, rid := range u.Roles {
		role := o.Role(rid)
		if role == nil {
			continue
		}
		src := source(api.PermissionSource{Kind: api.SourceRole, Name: role.Name})
		for _, p := range role.Perms {
			if !p.TeamScoped {
				s.add(rule{effect: org.Allow, action: p.Action, target: p.Target, source: src, kind: "role",
					text: fmt.Sprintf("Role %s (held directly) allows %s on %s.", role.Name, p.Action, describe(o, p.Target))})
				continue
			}
			for _, tid := range u.Teams {
				t := o.Team(tid)
				if t == nil {
					continue
				}
				lead := []int{s.step("membership", fmt.Sprintf("%s is a member of team %s.", u.Name, t.Path()))}
				s.add(rule{effect: org.Allow, action: p.Action, target: p.Target, scope: t, source: src, lead: lead, kind: "role",
					text: fmt.Sprintf("Role %s (held directly) allows %s on %s of team %s and its sub-teams.", role.Name, p.Action, describe(o, p.Target), t.Path())})
			}
		}
	}
	seen := map[string]bool{}
	for _, mid := range u.Teams {
		member := o.Team(mid)
		if member == nil {
			continue
		}
		lead := []int{s.step("membership", fmt.Sprintf("%s is a member of team %s.", u.Name, member.Path()))}
		chain := o.Chain(mid)
		for i, holder := range chain {
			if i > 0 {
				lead = append(lead[:len(lead):len(lead)], s.step("parent_team",
					fmt.Sprintf("Team %s is part of team %s, so it holds what %s holds.", chain[i-1].Path(), holder.Path(), holder.Name)))
			}
			if seen[holder.ID] {
				continue
			}
			seen[holder.ID] = true
			via := holder.Path()
			if holder != member {
				via = fmt.Sprintf("%s (inherited by %s)", holder.Path(), member.Path())
			}
			for _, rid := range holder.Roles {
				role := o.Role(rid)
				if role == nil {
					continue
				}
				src := source(api.PermissionSource{Kind: api.SourceTeam, Name: role.Name, Via: via})
				for _, p := range role.Perms {
					r := rule{effect: org.Allow, action: p.Action, target: p.Target, source: src, lead: lead, kind: "role",
						text: fmt.Sprintf("Team %s holds role %s, which allows %s on %s.", holder.Path(), role.Name, p.Action, describe(o, p.Target))}
					if p.TeamScoped {
						r.scope = holder
						r.text = fmt.Sprintf("Team %s holds role %s, which allows %s on %s of team %s and its sub-teams.",
							holder.Path(), role.Name, p.Action, describe(o, p.Target), holder.Path())
					}
					s.add(r)
				}
			}
			for _, r := range o.RulesForTeam(holder.ID) {
				s.addRule(r, holder, lead, source)
			}
		}
	}
	return s
}

// addRule adds a grant or deny given to the user (team nil) or to a team.
func (s *Subject) addRule(r *org.Rule, team *org.Team, lead []int, source func(api.PermissionSource) int) {
	var ps api.PermissionSource
	var text, kind string
	whom := s.user.Name
	if team != nil {
		whom = "team " + team.Path()
	}
	what := fmt.Sprintf("%s on %s", r.Action, describe(s.org, r.Target))
	switch r.Effect {
	case org.Deny:
		kind = "deny"
		ps = api.PermissionSource{Kind: api.SourceDeny, Name: r.Label}
		text = fmt.Sprintf("Explicit deny on %s: %s (%s). A deny always wins.", whom, what, r.Label)
	default:
		kind = "grant"
		ps = api.PermissionSource{Kind: api.SourceDirect, Name: r.Label}
		text = fmt.Sprintf("Direct grant to %s: %s (%s).", whom, what, r.Label)
		if team != nil {
			ps.Kind = api.SourceTeam
		}
	}
	if team != nil {
		ps.Via = team.Path()
	}
	s.add(rule{effect: r.Effect, action: r.Action, target: r.Target, source: source(ps), lead: lead, kind: kind, text: text})
}

func (s *Subject) add(r rule) {
	i := len(s.rules)
	s.rules = append(s.rules, r)
	slot, ok := s.actions[r.action]
	if !ok {
		slot = len(s.actions)
		s.actions[r.action] = slot
	}
	index, name := s.byID, r.target.ResourceID
	if name == "" {
		index, name = s.byType, r.target.Type
	}
	sl := index[name]
	if sl == nil {
		sl = &slots{}
		index[name] = sl
	}
	for len(sl.allow) <= slot {
		sl.allow, sl.deny = append(sl.allow, nil), append(sl.deny, nil)
	}
	if r.effect == org.Deny {
		sl.deny[slot] = append(sl.deny[slot], i)
	} else {
		sl.allow[slot] = append(sl.allow[slot], i)
	}
}

func (s *Subject) step(kind, text string) int {
	for i, st := range s.steps {
		if st.Kind == kind && st.Text == text {
			return i
		}
	}
	s.steps = append(s.steps, api.ExplainStep{Kind: kind, Text: text})
	return len(s.steps) - 1
}

// describe names a target for a sentence: "every vehicle" or "Truck N1 (vehicle:acme-n1)".
func describe(o *org.Org, t org.Target) string {
	if t.ResourceID == "" {
		return "every " + t.Type
	}
	if r := o.Resource(t.ResourceID); r != nil {
		return fmt.Sprintf("%s (%s)", r.Name, r.ID)
	}
	return t.ResourceID
}

// User is the subject's user.
func (s *Subject) User() *org.User { return s.user }

// applies reports whether rule i covers resource r, whose owning team is team.
func (s *Subject) applies(i int, r *org.Resource, team *org.Team) bool {
	sc := s.rules[i].scope
	return sc == nil || (team != nil && sc.Contains(team))
}

// decide returns the effect and source index for one cell (-1 for none). typ and id
// are the resource's entries of byType and byID (either may be nil).
func (s *Subject) decide(r *org.Resource, team *org.Team, slot int, typ, id *slots) (byte, int) {
	if slot < 0 || r.CompanyID == "" || r.CompanyID != s.user.CompanyID {
		return api.EffectNone, -1
	}
	if i := s.first(r, team, slot, typ, id, true); i >= 0 {
		return api.EffectDeny, s.rules[i].source
	}
	if i := s.first(r, team, slot, typ, id, false); i >= 0 {
		return api.EffectAllow, s.rules[i].source
	}
	return api.EffectNone, -1
}

// first returns the lowest-numbered deny (or allow) that applies to the cell, or -1.
// Explain walks rules in the same order, so the rule it marks decisive is this one.
func (s *Subject) first(r *org.Resource, team *org.Team, slot int, typ, id *slots, deny bool) int {
	best := -1
	for _, sl := range [2]*slots{id, typ} {
		if sl == nil || slot >= len(sl.allow) {
			continue
		}
		list := sl.allow[slot]
		if deny {
			list = sl.deny[slot]
		}
		for _, i := range list { // ascending
			if best >= 0 && i > best {
				break
			}
			if s.applies(i, r, team) {
				best = i
				break
			}
		}
	}
	return best
}

// lookup decides one cell from scratch.
func (s *Subject) lookup(r *org.Resource, action string) (byte, int) {
	return s.decide(r, s.org.Team(r.TeamID), s.slot(action), s.byType[r.Type], s.byID[r.ID])
}

// Decide returns the effect of action on r for the subject: api.EffectAllow,
// EffectDeny or EffectNone, with its source (nil for none).
func (s *Subject) Decide(r *org.Resource, action string) (byte, *api.PermissionSource) {
	e, src := s.lookup(r, action)
	if src < 0 {
		return e, nil
	}
	ps := s.sources[src]
	return e, &ps
}

// Allows reports whether the subject may do action on the resource with that id.
// Unknown resources are never allowed.
func (s *Subject) Allows(resourceID, action string) bool {
	r := s.org.Resource(resourceID)
	if r == nil {
		return false
	}
	e, _ := s.lookup(r, action)
	return e == api.EffectAllow
}

// Reads is THE answer to "may this subject read that resource?": the subject owns it
// (a dashboard's owner reads it whatever the rules say), or view is allowed on it (a
// role, a team's role, a direct or team grant — a share is one — and no deny). Every
// read the server serves asks it (dashboards and the rows their widgets show, through
// package views), and so does the impersonation policy's never-widen rule (through
// ReadsBeyond): a new kind of grant added here reaches both at once.
func (s *Subject) Reads(r *org.Resource) bool {
	if r == nil || r.CompanyID != s.user.CompanyID {
		return false
	}
	if r.OwnerID != "" && r.OwnerID == s.user.ID {
		return true
	}
	e, _ := s.lookup(r, org.ActionView)
	return e == api.EffectAllow
}

// ReadsID is Reads for the resource with that id; unknown resources are never read.
func (s *Subject) ReadsID(resourceID string) bool { return s.Reads(s.org.Resource(resourceID)) }

// ReadsBeyond finds a resource the subject reads that actor does not, by Reads for
// both, over every resource of the subject's company; ok is false when actor reads
// everything the subject does. owned says the subject reads it as its owner. A type
// actor views company-wide with no deny about it is skipped whole: actor reads all of
// it, whoever owns what.
func (s *Subject) ReadsBeyond(actor *Subject) (r *org.Resource, owned, ok bool) {
	if s.user.CompanyID == "" {
		return nil, false, false
	}
	skip := map[string]bool{}
	for _, res := range s.org.Resources(s.user.CompanyID) {
		whole, seen := skip[res.Type]
		if !seen {
			whole = actor.user.CompanyID == s.user.CompanyID && actor.holdsWholeType(org.ActionView, res.Type)
			skip[res.Type] = whole
		}
		if whole || !s.Reads(res) || actor.Reads(res) {
			continue
		}
		return res, res.OwnerID == s.user.ID, true
	}
	return nil, false, false
}

// AllowsType reports whether the subject holds action on every resource of a type
// (the impersonate permission is such a type-wide permission). When an explicit
// deny removes it, deny names it.
func (s *Subject) AllowsType(action, typ string) (allowed bool, deny *api.PermissionSource) {
	sl, slot := s.byType[typ], s.slot(action)
	if sl == nil || slot < 0 || slot >= len(sl.allow) {
		return false, nil
	}
	if ids := sl.deny[slot]; len(ids) > 0 {
		ps := s.sources[s.rules[ids[0]].source]
		return false, &ps
	}
	return len(sl.allow[slot]) > 0, nil
}

// Matrix is the subject's effective permissions over every resource of their company,
// resources × org.MatrixActions.
func (s *Subject) Matrix() api.PermissionMatrix { return s.Cells().Matrix() }

// Cells is Matrix before its wire rows are built: what an encoder walks to write the
// rows without holding 50,000 of them (server's appendMatrix).
func (s *Subject) Cells() *Cells { return s.cells(s.org.Resources(s.user.CompanyID)) }

// Cells is a matrix as evaluated: the reply's other fields, the resources in order,
// and each row's effects and sources as one flat run per row. Unlike a Subject it may
// be read after the org's read lock is released: it points only at resources, which
// the org replaces and never changes in place (copy-on-write).
type Cells struct {
	// Head is the reply without its rows (Rows nil): subject, actions, sources table,
	// and for a page NextCursor and TotalRows.
	Head    api.PermissionMatrix
	res     []*org.Resource
	effects string
	sources []int
}

// Len is the number of rows.
func (c *Cells) Len() int { return len(c.res) }

// Row is row i's wire form.
func (c *Cells) Row(i int) api.PermissionRow {
	n := len(c.Head.Actions)
	return api.PermissionRow{Resource: APIResource(c.res[i]), Effects: c.effects[i*n : (i+1)*n], Sources: c.sources[i*n : (i+1)*n : (i+1)*n]}
}

// Matrix is the reply with its rows.
func (c *Cells) Matrix() api.PermissionMatrix {
	m := c.Head
	m.Rows = make([]api.PermissionRow, len(c.res))
	for i := range c.res {
		m.Rows[i] = c.Row(i)
	}
	return m
}

// cells evaluates the subject's matrix over res, a run of their company's resources
// in order (all of them, or a page).
func (s *Subject) cells(res []*org.Resource) *Cells {
	c := &Cells{Head: api.PermissionMatrix{Subject: s.user.Ref(), Actions: org.MatrixActions, Sources: s.sources}, res: res}
	if c.Head.Sources == nil {
		c.Head.Sources = []api.PermissionSource{}
	}
	n := len(org.MatrixActions)
	// One array for every row's sources, and one string for every row's effects:
	// 50,000 rows would otherwise be 100,000 small allocations.
	effects := make([]byte, len(res)*n)
	sources := make([]int, len(res)*n)
	var team *org.Team
	var typ *slots
	// A resource no rule names by id is decided by its type's rules and its team
	// alone, so within a run of one type the first such row of each team serves the
	// others: 50,000 generated assets of six teams are six rows' work.
	var like map[*org.Team]int
	for i, r := range res {
		if i == 0 || r.TeamID != res[i-1].TeamID {
			team = s.org.Team(r.TeamID)
		}
		if i == 0 || r.Type != res[i-1].Type {
			typ = s.byType[r.Type]
			like = map[*org.Team]int{}
		}
		id := s.byID[r.ID]
		e, src := effects[i*n:(i+1)*n], sources[i*n:(i+1)*n:(i+1)*n]
		if j, ok := like[team]; ok && id == nil && r.CompanyID == res[j].CompanyID {
			copy(e, effects[j*n:(j+1)*n])
			copy(src, sources[j*n:(j+1)*n])
			continue
		}
		for a := range org.MatrixActions { // the first len(MatrixActions) slots are these
			e[a], src[a] = s.decide(r, team, a, typ, id)
		}
		if id == nil {
			like[team] = i
		}
	}
	c.effects, c.sources = string(effects), sources
	return c
}

// APIResource is the wire form of a resource.
func APIResource(r *org.Resource) api.Resource {
	return api.Resource{ID: r.ID, Type: r.Type, Name: r.Name}
}

// Explain returns the chain of rules behind one cell: every rule about this action and
// resource (type) that the subject holds, the team memberships leading to each, and
// which one decided. Rules whose team scope does not cover the resource are listed as
// near misses, so "why not?" has an answer too.
func (s *Subject) Explain(r *org.Resource, action string) api.Explanation {
	ex := api.Explanation{Subject: s.user.Ref(), Resource: APIResource(r), Action: action, Effect: api.EffectNameNone}
	team := s.org.Team(r.TeamID)
	if r.CompanyID != s.user.CompanyID {
		ex.Steps = []api.ExplainStep{{Kind: "default", Effect: api.EffectNameNone, Decisive: true,
			Text: fmt.Sprintf("%s belongs to another company than %s; nothing applies.", r.Name, s.user.Name)}}
		return ex
	}
	effect, _ := s.lookup(r, action)
	emitted := map[int]bool{}
	decided := false
	// Allows first, then denies: the chain reads "this allows it … but this deny wins".
	order := make([]int, 0, len(s.rules))
	for _, deny := range []bool{false, true} {
		for i, rl := range s.rules {
			if (rl.effect == org.Deny) == deny && rl.action == action && rl.target.Matches(r) {
				order = append(order, i)
			}
		}
	}
	for _, i := range order {
		rl := s.rules[i]
		for _, st := range rl.lead {
			if !emitted[st] {
				emitted[st] = true
				ex.Steps = append(ex.Steps, s.steps[st])
			}
		}
		step := api.ExplainStep{Kind: rl.kind, Text: rl.text}
		switch {
		case !s.applies(i, r, team):
			owner := "no team"
			if team != nil {
				owner = "team " + team.Path()
			}
			step.Text += fmt.Sprintf(" It does not cover %s, which belongs to %s.", r.Name, owner)
		case rl.effect == org.Deny:
			step.Effect = api.EffectNameDeny
			if !decided {
				step.Decisive, decided = true, true
			}
		default:
			step.Effect = api.EffectNameAllow
			if effect == api.EffectDeny {
				step.Text += " An explicit deny overrides it."
			} else if !decided {
				step.Decisive, decided = true, true
			}
		}
		ex.Steps = append(ex.Steps, step)
	}
	switch effect {
	case api.EffectAllow:
		ex.Effect = api.EffectNameAllow
	case api.EffectDeny:
		ex.Effect = api.EffectNameDeny
	default:
		ex.Steps = append(ex.Steps, api.ExplainStep{Kind: "default", Effect: api.EffectNameNone, Decisive: true,
			Text: fmt.Sprintf("Nothing grants %s on %s to %s, so it is not allowed.", action, r.Name, s.user.Name)})
	}
	return ex
}

// Reach says in words which resources of a type the subject may view, for a
// dashboard's scope line: "all of Acme Logistics", "team North and its sub-teams", or
// "nothing".
func (s *Subject) Reach(typ string) string {
	var teams []string
	seen := map[string]bool{}
	sl, slot := s.byType[typ], s.slot(org.ActionView)
	if sl == nil || slot >= len(sl.allow) {
		return "nothing"
	}
	for _, i := range sl.allow[slot] {
		sc := s.rules[i].scope
		if sc == nil {
			return "all of " + s.org.CompanyName(s.user.CompanyID)
		}
		if !seen[sc.ID] {
			seen[sc.ID] = true
			teams = append(teams, "team "+sc.Path()+" and its sub-teams")
		}
	}
	switch len(teams) {
	case 0:
		return "nothing"
	case 1:
		return teams[0]
	}
	out := teams[0]
	for _, t := range teams[1 : len(teams)-1] {
		out += ", " + t
	}
	return out + " and " + teams[len(teams)-1]
}

// Missing finds a permission the subject holds that actor does not: an action on a
// resource of their company the subject may do and actor may not. It is how the
// impersonation policy tells that a target's privileges are not below a customer
// impersonator's (impersonating must never widen what the actor can read). ok is
// false when actor holds everything the subject does.
//
// It checks, for each (action, type) the subject's allows name, every resource of
// that type — unless actor holds that action on the whole type company-wide with no
// deny about it, which covers any resource at once (a company admin, always).
func (s *Subject) Missing(actor *Subject) (action string, r *org.Resource, ok bool) {
	if s.user.CompanyID == "" || s.user.CompanyID != actor.user.CompanyID {
		return "", nil, false
	}
	resources := s.org.Resources(s.user.CompanyID)
	checked := map[[2]string]bool{}
	for _, rl := range s.rules {
		if rl.effect != org.Allow {
			continue
		}
		pair := [2]string{rl.action, rl.target.Type}
		if checked[pair] {
			continue
		}
		checked[pair] = true
		if actor.holdsWholeType(rl.action, rl.target.Type) {
			continue
		}
		from := sort.Search(len(resources), func(i int) bool { return resources[i].Type >= rl.target.Type })
		for _, res := range resources[from:] {
			if res.Type != rl.target.Type {
				break
			}
			if e, _ := s.lookup(res, rl.action); e != api.EffectAllow {
				continue
			}
			if e, _ := actor.lookup(res, rl.action); e != api.EffectAllow {
				return rl.action, res, true
			}
		}
	}
	return "", nil, false
}

// holdsWholeType reports whether the subject may do action on every resource of typ in
// their company: a company-wide allow of the type and no deny about it at all.
func (s *Subject) holdsWholeType(action, typ string) bool {
	slot := s.slot(action)
	if slot < 0 {
		return false
	}
	sl := s.byType[typ]
	if sl == nil || slot >= len(sl.allow) || len(sl.deny[slot]) > 0 {
		return false
	}
	wide := false
	for _, i := range sl.allow[slot] {
		wide = wide || s.rules[i].scope == nil
	}
	if !wide {
		return false
	}
	for id, ids := range s.byID {
		if strings.HasPrefix(id, typ+":") && slot < len(ids.deny) && len(ids.deny[slot]) > 0 {
			return false
		}
	}
	return true
}

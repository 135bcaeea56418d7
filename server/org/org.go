// Package org is the reference server's organisation model: companies (tenants, each
// with an impersonation switch), teams and sub-teams, roles made of atomic permissions,
// users and support staff, direct grants and explicit denies, the resources permissions
// are about, dashboards, and the per-company data their widgets are computed from. It
// also builds the demo organisation and large generated ones, deterministically.
//
// It owns the data and its indexes. It decides nothing about who may see or do what
// (authz, policy and views do), and must never import net/http or a storage engine.
//
// Concurrency: entities are copy-on-write. A mutation replaces a *User or *Dashboard
// with a changed copy, so a pointer a reader already holds never changes under it.
// The Org's maps are not safe for concurrent mutation: the server holds a read lock
// for lookups and a write lock for the Set*/Add*/Delete* methods.
package org

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// Actions a permission can name. MatrixActions are the columns of the permission
// matrix; ActionImpersonate is checked on the resource type TypeUser only.
const (
	ActionView        = "view"
	ActionCreate      = "create"
	ActionEdit        = "edit"
	ActionDelete      = "delete"
	ActionShare       = "share"
	ActionExport      = "export"
	ActionImpersonate = "impersonate"
)

// MatrixActions are the actions of the permission matrix, in column order.
var MatrixActions = []string{ActionView, ActionCreate, ActionEdit, ActionDelete, ActionShare, ActionExport}

// Resource types.
const (
	TypeVehicle   = "vehicle"
	TypeDriver    = "driver"
	TypeSite      = "site"
	TypeInvoice   = "invoice"
	TypeReport    = "report"
	TypeDashboard = "dashboard"
	TypeAsset     = "asset" // generated resources of a large org
	TypeUser      = "user"  // only for ActionImpersonate
)

// Company is a tenant.
type Company struct {
	ID   string
	Name string
	// ImpersonationEnabled is the customer's switch: off means nobody, staff or their
	// own admins, may impersonate its users.
	ImpersonationEnabled bool
	// Supported says the company is within support staff's scope (it has a support
	// contract). Its own admins may impersonate inside it either way.
	Supported bool
}

// Team is a group of users in one company; ParentID makes sub-teams.
type Team struct {
	ID        string
	CompanyID string
	Name      string
	ParentID  string
	// Roles are held by every member of this team and of its sub-teams. A team-scoped
	// permission of such a role covers the resources of this team's subtree.
	Roles []string

	path    string
	in, out int // Euler-tour interval: t is in a's subtree iff a.in <= t.in < a.out
}

// Path is the team's name with its ancestors', e.g. "North / North-East".
func (t *Team) Path() string { return t.path }

// Target is what a permission, grant or deny is about: every resource of a type
// (ResourceID empty) or one resource.
type Target struct {
	Type       string
	ResourceID string
}

// AllOf targets every resource of a type.
func AllOf(typ string) Target { return Target{Type: typ} }

// One targets a single resource, whose type is the part of its ID before ':'.
func One(resourceID string) Target {
	typ, _, _ := strings.Cut(resourceID, ":")
	return Target{Type: typ, ResourceID: resourceID}
}

// Matches reports whether the target covers resource r.
func (t Target) Matches(r *Resource) bool {
	if t.ResourceID != "" {
		return t.ResourceID == r.ID
	}
	return t.Type == r.Type
}

func (t Target) String() string {
	if t.ResourceID != "" {
		return t.ResourceID
	}
	return t.Type + ":*"
}

// Perm is one atomic permission of a role: an action on a target. A TeamScoped
// permission covers only resources owned by the holder's team subtree; otherwise it
// covers every matching resource of the holder's company.
type Perm struct {
	Action     string
	Target     Target
	TeamScoped bool
}

// Role is a named set of permissions with a rank: impersonation requires the target's
// rank to be strictly below the actor's. Admin and Staff roles make their holder
// never impersonable.
type Role struct {
	ID          string
	Name        string
	Rank        int
	Admin       bool // a customer's company admin
	Staff       bool // the vendor's support staff
	Description string
	Perms       []Perm
}

// Effect of a Rule.
type Effect int

const (
	Allow Effect = iota // a direct grant
	Deny                // an explicit deny; always wins
)

// Rule is a direct grant or an explicit deny, to one user (UserID) or to a team
// (TeamID; it then applies to members of the team and its sub-teams).
type Rule struct {
	ID     string
	Effect Effect
	UserID string
	TeamID string
	Action string
	Target Target
	Label  string // says why, e.g. "shared by Nora Lindqvist"
}

// Resource is one thing permissions are about. TeamID, when set, is the owning team,
// which team-scoped permissions are checked against.
type Resource struct {
	ID        string // "vehicle:acme-n1"
	Type      string
	Name      string
	CompanyID string
	TeamID    string
	// OwnerID is the user who owns the resource (a dashboard's owner), who may read it
	// whatever the rules say; empty for resources nobody owns.
	OwnerID string
}

// User is a customer's user or a staff account.
type User struct {
	ID        string
	Name      string
	Email     string
	Phone     string // personal contact data: sensitive
	Kind      string // api.KindUser or api.KindStaff
	CompanyID string // empty for staff
	Teams     []string
	Roles     []string // held directly
	// SupportScope lists the companies a staff member may support; nil means every
	// company that is Supported.
	SupportScope []string
	// PasswordHash is a bcrypt hash; PasswordVersion changes with the password, and
	// tokens carry it so a password change signs out every older token.
	PasswordHash    []byte
	PasswordVersion int
	Settings        api.Settings

	// Derived by the Org from roles and teams; read with the methods below.
	rank     int
	admin    bool
	pos      int32 // place in Org.users, so SetUser replaces it without a search
	roleName string
	teamPath string
}

// InSupportScope reports whether a staff member's listed support scope names the
// company; a staff member with no list is vendor-wide. (Whether the company has a
// support contract is policy's question, not this one.)
func (u *User) InSupportScope(companyID string) bool {
	return u.SupportScope == nil || slices.Contains(u.SupportScope, companyID)
}

// Rank is the highest rank of any role the user holds, directly or through a team.
func (u *User) Rank() int { return u.rank }

// Admin reports whether the user holds a company admin role.
func (u *User) Admin() bool { return u.admin }

// Staff reports whether the user is the vendor's support staff.
func (u *User) Staff() bool { return u.Kind == api.KindStaff }

// RoleName is the display name of the user's highest role.
func (u *User) RoleName() string { return u.roleName }

// TeamPath is the path of the user's primary team.
func (u *User) TeamPath() string { return u.teamPath }

// Ref returns the api reference to u.
func (u *User) Ref() api.UserRef { return api.UserRef{ID: u.ID, Name: u.Name, Email: u.Email} }

// Dashboard is a dashboard's metadata. Template names the widget set the views
// package computes for it; a user-made dashboard has none and no widgets.
type Dashboard struct {
	ID          string
	CompanyID   string
	OwnerID     string
	Title       string
	Description string
	Template    string
	UpdatedAt   time.Time
}

// ResourceID is the permission resource standing for the dashboard.
func (d *Dashboard) ResourceID() string { return TypeDashboard + ":" + d.ID }

func (d *Dashboard) resource() *Resource {
	return &Resource{ID: d.ResourceID(), Type: TypeDashboard, Name: d.Title, CompanyID: d.CompanyID, OwnerID: d.OwnerID}
}

// Org is the whole organisation with its indexes.
type Org struct {
	// Epoch anchors every date of the demo data (the day the org was built), so the
	// same seed and clock give byte-identical data.
	Epoch time.Time

	companies   []*Company
	companyByID map[string]*Company
	teams       map[string]*Team
	roles       map[string]*Role

	users       []*User
	userByID    map[string]*User
	userByEmail map[string]*User

	resources    map[string][]*Resource // by company, sorted by type then name
	resourceByID map[string]*Resource

	rules       []*Rule
	rulesByUser map[string][]*Rule
	rulesByTeam map[string][]*Rule

	dashboards          map[string]*Dashboard
	dashboardsByCompany map[string][]*Dashboard

	data map[string]*Dataset

	directory *Directory // company and staff-scope directories are views of it
}

// Companies lists every company in a stable order.
func (o *Org) Companies() []*Company { return o.companies }

// Company returns the company with that id, or nil.
func (o *Org) Company(id string) *Company { return o.companyByID[id] }

// CompanyName returns the company's display name, or "" for staff and unknown ids.
func (o *Org) CompanyName(id string) string {
	if c := o.companyByID[id]; c != nil {
		return c.Name
	}
	return ""
}

// Team returns the team with that id, or nil.
func (o *Org) Team(id string) *Team { return o.teams[id] }

// TeamsOf lists the teams of a company, sorted by path.
func (o *Org) TeamsOf(companyID string) []*Team {
	var out []*Team
	for _, t := range o.teams {
		if t.CompanyID == companyID {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// Role returns the role with that id, or nil.
func (o *Org) Role(id string) *Role { return o.roles[id] }

// Users lists every user and staff account in a stable order.
func (o *Org) Users() []*User { return o.users }

// User returns the user with that id, or nil.
func (o *Org) User(id string) *User { return o.userByID[id] }

// UserByEmail returns the user with that email (case-insensitive), or nil.
func (o *Org) UserByEmail(email string) *User {
	return o.userByEmail[normEmail(email)]
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// Resources lists a company's resources sorted by type, then name.
func (o *Org) Resources(companyID string) []*Resource { return o.resources[companyID] }

// Resource returns the resource with that id, or nil.
func (o *Org) Resource(id string) *Resource { return o.resourceByID[id] }

// RulesForUser lists the grants and denies given to the user directly.
func (o *Org) RulesForUser(userID string) []*Rule { return o.rulesByUser[userID] }

// RulesForTeam lists the grants and denies given to the team.
func (o *Org) RulesForTeam(teamID string) []*Rule { return o.rulesByTeam[teamID] }

// Dashboard returns the dashboard with that id, or nil.
func (o *Org) Dashboard(id string) *Dashboard { return o.dashboards[id] }

// Dashboards lists a company's dashboards in a stable order.
func (o *Org) Dashboards(companyID string) []*Dashboard { return o.dashboardsByCompany[companyID] }

// Dataset returns the data a company's widgets are computed from (never nil).
func (o *Org) Dataset(companyID string) *Dataset {
	if d := o.data[companyID]; d != nil {
		return d
	}
	return &Dataset{}
}

// Chain returns the team followed by its ancestors, nearest first.
func (o *Org) Chain(teamID string) []*Team {
	var out []*Team
	for t := o.teams[teamID]; t != nil; t = o.teams[t.ParentID] {
		out = append(out, t)
		if len(out) > 64 { // a cycle would be a seed bug; never loop forever on it
			break
		}
	}
	return out
}

// InSubtree reports whether team teamID is ancestorID or one of its descendants.
func (o *Org) InSubtree(ancestorID, teamID string) bool {
	return o.teams[ancestorID].Contains(o.teams[teamID])
}

// Directory returns the search index of every user (what staff see).
func (o *Org) Directory() *Directory { return o.directory }

// StaffDirectory returns the search index a staff member searches: every staff
// account and the users of the companies in their listed support scope (every
// company, for vendor-wide staff). A listed scope is a view of Directory (Within),
// the union of those companies' entries: no index of its own, so nothing to cache.
func (o *Org) StaffDirectory(staff *User) *Directory {
	if staff.SupportScope == nil {
		return o.directory
	}
	return o.directory.Within(append([]string{""}, staff.SupportScope...)...) // "": the staff accounts
}

// CompanyDirectory returns the search index of one company's users: a view of
// Directory, so it costs no index of its own.
func (o *Org) CompanyDirectory(companyID string) *Directory {
	if companyID == "" {
		return emptyDirectory // staff belong to no company
	}
	return o.directory.Within(companyID)
}

// SetUser replaces a user with an updated copy (copy-on-write) and refreshes the
// indexes its name or email feed. The id must exist and must not change.
func (o *Org) SetUser(u *User) error {
	old := o.userByID[u.ID]
	if old == nil {
		return fmt.Errorf("set user %s: no such user", u.ID)
	}
	if normEmail(u.Email) != normEmail(old.Email) {
		if other := o.userByEmail[normEmail(u.Email)]; other != nil {
			return fmt.Errorf("set user %s: email already used by %s", u.ID, other.ID)
		}
		delete(o.userByEmail, normEmail(old.Email))
	}
	o.derive(u)
	o.userByID[u.ID] = u
	o.userByEmail[normEmail(u.Email)] = u
	u.pos = old.pos
	if int(u.pos) >= len(o.users) || o.users[u.pos] != old {
		u.pos = int32(slices.Index(o.users, old)) // unreachable while every user is seeded
	}
	o.users[u.pos] = u
	// The directory re-files the one entry (its bitmaps of the old and new text), and
	// points at u even when its text is unchanged, so a page never lists a stale copy.
	if !o.directory.ix.edit(old, u, o.CompanyName) {
		o.reindexDirectories()
	}
	return nil
}

// SetDashboard adds or replaces a dashboard (copy-on-write) and its resource.
func (o *Org) SetDashboard(d *Dashboard) error {
	if o.companyByID[d.CompanyID] == nil {
		return fmt.Errorf("set dashboard %s: no company %q", d.ID, d.CompanyID)
	}
	if old := o.dashboards[d.ID]; old != nil && old.CompanyID != d.CompanyID {
		return fmt.Errorf("set dashboard %s: cannot move it to another company", d.ID)
	}
	_, existed := o.dashboards[d.ID]
	o.dashboards[d.ID] = d
	next := make([]*Dashboard, 0, len(o.dashboardsByCompany[d.CompanyID])+1)
	for _, x := range o.dashboardsByCompany[d.CompanyID] {
		if x.ID == d.ID {
			x = d // keep its place in the list
		}
		next = append(next, x)
	}
	if !existed {
		next = append(next, d)
	}
	o.dashboardsByCompany[d.CompanyID] = next
	o.putResource(d.resource())
	return nil
}

// DeleteDashboard removes a dashboard, its resource, and the grants and denies that
// named it. It reports whether the dashboard existed.
func (o *Org) DeleteDashboard(id string) bool {
	d := o.dashboards[id]
	if d == nil {
		return false
	}
	delete(o.dashboards, id)
	o.dashboardsByCompany[d.CompanyID] = without(o.dashboardsByCompany[d.CompanyID], func(x *Dashboard) bool { return x.ID == id })
	o.removeResource(d.ResourceID())
	o.rules = without(o.rules, func(r *Rule) bool { return r.Target.ResourceID == d.ResourceID() })
	o.indexRules()
	return true
}

// AddRule adds a grant or deny. Its user or team must exist.
func (o *Org) AddRule(r *Rule) error {
	if (r.UserID == "") == (r.TeamID == "") {
		return fmt.Errorf("rule %s: exactly one of user and team must be set", r.ID)
	}
	if r.UserID != "" && o.userByID[r.UserID] == nil {
		return fmt.Errorf("rule %s: no user %q", r.ID, r.UserID)
	}
	if r.TeamID != "" && o.teams[r.TeamID] == nil {
		return fmt.Errorf("rule %s: no team %q", r.ID, r.TeamID)
	}
	for _, x := range o.rules {
		if x.ID == r.ID {
			return fmt.Errorf("rule %s: already exists", r.ID)
		}
	}
	o.rules = append(o.rules, r)
	o.indexRules()
	return nil
}

// Rules lists every grant and deny.
func (o *Org) Rules() []*Rule { return o.rules }

func (o *Org) indexRules() {
	o.rulesByUser = map[string][]*Rule{}
	o.rulesByTeam = map[string][]*Rule{}
	for _, r := range o.rules {
		if r.UserID != "" {
			o.rulesByUser[r.UserID] = append(o.rulesByUser[r.UserID], r)
		} else {
			o.rulesByTeam[r.TeamID] = append(o.rulesByTeam[r.TeamID], r)
		}
	}
}

func resourceLess(a, b *Resource) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}

// putResource inserts or replaces a resource, keeping the company's list sorted. The
// list is replaced, not edited, so a reader holding the old slice is unaffected.
func (o *Org) putResource(r *Resource) {
	next := without(o.resources[r.CompanyID], func(x *Resource) bool { return x.ID == r.ID })
	i := sort.Search(len(next), func(i int) bool { return !resourceLess(next[i], r) })
	next = append(next, nil)
	copy(next[i+1:], next[i:])
	next[i] = r
	o.resources[r.CompanyID] = next
	o.resourceByID[r.ID] = r
}

func (o *Org) removeResource(id string) {
	r := o.resourceByID[id]
	if r == nil {
		return
	}
	delete(o.resourceByID, id)
	o.resources[r.CompanyID] = without(o.resources[r.CompanyID], func(x *Resource) bool { return x.ID == id })
}

// without returns a new slice of list's items that drop() does not match: a fresh
// slice, so readers holding the old one are unaffected (copy-on-write).
func without[T any](list []T, drop func(T) bool) []T {
	out := make([]T, 0, len(list)+1)
	for _, x := range list {
		if !drop(x) {
			out = append(out, x)
		}
	}
	return out
}

// derive computes a user's rank, admin flag, highest role name and team path from
// the roles held directly and through teams (with their ancestors).
func (o *Org) derive(u *User) {
	u.rank, u.admin, u.roleName = 0, false, ""
	consider := func(roleID string) {
		r := o.roles[roleID]
		if r == nil {
			return
		}
		if r.Admin {
			u.admin = true
		}
		if r.Rank > u.rank || u.roleName == "" {
			u.rank, u.roleName = r.Rank, r.Name
		}
	}
	for _, id := range u.Roles {
		consider(id)
	}
	for _, tid := range u.Teams {
		for _, t := range o.Chain(tid) {
			for _, id := range t.Roles {
				consider(id)
			}
		}
	}
	u.teamPath = ""
	if len(u.Teams) > 0 {
		if t := o.teams[u.Teams[0]]; t != nil {
			u.teamPath = t.path
		}
	}
}

// Contains reports whether other is t or one of t's descendants.
func (t *Team) Contains(other *Team) bool {
	return t != nil && other != nil && t.in <= other.in && other.in < t.out
}

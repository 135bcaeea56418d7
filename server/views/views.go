// Package views computes what one viewer sees: their dashboards with every widget's
// data computed as them (row-level: a row is visible when the viewer may view the
// resource it belongs to), and the API form of users. With Redact set (an
// impersonation token) sensitive fields, billing and personal contact data, are
// withheld and marked so, never silently blanked.
//
// It owns presentation of domain data as api types. It never mutates the org, never
// decides permissions itself (authz does) and never imports net/http.
package views

import (
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server/authz"
	"github.com/shadowview/shadow/server/org"
)

// Viewer is who a response is computed for.
type Viewer struct {
	Subject *authz.Subject
	// Redact withholds sensitive fields: set for impersonation tokens.
	Redact bool
}

func (v Viewer) user() *org.User { return v.Subject.User() }

// RedactedPhone is the field name listed in api.User.Redacted when the phone is withheld.
const RedactedPhone = "phone"

// User is the api form of u. With redact, the phone (personal contact data) is
// withheld and listed in Redacted.
func User(o *org.Org, u *org.User, redact bool) api.User {
	out := api.User{
		ID: u.ID, Name: u.Name, Email: u.Email, Kind: u.Kind,
		CompanyID: u.CompanyID, Company: o.CompanyName(u.CompanyID),
		Team: u.TeamPath(), Role: u.RoleName(), Phone: u.Phone,
	}
	if redact {
		out.Phone = ""
		out.Redacted = []string{RedactedPhone}
	}
	return out
}

// DirectoryUser is u as the directory lists it: who they are, never their personal
// contact data (the phone), which only the user's own replies carry.
func DirectoryUser(o *org.Org, u *org.User) api.User {
	out := User(o, u, false)
	out.Phone = ""
	return out
}

// CanView reports whether the viewer may read the dashboard: authz.Subject.Reads, the
// one rule of what someone can read (its owner always may; anyone else needs view on
// it — a role, a grant or a share — and a deny wins).
func CanView(v Viewer, d *org.Dashboard) bool {
	return v.Subject.ReadsID(d.ResourceID())
}

// CanDo reports whether the viewer may do action (edit, delete, share) on the
// dashboard: its owner may do anything; others need the permission.
func CanDo(v Viewer, d *org.Dashboard, action string) bool {
	return d.OwnerID == v.user().ID || v.Subject.Allows(d.ResourceID(), action)
}

// List is the viewer's dashboards, in their company's order.
func List(o *org.Org, v Viewer) api.DashboardList {
	out := api.DashboardList{Dashboards: []api.DashboardSummary{}}
	for _, d := range o.Dashboards(v.user().CompanyID) {
		if CanView(v, d) {
			out.Dashboards = append(out.Dashboards, Summary(o, d))
		}
	}
	return out
}

// Summary is a dashboard's list entry.
func Summary(o *org.Org, d *org.Dashboard) api.DashboardSummary {
	s := api.DashboardSummary{ID: d.ID, Title: d.Title, Description: d.Description,
		WidgetCount: len(templates[d.Template]), UpdatedAt: d.UpdatedAt}
	if owner := o.User(d.OwnerID); owner != nil {
		s.Owner = owner.Ref()
	} else {
		s.Owner = api.UserRef{ID: d.OwnerID}
	}
	return s
}

// Render computes the dashboard as the viewer. The caller checks CanView first.
func Render(o *org.Org, v Viewer, d *org.Dashboard) api.Dashboard {
	out := api.Dashboard{DashboardSummary: Summary(o, d), Widgets: []api.Widget{}}
	out.Scope = "Rows of " + v.Subject.Reach(org.TypeVehicle)
	out.SharedWith = Shares(o, d)
	c := newCtx(o, v, d)
	for i, build := range templates[d.Template] {
		w := build(c)
		w.ID = d.ID + "-w" + itoa(i+1)
		out.Widgets = append(out.Widgets, w)
	}
	return out
}

// Shares lists the users and teams a dashboard was shared with (its view grants).
func Shares(o *org.Org, d *org.Dashboard) []api.DashboardShareRef {
	var out []api.DashboardShareRef
	for _, r := range o.Rules() {
		if r.Effect != org.Allow || r.Action != org.ActionView || r.Target.ResourceID != d.ResourceID() {
			continue
		}
		if r.UserID != "" {
			name := r.UserID
			if u := o.User(r.UserID); u != nil {
				name = u.Name
			}
			out = append(out, api.DashboardShareRef{Kind: api.ShareUser, ID: r.UserID, Name: name})
		} else if t := o.Team(r.TeamID); t != nil {
			out = append(out, api.DashboardShareRef{Kind: api.ShareTeam, ID: t.ID, Name: t.Path()})
		}
	}
	return out
}

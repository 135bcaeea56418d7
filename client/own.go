package client

import (
	"context"

	"github.com/shadowview/shadow/api"
)

// The app's own routes, with the caller's own token: a user reading and changing their
// own things. shadow's screens use the View for reads while impersonating; these exist
// so every route of the contract has a typed method, and so tests can prove the
// read-only guarantee against real writes that succeed with an own token.

// Dashboards lists the dashboards the signed-in identity can read.
func (c *Client) Dashboards(ctx context.Context) (api.DashboardList, error) {
	var out api.DashboardList
	err := c.own(ctx, dashboardsRequest(&out))
	return out, err
}

// Dashboard opens one dashboard as the signed-in identity.
func (c *Client) Dashboard(ctx context.Context, id string) (api.Dashboard, error) {
	var out api.Dashboard
	err := c.own(ctx, dashboardRequest(id, &out))
	return out, err
}

// Permissions is the signed-in identity's own permission matrix.
func (c *Client) Permissions(ctx context.Context) (api.PermissionMatrix, error) {
	var out api.PermissionMatrix
	err := c.own(ctx, permissionsRequest(&out))
	return out, err
}

// PermissionsPage is one page of the own matrix (see View.PermissionsPage).
func (c *Client) PermissionsPage(ctx context.Context, cursor string, limit int) (api.PermissionMatrix, error) {
	var out api.PermissionMatrix
	err := c.own(ctx, permissionsPageRequest(cursor, limit, &out))
	return out, err
}

// Explain is the chain of rules that decided one cell of the own matrix.
func (c *Client) Explain(ctx context.Context, resource, action string) (api.Explanation, error) {
	var out api.Explanation
	err := c.own(ctx, explainRequest(resource, action, &out))
	return out, err
}

// UpdateProfile changes the own name or phone (nil fields are unchanged).
func (c *Client) UpdateProfile(ctx context.Context, p api.ProfileUpdate) (api.User, error) {
	var out api.User
	err := c.own(ctx, request{op: "update your profile", route: api.RouteUpdateProfile, body: p, out: &out})
	return out, err
}

// UpdateSettings replaces the own settings.
func (c *Client) UpdateSettings(ctx context.Context, s api.Settings) (api.Settings, error) {
	var out api.Settings
	err := c.own(ctx, request{op: "update your settings", route: api.RouteUpdateSettings, body: s, out: &out})
	return out, err
}

// ChangePassword changes the own password. The server signs out every earlier token
// and ends the sessions this identity started; the client switches to the fresh token
// it sends back.
func (c *Client) ChangePassword(ctx context.Context, current, next string) (api.User, error) {
	token := c.auth()
	return c.takeToken(ctx, request{op: "change your password", route: api.RouteChangePassword,
		body: api.PasswordChange{Current: current, New: next}, token: token})
}

// CreateDashboard creates a dashboard owned by the signed-in user.
func (c *Client) CreateDashboard(ctx context.Context, d api.DashboardCreate) (api.Dashboard, error) {
	var out api.Dashboard
	err := c.own(ctx, request{op: "create a dashboard", route: api.RouteCreateDashboard, body: d, out: &out})
	return out, err
}

// UpdateDashboard changes a dashboard's title or description (nil fields unchanged).
func (c *Client) UpdateDashboard(ctx context.Context, id string, u api.DashboardUpdate) (api.Dashboard, error) {
	var out api.Dashboard
	err := c.own(ctx, request{op: "update dashboard " + id, route: api.RouteUpdateDashboard,
		params: map[string]string{"id": id}, body: u, out: &out})
	return out, err
}

// DeleteDashboard deletes a dashboard.
func (c *Client) DeleteDashboard(ctx context.Context, id string) error {
	return c.own(ctx, request{op: "delete dashboard " + id, route: api.RouteDeleteDashboard,
		params: map[string]string{"id": id}})
}

// ShareDashboard shares a dashboard with one user or one team of its company.
func (c *Client) ShareDashboard(ctx context.Context, id string, s api.DashboardShare) (api.Dashboard, error) {
	var out api.Dashboard
	err := c.own(ctx, request{op: "share dashboard " + id, route: api.RouteShareDashboard,
		params: map[string]string{"id": id}, body: s, out: &out})
	return out, err
}

package client

import (
	"net/url"

	"github.com/shadowview/shadow/api"
)

// The reads both faces make. Each builds its request once; Client sends it with the
// caller's own token, View with the session's token and cache scope.

func meRequest(out *api.Me) request {
	return request{op: "find out who is signed in", route: api.RouteMe, out: out}
}

func sessionRequest(id string, out *api.Session) request {
	return request{op: "read session " + id, route: api.RouteGetSession,
		params: map[string]string{"id": id}, out: out}
}

func dashboardsRequest(out *api.DashboardList) request {
	return request{op: "list the dashboards", route: api.RouteDashboards, out: out}
}

func dashboardRequest(id string, out *api.Dashboard) request {
	return request{op: "open dashboard " + id, route: api.RouteDashboard,
		params: map[string]string{"id": id}, out: out}
}

func permissionsRequest(out *api.PermissionMatrix) request {
	return request{op: "read the permissions", route: api.RoutePermissions, out: out}
}

func explainRequest(resource, action string, out *api.Explanation) request {
	return request{op: "explain " + action + " on " + resource, route: api.RouteExplain,
		query: url.Values{"resource": {resource}, "action": {action}}, out: out}
}

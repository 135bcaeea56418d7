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

// permissionsRequest asks for the whole matrix (the compare reads one per user). Like a
// page it is large and kept by its caller, so it is bulk: not memoised, one decoded
// copy (the caller's) and the disk cache's bytes, not a second copy held for the
// identity's life beside the matrix tab's paged rows.
func permissionsRequest(out *api.PermissionMatrix) request {
	return request{op: "read the permissions", route: api.RoutePermissions, out: out, bulk: true}
}

// permissionsPageRequest asks for one page of the matrix: up to limit rows after cursor
// ("" for the first page). Its reply may be large (up to api.MaxMatrixPage rows), and the
// caller keeps the rows it takes, so it is not memoised (bulk): a second decoded copy
// of every page would live in memory beside the caller's. Nor does the disk cache keep
// it: the server sends pages no-store, as each is counted to the view it was read for.
func permissionsPageRequest(cursor string, limit int, out *api.PermissionMatrix) request {
	q := url.Values{}
	pageQuery(q, cursor, max(1, limit))
	return request{op: "read a page of the permissions", route: api.RoutePermissions, query: q, out: out, bulk: true}
}

func explainRequest(resource, action string, out *api.Explanation) request {
	return request{op: "explain " + action + " on " + resource, route: api.RouteExplain,
		query: url.Values{"resource": {resource}, "action": {action}}, out: out}
}

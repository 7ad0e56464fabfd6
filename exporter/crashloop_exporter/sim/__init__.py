"""A simulated Kubernetes cluster behind a fake kube-apiserver, over real HTTP.

The exporter meets a real apiserver in production, so its tests, the `demo` command, the rules
end-to-end test and the benchmarks run it against this simulator, which follows the
apiserver's wire format (lists, pagination, watches, bookmarks, Status errors, logs) and drives
scenario pods through the kubelet's real lifecycle, crashing for every cause in
`crashloop_exporter.catalog.CAUSES`.

Python API
----------
    from crashloop_exporter.sim import SimCluster, SimServer

    cluster = SimCluster(scenarios=None, time_scale=30.0, filler_pods=0, seed=0, churn_rate=0.0,
                         history_seconds=300.0, history_limit=200_000)
    server = SimServer(cluster, host="127.0.0.1", port=0, token="sim-token", tls=False,
                       bookmark_interval=60.0)
    await server.start()                     # binds (port 0: a free one) and starts the lifecycles
    server.url                               # "http://127.0.0.1:PORT"
    server.write_kubeconfig(path)            # context/cluster/user `crashloop-sim`, bearer token
    ...
    await server.stop()                      # also stops the cluster (`async with SimServer(...)` too)

`SimCluster` (usable without HTTP):
    scenarios=None loads every scenario; pass names (see `scenario_names()`) for a subset.
    start()/stop() (async), pause()/resume(), paused, advance(seconds) (paused only: step the
    sim clock, running every transition in order), add_fault(kind, **fields) -> Fault,
    clear_faults(), delete_pod(namespace, name, recreate=False) -> replacement name | None,
    set_churn(rate), stats_json(), expectations(), pod_json(namespace, name),
    put_secret(namespace, name, data, secret_type="Opaque"), put_configmap(namespace, name, data),
    delete_object(resource, namespace, name), container_log(...); attributes store, lifecycle,
    stats, faults, clock, scenarios. Scenario objects built in code may be passed with names.
To count exactly what an exporter saw, construct the cluster, `pause()` it, start the server
and the exporter, wait for the exporter to be ready, then `resume()`: every restart and
failed start after that is in `stats_json()` and none is a pre-existing baseline.
`time_scale` compresses kubelet timings (30: a 10 s back-off takes 0.33 s); object timestamps
stay wall-clock. `filler_pods=N` adds N healthy ~6 KB pods (10 per Deployment, 1000 per
namespace `bench-NNN`, 100 per node `bench-node-NNNN`) rendered from one template on demand;
`churn_rate` (or `set_churn`) emits that many MODIFIED filler-pod events per second.

Served API (bearer token required unless token=None)
----------------------------------------------------
GET /version, /api, /api/v1, /apis, /healthz, /livez, /readyz; for pods, events, nodes,
secrets, configmaps, namespaces: LIST and WATCH (cluster-wide and per namespace; labelSelector,
fieldSelector, limit/continue, resourceVersion, resourceVersionMatch, timeoutSeconds,
allowWatchBookmarks, sendInitialEvents), GET one object, `kubectl get` Tables;
GET /api/v1/namespaces/{ns}/pods/{name}/log (container, previous, tailLines, limitBytes,
timestamps); DELETE a pod (its controller recreates it). Services and EndpointSlices too; the
kinds the Helm chart and overlays render (serviceaccounts, apps deployments/statefulsets, rbac
clusterroles/bindings, policy PDBs, networkpolicies, monitoring.coreos.com servicemonitors and
prometheusrules) are discovered but none exist, and /openapi/v3 says each validates fields
server-side, so `kubectl apply --dry-run=client` works against the sim (sim/openapi.py).

Admin API (no token), also as SimCluster methods
------------------------------------------------
GET  /_sim/stats          deaths / restarts / failed_starts / evictions performed ({total,
                          by_cause, by_container "ns/pod/container", by_series = crashloop_crashes_total
                          label sets}; deaths + failed_starts + evictions is what the counter
                          counts), recent_deaths (wall time, run, back-off ahead), requests by
                          verb and path, log_fetches per
                          "ns/pod/container" {previous, current}, recent_requests (path+query),
                          resource_version, watches_open, objects, churn_emitted, faults_pending,
                          faults_consumed (fault id -> times it acted: requests answered,
                          streams hit, store changes made)
GET  /_sim/expectations   every scenario container with its cause, workload and uid
GET|POST|DELETE /_sim/faults   list / add ({"kind": ..., fields of `faults.Fault`}; answers the
                          fault with its id) / clear
POST /_sim/pause, /_sim/resume, /_sim/advance {"seconds"}, /_sim/delete-pod {"namespace",
     "name", "recreate"}, /_sim/churn {"rate"}, /_sim/objects {"resource": "pods"|"services",
     "object": {...}} (store a replayed pod or a Service as given)

Fault kinds: drop_stream (mid_event, clean), gone_watch, gone_http, expire_continue,
status (code, retry_after, verb, count, node), garbage (line), slow (delay, node), hang (seconds),
reset_rv (to), compact. See `faults` for what each does.

CLI: `crashloop-exporter sim --listen 127.0.0.1:0 --kubeconfig-out PATH [--scenarios a,b]
[--time-scale F] [--filler-pods N] [--churn-rate R] [--no-auth] [--plain-http] [--seed N]` prints
`sim listening on URL kubeconfig=PATH` and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

from crashloop_exporter.sim.cluster import SimCluster
from crashloop_exporter.sim.faults import FAULT_KINDS, Fault
from crashloop_exporter.sim.scenarios import load_scenario, scenario_names
from crashloop_exporter.sim.server import CONTEXT_NAME, SimServer

__all__ = ["CONTEXT_NAME", "FAULT_KINDS", "Fault", "SimCluster", "SimServer", "load_scenario", "scenario_names"]

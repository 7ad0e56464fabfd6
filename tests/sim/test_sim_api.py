"""Discovery, auth, single-object GETs and Status errors of the simulated apiserver."""

from __future__ import annotations

import base64

import aiohttp

from tests.sim.conftest import MakeSim, Sim


async def test_discovery_documents_name_the_core_resources(sim: Sim) -> None:
    """/version, /api, /api/v1 and /apis have the apiserver's kinds and list every served resource."""
    status, version = await sim.get("/version")
    assert status == 200 and version["major"] == "1" and version["gitVersion"].startswith("v1.")
    _, api = await sim.get("/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    _, groups = await sim.get("/apis")
    assert groups["kind"] == "APIGroupList"
    _, v1 = await sim.get("/api/v1")
    assert v1["kind"] == "APIResourceList" and v1["groupVersion"] == "v1"
    names = {r["name"]: r for r in v1["resources"]}
    for resource in ("pods", "pods/log", "events", "nodes", "secrets", "configmaps", "namespaces"):
        assert resource in names
    assert names["nodes"]["namespaced"] is False and names["pods"]["namespaced"] is True
    assert "watch" in names["pods"]["verbs"] and names["pods/log"]["verbs"] == ["get"]


async def test_deploy_kinds_are_discovered_and_none_exist(sim: Sim) -> None:
    """The kinds the chart renders are in discovery (kubectl can map them) and GET of one is the
    apiserver's NotFound, so `kubectl apply --dry-run=client` treats each as a create."""
    _, groups = await sim.get("/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "rbac.authorization.k8s.io", "policy", "networking.k8s.io", "monitoring.coreos.com"} <= names
    _, apps = await sim.get("/apis/apps/v1")
    assert {r["kind"] for r in apps["resources"]} == {"Deployment", "StatefulSet"}
    status, body = await sim.get("/apis/apps/v1/namespaces/crashloop-exporter/deployments/crashloop-exporter")
    assert status == 404 and body["reason"] == "NotFound", body
    assert body["message"] == 'deployments.apps "crashloop-exporter" not found'
    assert body["details"] == {"name": "crashloop-exporter", "group": "apps", "kind": "deployments"}
    status, body = await sim.get("/apis/rbac.authorization.k8s.io/v1/clusterroles")
    assert status == 200 and body["kind"] == "ClusterRoleList" and body["items"] == []


async def test_openapi_v3_says_every_kind_validates_fields_server_side(sim: Sim) -> None:
    """/openapi/v3 indexes every group version; each kind's PATCH takes fieldValidation (what kubectl's
    default validation asks before it applies)."""
    _, root = await sim.get("/openapi/v3")
    assert {"api/v1", "apis/apps/v1", "apis/monitoring.coreos.com/v1"} <= set(root["paths"])
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    path, _, query = url.partition("?")
    status, doc = await sim.get(path, **dict([query.split("=", 1)]))
    assert status == 200, doc
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert "fieldValidation" in {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    status, _ = await sim.get("/openapi/v3/apis/batch/v1")
    assert status == 404


async def test_requests_without_the_token_get_a_401_status(sim: Sim) -> None:
    """A missing or wrong bearer token is a 401 Unauthorized Status, like the apiserver's."""
    async with aiohttp.ClientSession() as anon:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            async with anon.get(sim.url + "/api/v1/pods", headers=headers) as r:
                body = await r.json()
                assert r.status == 401
                assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


async def test_no_auth_mode_accepts_anonymous_requests(make_sim: MakeSim) -> None:
    """With token=None the sim serves without credentials (and the kubeconfig carries none)."""
    sim = await make_sim(["healthy"], token=None)
    status, body = await sim.get("/api/v1/namespaces")
    assert status == 200 and body["kind"] == "NamespaceList"


async def test_get_returns_one_object_and_404_names_it(sim: Sim) -> None:
    """GET of a pod, node, secret or configmap returns the object; a missing one is NotFound."""
    status, pod = await sim.get("/api/v1/namespaces/production/pods/payment-service-7d9f4b8c6-xk2p9")
    assert status == 200 and pod["kind"] == "Pod" and pod["metadata"]["namespace"] == "production"
    status, node = await sim.get("/api/v1/nodes/sw-infrarunbook-01")
    assert status == 200 and node["kind"] == "Node"
    status, cm = await sim.get("/api/v1/namespaces/production/configmaps/search-config")
    assert status == 200 and "ELASTICSEARCH_URL" not in cm["data"]
    status, body = await sim.get("/api/v1/namespaces/production/secrets/stripe-secret")
    assert status == 404
    assert body["reason"] == "NotFound" and body["code"] == 404
    assert body["message"] == 'secrets "stripe-secret" not found'
    assert body["details"] == {"name": "stripe-secret", "kind": "secrets"}


async def test_secrets_are_opaque_with_base64_data(sim: Sim) -> None:
    """production has postgres-secret (base64 data, type Opaque); stripe-secret exists only in staging."""
    status, secret = await sim.get("/api/v1/namespaces/production/secrets/postgres-secret")
    assert status == 200 and secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["url"]).decode().startswith("postgres://")
    status, _ = await sim.get("/api/v1/namespaces/staging/secrets/stripe-secret")
    assert status == 200
    status, db = await sim.get("/api/v1/namespaces/production/secrets/api-db-credentials")
    assert sorted(db["data"]) == ["DB_HOST", "DB_USER"]


async def test_unknown_paths_and_verbs_are_status_errors(sim: Sim) -> None:
    """Unknown resources are 404 NotFound Status objects; writes other than pod DELETE are 405."""
    status, body = await sim.get("/api/v1/widgets")
    assert status == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"
    status, body = await sim.get("/apis/batch/v1/jobs")
    assert status == 404
    async with sim.http.post(sim.url + "/api/v1/namespaces/production/pods", json={}) as r:
        assert r.status == 405 and (await r.json())["reason"] == "MethodNotAllowed"


async def test_kubeconfig_points_at_the_server_with_the_token(sim: Sim, tmp_path: object) -> None:
    """write_kubeconfig writes a loadable kubeconfig: context crashloop-sim, server URL, bearer token."""
    from pathlib import Path

    from kubernetes import client, config

    path = sim.server.write_kubeconfig(Path(str(tmp_path)) / "kubeconfig")
    cfg = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(path), context="crashloop-sim", client_configuration=cfg)
    assert cfg.host == sim.url
    assert cfg.api_key["BearerToken"] == "Bearer sim-token"


async def test_secrets_can_be_created_and_deleted(sim: Sim) -> None:
    """put_secret (the seed's Step 4) makes GET find it; delete_object removes it again."""
    sim.cluster.put_secret("production", "stripe-secret", {"secret-key": "sim-placeholder"})
    status, secret = await sim.get("/api/v1/namespaces/production/secrets/stripe-secret")
    assert status == 200 and base64.b64decode(secret["data"]["secret-key"]) == b"sim-placeholder"
    sim.cluster.put_configmap("production", "notification-config", {"SMTP_HOST": "smtp.example.com"})
    assert (await sim.get("/api/v1/namespaces/production/configmaps/notification-config"))[0] == 200
    assert sim.cluster.delete_object("secrets", "production", "stripe-secret") is True
    assert (await sim.get("/api/v1/namespaces/production/secrets/stripe-secret"))[0] == 404

#!/usr/bin/env python3
"""An Azure Resource Manager emulator for aiconform's tests: HTTPS on loopback, exactly the
endpoints `aiconform plan/up/down --target aks` uses, request bodies checked against the
published contract of the API versions used (property names, types, enums, required and
read-only fields), long-running operations with delays, and injectable faults.

It is stricter than Azure in one way: an unknown property is rejected instead of ignored, so a
misspelt property (such as networkProfile.gatewayAPIEnabled, which AKS silently ignores) fails
loudly in tests.

Control endpoints (no authentication): GET /_emulator/state, POST /_emulator/faults
{"rules": [{"match": "managedClusters/", "method": "PUT",
"kind": "429|500|drop|drop_after|slow|ratelimit|delay|fail", "count": 1, "retry_after": 1,
"factor": 3, "seconds": 1, "headers": {"x-ms-ratelimit-remaining-subscription-reads": "3"},
"status": "Failed", "code": "QuotaExceeded", "message": "..."}]}
(ratelimit serves the request and adds the headers to its answer; delay holds the request for
`seconds` before serving it, so it is recorded and answered late; fail accepts an asynchronous
PUT whose operation then ends with `status`, Failed or Canceled, and that error, leaving the
resource in that provisioningState).
"""
import argparse
import base64
import json
import os
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# ---------------------------------------------------------------------------------------------
# The contract: a small schema language. An object schema lists its properties; "ro" marks
# read-only properties (rejected in requests), "req" required ones.

S, B, I = {"t": "string"}, {"t": "boolean"}, {"t": "integer"}


def E(*values):
    return {"t": "string", "enum": list(values)}


def A(items):
    return {"t": "array", "items": items}


def M(values=S):
    return {"t": "map", "values": values}


def O(props, req=(), ro=()):
    return {"t": "object", "props": props, "req": list(req), "ro": list(ro)}


# Azure tag names may not contain < > % & \\ ? / (Resource Manager rejects them).
TAGS = {"t": "map", "values": S, "keyfmt": re.compile(r"^[^<>%&\\?/]{1,512}$")}

ALLOWLIST = re.compile(r"^([a-z]+=\[[^\[\]=]*\])(,[a-z]+=\[[^\[\]=]*\])*$")

POOL_PROPS = {
    "count": I, "vmSize": S, "osType": E("Linux", "Windows"), "osSKU": S,
    "type": E("VirtualMachineScaleSets", "AvailabilitySet", "VirtualMachines"),
    "mode": E("System", "User", "Gateway"), "orchestratorVersion": S,
    "enableAutoScaling": B, "minCount": I, "maxCount": I, "availabilityZones": A(S),
    "nodeTaints": A(S), "nodeLabels": M(), "tags": TAGS,
    "gpuProfile": O({"driver": E("Install", "None")}),
    "provisioningState": S, "currentOrchestratorVersion": S, "nodeImageVersion": S,
}
POOL_RO = ["provisioningState", "currentOrchestratorVersion", "nodeImageVersion"]

CLUSTER = O({
    "location": S, "tags": TAGS,
    "identity": O({"type": E("SystemAssigned", "UserAssigned", "None"), "principalId": S,
                   "tenantId": S}, ro=["principalId", "tenantId"]),
    "sku": O({"name": E("Base", "Automatic"), "tier": E("Free", "Standard", "Premium")}),
    "properties": O({
        "kubernetesVersion": S, "dnsPrefix": S, "enableRBAC": B,
        "agentPoolProfiles": A(O(dict(POOL_PROPS, name=S), req=["name"], ro=POOL_RO)),
        "oidcIssuerProfile": O({"enabled": B, "issuerURL": S}, ro=["issuerURL"]),
        "securityProfile": O({"workloadIdentity": O({"enabled": B})}),
        "ingressProfile": O({
            "gatewayAPI": O({"installation": E("Disabled", "Standard")}),
            "webAppRouting": O({"enabled": B}),
        }),
        "serviceMeshProfile": O({
            "mode": E("Istio", "Disabled"),
            "istio": O({
                "revisions": A(S),
                "components": O({"ingressGateways": A(O(
                    {"mode": E("External", "Internal"), "enabled": B},
                    req=["mode", "enabled"]))}),
            }),
        }, req=["mode"]),
        "azureMonitorProfile": O({"metrics": O({
            "enabled": B,
            "kubeStateMetrics": O({"metricLabelsAllowlist": dict(S, fmt=ALLOWLIST),
                                   "metricAnnotationsAllowList": dict(S, fmt=ALLOWLIST)}),
        }, req=["enabled"])}),
        "networkProfile": O({"networkPlugin": E("azure", "kubenet", "none"),
                             "networkPluginMode": E("overlay"), "networkPolicy": S}),
        "provisioningState": S, "powerState": O({"code": S}), "fqdn": S,
        "currentKubernetesVersion": S, "maxAgentPools": I, "azurePortalFQDN": S,
        "nodeResourceGroup": S,
    }, ro=["provisioningState", "powerState", "fqdn", "currentKubernetesVersion", "maxAgentPools",
           "azurePortalFQDN"]),
}, req=["location"])

AGENT_POOL = O({"properties": O(POOL_PROPS, ro=POOL_RO)})

TRACKED = {"location": S, "tags": TAGS}
RESOURCE_GROUP = O(dict(TRACKED, managedBy=S,
                        properties=O({"provisioningState": S}, ro=["provisioningState"])),
                   req=["location"])
WORKSPACE = O(dict(TRACKED, properties=O(
    {"publicNetworkAccess": E("Enabled", "Disabled"), "accountId": S, "provisioningState": S,
     "metrics": O({"prometheusQueryEndpoint": S, "internalId": S})},
    ro=["accountId", "provisioningState", "metrics"])), req=["location"])
DCE = O(dict(TRACKED, kind=E("Linux", "Windows"), properties=O(
    {"description": S, "provisioningState": S, "immutableId": S,
     "networkAcls": O({"publicNetworkAccess": E("Enabled", "Disabled", "SecuredByPerimeter")})},
    ro=["provisioningState", "immutableId"])), req=["location"])
DCR = O(dict(TRACKED, kind=E("Linux", "Windows", "AgentDirectToStore", "WorkspaceTransforms"),
             properties=O({
                 "description": S, "dataCollectionEndpointId": S, "provisioningState": S,
                 "immutableId": S,
                 "dataSources": O({"prometheusForwarder": A(O(
                     {"name": S, "streams": A(E("Microsoft-PrometheusMetrics")),
                      "labelIncludeFilter": M()}))}),
                 "destinations": O({"monitoringAccounts": A(O(
                     {"name": S, "accountResourceId": S}))}),
                 "dataFlows": A(O({"streams": A(S), "destinations": A(S)})),
             }, ro=["provisioningState", "immutableId"])), req=["location"])
DCRA = O({"properties": O({"description": S, "dataCollectionRuleId": S,
                           "dataCollectionEndpointId": S, "provisioningState": S},
                          ro=["provisioningState"])})
RULE_GROUP = O(dict(TRACKED, properties=O({
    "description": S, "enabled": B, "clusterName": S, "scopes": A(S), "interval": S,
    "rules": A(O({"record": S, "alert": S, "expression": S, "labels": M(), "enabled": B,
                  "severity": I, "for": S, "annotations": M()}, req=["expression"])),
}, req=["scopes", "rules"])), req=["location"])

# Resource types: path pattern, API version, schema, latency units of create/update and delete,
# and whether writes are asynchronous (Azure-AsyncOperation) or synchronous.
SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
TYPES = [
    ("group", RG + r"$", "2024-11-01", RESOURCE_GROUP, 0.0, 3.0, False),
    ("cluster", RG + r"/providers/microsoft.containerservice/managedclusters/(?P<name>[^/]+)$",
     "2026-02-01", CLUSTER, 10.0, 4.0, True),
    ("pool", RG + r"/providers/microsoft.containerservice/managedclusters/(?P<cluster>[^/]+)"
     r"/agentpools/(?P<name>[^/]+)$", "2026-02-01", AGENT_POOL, 5.0, 2.0, True),
    ("workspace", RG + r"/providers/microsoft.monitor/accounts/(?P<name>[^/]+)$", "2023-04-03",
     WORKSPACE, 1.0, 0.5, True),
    ("dce", RG + r"/providers/microsoft.insights/datacollectionendpoints/(?P<name>[^/]+)$",
     "2024-03-11", DCE, 0.2, 0.1, False),
    ("dcr", RG + r"/providers/microsoft.insights/datacollectionrules/(?P<name>[^/]+)$",
     "2024-03-11", DCR, 0.2, 0.1, False),
    ("assoc", r"(?P<target>/subscriptions/.+)/providers/microsoft.insights/"
     r"datacollectionruleassociations/(?P<name>[^/]+)$", "2024-03-11", DCRA, 0.1, 0.1, False),
    ("rules", RG + r"/providers/microsoft.alertsmanagement/prometheusrulegroups/(?P<name>[^/]+)$",
     "2023-03-01", RULE_GROUP, 0.3, 0.1, False),
]
# Lists: kind of the items, path pattern, API version. Pages hold LIST_PAGE items; the rest
# follows through nextLink.
LISTS = [
    ("pool", RG + r"/providers/microsoft.containerservice/managedclusters/(?P<cluster>[^/]+)"
     r"/agentpools$", "2026-02-01"),
    ("rules", RG + r"/providers/microsoft.alertsmanagement/prometheusrulegroups$", "2023-03-01"),
    ("assoc", r"(?P<target>/subscriptions/.+)/providers/microsoft.insights/"
     r"datacollectionruleassociations$", "2024-03-11"),
]
LIST_PAGE = 2
FEATURE = re.compile(SUB + r"/providers/microsoft.features/providers/(?P<ns>[^/]+)/features/"
                     r"(?P<name>[^/]+)(?P<action>/register|/unregister)?$")
PROVIDER = re.compile(SUB + r"/providers/(?P<ns>microsoft\.[a-z]+)(?P<action>/register)?$")
FEATURE_API, FEATURE_UNITS, PROVIDER_UNITS = "2021-07-01", 3.0, 1.0
KUBECONFIG_TOKEN = "kubeconfig-user-token-7c41e9d2b805"


class ContractError(Exception):
    pass


def validate(value, schema, path):
    t = schema["t"]
    if t == "object":
        if not isinstance(value, dict):
            raise ContractError(f"{path or 'body'}: expected an object")
        for key, v in value.items():
            if key not in schema["props"]:
                raise ContractError(f"{path}{key}: no such property in this API version")
            if key in schema["ro"]:
                raise ContractError(f"{path}{key}: is read-only and may not be sent")
            validate(v, schema["props"][key], f"{path}{key}.")
        for key in schema["req"]:
            if key not in value:
                raise ContractError(f"{path}{key}: is required")
    elif t == "array":
        if not isinstance(value, list):
            raise ContractError(f"{path[:-1]}: expected an array")
        for i, v in enumerate(value):
            validate(v, schema["items"], f"{path[:-1]}[{i}].")
    elif t == "map":
        if not isinstance(value, dict):
            raise ContractError(f"{path[:-1]}: expected an object of strings")
        for k, v in value.items():
            if "keyfmt" in schema and not schema["keyfmt"].match(k):
                raise ContractError(f"{path}{k}: not a valid tag name")
            validate(v, schema["values"], f"{path}{k}.")
    elif t == "string":
        if not isinstance(value, str):
            raise ContractError(f"{path[:-1]}: expected a string")
        if "enum" in schema and value not in schema["enum"]:
            raise ContractError(f"{path[:-1]}: '{value}' is not one of {schema['enum']}")
        if "fmt" in schema and not schema["fmt"].match(value):
            raise ContractError(f"{path[:-1]}: '{value}' is not in the format "
                                "'kind=[key,...],kind=[key,...]'")
    elif t == "boolean" and not isinstance(value, bool):
        raise ContractError(f"{path[:-1]}: expected true or false")
    elif t == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ContractError(f"{path[:-1]}: expected an integer")


# ---------------------------------------------------------------------------------------------
# State.

class Emulator:
    def __init__(self, scale, token, secret):
        self.scale = scale
        self.token = token
        self.secret = secret
        self.lock = threading.RLock()
        self.resources = {}   # lowercase id -> {"kind", "id", "body", "ready_at", "state"}
        self.features = {}    # lowercase id -> {"state", "ready_at"}
        self.providers = {}   # lowercase id -> {"state", "ready_at"}
        self.operations = {}  # op id -> {"ready_at", "final", "error"}
        self.creates = {}     # id -> times it went from absent to present
        self.writes = []      # "METHOD path" of every write
        self.requests = []    # "METHOD path -> status"
        self.faults = []
        self.auth_headers = []  # every Authorization header value seen, to prove token use

    def delay(self, units):
        return units * self.scale

    def fault_for(self, method, path):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and f.get("method", method) == method and \
                        f.get("match", "") in path:
                    f["count"] -= 1
                    return dict(f)
        return None

    def settle(self):
        """Moves resources whose operation has finished to their final state."""
        now = time.monotonic()
        for r in list(self.resources.values()):
            if r["state"] in ("Creating", "Updating") and now >= r["ready_at"]:
                r["state"] = r.get("final", "Succeeded")
            elif r["state"] == "Deleting" and now >= r["ready_at"]:
                self.remove(r["id"])
        for f in list(self.features.values()) + list(self.providers.values()):
            if f["state"] == "Registering" and now >= f["ready_at"]:
                f["state"] = "Registered"

    def remove(self, rid):
        key = rid.lower()
        for k in list(self.resources):
            if k == key or k.startswith(key + "/"):
                del self.resources[k]


def kind_of(path):
    low = path.lower()
    for kind, pattern, api, schema, units, del_units, is_async in TYPES:
        m = re.match(pattern, low)
        if m and (kind != "assoc" or "/datacollectionruleassociations/" in low):
            return kind, m, api, schema, units, del_units, is_async
    return None


def arm_error(status, code, message):
    return status, {"error": {"code": code, "message": message}}, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer would stall for
    # the client's delayed ACK.
    disable_nagle_algorithm = True
    emu: Emulator = None

    def log_message(self, *args):
        pass

    # -- plumbing ----------------------------------------------------------------------------
    def send(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-correlation-request-id", str(uuid.uuid4()))
        rid = self.headers.get("x-ms-client-request-id")
        if rid:
            self.send_header("x-ms-client-request-id", rid)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def base(self):
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def do_GET(self):
        self.route("GET")

    def do_PUT(self):
        self.route("PUT")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        emu = self.emu
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        raw = self.body()
        if path.startswith("/_emulator/"):
            return self.send(*self.control(method, path, raw)[:2])
        if path.endswith("/oauth2/v2.0/token") or path == "/metadata/identity/oauth2/token":
            return self.send(*self.token(method, path, query, raw)[:2])

        fault = emu.fault_for(method, path)
        if fault and fault["kind"] == "delay":
            time.sleep(float(fault.get("seconds", 1)))
        if fault and fault["kind"] == "drop":
            return self.drop()
        if fault and fault["kind"] in ("429", "500"):
            status = int(fault["kind"])
            headers = {"Retry-After": str(fault.get("retry_after", 1))} if status == 429 else {}
            code = "TooManyRequests" if status == 429 else "InternalServerError"
            return self.send(status, {"error": {"code": code, "message": "injected"}}, headers)

        auth = self.headers.get("Authorization", "")
        with emu.lock:
            emu.auth_headers.append(auth)
        if auth != f"Bearer {emu.token}":
            status, body, headers = arm_error(401, "AuthenticationFailed",
                                              "missing or invalid bearer token")
        else:
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = "invalid"
            with emu.lock:
                emu.settle()
                status, body, headers = self.arm(method, path, query, payload, fault)
                if method != "GET" and not path.endswith("/listClusterUserCredential") and \
                        status < 300:
                    emu.writes.append(f"{method} {path}")
                emu.requests.append(f"{method} {path} -> {status}")
        if fault and fault["kind"] == "ratelimit":
            # The request is served; the answer reports a nearly spent rate-limit bucket.
            headers = dict(headers or {}, **fault.get("headers", {}))
        # Synchronous operations take their time too, without holding the lock.
        time.sleep(getattr(self, "sync_delay", 0))
        self.sync_delay = 0
        if fault and fault["kind"] == "drop_after":
            return self.drop()
        self.send(status, body, headers)

    # -- control and tokens ------------------------------------------------------------------
    def control(self, method, path, raw):
        emu = self.emu
        with emu.lock:
            emu.settle()
            if path == "/_emulator/state":
                return 200, {
                    "resources": {r["id"]: dict(r["body"], provisioningState=r["state"])
                                  for r in emu.resources.values()},
                    "features": {k: v["state"] for k, v in emu.features.items()},
                    "providers": {k: v["state"] for k, v in emu.providers.items()},
                    "creates": emu.creates, "writes": emu.writes, "requests": emu.requests,
                    "auth_headers": emu.auth_headers,
                }
            if path == "/_emulator/faults" and method == "POST":
                emu.faults = json.loads(raw or b"{}").get("rules", [])
                return 200, {"faults": len(emu.faults)}
        return 404, {"error": {"code": "NotFound", "message": path}}

    def token(self, method, path, query, raw):
        emu = self.emu
        if path == "/metadata/identity/oauth2/token":
            if method != "GET" or self.headers.get("Metadata") != "true":
                return 400, {"error": "invalid_request", "error_description": "Metadata header"}
            return 200, {"access_token": emu.token, "expires_on": str(int(time.time()) + 3600),
                         "token_type": "Bearer"}
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "client_credentials" or not form.get("client_id") or \
                not form.get("scope", "").endswith("/.default"):
            return 400, {"error": "invalid_request", "error_description": "bad form"}
        if "client_secret" in form:
            if form["client_secret"] != emu.secret:
                return 401, {"error": "invalid_client", "error_description": "bad secret"}
        elif form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or \
                form.get("client_assertion", "").count(".") != 2:
            return 401, {"error": "invalid_client", "error_description": "no credential"}
        return 200, {"access_token": emu.token, "expires_in": 3600, "token_type": "Bearer"}

    # -- ARM ---------------------------------------------------------------------------------
    def arm(self, method, path, query, payload, fault):
        emu = self.emu
        api = (query.get("api-version") or [""])[0]
        if "/operations/" in path or "/operationresults/" in path:
            return self.operation(path)
        if m := FEATURE.match(path.lower()):
            return self.feature(method, path, api, m)
        if m := PROVIDER.match(path.lower()):
            return self.provider(method, path, api, m)
        if path.endswith("/listClusterUserCredential") and method == "POST":
            return self.credentials(path[:-len("/listClusterUserCredential")], api)
        for kind, pattern, want_api in LISTS:
            if (m := re.match(pattern, path.lower())) and method == "GET":
                if api != want_api:
                    return arm_error(400, "InvalidApiVersionParameter", f"use {want_api}")
                return self.list(kind, m, path, api, query)
        found = kind_of(path)
        if not found:
            return arm_error(404, "InvalidResourceType", f"no resource type at {path}")
        kind, m, want_api, schema, units, del_units, is_async = found
        if api != want_api:
            return arm_error(400, "InvalidApiVersionParameter",
                             f"api-version '{api}' is not supported here; this emulator "
                             f"implements '{want_api}'")
        rid = path.lower()
        current = emu.resources.get(rid)
        if method == "GET":
            if not current:
                return arm_error(404, "ResourceNotFound", f"{path} not found")
            return 200, self.view(current), {}
        if method == "DELETE":
            return self.delete(path, current, kind, del_units)
        if method != "PUT":
            return arm_error(405, "MethodNotAllowed", method)
        if payload == "invalid" or payload is None:
            return arm_error(400, "InvalidRequestContent", "the body is not JSON")
        try:
            validate(payload, schema, "")
            self.semantics(kind, m, path, payload)
        except ContractError as e:
            return arm_error(400, "InvalidRequestContent", str(e))
        parent = self.parent_problem(kind, m, path)
        if parent:
            return parent
        if current and current["state"] in ("Creating", "Updating", "Deleting"):
            return arm_error(409, "OperationNotAllowed",
                             f"another operation ({current['state']}) is in progress")
        created = current is None
        if created:
            emu.creates[path] = emu.creates.get(path, 0) + 1
        factor = fault.get("factor", 1) if fault and fault["kind"] == "slow" else 1
        ready_at = time.monotonic() + emu.delay(units) * factor
        state = ("Creating" if created else "Updating") if is_async else "Succeeded"
        if not is_async:
            self.sync_delay = emu.delay(units) * factor
        failing = bool(fault and fault["kind"] == "fail" and is_async)
        final = fault.get("status", "Failed") if failing else "Succeeded"
        emu.resources[rid] = {"kind": kind, "id": path, "body": payload, "state": state,
                              "ready_at": ready_at, "final": final}
        headers = {}
        if is_async:
            op = uuid.uuid4().hex
            error = {"code": fault.get("code", "InternalOperationError"),
                     "message": fault.get("message", "injected")} if failing else None
            emu.operations[op] = {"ready_at": ready_at, "rid": rid, "final": final,
                                  "error": error}
            loc = payload.get("location", "centralus") if kind != "pool" else "centralus"
            headers["Azure-AsyncOperation"] = (
                f"{self.base()}/subscriptions/{m.group('sub')}/providers/"
                f"Microsoft.ContainerService/locations/{loc}/operations/{op}?api-version={api}")
            headers["retry-after-ms"] = str(max(10, int(emu.delay(units) * 1000 / 20)))
        return (201 if created else 200), self.view(emu.resources[rid]), headers

    def semantics(self, kind, m, path, body):
        """Rules of the API beyond the schema."""
        if kind == "assoc":
            props = body.get("properties", {})
            if m.group("name") == "configurationaccessendpoint":
                if "dataCollectionEndpointId" not in props or "dataCollectionRuleId" in props:
                    raise ContractError("the configurationAccessEndpoint association takes "
                                        "dataCollectionEndpointId only")
            elif "dataCollectionRuleId" not in props:
                raise ContractError("properties.dataCollectionRuleId: is required (only the "
                                    "association named configurationAccessEndpoint may point "
                                    "at an endpoint)")
        if kind == "rules":
            for i, r in enumerate(body["properties"]["rules"]):
                if ("record" in r) == ("alert" in r):
                    raise ContractError(f"properties.rules[{i}]: exactly one of record, alert")
        if kind == "dce" and "kind" in body and body["kind"] != "Linux":
            raise ContractError("kind: Managed Prometheus needs a Linux endpoint")

    def parent_problem(self, kind, m, path):
        emu = self.emu
        if kind == "group":
            return None
        if kind == "assoc":
            target = emu.resources.get(m.group("target"))
            if not target:
                return arm_error(404, "ResourceNotFound", "the association's target is missing")
            return None
        rg = f"/subscriptions/{m.group('sub')}/resourcegroups/{m.group('rg')}"
        if rg not in emu.resources or emu.resources[rg]["state"] == "Deleting":
            return arm_error(404, "ResourceGroupNotFound", f"resource group {m.group('rg')} "
                             "could not be found")
        if kind == "pool":
            cid = path.lower().rsplit("/agentpools/", 1)[0]
            cluster = emu.resources.get(cid)
            if not cluster:
                return arm_error(404, "ResourceNotFound", "the managed cluster does not exist")
            if cluster["state"] != "Succeeded":
                return arm_error(409, "OperationNotAllowed",
                                 "the managed cluster has an operation in progress")
        return None

    def list(self, kind, m, path, api, query):
        """One page of the items of `kind` under the list's parent, sorted by id."""
        emu = self.emu
        low = path.lower()
        if kind == "pool":
            parent = low.rsplit("/agentpools", 1)[0]
        elif kind == "rules":
            parent = f"/subscriptions/{m.group('sub')}/resourcegroups/{m.group('rg')}"
        else:
            parent = m.group("target")
        owner = emu.resources.get(parent)
        if not owner:
            return arm_error(404, "ResourceNotFound", f"{parent} not found")
        items = [self.view(r) for k, r in emu.resources.items()
                 if r["kind"] == kind and k.startswith(low + "/" if kind != "rules" else
                                                       parent + "/providers/")]
        if kind == "pool":
            # The pools given in the cluster's agentPoolProfiles are agent pools too.
            for p in owner["body"].get("properties", {}).get("agentPoolProfiles", []):
                props = {k: v for k, v in p.items() if k != "name"}
                props["provisioningState"] = owner["state"]
                items.append({"id": f"{owner['id']}/agentPools/{p['name']}", "name": p["name"],
                              "properties": props})
        items.sort(key=lambda i: i["id"].lower())
        skip = int((query.get("$skipToken") or ["0"])[0])
        body = {"value": items[skip:skip + LIST_PAGE]}
        if skip + LIST_PAGE < len(items):
            body["nextLink"] = (f"{self.base()}{path}?api-version={api}"
                                f"&$skipToken={skip + LIST_PAGE}")
        return 200, body, {}

    def view(self, r):
        body = json.loads(json.dumps(r["body"]))
        body.update({"id": r["id"], "name": r["id"].rsplit("/", 1)[1]})
        props = body.setdefault("properties", {})
        props["provisioningState"] = r["state"]
        if r["kind"] in ("cluster", "pool"):
            props["powerState"] = {"code": "Running"}
        if r["kind"] == "cluster":
            props["fqdn"] = f"{props.get('dnsPrefix', 'x')}.hcp.centralus.azmk8s.io"
            props["currentKubernetesVersion"] = props.get("kubernetesVersion")
            body["identity"]["principalId"] = "00000000-0000-0000-0000-00000000c1a5"
            pools = props.setdefault("agentPoolProfiles", [])
            for k, p in self.emu.resources.items():
                if p["kind"] == "pool" and k.startswith(r["id"].lower() + "/agentpools/"):
                    pools.append(dict(p["body"]["properties"], name=p["id"].rsplit("/", 1)[1]))
        return body

    def delete(self, path, current, kind, units):
        emu = self.emu
        if not current:
            return 204, None, {}
        if current["state"] == "Deleting":
            return 202, None, {"Location": self.op_location(current)}
        if kind in ("group", "cluster", "pool", "workspace"):
            current["state"] = "Deleting"
            current["ready_at"] = time.monotonic() + emu.delay(units)
            return 202, None, {"Location": self.op_location(current),
                               "retry-after-ms": str(max(10, int(emu.delay(units) * 200)))}
        emu.remove(current["id"])
        self.sync_delay = emu.delay(units)
        return 200, None, {}

    def op_location(self, r):
        op = uuid.uuid4().hex
        self.emu.operations[op] = {"ready_at": r["ready_at"], "rid": r["id"].lower(),
                                   "delete": True}
        sub = r["id"].split("/")[2]
        return f"{self.base()}/subscriptions/{sub}/providers/Microsoft.Resources/operationresults/{op}"

    def operation(self, path):
        op = self.emu.operations.get(path.rstrip("/").rsplit("/", 1)[1])
        if not op:
            return arm_error(404, "OperationNotFound", path)
        done = time.monotonic() >= op["ready_at"]
        if "/operationresults/" in path:
            return (200 if done else 202), None, ({} if done else {"retry-after-ms": "20"})
        if not done:
            return 200, {"status": "InProgress"}, {}
        body = {"status": op.get("final", "Succeeded")}
        if op.get("error"):
            body["error"] = op["error"]
        return 200, body, {}

    def feature(self, method, path, api, m):
        emu = self.emu
        if api != FEATURE_API:
            return arm_error(400, "InvalidApiVersionParameter", f"use {FEATURE_API}")
        fid = path.lower()
        if m.group("action"):
            fid = fid[: -len(m.group("action"))]
        f = emu.features.setdefault(fid, {"state": "NotRegistered", "ready_at": 0})
        if method == "POST" and m.group("action") == "/register":
            if f["state"] != "Registered":
                f["state"], f["ready_at"] = "Registering", time.monotonic() + emu.delay(
                    FEATURE_UNITS)
        elif method == "POST" and m.group("action") == "/unregister":
            f["state"] = "NotRegistered"
        elif method != "GET":
            return arm_error(405, "MethodNotAllowed", method)
        return 200, {"id": fid, "name": f"{m.group('ns')}/{m.group('name')}",
                     "properties": {"state": f["state"]}}, {}

    def provider(self, method, path, api, m):
        emu = self.emu
        pid = path.lower().removesuffix("/register")
        p = emu.providers.setdefault(pid, {"state": "Registered", "ready_at": 0})
        if method == "POST" and m.group("action"):
            p["state"], p["ready_at"] = "Registering", time.monotonic() + emu.delay(PROVIDER_UNITS)
        return 200, {"id": pid, "namespace": m.group("ns"), "registrationState": p["state"]}, {}

    def credentials(self, cluster_path, api):
        c = self.emu.resources.get(cluster_path.lower())
        if not c or c["state"] != "Succeeded":
            return arm_error(404, "ResourceNotFound", "no such cluster, or not ready")
        name = cluster_path.rsplit("/", 1)[1]
        kubeconfig = (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n"
                      f"    server: https://{name}.hcp.centralus.azmk8s.io:443\n"
                      f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n"
                      f"    user: clusterUser_{name}\ncurrent-context: {name}\n"
                      # A cluster with local accounts hands out a bearer token like this one.
                      f"users:\n- name: clusterUser_{name}\n  user:\n"
                      f"    token: {KUBECONFIG_TOKEN}\n")
        return 200, {"kubeconfigs": [{"name": "clusterUser",
                                      "value": base64.b64encode(kubeconfig.encode()).decode()}]}, {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--scale", type=float, default=0.05, help="seconds per latency unit")
    ap.add_argument("--secret", default="emulator-secret")
    args = ap.parse_args()

    emu = Emulator(args.scale, "emu-" + secrets.token_hex(24), args.secret)
    Handler.emu = emu
    # The default listen backlog (5) drops the SYNs of a client that opens a dozen connections
    # at once, which then wait a second for the retransmission.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": server.server_address[1], "token": emu.token, "pid": os.getpid()}, f)
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""Validates rendered Onramp manifests: Kubernetes JSON schemas, then the deployment's own rules.

Usage: check_manifests.py --kubernetes-version 1.31.0 --kubernetes-version 1.37.0 RENDERED.yaml...

Each file is one rendered overlay (its stem names it: dev.yaml, prod.yaml). Schema validation uses
kubernetes-validate's strict schemas (unknown fields are errors) for every version given. The rules
below are the ones deploy/README.md promises and a schema cannot see: the call graph the
NetworkPolicies allow, the termination budget, the env each binary reads, and what prod requires.
Prints one line of counts; exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import kubernetes_validate
import yaml

NAMESPACE = "onramp"
SERVICES = ["identity", "tenant-provisioning", "billing", "onboarding"]
GATEWAY = "gateway"
GRPC_PORT = 50051
HTTP_PORT = 8080
METRICS_PORT = 9090
# The only namespace whose pods may scrape GET /metrics.
MONITORING_NAMESPACE = "monitoring"
OPERATOR_API = "monitoring.coreos.com/"
# Who calls whom over gRPC (the design's peer graph). NetworkPolicies must allow exactly this.
CALLS = {
    "gateway": set(SERVICES),
    "billing": {"tenant-provisioning", "onboarding"},
    "tenant-provisioning": {"billing", "identity"},
    "onboarding": {"identity", "tenant-provisioning", "billing"},
    "identity": set(),
}
COMMON_ENV = {"LOG_FORMAT", "RUST_LOG", "OTEL_EXPORTER_OTLP_ENDPOINT", "ONRAMP_ENV", "METRICS_LISTEN_ADDR"}
SERVICE_ENV = COMMON_ENV | {
    "GRPC_LISTEN_ADDR", "DATABASE_URL", "DATABASE_MAX_CONNECTIONS", "MAX_RPC_TIMEOUT", "DRAIN_PERIOD",
}
GATEWAY_ENV = COMMON_ENV | {
    "HTTP_LISTEN_ADDR", "IDENTITY_SERVICE_ADDR", "TENANT_PROVISIONING_SERVICE_ADDR", "BILLING_SERVICE_ADDR",
    "ONBOARDING_SERVICE_ADDR", "REQUEST_BUDGET", "READINESS_TIMEOUT", "BODY_LIMIT_BYTES",
}
# What a service refuses to start without when ONRAMP_ENV=production (its config's own checks).
REQUIRED_TO_START = {
    "identity": {"MAIL_FROM"},
    "tenant-provisioning": {"MAIL_FROM"},
    "billing": {"BILLING_PROVIDER"},
    "onboarding": {"MAIL_FROM", "SMTP_URL", "SALES_NOTIFICATION_ADDRESS", "CONNECT_RETURN_URL", "CONNECT_REFRESH_URL"},
}
# Secrets that must be read from a Secret, never given as a literal value.
SECRET_ENV = {"DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS", "SMTP_URL", "SMTP_PASSWORD",
              "RATE_LIMIT_REDIS_URL", "POSTHOG_API_KEY"}


def seconds(value: str) -> float:
    """A humantime duration as used here ("5s", "500ms", "1m", "1m 30s") in seconds."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", value.strip())
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", value):
        raise ValueError(f"unsupported duration {value!r}")
    return sum(float(n) * units[u] for n, u in parts)


class Overlay:
    def __init__(self, path: Path):
        self.name = path.stem
        self.objects = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        self.findings: list[str] = []

    def fail(self, message: str) -> None:
        self.findings.append(f"{self.name}: {message}")

    def of_kind(self, kind: str) -> dict[str, dict]:
        return {o["metadata"]["name"]: o for o in self.objects if o["kind"] == kind}

    def check(self) -> None:
        deployments = self.of_kind("Deployment")
        if set(deployments) != set(SERVICES) | {GATEWAY}:
            self.fail(f"Deployments are {sorted(deployments)}, expected the four services and the gateway")
        for obj in self.objects:
            if obj["kind"] == "Secret":
                self.fail(f"Secret/{obj['metadata']['name']} is embedded; Secrets are referenced only")
            if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != NAMESPACE:
                self.fail(f"{obj['kind']}/{obj['metadata']['name']} is not in namespace {NAMESPACE}")
        config_maps = self.of_kind("ConfigMap")
        policies = self.of_kind("NetworkPolicy")
        self.check_default_deny(policies)
        for name, deployment in deployments.items():
            self.check_workload(name, deployment, config_maps, policies)
        self.check_call_graph(deployments, policies)
        self.check_metrics_scrape(deployments, policies)
        self.check_monitoring(deployments)

    def check_default_deny(self, policies: dict[str, dict]) -> None:
        deny = [p for p in policies.values()
                if p["spec"]["podSelector"] == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress") and not p["spec"].get("egress")]
        if not deny:
            self.fail("no default-deny NetworkPolicy for ingress and egress")

    def check_workload(self, name: str, deployment: dict, config_maps: dict, policies: dict) -> None:
        is_gateway = name == GATEWAY
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        spec = pod["spec"]
        (container,) = spec["containers"]
        where = f"Deployment/{name}"

        # Identity and image.
        if container.get("command") != [f"/usr/local/bin/{name}"]:
            self.fail(f"{where}: command must be [/usr/local/bin/{name}]")
        image = container["image"]
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            self.fail(f"{where}: image {image!r} needs a fixed tag or a digest")

        # Hardening (checkov checks most of this too; these are the promises in the README).
        if spec.get("automountServiceAccountToken") is not False:
            self.fail(f"{where}: automountServiceAccountToken must be false")
        sc = container.get("securityContext", {})
        wanted = {"runAsNonRoot": True, "runAsUser": 65532, "readOnlyRootFilesystem": True,
                  "allowPrivilegeEscalation": False}
        for key, value in wanted.items():
            if sc.get(key) != value:
                self.fail(f"{where}: securityContext.{key} must be {value}")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            self.fail(f"{where}: capabilities must drop ALL")
        if spec.get("securityContext", {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
            self.fail(f"{where}: pod seccompProfile must be RuntimeDefault")
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(part, {})):
                self.fail(f"{where}: resources.{part} must set cpu and memory")

        # ServiceAccount and Service.
        account = self.of_kind("ServiceAccount").get(spec.get("serviceAccountName", ""))
        if account is None or account.get("automountServiceAccountToken") is not False:
            self.fail(f"{where}: needs its own ServiceAccount with automountServiceAccountToken: false")
        port_name, port = ("http", HTTP_PORT) if is_gateway else ("grpc", GRPC_PORT)
        wanted_ports = [(port_name, port), ("metrics", METRICS_PORT)]
        if [(p["name"], p["containerPort"]) for p in container.get("ports", [])] != wanted_ports:
            self.fail(f"{where}: must expose exactly ports {wanted_ports}")
        service = self.of_kind("Service").get(name)
        if service is None:
            self.fail(f"{where}: no Service {name}")
        else:
            if not selects(service["spec"].get("selector", {}), labels):
                self.fail(f"Service/{name}: selector does not select its pods")
            if [(p.get("name"), p.get("targetPort")) for p in service["spec"]["ports"]] != \
                    [(port_name, port_name), ("metrics", "metrics")]:
                self.fail(f"Service/{name}: needs ports {port_name} and metrics, each targeting its namesake")

        # Environment: every variable the binary reads, secrets only by reference.
        env = self.environment(where, container, config_maps)
        missing = (GATEWAY_ENV if is_gateway else SERVICE_ENV | REQUIRED_TO_START[name]) - set(env)
        if missing:
            self.fail(f"{where}: environment lacks {sorted(missing)}")
        listen = env.get("HTTP_LISTEN_ADDR" if is_gateway else "GRPC_LISTEN_ADDR", "")
        if not listen.endswith(f":{port}"):
            self.fail(f"{where}: listen address {listen!r} does not match container port {port}")
        if not env.get("METRICS_LISTEN_ADDR", "").endswith(f":{METRICS_PORT}"):
            self.fail(f"{where}: METRICS_LISTEN_ADDR must listen on the metrics port {METRICS_PORT}")
        if is_gateway:
            for peer in SERVICES:
                var = peer.upper().replace("-", "_") + "_SERVICE_ADDR"
                if env.get(var) != f"dns:///{peer}:{GRPC_PORT}":
                    self.fail(f"{where}: {var} must be dns:///{peer}:{GRPC_PORT}, is {env.get(var)!r}")

        # Probes.
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            p = container.get(probe)
            if p is None:
                self.fail(f"{where}: no {probe}")
            elif is_gateway:
                path = "/readyz" if probe == "readinessProbe" else "/healthz"
                if p.get("httpGet", {}).get("path") != path:
                    self.fail(f"{where}: {probe} must be httpGet {path}")
            elif p.get("grpc", {}).get("port") != GRPC_PORT or p.get("grpc", {}).get("service", ""):
                self.fail(f"{where}: {probe} must be a native grpc probe of the overall health on {GRPC_PORT}")
        if not is_gateway:
            startup = container.get("startupProbe", {})
            if startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) < 120:
                self.fail(f"{where}: startupProbe must allow at least 2 minutes for migrations")
        if is_gateway:
            ready = container.get("readinessProbe", {})
            if ready.get("timeoutSeconds", 1) <= seconds(env.get("READINESS_TIMEOUT", "1s")):
                self.fail(f"{where}: readinessProbe timeout must exceed READINESS_TIMEOUT")

        # Graceful termination: the grace period covers the preStop pause, the drain and the longest
        # call still in flight.
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        try:
            if is_gateway:
                needed = pre_stop + seconds(env.get("REQUEST_BUDGET", "10s"))
            else:
                needed = pre_stop + seconds(env["DRAIN_PERIOD"]) + seconds(env["MAX_RPC_TIMEOUT"])
        except (KeyError, ValueError) as e:
            self.fail(f"{where}: cannot compute the termination budget: {e}")
        else:
            if grace <= needed:
                self.fail(f"{where}: terminationGracePeriodSeconds {grace} must exceed {needed:g}s "
                          "(preStop + drain + in-flight)")
        if pre_stop <= 0:
            self.fail(f"{where}: needs a preStop sleep so endpoints drop the pod before SIGTERM")

        # Availability: a PDB, and an HPA unless the overlay pins replicas.
        pdbs = [p for p in self.of_kind("PodDisruptionBudget").values()
                if selects(p["spec"]["selector"]["matchLabels"], labels)]
        if len(pdbs) != 1:
            self.fail(f"{where}: needs exactly one PodDisruptionBudget, has {len(pdbs)}")
        elif "minAvailable" in pdbs[0]["spec"] and "maxUnavailable" in pdbs[0]["spec"]:
            self.fail(f"PodDisruptionBudget/{pdbs[0]['metadata']['name']}: sets both minAvailable and maxUnavailable")
        hpas = [h for h in self.of_kind("HorizontalPodAutoscaler").values()
                if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
        replicas = deployment["spec"].get("replicas")
        if hpas and replicas is not None:
            self.fail(f"{where}: sets replicas while an HPA owns them (every apply would reset the count)")
        if not hpas and replicas is None:
            self.fail(f"{where}: neither an HPA nor a replica count")
        if self.name == "prod":
            if len(hpas) != 1 or hpas[0]["spec"].get("minReplicas", 1) < 2:
                self.fail(f"{where}: prod needs an HPA with minReplicas >= 2")
            if pdbs and pdbs[0]["spec"].get("minAvailable") != 1:
                self.fail(f"{where}: prod PodDisruptionBudget must be minAvailable: 1")
            if env.get("ONRAMP_ENV") != "production" or env.get("LOG_FORMAT") != "json":
                self.fail(f"{where}: prod needs ONRAMP_ENV=production and LOG_FORMAT=json")

        # NetworkPolicy: some policy other than the namespace-wide ones selects this workload.
        own = [p for p in policies.values()
               if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)]
        if not own:
            self.fail(f"{where}: no NetworkPolicy selects its pods")

    def environment(self, where: str, container: dict, config_maps: dict) -> dict[str, str]:
        """The container's environment; secret-backed variables map to "<secret>"."""
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref is None:
                self.fail(f"{where}: envFrom other than a ConfigMap")
            elif ref not in config_maps:
                self.fail(f"{where}: envFrom ConfigMap {ref} is not part of the render")
            else:
                for key in SECRET_ENV & set(config_maps[ref].get("data", {})):
                    self.fail(f"ConfigMap/{ref}: holds secret {key}")
                env.update(config_maps[ref].get("data", {}))
        for item in container.get("env", []):
            if "value" in item:
                if item["name"] in SECRET_ENV:
                    self.fail(f"{where}: {item['name']} is a literal; reference a Secret")
                env[item["name"]] = item["value"]
            elif "secretKeyRef" in item.get("valueFrom", {}):
                env[item["name"]] = "<secret>"
            elif "configMapKeyRef" in item.get("valueFrom", {}):
                ref = item["valueFrom"]["configMapKeyRef"]
                env[item["name"]] = config_maps.get(ref["name"], {}).get("data", {}).get(ref["key"], "")
        return env

    def check_call_graph(self, deployments: dict, policies: dict) -> None:
        """Egress of A to B on the gRPC port exists iff B calls are in CALLS[A], and B's ingress agrees."""
        pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}

        def peers(policy: dict, direction: str, port: int) -> set[str]:
            key, peer_key = ("egress", "to") if direction == "egress" else ("ingress", "from")
            found = set()
            for rule in policy["spec"].get(key, []):
                ports = {p.get("port") for p in rule.get("ports", [])}
                if ports and port not in ports:
                    continue
                # A rule that covers the gRPC port must name pods, or it opens the port far wider.
                if not rule.get(peer_key):
                    self.fail(f"NetworkPolicy/{policy['metadata']['name']}: {key} rule opens port {port} to anyone")
                    continue
                for peer in rule[peer_key]:
                    if set(peer) != {"podSelector"}:
                        self.fail(f"NetworkPolicy/{policy['metadata']['name']}: {key} peer {peer} on port {port}")
                        continue
                    found |= {n for n, lbl in pod_labels.items() if selects(peer["podSelector"]["matchLabels"], lbl)}
            return found

        for name in deployments:
            own = [p for p in policies.values() if p["spec"]["podSelector"]
                   and selects(p["spec"]["podSelector"].get("matchLabels", {}), pod_labels[name])]
            egress = set().union(*(peers(p, "egress", GRPC_PORT) for p in own)) if own else set()
            if egress != CALLS[name]:
                self.fail(f"NetworkPolicy for {name}: gRPC egress to {sorted(egress)}, expected {sorted(CALLS[name])}")
            if name != GATEWAY:
                ingress = set().union(*(peers(p, "ingress", GRPC_PORT) for p in own)) if own else set()
                callers = {a for a, bs in CALLS.items() if name in bs}
                if ingress != callers:
                    self.fail(f"NetworkPolicy for {name}: gRPC ingress from {sorted(ingress)}, expected {sorted(callers)}")


    def check_metrics_scrape(self, deployments: dict, policies: dict) -> None:
        """Every pod admits the scrape on the metrics port, and only from the monitoring namespace."""
        monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}
        for name, deployment in deployments.items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            admitted = False
            for policy in policies.values():
                selector = policy["spec"]["podSelector"]
                if selector and not selects(selector.get("matchLabels", {}), labels):
                    continue
                for rule in policy["spec"].get("ingress", []):
                    ports = {p.get("port") for p in rule.get("ports", [])}
                    if ports and METRICS_PORT not in ports:
                        continue
                    if rule.get("from") == [monitoring]:
                        admitted = True
                    else:
                        self.fail(f"NetworkPolicy/{policy['metadata']['name']}: opens the metrics port "
                                  f"{METRICS_PORT} of {name} to more than namespace {MONITORING_NAMESPACE}")
            if not admitted:
                self.fail(f"Deployment/{name}: no NetworkPolicy admits the scrape from namespace {MONITORING_NAMESPACE}")

    def check_monitoring(self, deployments: dict) -> None:
        """When the monitoring component is rendered: the PodMonitor scrapes every workload's metrics
        port, and the alert rules exist (promtool checks their content)."""
        monitors = self.of_kind("PodMonitor")
        rules = self.of_kind("PrometheusRule")
        if not monitors and not rules:
            return
        for obj in self.objects:
            if obj["apiVersion"].startswith(OPERATOR_API) and obj["kind"] not in ("PodMonitor", "PrometheusRule"):
                self.fail(f"{obj['kind']}/{obj['metadata']['name']}: unexpected Prometheus Operator kind")
        if not rules:
            self.fail("monitoring: a PodMonitor without the PrometheusRule")
        for name, deployment in deployments.items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            scraped = [m for m in monitors.values()
                       if selects(m["spec"]["selector"].get("matchLabels", {}), labels)
                       and any(e.get("port") == "metrics" for e in m["spec"].get("podMetricsEndpoints", []))]
            if len(scraped) != 1:
                self.fail(f"Deployment/{name}: scraped by {len(scraped)} PodMonitors on port metrics, expected 1")


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kubernetes-version", action="append", required=True)
    parser.add_argument("rendered", nargs="+", type=Path)
    args = parser.parse_args()

    overlays = [Overlay(path) for path in args.rendered]
    schema_errors: list[str] = []
    validated = 0
    for overlay in overlays:
        for obj in overlay.objects:
            ident = f"{overlay.name}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            if obj.get("apiVersion", "").startswith(OPERATOR_API):
                continue  # no Kubernetes schema: checked by Overlay.check_monitoring and promtool
            for version in args.kubernetes_version:
                try:
                    kubernetes_validate.validate(obj, version, strict=True)
                    validated += 1
                except kubernetes_validate.ValidationError as e:
                    path = ".".join(str(p) for p in e.path)
                    schema_errors.append(f"{ident} (Kubernetes {version}): {path}: {e.message}")
                except kubernetes_validate.SchemaNotFoundError as e:
                    schema_errors.append(f"{ident} (Kubernetes {version}): no schema: {e.message}")
        overlay.check()

    findings = schema_errors + [f for o in overlays for f in o.findings]
    for finding in findings:
        print(f"  FAIL {finding}", file=sys.stderr)
    objects = sum(len(o.objects) for o in overlays)
    schema_objects = sum(1 for o in overlays for obj in o.objects
                         if not obj.get("apiVersion", "").startswith(OPERATOR_API))
    per = ", ".join(f"{o.name} {len(o.objects)}" for o in overlays)
    print(f"schemas: {validated}/{schema_objects * len(args.kubernetes_version)} object validations passed "
          f"({objects} objects: {per}; strict, Kubernetes {' and '.join(args.kubernetes_version)}); "
          f"rules: {len(findings) - len(schema_errors)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

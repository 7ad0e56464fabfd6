"""`preflight`: catch crash causes in manifests before the rollout, not after it.

The seed's pre-deploy script checked a hand-kept list of secret names with `kubectl get secret`.
This package derives the list from the manifests themselves, checks keys and `optional:` too,
and adds the static checks the runbook's prevention section asks for; every finding names the
catalog cause it prevents, with the catalog's fix and runbook link.

    manifests     read -f inputs (files, directories, stdin) with file + line of every field
    refs          every Secret/ConfigMap reference of a pod template
    checks        the table of checks (id -> cause, severity) and the finding they produce
    checks_static the manifest-only checks
    checks_live   the checks against the namespace (or the Secrets/ConfigMaps the input creates)
    runner        namespaces, then all checks: manifests in, findings out
    report        table / json / github output and the exit code
"""

from crashloop_exporter.preflight.checks import BY_CHECK, CHECKS, Check, PreflightFinding
from crashloop_exporter.preflight.manifests import Manifests, load_manifests
from crashloop_exporter.preflight.runner import Options, Result, run_checks

__all__ = [
    "BY_CHECK",
    "CHECKS",
    "Check",
    "Manifests",
    "Options",
    "PreflightFinding",
    "Result",
    "load_manifests",
    "run_checks",
]

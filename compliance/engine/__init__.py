"""CIS Docker Benchmark v1.6.0 checks: pure functions of one snapshot (no Django, no database).

results = evaluate(snapshot, Policy.from_dict(site_policy))
"""

from compliance.engine.core import BENCHMARK, ENGINE_VERSION, Check, CheckResult, Kind, Scope, Status
from compliance.engine.policy import Policy, PolicyError
from compliance.engine.runner import CHECKS, CHECKS_BY_CONTROL, evaluate

__all__ = [
    "BENCHMARK",
    "CHECKS",
    "CHECKS_BY_CONTROL",
    "ENGINE_VERSION",
    "Check",
    "CheckResult",
    "Kind",
    "Policy",
    "PolicyError",
    "Scope",
    "Status",
    "evaluate",
]

"""Dependency vulnerability audit (make security): pip-audit over the installed environment, which
CI installs from requirements/ (so every pinned package and what it pulls in).

Exit 1 when a known vulnerability is found. When pip-audit cannot reach its vulnerability database
(PyPI's JSON API, which this workplace's package mirror does not serve; or no network at all), every
package comes back "not found" or the query fails: that is said plainly and the step passes, since
nothing was checked rather than something found. Bandit still runs either way.
"""

from __future__ import annotations

import json
import subprocess  # runs pip-audit from this virtualenv, fixed argv  # nosec B404
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
UNREACHABLE = ("not found on PyPI", "ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> int:
    command = [str(PIP_AUDIT), "--progress-spinner", "off", "--format", "json", "--timeout", "10", "--skip-editable"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 - fixed argv  # nosec B603
    except subprocess.TimeoutExpired:
        say("dependency audit: SKIPPED - pip-audit did not answer within 120 s (vulnerability database unreachable)")
        return 0
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if any(marker in done.stderr for marker in UNREACHABLE):
            say(f"dependency audit: SKIPPED - the vulnerability database cannot be reached from here ({last[:200]})")
            return 0
        say(f"dependency audit: pip-audit failed: {last}")
        return 1
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    if dependencies and not audited and all(any(m in d["skip_reason"] for m in UNREACHABLE) for d in skipped):
        say(
            f"dependency audit: SKIPPED - pip-audit's vulnerability database (PyPI's JSON API) cannot be reached "
            f"from here: none of the {len(skipped)} installed packages could be looked up. Nothing was checked; "
            "run `make security` where pypi.org is reachable (see README, Security checks)."
        )
        return 0
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            say(f"  {dep['name']} {dep.get('version', '?')}: {vuln['id']} (fixed in {fixed})")
    note = f", {len(skipped)} could not be looked up" if skipped else ""
    if vulnerable:
        say(f"dependency audit: {len(vulnerable)} of {len(audited)} packages have known vulnerabilities{note}")
        return 1
    say(f"dependency audit: no known vulnerabilities in {len(audited)} packages{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

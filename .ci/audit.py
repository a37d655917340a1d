"""Dependency audit: pip-audit over the installed environment. Known vulnerabilities fail the run; when no
vulnerability service can be reached (an offline CI machine), it says so plainly and does not fail."""

from __future__ import annotations

import json
import subprocess
import sys


def audit(service: str) -> tuple[list[dict], str]:
    """The dependencies that were actually checked against `service`, or [] and why none were."""
    cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--skip-editable", "-f", "json"]
    cmd += ["--vulnerability-service", service]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return [], "timed out"
    try:
        deps = json.loads(proc.stdout).get("dependencies", [])
    except ValueError:
        return [], (proc.stderr.strip().splitlines() or ["no output"])[-1]
    checked = [d for d in deps if "skip_reason" not in d]
    return checked, "" if checked else f"none of {len(deps)} packages could be checked"


def main() -> int:
    for service in ("osv", "pypi"):
        checked, why = audit(service)
        if not checked:
            print(f"pip-audit via {service}: {why}")
            continue
        vulnerable = [d for d in checked if d.get("vulns")]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
                print(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixes})")
        print(f"pip-audit via {service}: {len(checked)} packages checked, {len(vulnerable)} with known vulnerabilities")
        return 1 if vulnerable else 0
    print(
        "NOTICE: no vulnerability database could be reached from this machine, so the dependencies were NOT "
        "audited. Run `make audit` on a machine with internet access."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs parliament and cloudsplaining over the IAM policies scripts/render-iam-policies.py rendered, and fails on
any finding that infra/iam-policy-exceptions.txt does not name with a reason.

Usage: check-iam-policies.py POLICY_DIR EXCEPTIONS_FILE

- cloudsplaining (every identity policy, "flag all risky actions": resource ARNs and conditions are not taken as
  constraints, so a finding is a capability the policy has at all): privilege escalation methods, data
  exfiltration, resource exposure, credentials exposure and service-wide (service:*) actions.
- parliament (identity and resource policies): every finding of severity HIGH or CRITICAL (malformed policies,
  unknown actions or condition keys...). Its MEDIUM RESOURCE_MISMATCH notes on service:* grants are left out.
- environment scoping (this project's rule, for the policies rendered per environment: the apply roles and the
  permissions boundaries): every Allow statement that writes must name the environment, in each of its resources
  or in a condition value (aws:RequestTag/Environment, aws:ResourceTag/Environment, s3:prefix...), and no resource
  may name the other environment. A statement that cannot is reported as `unscoped <Sid>`.

An exceptions line is `POLICY_GLOB KIND ITEM_GLOB # reason` (KIND: privilege-escalation, data-exfiltration,
resource-exposure, credentials-exposure, service-wildcard, parliament, unscoped, cross-environment). A line without a reason, or one that
matches no finding any more, fails the check too, so the list stays exactly what the policies need.
"""

import fnmatch
import json
import re
import sys
from pathlib import Path

from cloudsplaining.command.scan_policy_file import scan_policy
from cloudsplaining.shared.constants import DEFAULT_EXCLUSIONS_CONFIG
from parliament import analyze_policy_string


def exceptions(path):
    out, bad = [], []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        text = line.split("#", 1)
        rule = text[0].split()
        if not rule:
            continue
        reason = text[1].strip() if len(text) > 1 else ""
        if len(rule) != 3 or not reason:
            bad.append(f"{path}:{n}: want `POLICY_GLOB KIND ITEM_GLOB # reason`: {line}")
            continue
        out.append({"line": n, "policy": rule[0], "kind": rule[1], "item": rule[2], "used": False})
    return out, bad


def cloudsplaining_findings(policy):
    results = scan_policy(policy, DEFAULT_EXCLUSIONS_CONFIG, flag_conditional_statements=True,
                          flag_resource_arn_statements=True)
    found = []
    for item in (results.get("PrivilegeEscalation") or {}).get("findings", []):
        found.append(("privilege-escalation", item["type"]))
    for key, kind in [("DataExfiltration", "data-exfiltration"), ("ResourceExposure", "resource-exposure"),
                      ("CredentialsExposure", "credentials-exposure"), ("ServiceWildcard", "service-wildcard")]:
        for action in (results.get(key) or {}).get("findings", []):
            found.append((kind, action))
    return found


ENVS = ("staging", "production")
READ_VERBS = ("Describe", "List", "Get")


def as_list(value):
    return value if isinstance(value, list) else [value]


def scoping_findings(name, policy):
    m = re.search(r"__(?:apply|workload_boundary)__(\w+)\.json$", name)
    if not m:
        return []
    env = m.group(1)
    others = [e for e in ENVS if e != env]
    found = []
    for st in policy["Statement"]:
        if st.get("Effect", "Allow") != "Allow":
            continue
        sid = st.get("Sid", "?")
        resources = as_list(st.get("Resource", []))
        for r in resources:
            for other in others:
                if other in r:
                    found.append(("cross-environment", f"{sid}:{r}"))
        actions = as_list(st.get("Action", []))
        if all(a.split(":", 1)[1].startswith(READ_VERBS) for a in actions):
            continue  # configuration reads
        conditions = json.dumps(st.get("Condition", {}))
        if env in conditions:
            continue
        if any(env not in r for r in resources):
            found.append(("unscoped", sid))
    return found


def parliament_findings(text):
    policy = analyze_policy_string(text, include_community_auditors=False)
    return [("parliament", f.issue) for f in policy.findings if f.severity in ("HIGH", "CRITICAL")]


def main():
    root, allowed = Path(sys.argv[1]), sys.argv[2]
    rules, bad = exceptions(allowed)
    findings = []
    for path in sorted(root.rglob("*.json")):
        name = path.relative_to(root).as_posix()
        text = path.read_text()
        found = parliament_findings(text)
        if name.startswith("identity/"):
            found += cloudsplaining_findings(json.loads(text))
            found += scoping_findings(name, json.loads(text))
        for kind, item in found:
            matching = [r for r in rules if r["kind"] == kind and fnmatch.fnmatchcase(name, r["policy"])
                        and fnmatch.fnmatchcase(item.lower(), r["item"].lower())]
            for r in matching:
                r["used"] = True
            if not matching:
                findings.append(f"{name}: {kind} {item}")
    stale = [f"{allowed}:{r['line']}: matches no finding: {r['policy']} {r['kind']} {r['item']}"
             for r in rules if not r["used"]]
    problems = bad + findings + stale
    for p in problems:
        print(f"check-iam-policies: {p}", file=sys.stderr)
    count = len(list(root.rglob("*.json")))
    if problems:
        print(f"check-iam-policies: FAILED: {len(findings)} finding(s) without a reason in {allowed}, "
              f"{len(bad) + len(stale)} bad or stale exception line(s)", file=sys.stderr)
        sys.exit(1)
    print(f"check-iam-policies: {count} policies, parliament + cloudsplaining: every finding has a reason "
          f"({len(rules)} exceptions in {allowed})")


if __name__ == "__main__":
    main()

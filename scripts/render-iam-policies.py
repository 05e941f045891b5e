#!/usr/bin/env python3
"""Renders every `data "aws_iam_policy_document"` block under infra/ to an IAM policy JSON file, so standard IAM
linters (parliament, cloudsplaining; scripts/check-infra.sh) can read them.

Usage: render-iam-policies.py INFRA_DIR OUT_DIR

Each policy is written as OUT_DIR/<identity|resource>/<dir>__<block>[__<key>].json: `identity` for policies
without principals (what a role may do), `resource` for trust, key and bucket policies. A block with for_each is
rendered once per key (per environment for the GitHub Actions roles).

This is no Terraform evaluator: it fills the interpolations these policies use, from the directory's own locals,
the variables' defaults and a table of fixed placeholder values (account 123456789012, region eu-west-1,
environment keys). A reference it cannot fill (another resource's ARN, a module input) becomes a placeholder ARN of
the service its name says (kms, s3, logs...), and any other reference stops the run with its name, so a policy is
never checked half-rendered.
"""

import json
import re
import sys
from pathlib import Path

import hcl2

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENVS = ["staging", "production"]

# Interpolations with a fixed placeholder value.
FIXED = {
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "local.account_id": ACCOUNT,
    "data.aws_partition.current.partition": "aws",
    "local.partition": "aws",
    "data.aws_partition.current.dns_suffix": "amazonaws.com",
    "data.aws_region.current.region": REGION,
    "data.aws_region.current.name": REGION,
    "local.region": REGION,
    "var.aws_region": REGION,
    "var.project": "beer-catalog",
    "var.name_prefix": "beer-catalog-staging",
    "var.github_repository": "my-org/beer-catalog",
    "var.state_bucket_name": "beer-catalog-tfstate-123456789012",
    "local.oidc_host": "token.actions.githubusercontent.com",
    # The ECR Public pull-through cache: global's prefix, the collector's repository under it (modules/service derives
    # it from otel_collector_image with split(), which this renderer does not evaluate).
    "var.ecr_public_cache_prefix": "ecr-public",
    "var.collector_pull_through_prefix": "ecr-public",
    "local.otel_collector_repository": "aws-observability/aws-otel-collector",
    "data.aws_elb_service_account.this.arn": "arn:aws:iam::156460612806:root",
}

# Placeholders for ARNs only known after apply (or given as module inputs), by a word in the reference.
PLACEHOLDER_ARNS = [
    ("openid_connect", "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
    ("kms", "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"),
    ("s3_bucket", "arn:aws:s3:::placeholder-bucket"),
    ("log_group", "arn:aws:logs:eu-west-1:123456789012:log-group:/placeholder"),
    ("ecr_repository", "arn:aws:ecr:eu-west-1:123456789012:repository/beer-catalog"),
    ("image_repository", "arn:aws:ecr:eu-west-1:123456789012:repository/beer-catalog"),
    ("listener_rule", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/placeholder/0/0/0"),
    ("target_group", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/placeholder/0"),
    ("secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:placeholder-AbCdEf"),
]

STATEMENT_KEYS = {"sid": "Sid", "effect": "Effect", "actions": "Action", "not_actions": "NotAction",
                  "resources": "Resource", "not_resources": "NotResource"}


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class Scope:
    def __init__(self, rel, docs, each_key=None, each_value=None):
        self.rel, self.docs, self.each_key, self.each_value = rel, docs, each_key, each_value

    def local(self, name):
        for doc in self.docs:
            for block in doc.get("locals", []):
                if name in block:
                    return block[name]
        raise LookupError(f"local.{name}")

    def default(self, name):
        for doc in self.docs:
            for block in doc.get("variable", []):
                for key, body in block.items():
                    if unquote(key) == name and "default" in body:
                        return body["default"]
        raise LookupError(f"var.{name}")

    def value(self, raw):
        """A parsed HCL value (quoted template, `${expr}`, list, dict, number) -> its JSON value."""
        if isinstance(raw, list):
            out = []
            for item in raw:
                v = self.value(item)
                out.extend(v if isinstance(v, list) and not isinstance(item, list) and is_splat(item) else [v])
            return out
        if isinstance(raw, dict):
            return {unquote(k): self.value(v) for k, v in raw.items() if k != "__is_block__"}
        if not isinstance(raw, str):
            return raw
        whole = re.fullmatch(r"\$\{(.*)\}", raw, re.S)
        if whole and not raw.startswith('"'):
            return self.expr(whole.group(1).strip())
        return re.sub(r"\$\{([^}]*)\}", lambda m: str(self.expr(m.group(1).strip())), unquote(raw))

    def expr(self, e):
        if e in FIXED:
            return FIXED[e]
        if e == "each.key":
            return self.each_key
        if e == "each.value":
            return self.each_value
        if e in ("toset(var.environments)", "var.environments"):
            return list(ENVS)
        m = re.fullmatch(r"\[for (\w+) in each\.value : \"(.*)\"\]", e)
        if m:
            item = "${" + m.group(1) + "}"
            return [self.value('"' + m.group(2).replace(item, v) + '"') for v in self.each_value]
        m = re.fullmatch(r"local\.(\w+)\[each\.key\]\.(\w+)", e)
        if m:  # a field of a `{ for e in var.environments : e => { ... } }` local
            text = self.local(m.group(1))
            field = re.search(r"\b" + m.group(2) + r"\s*=\s*(\"(?:[^\"\\]|\\.)*\")", text)
            if not field:
                raise LookupError(e)
            return self.value(field.group(1).replace("${e}", self.each_key))
        m = re.fullmatch(r"local\.(\w+)", e)
        if m:
            return self.value(self.local(m.group(1)))
        m = re.fullmatch(r"var\.(\w+)", e)
        if m:
            try:
                return self.value(self.default(m.group(1)))
            except LookupError:
                pass
        for word, arn in PLACEHOLDER_ARNS:
            if word in e:
                return [arn] if e.endswith("arns") else arn
        raise LookupError(f"{self.rel}: cannot fill ${{{e}}}")


def is_splat(item):
    return isinstance(item, str) and re.fullmatch(r"\$\{[^}]*\}", item) is not None and "arns" in item


def for_each_keys(scope, raw):
    """(each.key, each.value) pairs. A map's values are rendered where they can be; the trust policies' OIDC
    subjects (built with concat and for) become one placeholder subject: their values matter to no check here."""
    m = re.fullmatch(r"\$\{local\.(\w+)\}", raw) if isinstance(raw, str) else None
    if m and isinstance(scope.local(m.group(1)), dict):
        raw = scope.local(m.group(1))  # an object local: its keys, its values where they render
    if isinstance(raw, dict):
        pairs = []
        for k, v in raw.items():
            if k == "__is_block__":
                continue
            try:
                pairs.append((unquote(k), scope.value(v)))
            except LookupError:
                pairs.append((unquote(k), ["repo:my-org/beer-catalog:ref:refs/heads/main"]))
        return pairs
    each = scope.value(raw)
    return list(each.items()) if isinstance(each, dict) else [(k, k) for k in each]


def statement(scope, st):
    out = {}
    for key, name in STATEMENT_KEYS.items():
        if key in st:
            out[name] = scope.value(st[key])
    out.setdefault("Effect", "Allow")
    for p in st.get("principals", []):
        kind = unquote(p["type"])
        ids = scope.value(p["identifiers"])
        out.setdefault("Principal", {})
        if kind == "*":
            out["Principal"] = "*"
        else:
            out["Principal"].setdefault(kind, []).extend(ids)
    for c in st.get("condition", []):
        test, var = unquote(c["test"]), scope.value(c["variable"])
        values = scope.value(c["values"])
        # One value as a scalar, as aws_iam_policy_document writes it (parliament reads Bool/Null conditions so).
        values = values[0] if isinstance(values, list) and len(values) == 1 else values
        out.setdefault("Condition", {}).setdefault(test, {})[var] = values
    return out


def main():
    infra, out = Path(sys.argv[1]), Path(sys.argv[2])
    count = 0
    for d in sorted({p.parent for p in infra.rglob("*.tf")}):
        rel = d.relative_to(infra).as_posix()
        docs = [hcl2.load(f.open()) for f in sorted(d.glob("*.tf"))]
        for doc in docs:
            for block in doc.get("data", []):
                for kind, named in block.items():
                    if unquote(kind) != "aws_iam_policy_document":
                        continue
                    for name, body in named.items():
                        name = unquote(name)
                        keys = [(None, None)]
                        if "for_each" in body:
                            keys = for_each_keys(Scope(rel, docs), body["for_each"])
                        for key, value in keys:
                            scope = Scope(rel, docs, key, value)
                            try:
                                statements = [statement(scope, st) for st in body.get("statement", [])]
                            except LookupError as e:
                                sys.exit(f"render-iam-policies: {rel} {name}: {e}")
                            kind_dir = "resource" if any("Principal" in s for s in statements) else "identity"
                            stem = "__".join(filter(None, [rel.replace("/", "_"), name, key]))
                            path = out / kind_dir / f"{stem}.json"
                            path.parent.mkdir(parents=True, exist_ok=True)
                            policy = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
                            if "${" in policy:  # a template left half-filled would be checked as a literal
                                sys.exit(f"render-iam-policies: {rel} {name}: unfilled interpolation in {path}")
                            path.write_text(policy + "\n")
                            count += 1
    print(f"render-iam-policies: {count} policies written to {out}")


if __name__ == "__main__":
    main()

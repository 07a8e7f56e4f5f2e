#!/usr/bin/env python3
"""Checks deploy/'s alerts and dashboard against each other, the metric contract and the runbook.

Run by scripts/promtool-check (after promtool's own checks); exit 1 with one line per finding.
  - alerts.yml: every alert has a severity (critical, warning, info), a summary, a description and a
    runbook_url docs/runbook.md#<anchor> whose anchor is a heading of docs/runbook.md;
  - alerts_*test.yml: every alert has a case where it fires and one where it does not;
  - every parley_ metric the alerts and the dashboard name is in deploy/metrics.txt, with only its
    labels (plus job, instance, and le on a histogram's _bucket); other metric names must be the
    libraries' (vertx_, jvm_, process_), `up`, or a recording rule of alerts.yml;
  - docs/runbook.md names every alert, and every alert and class it names (`LoadMonitor`,
    `e2e/ClusterFailoverIT`) exists;
  - deploy/grafana/parley.json: well-formed JSON, schemaVersion, a Prometheus datasource variable that
    every panel and query uses, unique panel ids, and every query valid PromQL (promtool parses them
    as recording rules, with Grafana's variables replaced).
Needs python3 with PyYAML and promtool on PATH.

`deploy-lint.py --exposition http://127.0.0.1:9464/metrics` (or a saved scrape) instead compares a
running node's metrics with deploy/metrics.txt: names, types and labels.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PROM = os.path.join(ROOT, "deploy", "prometheus")
findings = []


def finding(where, text):
    findings.append(f"{where}: {text}")


def github_anchor(heading):
    """The id GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors():
    anchors = set()
    in_code = False
    with open(os.path.join(ROOT, "docs", "runbook.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            m = re.match(r"#{1,6}\s+(.*)", line)
            if m and not in_code:
                anchors.add(github_anchor(m.group(1)))
    return anchors


def load_contract():
    metrics = {}
    with open(os.path.join(ROOT, "deploy", "metrics.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, kind, labels = line.split()
            metrics[name] = (kind, set() if labels == "-" else set(labels.split(",")))
    return metrics


KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "offset", "bool", "inf", "nan", "atan2",
            # aggregations, which may be followed by their modifier instead of "("
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
            "topk", "quantile"}
LIBRARY_PREFIXES = ("vertx_", "jvm_", "process_")


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_selectors(expr):
    """(metric name, set of label names in its braces) for every selector of a PromQL expression."""
    e = strip_strings(expr)
    # label lists of grouping modifiers are label names, not metrics
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", e)
    e = re.sub(r"\[[^\]]*\]", "", e)  # range and subquery durations
    out = []
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?", e):
        name, braces, call = m.group(1), m.group(2), m.group(3)
        if call or name.lower() in KEYWORDS or re.fullmatch(r"\d.*", name):
            continue
        labels = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", braces or ""))
        out.append((name, labels))
    return out


def check_names(where, expr, contract, records):
    for name, labels in metric_selectors(expr):
        if name in records or name == "up":
            continue
        if name.startswith(LIBRARY_PREFIXES):
            continue
        base, extra = name, {"job", "instance"}
        for suffix in ("_bucket", "_count", "_sum"):
            if name.endswith(suffix) and name[: -len(suffix)] in contract \
                    and contract[name[: -len(suffix)]][0] == "histogram":
                base = name[: -len(suffix)]
                if suffix == "_bucket":
                    extra = extra | {"le"}
        if base not in contract:
            finding(where, f"metric {name} is not in deploy/metrics.txt nor a library's (vertx_, jvm_, process_)")
            continue
        kind, allowed = contract[base]
        if kind == "histogram" and base == name:
            finding(where, f"histogram {name} used without _bucket, _count or _sum")
        unknown = labels - allowed - extra
        if unknown:
            finding(where, f"{name} has no label {', '.join(sorted(unknown))} (deploy/metrics.txt: {', '.join(sorted(allowed)) or 'none'})")


def check_alerts(contract):
    with open(os.path.join(PROM, "alerts.yml"), encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    anchors = runbook_anchors()
    alerts, records = [], set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "record" in rule:
                records.add(rule["record"])
    for group in rules["groups"]:
        for rule in group["rules"]:
            where = f"alerts.yml {rule.get('alert') or rule.get('record')}"
            check_names(where, rule["expr"], contract, records)
            if "alert" not in rule:
                continue
            alerts.append(rule["alert"])
            severity = rule.get("labels", {}).get("severity")
            if severity not in ("critical", "warning", "info"):
                finding(where, f"severity {severity!r}: must be critical, warning or info")
            ann = rule.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    finding(where, f"no {key} annotation")
            url = ann.get("runbook_url", "")
            m = re.fullmatch(r"docs/runbook\.md#([\w-]+)", url)
            if not m:
                finding(where, f"runbook_url {url!r} is not docs/runbook.md#<anchor>")
            elif m.group(1) not in anchors:
                finding(where, f"runbook_url anchor #{m.group(1)} is no heading of docs/runbook.md")
    if len(set(alerts)) != len(alerts):
        finding("alerts.yml", "an alert name is used twice")
    return alerts, records


def check_tests(alerts):
    fires, quiet = set(), set()
    tests = sorted(glob.glob(os.path.join(PROM, "alerts*_test.yml")))
    for path in tests:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for group in doc.get("tests", []):
            for case in group.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = ", ".join(os.path.basename(t) for t in tests)
    for alert in alerts:
        if alert not in fires:
            finding(names, f"no case where {alert} fires")
        if alert not in quiet:
            finding(names, f"no case where {alert} stays quiet")
    for alert in (fires | quiet) - set(alerts):
        finding(names, f"a case tests {alert}, which alerts.yml does not have")


def grafana_to_promql(expr):
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def check_dashboard(contract, records):
    path = os.path.join(ROOT, "deploy", "grafana", "parley.json")
    where = "grafana/parley.json"
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        finding(where, f"not well-formed JSON: {e}")
        return
    if not isinstance(dash.get("schemaVersion"), int):
        finding(where, "no schemaVersion")
    variables = dash.get("templating", {}).get("list", [])
    ds_vars = [v["name"] for v in variables if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    if not ds_vars:
        finding(where, "no Prometheus datasource variable")
    ds_ref = "${%s}" % ds_vars[0] if ds_vars else None
    exprs, ids = [], []

    def walk(panels):
        for p in panels:
            ids.append(p.get("id"))
            walk(p.get("panels", []))
            if p.get("type") == "row":
                continue
            title = p.get("title", "?")
            if (p.get("datasource") or {}).get("uid") != ds_ref:
                finding(where, f"panel {title!r} does not use the datasource variable {ds_ref}")
            if not p.get("targets"):
                finding(where, f"panel {title!r} has no query")
            for t in p.get("targets", []):
                if (t.get("datasource") or {}).get("uid") != ds_ref:
                    finding(where, f"panel {title!r} query {t.get('refId')} does not use {ds_ref}")
                exprs.append((title, t.get("expr", "")))

    walk(dash.get("panels", []))
    for v in variables:
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q or "")
            exprs.append((f"variable {v['name']}", m.group(1) if m else q))
    if len(set(ids)) != len(ids):
        finding(where, "panel ids are not unique")
    for title, expr in exprs:
        if not expr.strip():
            finding(where, f"{title!r}: empty query")
            continue
        check_names(f"{where} {title!r}", grafana_to_promql(expr), contract, records)
    # promtool parses every query: as recording rules of a throwaway rules file
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(exprs) if e.strip()]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as tmp:
        yaml.safe_dump(rules, tmp)
    try:
        r = subprocess.run(["promtool", "check", "rules", tmp.name], capture_output=True, text=True)
        if r.returncode != 0:
            for line in (r.stdout + r.stderr).splitlines():
                m = re.search(r"dashboard:query_(\d+)", line)
                label = f" ({exprs[int(m.group(1))][0]!r})" if m else ""
                if m:
                    finding(where, f"PromQL{label}: {line.strip().split(': ', 1)[-1]}")
            if not any("dashboard:query_" in line for line in (r.stdout + r.stderr).splitlines()):
                finding(where, f"promtool check rules failed: {(r.stdout + r.stderr).strip()}")
    finally:
        os.unlink(tmp.name)


def check_runbook_names(alerts):
    """Every alert is named in the runbook; every alert and class the runbook names exists."""
    sources = set()
    for module in ("server", "bench", "push-fakes"):
        for path in glob.glob(os.path.join(ROOT, module, "src", "*", "java", "**", "*.java"), recursive=True):
            sources.add(path.replace(os.sep, "/")[: -len(".java")])
    with open(os.path.join(ROOT, "docs", "runbook.md"), encoding="utf-8") as f:
        text = f.read()
    named = set(re.findall(r"`((?:[a-z0-9]+/)*[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)`", text))
    for alert in alerts:
        if alert not in named:
            finding("docs/runbook.md", f"alert {alert} is not named")
    for ref in sorted(named - set(alerts)):
        if re.fullmatch(r"Parley[A-Z]\w*", ref):
            finding("docs/runbook.md", f"`{ref}` is no alert of alerts.yml")
        elif not any(src.endswith("/" + ref) for src in sources):
            finding("docs/runbook.md", f"`{ref}` names no class of server, bench or push-fakes")


def check_exposition(source, contract):
    """Compares a node's GET /metrics (a URL or a saved file) with deploy/metrics.txt: each contract
    metric present, of its type, with exactly its labels. A metric the running profile cannot have
    (Kafka lag on the embedded profile, say) is reported missing: read the list with that in mind."""
    import urllib.request
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            text = r.read().decode("utf-8")
    else:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    types, labels = {}, {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s", line)
        if m:
            labels.setdefault(m.group(1), set()).update(re.findall(r"(\w+)=\"", m.group(2) or ""))
    where = f"exposition {source}"
    for name, (kind, allowed) in sorted(contract.items()):
        series = name + "_bucket" if kind == "histogram" else name
        family = name[: -len("_total")] if kind == "counter" and name.endswith("_total") else name
        if series not in labels:
            finding(where, f"{name} missing")
            continue
        got_type = types.get(family) or types.get(name)
        if got_type and got_type != kind:
            finding(where, f"{name} is a {got_type}, the contract says {kind}")
        got = labels[series] - ({"le"} if kind == "histogram" else set())
        if got != allowed:
            finding(where, f"{name} has labels {sorted(got)}, the contract says {sorted(allowed)}")


def main():
    contract = load_contract()
    if len(sys.argv) == 3 and sys.argv[1] == "--exposition":
        check_exposition(sys.argv[2], contract)
        for f in findings:
            print(f"deploy-lint: {f}", file=sys.stderr)
        return 1 if findings else 0
    if len(sys.argv) != 1:
        print("usage: deploy-lint.py [--exposition URL|FILE]", file=sys.stderr)
        return 2
    alerts, records = check_alerts(contract)
    check_runbook_names(alerts)
    check_tests(alerts)
    check_dashboard(contract, records)
    for f in findings:
        print(f"deploy-lint: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"deploy-lint: {len(alerts)} alerts with runbook anchors and firing and quiet tests; "
          f"dashboard queries valid over {len(contract)} contract metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""deploy/prometheus/alerts.yml and deploy/grafana/booxi-tracking.json: the rules pass `promtool check
rules` and their unit tests (`promtool test rules`); every dashboard query parses as PromQL (checked by
promtool as recording rules) and names only metrics the code exports."""
import json
import re
import subprocess
import tempfile
from pathlib import Path

import yaml
from local_processes import ROOT

PROMETHEUS = ROOT / "deploy/prometheus"
SOURCES = "\n".join(path.read_text() for path in (ROOT / "Sources").rglob("*.swift"))
EXPORTED = set(re.findall(r'label: "(booxi_tracking_[a-z_]+)"', SOURCES))


def promtool(*args, cwd=PROMETHEUS):
    result = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def metrics_in(expression):
    names = set(re.findall(r"\b(booxi_tracking_[a-z_]+?)(?:_bucket|_count|_sum)?\b", expression))
    return {name for name in names}


def test_alert_rules_are_valid_and_their_unit_tests_pass():
    assert "SUCCESS: 6 rules found" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_every_alert_the_issue_names_exists_and_has_a_unit_test():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    tested = {case["alertname"] for test in yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
              for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert {rule["alert"] for rule in rules} == tested
    for rule in rules:
        assert metrics_in(rule["expr"]) <= EXPORTED, rule["alert"]


def test_dashboard_queries_parse_and_name_exported_metrics():
    dashboard = json.loads((ROOT / "deploy/grafana/booxi-tracking.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 10
    for expression in expressions:
        assert metrics_in(expression) and metrics_in(expression) <= EXPORTED, expression
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query{n}", "expr": e} for n, e in enumerate(expressions)]}]}
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "dashboard.yml").write_text(yaml.safe_dump(rules))
        promtool("check", "rules", "dashboard.yml", cwd=work)

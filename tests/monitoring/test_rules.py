"""Prometheus' own checker accepts the project's rules and configuration (promtool from Debian's package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "config" / "prometheus" / "rules").glob("*.yml"))
ALERTS = {
    "KafkaLagGrowing",
    "DeadLetterRateHigh",
    "RiskApi5xxRateHigh",
    "NoDecisionsWhileLagging",
    "EndToEndLatencyP99High",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool missing: stack/stack.sh install puts Debian's prometheus package in"
    return path


def test_promtool_check_rules_passes(promtool) -> None:
    done = subprocess.run([promtool, "check", "rules", *map(str, RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(RULES)


def test_the_issue_s_five_alerts_are_defined() -> None:
    alerts = {
        rule["alert"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert alerts >= ALERTS


def test_generated_config_is_valid(promtool, tmp_path) -> None:
    ports = {"prometheus": "9390", "risk_api": "5001", "applicant_api": "5000", "exporter": "9391", "dashboard": "5080"}
    text = (ROOT / "config" / "prometheus" / "prometheus.yml.in").read_text()
    text = text.replace("@RULES_DIR@", str(ROOT / "config" / "prometheus" / "rules"))
    for name, port in ports.items():
        text = text.replace(f"@PORT_{name}@", port)
    assert "@" not in text.split("rule_files")[1]
    conf = tmp_path / "prometheus.yml"
    conf.write_text(text)
    done = subprocess.run([promtool, "check", "config", str(conf)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_fire_on_their_symptoms_and_stay_quiet_on_a_healthy_pipeline(promtool) -> None:
    """promtool's rule unit tests: series in, alerts (with their texts) out; config/prometheus/tests."""
    tests = sorted((ROOT / "config" / "prometheus" / "tests").glob("*_test.yml"))
    assert tests
    done = subprocess.run([promtool, "test", "rules", *map(str, tests)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout

"""The Storm UI pages in headless Chromium against the running `loan-risk`: figures, actions, graph, logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from adapters.settings import Settings
from tests.integration.ui_topology import RARE_PATH, running_loan_risk

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.browser]
WAIT_S = 60  # how long a page may take to show what is asserted (pages refresh every 10 s)


@pytest.fixture(scope="module")
def topology_id(settings) -> str:
    return running_loan_risk(settings)


@pytest.fixture(scope="module")
def ui(settings: Settings) -> str:
    return settings.storm_ui_url


def wait(browser, condition, what: str):
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.5).until(condition, message=what)


def cell_numbers(row) -> list[int]:
    return [int(td.text) for td in row.find_elements(By.TAG_NAME, "td") if td.text.isdigit()]


def test_cluster_home(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(ui + "/")
    link = wait(browser, ec.presence_of_element_located((By.LINK_TEXT, "loan-risk")), "loan-risk listed")
    assert topology_id in link.get_attribute("href")
    assert browser.find_element(By.ID, "banner").get_attribute("hidden") is not None
    shoot("cluster")


def test_topology_page_shows_every_component_with_numbers(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#bolts tbody tr")) >= 4, "bolts table")
    rows = browser.find_elements(By.CSS_SELECTOR, "#spouts tbody tr, #bolts tbody tr")
    names = {row.find_element(By.TAG_NAME, "td").text for row in rows}
    assert {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt"} <= names
    figures = {row.find_element(By.TAG_NAME, "td").text: sum(cell_numbers(row)) for row in rows}
    assert all(total > 0 for name, total in figures.items() if name not in RARE_PATH)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#lag tbody tr"), "Kafka lag rows")
    assert browser.find_elements(By.CSS_SELECTOR, "#workers a[href*='worker.log']")
    shoot("topology")


def test_window_selector_changes_the_window(browser, ui: str, topology_id: str) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#bolts tbody tr"), "bolts table")
    Select(browser.find_element(By.ID, "window")).select_by_value("600")
    wait(browser, lambda b: "10m 0s" in b.find_element(By.CSS_SELECTOR, ".window-hint").text, "10 minute window")
    assert "window=600" in browser.current_url


def press_and_confirm(browser, button_id: str) -> None:
    browser.find_element(By.ID, button_id).click()
    alert = wait(browser, ec.alert_is_present(), "confirmation dialog")
    assert "loan-risk" in alert.text
    alert.accept()


def test_deactivate_then_activate_from_the_page(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    status = (By.ID, "topo-status")
    wait(browser, ec.text_to_be_present_in_element(status, "ACTIVE"), "ACTIVE at first")
    press_and_confirm(browser, "btn-deactivate")
    wait(browser, ec.text_to_be_present_in_element(status, "INACTIVE"), "INACTIVE after deactivate")
    shoot("topology-inactive")
    press_and_confirm(browser, "btn-activate")
    wait(browser, lambda b: b.find_element(*status).text == "ACTIVE", "ACTIVE after activate")


def test_dismissed_confirmation_does_nothing(browser, ui: str, topology_id: str) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    wait(browser, ec.text_to_be_present_in_element((By.ID, "topo-status"), "ACTIVE"), "ACTIVE")
    browser.find_element(By.ID, "btn-kill").click()
    wait(browser, ec.alert_is_present(), "confirmation dialog").dismiss()
    assert browser.find_element(By.ID, "action-result").text == ""
    assert browser.find_element(By.ID, "topo-status").text == "ACTIVE"


def test_component_page_shows_executors(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(f"{ui}/component.html?topology_id={topology_id}&id=filter_bolt")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#executors tbody tr"), "executors table")
    executor = browser.find_element(By.CSS_SELECTOR, "#executors tbody tr")
    assert executor.find_element(By.TAG_NAME, "td").text.startswith("[")
    assert sum(cell_numbers(executor)) > 0
    assert browser.find_elements(By.CSS_SELECTOR, "#inputs tbody tr")
    shoot("component-filter_bolt")


def test_graph_renders_components_and_streams(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(f"{ui}/visualize.html?id={topology_id}&window=:all-time")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#topology-graph g.edge"), "graph edges")
    nodes = {n.get_attribute("data-component") for n in browser.find_elements(By.CSS_SELECTOR, "#topology-graph .node")}
    assert {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt"} <= nodes
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#topology-graph .edge-label")]
    assert labels
    assert all("/s" in label for label in labels)
    shoot("graph")


def test_worker_log_opens(browser, ui: str, topology_id: str, shoot) -> None:
    browser.get(f"{ui}/component.html?topology_id={topology_id}&id=decision_bolt")
    log_link = wait(
        browser, ec.element_to_be_clickable((By.CSS_SELECTOR, "#executors a[href*='worker.log']")), "worker log link"
    )
    log_link.click()
    wait(browser, lambda b: len(b.find_element(By.ID, "log-content").text) > 0, "log text")
    assert "worker.log" in browser.find_element(By.ID, "log-name").text
    search = browser.find_element(By.ID, "log-search")
    search.send_keys("Worker")
    search.submit()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#log-matches tbody tr"), "search matches")
    shoot("worker-log")


@pytest.fixture
def ui_without_nimbus(tmp_path):
    """The same UI app on its own port, pointed at a port where no Nimbus listens."""
    import sys
    import threading

    from werkzeug.serving import make_server

    sys.path.insert(0, str(ROOT / "stack" / "storm"))
    from stormui import create_app

    # auth off (allowed on this loopback bind): the test is about the banner, and its session must not replace
    # the signed-in cookie of the real UI, which the browser sends to every port of 127.0.0.1
    app = create_app(
        {"NIMBUS_PORT": 9, "NIMBUS_TIMEOUT_MS": 500, "LOG_DIR": str(tmp_path), "AUTH": "off", "BIND": "127.0.0.1:0"}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_nimbus_down_shows_a_banner(browser, ui_without_nimbus: str, shoot) -> None:
    browser.get(ui_without_nimbus + "/")
    banner = wait(browser, ec.visibility_of_element_located((By.ID, "banner")), "banner")
    assert "Nimbus is down or unreachable" in banner.text
    assert "Traceback" not in browser.page_source
    shoot("nimbus-down")


def test_rebalance_dialog_lists_components_and_cancel_does_nothing(browser, ui: str, topology_id: str) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    wait(browser, ec.text_to_be_present_in_element((By.ID, "topo-status"), "ACTIVE"), "ACTIVE")
    browser.find_element(By.ID, "btn-rebalance").click()
    dialog = wait(browser, ec.visibility_of_element_located((By.ID, "rebalance-dialog")), "rebalance dialog")
    fields = {i.get_attribute("data-component") for i in dialog.find_elements(By.CSS_SELECTOR, "input[data-component]")}
    assert {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt"} <= fields
    dialog.find_element(By.CSS_SELECTOR, "button[value=cancel]").click()
    wait(browser, ec.invisibility_of_element_located((By.ID, "rebalance-dialog")), "dialog closed")
    assert browser.find_element(By.ID, "action-result").text == ""


def test_component_rows_link_their_workers_logs(browser, ui: str, topology_id: str) -> None:
    browser.get(f"{ui}/topology.html?id={topology_id}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#bolts td[data-field=logs] a"), "log links")
    for row in browser.find_elements(By.CSS_SELECTOR, "#spouts tbody tr, #bolts tbody tr"):
        links = row.find_elements(By.CSS_SELECTOR, "td[data-field=logs] a")
        assert links
        assert all("worker.log" in a.get_attribute("href") for a in links)

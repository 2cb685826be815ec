"""The decisions dashboard in a real browser: Debian's headless Chromium through chromium-driver and Selenium.

Needs the running stack (`make up`) with some decisions in it: when the decision topic is empty, the module
first pushes LOANRISK_MONITORING_N (default 300) applicants through the pipeline. LOANRISK_SCREENSHOT=path
saves a screenshot of the dashboard (the README's docs/dashboard.png was made this way).
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import pytest
import requests
from selenium.webdriver.remote.webdriver import WebDriver

from adapters.settings import Settings
from tests.browser.conftest import sign_in

AUTH = Settings.load().auth_headers("reader")  # var/tokens/reader.token, written by `make up`

pytestmark = pytest.mark.integration

DASHBOARD = os.environ.get("LOANRISK_DASHBOARD_URL", "http://127.0.0.1:5080")
N = int(os.environ.get("LOANRISK_MONITORING_N", "300"))
CHARTS = ["c-rate", "c-mix", "c-grade", "c-reasons", "c-dlq", "c-latency", "c-lag", "c-pd"]
WAIT_S = 120


@pytest.fixture(scope="module")
def decisions(settings: Settings) -> list[dict[str, Any]]:
    """The dashboard's recent decisions, after a small pipeline run when there are none yet."""
    from jobs import demo

    found: list[dict[str, Any]] = requests.get(f"{DASHBOARD}/api/decisions", headers=AUTH, timeout=15).json()[
        "decisions"
    ]
    if not found:
        seed = int(time.time() * 1000) % 1_000_000_000
        run = demo.run_pipeline(
            settings,
            demo.new_run_dir("browser", settings),
            N,
            seed,
            0.1,
            samples=False,
            submit=True,
            timeout_s=900,
            whole_table=False,
        )
        assert run.accounted
        found = requests.get(f"{DASHBOARD}/api/decisions", headers=AUTH, timeout=15).json()["decisions"]
    assert found
    return found


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "Debian's chromium is needed (stack/stack.sh install)"
    assert driver, "Debian's chromium-driver is needed (stack/stack.sh install)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1600,1400",
    ):
        options.add_argument(arg)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(30)
    sign_in(session, DASHBOARD, Settings.load().token("reader") or "")  # the page needs a reader (README, Security)
    yield session
    session.quit()


def wait(browser, condition, what: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page re-renders its list by itself: an element read during a refresh is stale, so read again
    return WebDriverWait(
        browser, WAIT_S, poll_frequency=0.5, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition, message=f"waiting for {what}")


def click_first_decision(browser) -> str | None:
    """Click the list's first row and return its id (None to retry: the list refreshes itself)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        row = browser.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")[0]
        ident = row.get_attribute("data-id")
        row.click()
        return str(ident) if ident is not None else None
    except (IndexError, StaleElementReferenceException):
        return None


NEEDS_DATA = {"c-grade", "c-reasons", "c-pd", "c-mix", "c-rate", "c-latency"}


def charts_with_data(browser: WebDriver) -> list[list[Any]] | None:
    """Return [id, datasets, width] per chart once every chart in NEEDS_DATA has data, else None (retry)."""
    drawn = browser.execute_script(
        "return arguments[0].map(id => { const c = Chart.getChart(id);"
        " return c ? [id, c.data.datasets.length, c.canvas.width] : [id, 0, 0]; });",
        CHARTS,
    )
    with_data = {cid for cid, datasets, _ in drawn if datasets > 0}
    return list(drawn) if with_data >= NEEDS_DATA else None


def test_dashboard_renders_its_charts_and_opens_a_decision(browser, decisions) -> None:
    from selenium.webdriver.common.by import By

    browser.get(DASHBOARD + "/")
    wait(browser, lambda b: b.execute_script("return document.body.dataset.loaded === 'true'"), "the first refresh")
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None, browser.find_element(
        By.ID, "error"
    ).text
    # the time-series charts need two Prometheus scrapes after the first decisions; the page refreshes itself
    drawn = wait(browser, charts_with_data, "data in every chart")
    assert [row[0] for row in drawn] == CHARTS
    assert all(width > 0 for _, _, width in drawn), drawn
    assert browser.find_element(By.ID, "t-decided").text not in ("", "\N{EN DASH}")
    assert "model" in browser.find_element(By.ID, "versions").text

    ident = wait(browser, click_first_decision, "the decision list")
    wait(browser, lambda b: b.find_element(By.ID, "detail").get_attribute("data-id") == ident, "the decision's details")
    detail = browser.find_element(By.ID, "d-fields").text
    for label in ("probability of default", "model version", "policy version", "Kafka record"):
        assert label in detail
    assert "partition" in detail
    assert "offset" in detail
    assert browser.find_elements(By.CSS_SELECTOR, "#d-applicant tbody tr")
    if os.environ.get("LOANRISK_SCREENSHOT"):
        browser.save_screenshot(os.environ["LOANRISK_SCREENSHOT"])


def test_search_by_id_finds_the_decision(browser, decisions) -> None:
    from selenium.webdriver.common.by import By

    ident = decisions[0]["application_id"]
    browser.get(DASHBOARD + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys(ident)
    browser.find_element(By.CSS_SELECTOR, "#search button").click()
    wait(
        browser,
        lambda b: (
            [r.get_attribute("data-id") for r in b.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")][:1] == [ident]
        ),
        "the search result",
    )

"""Headless Chromium from Debian (`chromium` + `chromium-driver`) driven by Selenium: no downloaded browser.

Screenshots of every page go to var/screenshots/ (what the README's picture is taken from).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DASHBOARD_URL = os.environ.get("LOANRISK_DASHBOARD_URL", "http://127.0.0.1:5080")


def sign_in(driver: WebDriver, base: str, token: str) -> None:
    """Fill the app's /login form (webkit.auth) with a token; the session cookie keeps only its hash."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    form = (By.NAME, "token")
    for attempt in (1, 2):  # a busy CI box may answer the first load late: load the form once more, then fail
        driver.get(f"{base}/login")
        try:
            WebDriverWait(driver, 30).until(ec.presence_of_element_located(form))
            break
        except TimeoutException:
            if attempt == 2:
                raise
    driver.find_element(*form).send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session, laptop-sized."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1440,900",
        "--no-proxy-server",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    settings = Settings.load()
    for base in (settings.storm_ui_url, DASHBOARD_URL):  # sign in once per app with the local admin token
        sign_in(driver, base, settings.token("admin") or "")
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def shoot(browser: WebDriver):
    """Save a full-page screenshot of the current page as var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> Path:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1440, min(max(900, height), 4000))
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        browser.set_window_size(1440, 900)
        return path

    return save

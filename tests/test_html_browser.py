"""REPORT.html in a real headless browser (Chromium, driven by Selenium).

Built from the committed quick-profile records, the page must load with no
console error, show every embedded plot, open with the verdict counts, hold one
scoreboard row per claim, sort a table when a header is clicked, and give a screenshot.
Where Chromium or Selenium is missing the test skips locally with the reason,
but fails under CI (``CI=true``), where ``.ci/run`` installs them.
"""
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench.spec import registry

from bench.publish import report
from conftest import copy_published

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("BENCH_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1300,1000")


def _missing() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, what in ((CHROMIUM, "Chromium"), (DRIVER, "chromedriver")):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{what} is not at {path} (apt-get install -y chromium chromium-driver)"
    return ""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    copy_published("quick", results)
    report.publish(results, "quick", html=True)
    return results / "quick"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must test REPORT.html in a browser, but {why}.")
        pytest.skip(f"no headless browser here: {why}.")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _column(driver, table: str, index: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))"
        ".map(r => r.cells[arguments[1]].textContent.trim());", f"#{table}", index)


def _number(text: str) -> float:
    return float(re.match(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", text, re.I).group(0))


def test_report_page_in_a_headless_browser(page, browser, tmp_path):
    claims = pd.read_csv(page / "claims.csv")
    browser.get((page / "REPORT.html").as_uri())
    assert browser.title == "regbench results: quick"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors

    rows = browser.execute_script("return document.querySelectorAll('#scoreboard tbody tr').length;")
    assert rows == len(claims[["case", "claim"]].drop_duplicates()) < len(claims)   # one row per claim
    assert browser.find_element("id", "headline").text.startswith(f"{rows} claims, {len(claims)} verdicts")
    assert browser.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0);")
    assert browser.execute_script("return document.images.length;") >= 2   # c4: seeds, curves (+ forest)

    headers = browser.execute_script(
        "return Array.from(document.querySelectorAll('#scoreboard thead th')).map(h => h.textContent);")
    assert {"tf verdict", "torch verdict"} <= set(headers)
    col = headers.index("tf estimate [CI]")
    before = [_number(v) for v in _column(browser, "scoreboard", col)]
    assert before != sorted(before)   # else the click below would prove nothing
    th = browser.find_elements("css selector", "#scoreboard thead th")[col]
    th.click()
    values = [_number(v) for v in _column(browser, "scoreboard", col)]
    assert values == sorted(before)
    th.click()
    assert [_number(v) for v in _column(browser, "scoreboard", col)] == sorted(values, reverse=True)
    assert th.get_attribute("aria-sort") == "descending"

    link = browser.find_element("css selector", "#scoreboard tbody tr a")   # the top row after sorting
    target = link.get_attribute("href").rsplit("#", 1)[1]
    case = target.removeprefix("case-")
    assert target.startswith("case-") and link.text in {c.id for c in registry.get(case).claims}
    assert browser.execute_script(f"return document.getElementById('{target}') !== null;")

    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


PUBLISHED = sorted(p.parent.name for p in (ROOT / "results").glob("*/REPORT.html"))


@pytest.mark.parametrize("profile", PUBLISHED)
def test_published_page_opens(profile, browser):
    """The committed ``results/<profile>/REPORT.html`` itself (not a rebuilt copy) loads with no
    console error, shows every embedded plot and has one scoreboard row per claim of its claims.csv."""
    folder = ROOT / "results" / profile
    claims = pd.read_csv(folder / "claims.csv")
    browser.get((folder / "REPORT.html").as_uri())
    assert browser.title == f"regbench results: {profile}"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    rows = browser.execute_script("return document.querySelectorAll('#scoreboard tbody tr').length;")
    assert rows == len(claims[["case", "claim"]].drop_duplicates()) > 0
    assert browser.execute_script("return document.images.length;") >= 3
    assert browser.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0);")

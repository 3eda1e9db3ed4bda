"""A real browser (Debian's headless Chromium, driven by Selenium through chromedriver)
against a real server: titles, the cast table, following a link, and a screenshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_COPY = Path("/tmp/filmld-film.png")


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,4200"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, read below
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_film_and_person_pages_in_a_real_browser(browser, live_server, tmp_path):
    browser.get(f"{live_server.url}id/film/mask-1985")  # 303 -> .html (browser Accept)
    assert browser.current_url == f"{live_server.url}id/film/mask-1985.html"
    assert browser.title.startswith("Mask (1985)")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Mask (1985)"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.cast tbody tr")
    cast = {}
    for row in rows:
        actor, character = row.find_elements(By.TAG_NAME, "td")
        cast[actor.text] = character.text.replace("(role)", "").strip()
    assert cast["Cher"] == "Rusty Dennis"
    assert cast["Eric Stoltz"] == "Rocky Dennis"
    assert cast["Sam Elliott"] == "Gar"
    plot = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "ol.plot li")]
    assert plot[0].startswith("Opening") and plot[-1].startswith("Rocky dies in his sleep")
    assert browser.find_element(By.CSS_SELECTOR, "figure.hood svg")
    shot = tmp_path / "film.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)

    browser.find_element(By.LINK_TEXT, "Cher").click()  # follow a link in the cast table
    assert browser.current_url == f"{live_server.url}id/person/cher.html"
    assert browser.title.startswith("Cher")
    roles = browser.find_elements(By.CSS_SELECTOR, "table.roles tbody tr")
    assert any("Rusty Dennis" in row.text and "Mask" in row.text for row in roles)
    browser.save_screenshot(str(tmp_path / "cher.png"))


def test_film_page_fits_a_phone_screen(browser, live_server, tmp_path):
    browser.set_window_size(390, 844)
    browser.get(f"{live_server.url}id/film/mask-1985.html")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    assert browser.find_element(By.CSS_SELECTOR, "table.cast").is_displayed()
    browser.save_screenshot(str(tmp_path / "film-phone.png"))
    shutil.copyfile(tmp_path / "film-phone.png", "/tmp/filmld-film-phone.png")


def console_errors(browser) -> list[str]:
    """The console's errors since the last call (Chromium's log is drained by reading it)."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_sparql_page_runs_every_example_with_a_clean_console(browser, live_server):
    """The query page as a person uses it: each example fills the editor, Run shows a table
    whose IRIs link to their pages, and the console stays free of errors (a 404 for
    /favicon.ico, which every browser asks for, was one on every page)."""
    browser.get(f"{live_server.url}sparql")
    count = len(browser.find_elements(By.CSS_SELECTOR, "ul.examples a[data-query]"))
    assert count >= 5
    assert console_errors(browser) == []
    for index in range(count):
        browser.get(f"{live_server.url}sparql")
        example = browser.find_elements(By.CSS_SELECTOR, "ul.examples a[data-query]")[index]
        example.click()
        editor = browser.find_element(By.ID, "query")
        assert editor.get_attribute("value") == example.get_attribute("data-query")
        run = browser.find_element(By.CSS_SELECTOR, "form.query button[type=submit]")
        run.click()
        # the answer is a new page: wait until this one is gone (reading at once raced it)
        WebDriverWait(browser, 20).until(expected_conditions.staleness_of(run))
        WebDriverWait(browser, 20).until(
            lambda b: b.execute_script("return document.readyState") == "complete")
        rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
        links = [a.get_attribute("href")
                 for a in browser.find_elements(By.CSS_SELECTOR, "table tbody a")]
        assert rows, f"example {index}: no result rows"
        assert any(link.startswith(f"{live_server.url}id/") for link in links), links[:5]
        assert console_errors(browser) == [], f"example {index}"
    browser.find_element(By.CSS_SELECTOR, "table tbody a").click()  # an IRI opens its page
    WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith(".html"))
    assert console_errors(browser) == []

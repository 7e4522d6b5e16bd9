"""GET /docs, the API explorer (issue 18): served by evacase itself with no CDN, minting development tokens only
when allowed and only for this machine — and driven in a real headless browser (Debian's chromium through
selenium): pick a service, mint a token, send a Ping and a CustomerCreateCase, read the answers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import make_settings, serving
from tests.helpers import SECRET, Api
from tests.live import live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
async def local(db_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with development tokens on, called from this machine."""
    async with serving(make_settings(db_dsn, docs_tokens=True), ("127.0.0.1", 40000)) as api:
        yield api.client


async def test_the_page_and_its_files_are_served_with_a_strict_policy(local: httpx.AsyncClient) -> None:
    page = await local.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    # No CDN: every script and style the page loads is its own.
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == ["/docs/explorer.css", "/docs/explorer.js", "/openapi.json"]
    script = await local.get("/docs/explorer.js")
    assert (script.status_code, script.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert "innerHTML" not in script.text  # answers are shown as text, never parsed as HTML
    style = await local.get("/docs/explorer.css")
    assert (style.status_code, style.headers["content-type"]) == (200, "text/css; charset=utf-8")
    missing = await local.get("/docs/..%2Fapp.py")
    assert missing.status_code == 404


async def test_a_development_token_is_minted_for_each_kind_of_caller_and_works(local: httpx.AsyncClient) -> None:
    api = Api(local)
    for user_type, user_id, bits in (("customer", 1, 2), ("employee", 2, 1), ("integrator", 3, 2048)):
        r = await local.post("/docs/token", json={"UserType": user_type})
        assert r.status_code == 200, r.text
        answer = r.json()
        claims = jwt.decode(answer["Token"], SECRET, algorithms=["HS256"])
        assert (claims["sub"], claims["user_type"]) == (str(user_id), bits)
        assert answer["UserID"] == user_id and answer["UserType"] == user_type
        assert answer["Functionalities"] == claims["functionalities"]
        assert r.headers["cache-control"] == "no-store"
        assert await api.ok("Ping", {}, answer["Token"]) == {}
    employee = (await local.post("/docs/token", json={"UserType": "employee"})).json()
    assert {"Cases", "CaseStatuses", "PushCases", "CustomFields"} <= set(employee["Functionalities"])
    assert await api.ok("ListCases", {}, employee["Token"]) == {"Results": []}
    integrator = (await local.post("/docs/token", json={"UserType": "integrator"})).json()
    assert integrator["Functionalities"] == ["PushCases", "Cases:View"]


async def test_minting_is_refused_when_off_remote_or_unknown(db_dsn: str, local: httpx.AsyncClient) -> None:
    bad = await local.post("/docs/token", json={"UserType": "root"})
    assert bad.status_code == 400 and bad.json()["Error"]["Code"] == "RequestValidationFailure", bad.text
    unknown = await local.post("/docs/token", json={"UserType": "customer", "UserID": 7})
    assert unknown.status_code == 400, unknown.text
    async with serving(make_settings(db_dsn), ("127.0.0.1", 40001)) as off:  # a configured secret: tokens off
        r = await off.client.post("/docs/token", json={})
        assert r.status_code == 403
        assert r.json()["Error"]["Code"] == "DevelopmentTokensOff"
        assert r.json()["Error"]["RequestID"] == r.headers["EVA-Request-ID"]
    async with serving(make_settings(db_dsn, docs_tokens=True), ("203.0.113.9", 40002)) as remote:
        r = await remote.client.post("/docs/token", json={})
        assert r.status_code == 403
        assert r.json()["Error"] == {
            "Code": "DevelopmentTokensOff",
            "Message": "Development tokens are minted for callers on this machine only.",
            "Type": "Forbidden",
            "RequestID": r.headers["EVA-Request-ID"],
        }


# The browser. Flags as the machine's notes give them: no sandbox as root, no background networking on a closed
# network, a fresh profile.
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def wait_for_answer(driver: WebDriver) -> tuple[str, object]:
    WebDriverWait(driver, 20).until(lambda d: re.match(r"\d{3} ", text_of(d, "status")))
    return text_of(driver, "status"), json.loads(text_of(driver, "response"))


def choose(driver: WebDriver, service: str) -> None:
    driver.find_element(By.ID, "filter").clear()
    driver.find_element(By.ID, "filter").send_keys(service)
    Select(driver.find_element(By.ID, "service")).select_by_value(service)
    WebDriverWait(driver, 10).until(lambda d: text_of(d, "name") == service)


def test_the_explorer_sends_a_ping_and_creates_a_case_in_a_real_browser(
    browser: WebDriver, pg_admin_dsn: str, template_dsn: str, tmp_path: Path
) -> None:
    with live_server(pg_admin_dsn, "explorer", docs_tokens=True) as (url, dsn):
        browser.get(f"{url}/docs")
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        services = [o.get_attribute("value") for o in Select(browser.find_element(By.ID, "service")).options]
        assert "Ping" in services and "CustomerCreateCase" in services and len(services) > 100
        assert text_of(browser, "name") == "Ping"
        assert text_of(browser, "access") == "Who may call: any authenticated caller."

        # Without a token: EVA's 401, shown as it came.
        browser.find_element(By.ID, "send").click()
        status, body = wait_for_answer(browser)
        assert status.startswith("401") and body["Error"]["Code"] == "MissingToken"  # type: ignore[index]
        assert "eva-request-id: " in text_of(browser, "headers")

        Select(browser.find_element(By.ID, "mint-type")).select_by_value("customer")
        browser.find_element(By.ID, "mint").click()
        WebDriverWait(browser, 10).until(lambda d: "valid one day" in text_of(d, "mint-result"))
        browser.find_element(By.ID, "send").click()
        assert wait_for_answer(browser) == ("200 OK", {})

        choose(browser, "CustomerCreateCase")
        prefilled = json.loads(str(browser.find_element(By.ID, "body").get_attribute("value")))
        assert {"Title", "Description", "TopicID"} <= set(prefilled)
        body_box = browser.find_element(By.ID, "body")
        body_box.clear()
        body_box.send_keys(
            json.dumps({"TopicID": 1, "Title": "Sent from the explorer", "Description": "Typed in a browser."})
        )
        browser.find_element(By.ID, "send").click()
        status, answer = wait_for_answer(browser)
        assert status == "200 OK", answer
        case_id = answer["ID"]  # type: ignore[index]
        screenshot = tmp_path / "explorer.png"
        assert browser.save_screenshot(str(screenshot))
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000
        if os.environ.get("EVACASE_EXPLORER_SCREENSHOT"):  # README's picture: EVACASE_EXPLORER_SCREENSHOT=docs/...
            shutil.copy(screenshot, os.environ["EVACASE_EXPLORER_SCREENSHOT"])

        async def stored() -> asyncpg.Record:
            conn = await asyncpg.connect(dsn)
            try:
                return await conn.fetchrow("SELECT customer_id, topic_id, title FROM cases WHERE id = $1", case_id)
            finally:
                await conn.close()

        assert dict(asyncio.run(stored())) == {"customer_id": 1, "topic_id": 1, "title": "Sent from the explorer"}

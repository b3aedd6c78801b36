"""The page of gatedinpaint.web in a real browser (headless Chromium through
Selenium), served by `python3 -m gatedinpaint.web` on a free port: open the
example photo, paint strokes with the mouse (one undone, and a guide line
when the model takes one), press Fill, and the picture the page received is
changed inside the painted hole and identical outside. GATEDINPAINT_WEB_SCREENSHOT=FILE saves a screenshot after the fill
(docs/web.png). Skipped (exit 77 in meson) without chromium, chromedriver,
Selenium or the web dependencies."""
import base64
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

for _name in ("starlette", "multipart", "uvicorn", "selenium"):
    pytest.importorskip(_name)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("no chromium or chromedriver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import gatedinpaint as gi  # noqa: E402

from conftest import PACKAGE_ROOT, free_port  # noqa: E402


@pytest.fixture(scope="module")
def url(model_path):
    """The page, from the real command; the library's default model when it has one."""
    port = free_port()
    command = [sys.executable, "-m", "gatedinpaint.web", "--port", str(port)]
    try:
        gi.Model.default().close()
    except gi.UnsupportedError:
        command += ["--model", model_path]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [PACKAGE_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    server = subprocess.Popen(command, env=env)
    address = "http://127.0.0.1:%d/" % port
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(address + "api/info", timeout=2).close()
            break
        except OSError:
            assert server.poll() is None, "gatedinpaint.web exited with %s" % server.returncode
            assert time.monotonic() < deadline, "gatedinpaint.web did not answer"
            time.sleep(0.2)
    yield address
    server.terminate()
    server.wait(20)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1000,720", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def data_url_bytes(url):
    return base64.b64decode(url.split(",", 1)[1])


def decode(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return gi.load_image(str(path))


def stroke(driver, element, points):
    """Press at the first point (offsets from the element's centre), drag through the rest."""
    chain = ActionChains(driver).move_to_element_with_offset(element, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


def test_paint_fill_download(url, browser, example_paths, tmp_path):
    browser.get(url)
    wait = WebDriverWait(browser, 60)
    browser.find_element(By.ID, "file").send_keys(example_paths[0])
    paint = browser.find_element(By.ID, "paint")
    wait.until(lambda d: paint.is_displayed() and paint.size["width"] > 0)
    browser.execute_script("document.getElementById('size').value = 24")
    stroke(browser, paint, [(-120, -60), (-40, -50), (30, -40), (60, 10)])
    stroke(browser, paint, [(200, 150), (240, 150)])  # undone below
    browser.find_element(By.ID, "undo").click()
    guide_button = browser.find_element(By.ID, "mode-guide")
    guided = browser.execute_script("return fetch('api/info').then((r) => r.json())")["guide"]
    assert guide_button.is_displayed() == guided
    if guided:
        guide_button.click()
        stroke(browser, paint, [(-100, 60), (100, 60)])  # outside the hole
    browser.find_element(By.ID, "fill").click()
    wait.until(lambda d: d.execute_script("return window.gatedinpaint.result")
               or "failed" in d.find_element(By.ID, "status").text)
    assert browser.find_element(By.ID, "status").text.startswith("Filled"), \
        browser.find_element(By.ID, "status").text
    if os.environ.get("GATEDINPAINT_WEB_SCREENSHOT"):
        browser.save_screenshot(os.environ["GATEDINPAINT_WEB_SCREENSHOT"])

    # What the download link holds, and the mask that was sent.
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(document.getElementById('download').href).then((r) => r.blob()).then((b) => {
          const reader = new FileReader();
          reader.onload = () => done(reader.result);
          reader.readAsDataURL(b);
        });""")
    out = decode(tmp_path, "result.png", data_url_bytes(result))
    mask = decode(tmp_path, "mask.png",
                  data_url_bytes(browser.execute_script("return window.gatedinpaint.lastMask")))
    hole = gi.normalize_mask(gi.load_mask(str(tmp_path / "mask.png"))) > 0
    image = gi.load_image(example_paths[0])
    assert mask.shape[:2] == out.shape[:2] == image.shape[:2]

    # The strokes landed where they were drawn: page pixels -> image pixels.
    rect = paint.rect
    scale = image.shape[1] / rect["width"]

    def at(dx, dy):
        return hole[int((rect["height"] / 2 + dy) * scale), int((rect["width"] / 2 + dx) * scale)]
    assert at(-120, -60) and at(-40, -50) and at(60, 10), "the stroke is not in the mask"
    assert not at(220, 150), "the undone stroke is in the mask"
    assert not at(0, 60), "the guide line is in the mask"
    guide = browser.execute_script("return window.gatedinpaint.lastGuide")
    assert (guide is not None) == guided
    if guided:
        lines = decode(tmp_path, "guide.png", data_url_bytes(guide))[:, :, 0] > 153
        y, x = int((rect["height"] / 2 + 60) * scale), int(rect["width"] / 2 * scale)
        assert lines[y - 2:y + 3, x].any() and 0 < lines.sum() < 2000, lines.sum()
    assert 500 < hole.sum() < hole.size // 4, hole.sum()

    assert np.array_equal(out[~hole], image[~hole]), "pixels outside the hole changed"
    assert np.abs(out[hole].astype(int) - image[hole]).mean() > 2, "the hole was not filled"

    toggle = browser.find_element(By.ID, "toggle")
    assert toggle.text == "Show before"
    toggle.click()
    assert toggle.text == "Show after"

# Copyright 2026 backorder_po_link contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Browser tests on the demo story, which also take the README's screenshots.

A tour step logs ``backorder_po_link:screenshot:<name>``; the test hears it
on Chromium's console, asks Chromium for a picture of the page, writes it to
``static/description/screenshot_<name>.png`` and marks the page's body so the
tour goes on. The pictures thus always show the current code."""

import base64
import json
import os
import threading
from pathlib import Path

from odoo.tests import HttpCase
from odoo.tools import convert_file

# BOPL_SCREENSHOT_DIR elsewhere: tools/test.sh keeps the pictures of Odoo
# 19.0 in its build folder, the README shows 18.0's.
SCREENSHOT_DIR = Path(
    os.environ.get("BOPL_SCREENSHOT_DIR")
    or Path(__file__).resolve().parents[1] / "static" / "description"
)
SIGNAL = "backorder_po_link:screenshot:"


class DemoScreensCase(HttpCase):
    """Loads the addon's demo data (the story of ``make demo``) into the test
    transaction, and takes the screenshots its tours ask for."""

    browser_size = "1280x800"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        convert_file(
            cls.env,
            "backorder_po_link",
            "demo/backorder_demo.xml",
            idref={},
            mode="init",
            noupdate=True,
            kind="demo",
        )

    def setUp(self):
        super().setUp()
        self.screenshots = {}
        self.screenshot_errors = []

    def authenticate(self, user, password, browser=None):
        res = super().authenticate(user, password, browser=browser)
        if browser is not None:
            self._listen_for_screenshots(browser)
        return res

    def _listen_for_screenshots(self, browser):
        console = browser._handlers["Runtime.consoleAPICalled"]
        lock = threading.Lock()

        def on_console(type, args=None, **kw):  # pylint: disable=redefined-builtin
            text = (args or [{}])[0].get("value")
            if type != "log" or not isinstance(text, str) or SIGNAL not in text:
                return console(type=type, args=args, **kw)
            name = text.split(SIGNAL, 1)[1]
            future = browser._websocket_send(
                "Page.captureScreenshot", params={"format": "png"}, with_future=True
            )

            def write(done):
                try:
                    data = base64.b64decode(done.result()["data"], validate=True)
                    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                    path = SCREENSHOT_DIR / f"screenshot_{name}.png"
                    path.write_bytes(data)
                    with lock:
                        self.screenshots[name] = path
                except Exception as error:  # noqa: BLE001 - reported by the test
                    with lock:
                        self.screenshot_errors.append(f"{name}: {error!r}")
                finally:
                    browser._websocket_send(
                        "Runtime.evaluate",
                        params={
                            "expression": "document.body.dataset.backorderScreenshot"
                            f" = {json.dumps(name)}"
                        },
                    )

            future.add_done_callback(write)
            return None

        browser._handlers["Runtime.consoleAPICalled"] = on_console

    def assertScreenshot(self, name):
        """The tour took the picture ``name`` and it is a real PNG image."""
        self.assertFalse(self.screenshot_errors)
        self.assertIn(name, self.screenshots)
        data = self.screenshots[name].read_bytes()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 20000, "a screenshot of an empty page?")

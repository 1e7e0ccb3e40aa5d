"""Pages of the browser tests in their own contexts (cookies, storage): the staff desktop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page


@contextmanager
def desktop_page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a new context of a 1280×900 desktop in Vietnamese; ``options`` add to the
    context's (``accept_downloads``, ``java_script_enabled``, ``bypass_csp``...)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN", **options
    )
    try:
        yield context.new_page()
    finally:
        context.close()

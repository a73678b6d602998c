"""A dealership's settings pages, its embed snippets and live preview (issue #13, item 1)."""

from __future__ import annotations

from typing import Any

ROUTES: tuple[Any, ...] = ()

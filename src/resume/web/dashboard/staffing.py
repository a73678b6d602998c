"""Staff management pages for a dealership's admin (issue #13, item 2)."""

from __future__ import annotations

from typing import Any

ROUTES: tuple[Any, ...] = ()

"""The mail the embedded default keeps on disk, inside the dashboard (issue #13, item 3)."""

from __future__ import annotations

from typing import Any

ROUTES: tuple[Any, ...] = ()

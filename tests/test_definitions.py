"""Widget definitions as data: widgets/*.toml read and checked, a broken one named by its
file, step and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from resume.definitions import load_widgets
from resume.errors import ConfigError


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    return folder


GOOD_STEP = """
slug = "{slug}"
title = "T"
[[steps]]
name = "one"
title = "One"
  [[steps.fields]]
  name = "{field}"
  type = "{type}"
  label = "L"
"""


@pytest.mark.parametrize(
    ("field", "type_", "expected"),
    [
        ("price", "monee", "step 'one', field 'price'"),
        ("action", "text", "field 'action': the name must be a plain identifier and not reserved"),
        ("color", "choice", "field 'color': a choice field needs choices"),
    ],
)
def test_a_broken_definition_names_file_step_and_field(
    tmp_path: Path, field: str, type_: str, expected: str
) -> None:
    folder = _write(
        tmp_path / "w", "broken.toml", GOOD_STEP.format(slug="broken", field=field, type=type_)
    )
    with pytest.raises(ConfigError) as raised:
        load_widgets(folder)
    assert "broken.toml" in raised.value.message
    assert expected in raised.value.message


def test_unknown_keys_and_bad_toml_stop_startup(tmp_path: Path) -> None:
    folder = _write(tmp_path / "a", "x.toml", 'slug = "x"\ntitle = "T"\nsteps = []\ncolour = 1\n')
    with pytest.raises(ConfigError, match="x.toml"):
        load_widgets(folder)
    folder = _write(tmp_path / "b", "y.toml", "slug = \n")
    with pytest.raises(ConfigError, match="y.toml: not valid TOML"):
        load_widgets(folder)
    folder = _write(
        tmp_path / "c", "z.toml", GOOD_STEP.format(slug="other", field="a", type="text")
    )
    with pytest.raises(ConfigError, match="must match the file name"):
        load_widgets(folder)

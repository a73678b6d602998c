"""Ship the top-level templates/, widgets/, alembic/ and locale/ inside the installed package.

The repository keeps them at the top (shared/design.md's layout) so they read as the product's
own; an installed, non-editable package and the Docker image find them in resume/_data/.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_DIRS = ("templates", "widgets", "alembic", "locale")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        target = Path(self.build_lib) / "resume" / "_data"
        for name in DATA_DIRS:
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(
                root / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": BuildWithData})

"""A production install is requirements.txt (the lock file of pyproject's main dependencies):
every module a production process can import must be installed by it. The development venv
holds more (the sandbox's web stack, honcho, the test tools and what they pull in, pydantic
among them), so an import of one of those would work on a laptop and fail on a server."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"sous", "integrations", "providers"}
# Never part of a production process: the local provider emulator and the `make run` launcher.
DEV_ONLY = ("providers/sandbox/", "/sandbox/", "sous/dev.py")


def production_modules() -> list[Path]:
    found = [path for package in sorted(OURS) for path in (ROOT / package).rglob("*.py")]
    return [
        p for p in found if not any(part in p.relative_to(ROOT).as_posix() for part in DEV_ONLY)
    ]


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - OURS - set(sys.stdlib_module_names) - {"__future__"}


def locked(requirements: str) -> set[str]:
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==", (ROOT / requirements).read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in pins}


def test_every_module_a_production_process_imports_is_in_the_production_lock():
    production = locked("requirements.txt")
    distributions = packages_distributions()
    modules = production_modules()
    assert len(modules) > 50  # the walk found the product, not an empty folder
    missing = {}
    for path in modules:
        for name in top_level_imports(path):
            owners = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(name, [name])}
            if not owners & production:
                missing.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    assert missing == {}


def test_the_production_lock_leaves_out_the_sandbox_the_dev_tools_and_pydantic():
    production = locked("requirements.txt")
    assert not production & {"starlette", "jinja2", "honcho", "pydantic", "pytest", "daphne"}
    assert {"starlette", "uvicorn", "honcho", "pytest"} <= locked("requirements-dev.txt")


def test_the_production_lock_has_what_the_web_process_loads_by_name():
    # Never imported by our code: the Procfile, uvicorn (websockets) and whitenoise (brotli)
    # load them.
    assert {"gunicorn", "uvicorn-worker", "websockets", "brotli"} <= locked("requirements.txt")

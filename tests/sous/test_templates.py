"""Template hygiene: Django's `{# #}` comments end on their own line; one that spans lines is
printed on the page as text."""

from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(
    path
    for folder in ("templates", "providers")
    for path in (ROOT / folder).rglob("*.html")
    if "sandbox" not in path.parts
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_comment_spans_lines(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        opened = line.rfind("{#")
        assert opened == -1 or "#}" in line[opened:], (
            f"{path.name}:{number}: a {{# #}} comment spanning lines shows on the page; "
            "use {% comment %}"
        )

"""The seeded Drive: deterministic per seed, realistic, and its files are valid PDF/PNG/JPEG."""

from __future__ import annotations

import re
import struct
import zlib

import pytest

from providers.google.sandbox.content import ContentSpec, render
from providers.google.sandbox.tree import DataConfig, build_world

MB = 1024 * 1024


def shape(world) -> list[tuple[str, str, str | None]]:
    return [(n.id, n.name, n.parent) for n in world.nodes]


def test_the_same_seed_builds_the_same_world_and_another_seed_does_not():
    assert shape(build_world(42, DataConfig())) == shape(build_world(42, DataConfig()))
    assert shape(build_world(42, DataConfig())) != shape(build_world(43, DataConfig()))


def test_the_tree_has_the_folders_tests_look_for(google):
    paths = {f["path"] for f in google.control("GET", "tree")["files"]}
    for path in (
        "Kitchen/Recipes",
        "Kitchen/Recipes/Mains",
        "Kitchen/Recipes/Desserts",
        "Kitchen/Recipes/Sauces/Base sauces",
        "Accounting/Invoices",
        "Accounting/Invoices/2025-12",
        "Accounting/Invoices/2025-07",
        "Acme Bistro — Shared/Recipes (shared)",
        "Acme Bistro — Shared/Supplier contracts",
    ):
        assert path in paths, path
    accounts = google.control("GET", "accounts")["accounts"]
    assert [a["email"] for a in accounts] == ["maria@acmebistro.example", "sam@acmebistro.example"]
    sams = google.control("GET", "tree", params={"account": "sam@acmebistro.example"})["files"]
    sam_paths = {f["path"] for f in sams}
    assert "Bar/Cocktails" in sam_paths and "Kitchen" not in sam_paths


def test_size_knobs_grow_the_drive():
    small = build_world(42, DataConfig(files_per_folder=2, invoice_months=3))
    big = build_world(42, DataConfig(files_per_folder=6, invoice_months=24, extra_folders=500))
    folders = lambda world: sum(n.is_folder for n in world.nodes)  # noqa: E731
    assert folders(big) - folders(small) > 500 + 20
    invoices = [n for n in big.nodes if re.fullmatch(r"\d{4}-\d\d", n.name)]
    assert len(invoices) == 24


def pdf_objects_are_where_the_xref_says(data: bytes) -> bool:
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[start:].startswith(b"xref")
    rows = data[start:].split(b"trailer")[0].splitlines()[3:]
    for number, row in enumerate(rows, start=1):
        offset = int(row.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    return data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")


def png_chunks_are_valid(data: bytes) -> bool:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, tags, idat = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + body) == crc, tag
        tags.append(tag)
        idat += body if tag == b"IDAT" else b""
        pos += 12 + length
    width, height = struct.unpack(">II", data[16:24])
    assert len(zlib.decompress(idat)) == height * (1 + width * 3)
    return tags[0] == b"IHDR" and tags[-1] == b"IEND"


def jpeg_segments_are_valid(data: bytes) -> bool:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    pos, markers = 2, []
    while data[pos + 1] != 0xDA:  # walk the marker segments up to start-of-scan
        assert data[pos] == 0xFF
        markers.append(data[pos + 1])
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return {0xE0, 0xDB, 0xC0, 0xC4} <= set(markers)


@pytest.mark.parametrize("size", [None, 1500, 70_000, 3 * MB])
@pytest.mark.parametrize("kind", ["pdf", "png", "jpeg"])
def test_generated_files_are_valid_and_exactly_the_declared_size(kind, size):
    spec = ContentSpec(kind, "Crème Brûlée (v2) \\ test", ("Serves 4", "- 200 g cream"), 7, size)
    blob = render(spec)
    data = blob.read()
    assert len(data) == blob.size
    if size is not None:
        assert blob.size == size
    check = {
        "pdf": pdf_objects_are_where_the_xref_says,
        "png": png_chunks_are_valid,
        "jpeg": jpeg_segments_are_valid,
    }[kind]
    assert check(data)

"""File bytes, generated lazily and deterministically: tiny valid PDFs, PNGs, JPEGs and text.

A file's bytes are described by a `ContentSpec` (kind, title, text lines, a seed, an optional
declared size). `render()` turns a spec into a `Blob`: a list of literal byte parts and
`Filler` runs. A declared size (say 30 MB, to test size caps) is reached with filler placed
where the format allows it (a PDF stream object, a private PNG chunk, JPEG comment segments),
so the file stays valid, and the filler is only produced when someone downloads it.
md5Checksum and friends are computed from exactly the bytes served, once per spec.
"""

from __future__ import annotations

import hashlib
import html
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

BLOCK = 64 * 1024
PRINTABLE = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,\n"


@dataclass(frozen=True)
class ContentSpec:
    kind: str  # "pdf" | "png" | "jpeg" | "text" | "raw"
    title: str
    lines: tuple[str, ...] = ()
    seed: int = 0
    size: int | None = None  # declared size in bytes: pad to exactly this when possible
    raw: bytes | None = None  # explicit bytes (control API uploads)

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


@dataclass(frozen=True)
class Filler:
    """`length` deterministic bytes: a 64 KiB block derived from `seed`, repeated."""

    length: int
    seed: int
    printable: bool = False

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        block = _block(self.seed, self.printable)
        pos = start
        stop = self.length if end is None else min(end, self.length)
        while pos < stop:
            offset = pos % BLOCK
            take = min(BLOCK - offset, stop - pos)
            yield block[offset : offset + take]
            pos += take


Part = bytes | Filler


@dataclass(frozen=True)
class Blob:
    parts: tuple[Part, ...]

    @cached_property
    def size(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.length for p in self.parts)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes in [start, end), in chunks of at most 64 KiB."""
        end = self.size if end is None else min(end, self.size)
        offset = 0
        for part in self.parts:
            length = len(part) if isinstance(part, bytes) else part.length
            lo, hi = max(start - offset, 0), min(end - offset, length)
            if lo < hi:
                if isinstance(part, bytes):
                    for i in range(lo, hi, BLOCK):
                        yield part[i : min(i + BLOCK, hi)]
                else:
                    yield from part.chunks(lo, hi)
            offset += length
            if offset >= end:
                break

    def read(self) -> bytes:
        return b"".join(self.chunks())


@dataclass(frozen=True)
class Digests:
    md5: str
    sha1: str
    sha256: str


@lru_cache(maxsize=64)
def _block(seed: int, printable: bool) -> bytes:
    data = random.Random(seed).randbytes(BLOCK)
    if printable:
        data = data.translate(bytes(PRINTABLE[b % len(PRINTABLE)] for b in range(256)))
    return data


@lru_cache(maxsize=8192)
def render(spec: ContentSpec) -> Blob:
    builder = BUILDERS[spec.kind]
    natural = builder(spec, 0)
    if spec.size is None or spec.size <= natural.size:
        return natural
    return _fit(lambda pad: builder(spec, pad), spec.size, natural)


@lru_cache(maxsize=1 << 17)
def size_of(spec: ContentSpec) -> int:
    """A file's byte count, remembered for big Drives (cheaper than keeping every Blob)."""
    return render(spec).size


@lru_cache(maxsize=1 << 16)
def digests(spec: ContentSpec) -> Digests:
    # Content checksums, not security: Drive reports md5Checksum and sha1Checksum as given.
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha256 = hashlib.sha256()
    for chunk in render(spec).chunks():
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
    return Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest())


def _fit(build: Callable[[int], Blob], target: int, natural: Blob) -> Blob:
    """Find the padding that makes the file exactly `target` bytes (lengths have digits)."""
    pad = target - natural.size
    for _ in range(8):
        blob = build(pad)
        if blob.size == target:
            return blob
        pad += target - blob.size
        if pad <= 0:
            break
    return natural


# --- PDF -----------------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def pdf_page_stream(title: str, lines: tuple[str, ...]) -> bytes:
    ops = [b"BT", b"/F1 18 Tf", b"72 740 Td", _pdf_string(title) + b" Tj", b"/F1 11 Tf"]
    step = b"0 -28 Td"
    for line in lines[:44]:
        ops += [step, _pdf_string(line) + b" Tj"]
        step = b"0 -15 Td"
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def _build_pdf(spec: ContentSpec, pad: int) -> Blob:
    stream = pdf_page_stream(spec.title, spec.lines)
    objects: list[list[Part]] = [
        [b"<< /Type /Catalog /Pages 2 0 R >>"],
        [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"],
        [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ],
        [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"],
        [b"<< /Length %d >>\nstream\n" % len(stream), stream, b"endstream"],
        [b"<< /Title " + _pdf_string(spec.title) + b" /Producer (Sous provider sandbox) >>"],
    ]
    if pad > 0:
        # An unreferenced stream object: valid PDF, and the easiest place for bulk bytes.
        filler = Filler(pad, spec.seed)
        objects.append([b"<< /Length %d >>\nstream\n" % pad, filler, b"\nendstream"])
    parts: list[Part] = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offset = len(parts[0])
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(offset)
        for part in [b"%d 0 obj\n" % number, *body, b"\nendobj\n"]:
            parts.append(part)
            offset += len(part) if isinstance(part, bytes) else part.length
    xref = [b"xref\n0 %d\n" % (len(objects) + 1), b"0000000000 65535 f \n"]
    xref += [b"%010d 00000 n \n" % o for o in offsets]
    # The file identifier changes with the seed, so every revision has new bytes (and md5).
    file_id = b"%032x" % random.Random(spec.seed).getrandbits(128)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    trailer += b"startxref\n%d\n" % offset
    parts += [b"".join(xref), trailer, b"%%EOF\n"]
    return Blob(tuple(parts))


# --- PNG -----------------------------------------------------------------------------------


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _build_png(spec: ContentSpec, pad: int) -> Blob:
    rng = random.Random(spec.seed)
    width = height = 16
    top, bottom = (
        [rng.randrange(40, 240) for _ in range(3)],
        [rng.randrange(40, 240) for _ in range(3)],
    )
    rows = []
    for y in range(height):
        colour = bytes(
            int(a + (b - a) * y / (height - 1)) for a, b in zip(top, bottom, strict=True)
        )
        rows.append(b"\x00" + colour * width)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    title = spec.title.encode("latin-1", errors="replace")
    # A private ancillary chunk ("spAd": ancillary, private, safe to copy) holds bulk
    # bytes; it needs 12 bytes of framing, so smaller gaps go into the tEXt comment.
    text_pad = pad if 0 < pad < 12 else 0
    parts: list[Part] = [
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", ihdr),
        _png_chunk(b"tEXt", b"Title\x00" + title + b" " * text_pad),
    ]
    if pad >= 12:
        filler = Filler(pad - 12, spec.seed)
        crc = zlib.crc32(b"spAd")
        for chunk in filler.chunks():
            crc = zlib.crc32(chunk, crc)
        parts += [struct.pack(">I", filler.length) + b"spAd", filler, struct.pack(">I", crc)]
    parts += [
        _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
        _png_chunk(b"IEND", b""),
    ]
    return Blob(tuple(parts))


# --- JPEG ----------------------------------------------------------------------------------
# A baseline greyscale JPEG, 16x16 pixels in four flat 8x8 blocks. Flat blocks only have a DC
# coefficient, so the entropy coder needs one DC table (categories 0-8, 4-bit codes) and an
# AC table holding just end-of-block.


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.bits = 0

    def write(self, value: int, count: int) -> None:
        for i in range(count - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.bits += 1
            if self.bits == 8:
                self._emit(self.acc)
                self.acc = self.bits = 0

    def _emit(self, byte: int) -> None:
        self.out.append(byte)
        if byte == 0xFF:
            self.out.append(0x00)  # byte stuffing

    def finish(self) -> bytes:
        if self.bits:
            self._emit((self.acc << (8 - self.bits)) | ((1 << (8 - self.bits)) - 1))
        return bytes(self.out)


def _jpeg_scan(levels: list[int]) -> bytes:
    writer = _BitWriter()
    previous = 0
    for level in levels:
        dc = level - 128  # with a quantiser of 8, DC = 8 * (level - 128) / 8
        diff, previous = dc - previous, dc
        category = abs(diff).bit_length()
        writer.write(category, 4)  # DC code for `category` is `category` in 4 bits
        if category:
            writer.write(diff if diff > 0 else diff + (1 << category) - 1, category)
        writer.write(0, 1)  # AC: end of block
    return writer.finish()


def _jpeg_comments(total: int, seed: int) -> list[Part]:
    """COM segments adding exactly `total` bytes (each is 4..65537 bytes long)."""
    count = -(-total // 65537)
    parts: list[Part] = []
    for i in range(count):
        size = total // count + (1 if i < total % count else 0)
        parts += [struct.pack(">BBH", 0xFF, 0xFE, size - 2), Filler(size - 4, seed + i, True)]
    return parts


def _build_jpeg(spec: ContentSpec, pad: int) -> Blob:
    rng = random.Random(spec.seed)
    levels = [rng.randrange(30, 226) for _ in range(4)]
    comment_pad = pad if 0 < pad < 4 else 0
    title = spec.title.encode("utf-8")[:60000] + b" " * comment_pad
    head = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    tables = b"".join(
        [
            _segment(0xFE, title),
            _segment(0xDB, b"\x00" + bytes([8] * 64)),
            _segment(0xC0, struct.pack(">BHHBBBB", 8, 16, 16, 1, 1, 0x11, 0)),
            # DC table 0: nine symbols (categories 0-8), all with 4-bit codes.
            _segment(0xC4, b"\x00" + bytes([0, 0, 0, 9] + [0] * 12) + bytes(range(9))),
            # AC table 0: only end-of-block (0x00), with a 1-bit code.
            _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        ]
    )
    parts: list[Part] = [head]
    if pad >= 4:
        parts += _jpeg_comments(pad, spec.seed)
    parts += [tables, _jpeg_scan(levels), b"\xff\xd9"]
    return Blob(tuple(parts))


# --- text and raw --------------------------------------------------------------------------


def _build_text(spec: ContentSpec, pad: int) -> Blob:
    body = (spec.text + "\n").encode("utf-8")
    parts: list[Part] = [body]
    if pad > 0:
        parts.append(Filler(pad, spec.seed, printable=True))
    return Blob(tuple(parts))


def _build_raw(spec: ContentSpec, pad: int) -> Blob:
    parts: list[Part] = [spec.raw or b""]
    if pad > 0:
        parts.append(Filler(pad, spec.seed))
    return Blob(tuple(parts))


BUILDERS: dict[str, Callable[[ContentSpec, int], Blob]] = {
    "pdf": _build_pdf,
    "png": _build_png,
    "jpeg": _build_jpeg,
    "text": _build_text,
    "raw": _build_raw,
}


# --- Docs Editors exports (README §2.2: files.export) ---------------------------------------


def export_blob(spec: ContentSpec, target: str) -> Blob:
    """A Docs Editors file converted to `target` (a MIME type `export_formats()` allows)."""
    if target == "application/pdf":
        return render(replace(spec, kind="pdf", raw=None))
    if target in ("text/plain", "text/csv"):
        # Google's plain-text exports start with a byte-order mark and use CRLF.
        lines = spec.lines if target == "text/csv" else (spec.title, "", *spec.lines)
        prefix = "" if target == "text/csv" else "\ufeff"
        return Blob(((prefix + "\r\n".join(lines) + "\r\n").encode("utf-8"),))
    if target == "text/html":
        body = "".join(f"<p>{html.escape(line)}</p>" for line in spec.lines)
        page = f"<html><head><title>{html.escape(spec.title)}</title></head><body>"
        page += f"<h1>{html.escape(spec.title)}</h1>{body}</body></html>"
        return Blob((page.encode("utf-8"),))
    raise ValueError(target)

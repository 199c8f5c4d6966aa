"""The `q` parameter of files.list: a parser for the subset of Drive's grammar we emulate.

Grammar (README §2.1, [TERMS]):

    query := or
    or    := and ("or" and)*
    and   := unary ("and" unary)*
    unary := "not" unary | "(" query ")" | term
    term  := FIELD OP VALUE | STRING "in" FIELD | FIELD "contains" STRING

Strings are single-quoted with `\\'` and `\\\\` escapes; booleans are bare `true`/`false`.
Supported: name (contains, =, !=), mimeType (contains, =, !=), fullText (contains), trashed
and starred (=, !=), modifiedTime and createdTime (<, <=, =, !=, >, >=), parents and owners
(in). Anything else is a `QueryError`, which the API answers with Drive's 400 "Invalid Value".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


class QueryError(ValueError):
    """The query cannot be parsed or uses a term the sandbox does not support."""


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str | bool | datetime


@dataclass(frozen=True)
class Not:
    expr: Expr


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr = Term | Not | And | Or

COMPARISONS = ("<=", ">=", "!=", "=", "<", ">")
STRING_FIELDS = {"name": {"contains", "=", "!="}, "mimeType": {"contains", "=", "!="}}
DATE_FIELDS = {"modifiedTime", "createdTime"}
BOOL_FIELDS = {"trashed", "starred"}
COLLECTION_FIELDS = {"parents", "owners"}
# Real Drive terms the sandbox refuses rather than silently ignoring.
KNOWN_UNSUPPORTED = {
    "sharedWithMe",
    "writers",
    "readers",
    "properties",
    "appProperties",
    "visibility",
    "shortcutDetails.targetId",
    "viewedByMeTime",
    "memberCount",
    "organizerCount",
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # "string" | "op" | "paren" | "word"
    text: str  # the string's value (unescaped) or the token itself


def _tokenize(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise QueryError(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "string":
            raw = _unescape(raw[1:-1])
        tokens.append(_Tok(kind, raw))
        pos = match.end()
    return tokens


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1 : i + 2]
            if nxt not in ("'", "\\"):
                raise QueryError(f"invalid escape \\{nxt} in a string")
            out.append(nxt)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise QueryError("the query ends too early")
        self.pos += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Expr:
        expr = self.or_()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek().text!r}")
        return expr

    def or_(self) -> Expr:
        items = [self.and_()]
        while self.keyword("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Expr:
        items = [self.unary()]
        while self.keyword("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Expr:
        if self.keyword("not"):
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok.kind == "paren" and tok.text == "(":
            self.pos += 1
            expr = self.or_()
            close = self.take()
            if close.kind != "paren" or close.text != ")":
                raise QueryError("missing )")
            return expr
        return self.term()

    def term(self) -> Term:
        first = self.take()
        if first.kind == "string":
            if not self.keyword("in"):
                raise QueryError("a string on the left must be followed by 'in'")
            field = self.take()
            if field.kind != "word" or field.text not in COLLECTION_FIELDS:
                return _unsupported(field.text)
            return Term(field.text, "in", first.text)
        if first.kind != "word":
            raise QueryError(f"unexpected {first.text!r}")
        field = first.text
        if field in KNOWN_UNSUPPORTED:
            return _unsupported(field)
        if self.keyword("contains"):
            if field not in ("name", "mimeType", "fullText"):
                raise QueryError(f"{field} does not support contains")
            return Term(field, "contains", self._string())
        op = self.take()
        if op.kind != "op":
            raise QueryError(f"expected an operator after {field}")
        if field in STRING_FIELDS:
            if op.text not in STRING_FIELDS[field]:
                raise QueryError(f"{field} does not support {op.text}")
            return Term(field, op.text, self._string())
        if field in BOOL_FIELDS:
            if op.text not in ("=", "!="):
                raise QueryError(f"{field} does not support {op.text}")
            return Term(field, op.text, self._bool())
        if field in DATE_FIELDS:
            return Term(field, op.text, _parse_time(self._string()))
        return _unsupported(field)

    def _string(self) -> str:
        tok = self.take()
        if tok.kind != "string":
            raise QueryError(f"expected a quoted string, got {tok.text!r}")
        return tok.text

    def _bool(self) -> bool:
        tok = self.take()
        if tok.kind != "word" or tok.text.lower() not in ("true", "false"):
            raise QueryError(f"expected true or false, got {tok.text!r}")
        return tok.text.lower() == "true"


def _unsupported(field: str) -> Term:
    raise QueryError(f"unsupported query term {field!r}")


def _parse_time(value: str) -> datetime:
    # RFC 3339; "UTC by default" when no offset is given (README §2.1).
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise QueryError(f"invalid time {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse(text: str) -> Expr | None:
    """The query's tree, or None for an empty query (everything matches)."""
    tokens = _tokenize(text or "")
    if not tokens:
        return None
    return _Parser(tokens).parse()


# --- evaluation ----------------------------------------------------------------------------


@dataclass
class Facts:
    """What a term can test about one file, as the requesting account sees it."""

    name: str
    mime_type: str
    trashed: bool
    starred: bool
    modified: datetime
    created: datetime
    parents: tuple[str, ...]
    owners: tuple[str, ...]  # emails
    text: Callable[[], str]  # full text, computed only when a fullText term asks


@dataclass(frozen=True)
class Aliases:
    root_id: str  # what 'root' in parents means
    email: str  # what 'me' in owners means


def _word_starts(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c.isalnum() and (i == 0 or not text[i - 1].isalnum())]


def name_contains(name: str, needle: str) -> bool:
    """Drive's `name contains` is a prefix match: "HelloWorld" matches 'Hello', not 'World'
    (README §2.1). We match the needle at the start of the name or of any word in it."""
    hay, needle = name.casefold(), needle.casefold()
    return any(hay.startswith(needle, i) for i in _word_starts(hay)) or hay.startswith(needle)


def _cmp(op: str, left, right) -> bool:
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def evaluate(expr: Expr | None, facts: Facts, aliases: Aliases) -> bool:
    if expr is None:
        return True
    if isinstance(expr, And):
        return all(evaluate(e, facts, aliases) for e in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(e, facts, aliases) for e in expr.items)
    if isinstance(expr, Not):
        return not evaluate(expr.expr, facts, aliases)
    field, op, value = expr.field, expr.op, expr.value
    if field == "parents":
        return (aliases.root_id if value == "root" else value) in facts.parents
    if field == "owners":
        return (aliases.email if value == "me" else value) in facts.owners
    if field == "fullText":
        return str(value).casefold() in facts.text().casefold()
    if field == "name":
        return (
            name_contains(facts.name, str(value))
            if op == "contains"
            else _cmp(op, facts.name, value)
        )
    if field == "mimeType":
        return (
            str(value) in facts.mime_type if op == "contains" else _cmp(op, facts.mime_type, value)
        )
    if field in BOOL_FIELDS:
        return _cmp(op, getattr(facts, field), value)
    return _cmp(op, facts.modified if field == "modifiedTime" else facts.created, value)


def parent_constraint(expr: Expr | None) -> str | None:
    """A parent id every match must have, so the listing can start from that folder's children
    instead of the whole Drive (thousands of folders make whole-Drive scans slow)."""
    if isinstance(expr, Term) and expr.field == "parents":
        return str(expr.value)
    if isinstance(expr, And):
        for item in expr.items:
            found = parent_constraint(item)
            if found is not None:
                return found
    return None

"""The `q` grammar on its own: parse trees, escapes, evaluation (reference README §2.1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.google.sandbox.query import (
    Aliases,
    And,
    Facts,
    Not,
    Or,
    QueryError,
    Term,
    evaluate,
    name_contains,
    parent_constraint,
    parse,
)

ALIASES = Aliases(root_id="0Aroot", email="maria@acmebistro.example")


def facts(**overrides) -> Facts:
    base = {
        "name": "Chocolate Lava Cake.pdf",
        "mime_type": "application/pdf",
        "trashed": False,
        "starred": False,
        "modified": datetime(2025, 6, 1, tzinfo=UTC),
        "created": datetime(2025, 1, 1, tzinfo=UTC),
        "parents": ("1desserts",),
        "owners": ("maria@acmebistro.example",),
        "text": lambda: "Chocolate Lava Cake\nServes 4",
    }
    return Facts(**{**base, **overrides})


def test_and_binds_tighter_than_or():
    assert parse("name = 'a' or name = 'b' and trashed = false") == Or(
        (Term("name", "=", "a"), And((Term("name", "=", "b"), Term("trashed", "=", False))))
    )


def test_not_and_parentheses():
    assert parse("not ('x' in parents or starred = true)") == Not(
        Or((Term("parents", "in", "x"), Term("starred", "=", True)))
    )


def test_keywords_are_case_insensitive():
    assert parse("name = 'a' AND NOT trashed = TRUE") == And(
        (Term("name", "=", "a"), Not(Term("trashed", "=", True)))
    )


def test_escaped_quotes_and_backslashes():
    assert parse(r"name contains 'quinn\'s paper\\essay'") == Term(
        "name", "contains", "quinn's paper\\essay"
    )


def test_times_default_to_utc():
    term = parse("modifiedTime > '2012-06-04T12:00:00'")
    assert term == Term("modifiedTime", ">", datetime(2012, 6, 4, 12, tzinfo=UTC))


def test_an_empty_query_matches_everything():
    assert parse("   ") is None
    assert evaluate(None, facts(), ALIASES)


@pytest.mark.parametrize(
    "q",
    [
        "name",
        "name = ",
        "name = 'a' and",
        "name ~ 'a'",
        "'a' in name",
        "trashed contains 'x'",
        "fullText = 'x'",
        "modifiedTime > 'yesterday'",
        "name = 'a'')",
        "visibility = 'anyoneCanFind'",
    ],
)
def test_malformed_or_unsupported_queries_raise(q):
    with pytest.raises(QueryError):
        parse(q)


def test_name_contains_matches_prefixes_of_the_name_and_its_words():
    assert name_contains("HelloWorld", "Hello")
    assert not name_contains("HelloWorld", "World")
    assert name_contains("Chocolate Lava Cake", "lava ca")
    assert name_contains("Crème Brûlée", "brû")
    assert not name_contains("Chocolate Lava Cake", "ava")


def test_evaluation_of_each_term():
    item = facts()
    cases = {
        "'1desserts' in parents": True,
        "'root' in parents": False,
        "'me' in owners": True,
        "'sam@acmebistro.example' in owners": False,
        "mimeType contains 'pdf'": True,
        "mimeType != 'application/pdf'": False,
        "fullText contains 'serves 4'": True,
        "modifiedTime >= '2025-06-01T00:00:00Z'": True,
        "createdTime < '2025-01-01'": False,
        "trashed != true and starred = false": True,
        "not name contains 'Choc'": False,
    }
    for q, expected in cases.items():
        assert evaluate(parse(q), item, ALIASES) is expected, q
    assert evaluate(parse("'root' in parents"), facts(parents=("0Aroot",)), ALIASES)


def test_a_parent_constraint_is_found_under_and_but_not_under_or():
    assert parent_constraint(parse("'p1' in parents and trashed = false")) == "p1"
    assert parent_constraint(parse("'p1' in parents or trashed = false")) is None
    assert parent_constraint(parse("not 'p1' in parents")) is None

"""YAML with line numbers: field paths, lines of fields, duplicate keys, readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from tandem.errors import InvalidInput, Problem
from tandem.yamlfile import YamlDocument, field_path

TEXT = """\
# header comment
version: 1
capabilities:
- key: crm
  owners: {marketing: A,
    it: R}
- key: web
  owners:
    it: C
"""


@pytest.fixture
def doc() -> YamlDocument:
    return YamlDocument.parse(TEXT, source="own.yaml")


# -- field_path ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (("capabilities", 3, "owners", "it"), "capabilities[3].owners.it"),
        (("company", "name"), "company.name"),
        (("functions", 0, "people", 2, "email"), "functions[0].people[2].email"),
        (("matrix", 1, 2), "matrix[1][2]"),
        ((0, "key"), "[0].key"),
        (("version",), "version"),
        ((), ""),
    ],
)
def test_field_path(parts: tuple[str | int, ...], path: str) -> None:
    assert field_path(parts) == path


# -- line_of ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ([], 2),  # the root starts after the comment
        (["version"], 2),
        (["capabilities"], 3),
        (["capabilities", 0], 4),
        (["capabilities", 0, "key"], 4),
        (["capabilities", 0, "owners"], 5),
        (["capabilities", 0, "owners", "marketing"], 5),
        (["capabilities", 0, "owners", "it"], 6),  # inside a flow mapping over two lines
        (["capabilities", 1], 7),
        (["capabilities", 1, "owners", "it"], 9),
    ],
)
def test_line_of(doc: YamlDocument, path: list[str | int], line: int) -> None:
    assert doc.line_of(path) == line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (["capabilities", 5], 3),  # index out of range: the list's line
        (["capabilities", -1], 3),
        (["capabilities", "key"], 3),  # a name on a list
        (["nope"], 2),  # unknown key: the root's line
        (["capabilities", 1, "owners", "it", "deeper"], 9),  # past a scalar
        (["version", 0], 2),
    ],
)
def test_line_of_stops_at_the_deepest_node_found(
    doc: YamlDocument, path: list[str | int], line: int
) -> None:
    assert doc.line_of(path) == line


def test_line_of_matches_non_string_keys_by_text() -> None:
    doc = YamlDocument.parse("codes:\n  1: one\n  2: two\n")
    assert doc.line_of(["codes", 2]) == 3
    assert doc.line_of(["codes", "1"]) == 2


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_document(text: str) -> None:
    doc = YamlDocument.parse(text, source="e.yaml")
    assert doc.data is None
    assert doc.line_of(["anything"]) is None
    with pytest.raises(InvalidInput) as info:
        doc.validate(_Company, what="company file")
    assert info.value.message == "e.yaml is empty"


def test_problem_names_field_and_line(doc: YamlDocument) -> None:
    assert doc.problem("bad", ["capabilities", 1, "owners", "it"]) == Problem(
        "bad", field="capabilities[1].owners.it", line=9
    )
    assert doc.problem("bad", []) == Problem("bad", field=None, line=2)


# -- duplicate keys --------------------------------------------------------------------------------


def test_duplicate_keys_are_reported_with_field_and_line() -> None:
    text = """\
version: 1
capabilities:
- key: crm
  name: CRM
  key: crm2
- key: web
  owners: {it: A, marketing: R, it: C}
version: 2
"""
    with pytest.raises(InvalidInput) as info:
        YamlDocument.parse(text, source="dup.yaml")
    err = info.value
    assert err.message == "dup.yaml repeats keys"
    assert err.source == "dup.yaml"
    assert sorted((p.line, p.field, p.message) for p in err.problems) == [
        (5, "capabilities[0].key", "key `key` appears twice"),
        (7, "capabilities[1].owners.it", "key `it` appears twice"),
        (8, "version", "key `version` appears twice"),
    ]
    assert err.field in {p.field for p in err.problems}


def test_same_key_in_different_mappings_is_not_a_duplicate() -> None:
    doc = YamlDocument.parse("a: {key: 1}\nb: {key: 2}\nc:\n- key: 3\n- key: 4\n")
    assert doc.data == {"a": {"key": 1}, "b": {"key": 2}, "c": [{"key": 3}, {"key": 4}]}


def test_a_duplicate_inside_an_anchor_is_reported_once() -> None:
    text = "base: &b {x: 1, x: 2}\none: *b\ntwo: *b\n"
    with pytest.raises(InvalidInput) as info:
        YamlDocument.parse(text)
    assert [(p.line, p.field) for p in info.value.problems] == [(1, "base.x")]


def test_a_recursive_alias_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidInput, match="refers to itself") as info:
        YamlDocument.parse("name: x\nloop: &a [1, *a]\n")
    assert info.value.problems[0].line == 2


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(InvalidInput, match="expands to more than 2,000,000 values"):
        YamlDocument.parse("\n".join(lines) + "\n")


def test_nested_aliases_are_checked_and_shown_without_expanding() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcd", "bcde", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append("name: *e")
    doc = YamlDocument.parse("\n".join(lines) + "\n")
    assert len(doc.data["e"]) == 9
    assert doc.data["e"][0] is doc.data["d"]
    with pytest.raises(InvalidInput) as info:
        doc.validate(_Company, what="company file")
    # A value from nested aliases is shown shortened (it holds 9**5 strings).
    name = next(p for p in info.value.problems if p.field == "name")
    assert name.line == 6
    assert name.message.startswith("Input should be a valid string (got [[[[")
    assert len(name.message) < 120


# -- syntax errors and reading ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: [1, 2\nb: 3\n", 2, "did not find expected ',' or ']'"),
        ("a: b: c\n", 1, "mapping values are not allowed"),
        ("a:\n  b: 1\n\tc: 2\n", 3, "tab"),
        ("a: 1\n---\nb: 2\n", 2, "another document"),
        ("a: *missing\n", 1, "undefined alias"),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        YamlDocument.parse(text, source="bad.yaml")
    assert info.value.message == "bad.yaml is not valid YAML"
    assert info.value.source == "bad.yaml"
    (problem,) = info.value.problems
    assert problem.line == line
    assert words in problem.message


def test_read_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes("\ufeffname: Café\n".encode())  # a byte-order mark is skipped
    doc = YamlDocument.read(path)
    assert doc.data == {"name": "Café"}
    assert doc.source == str(path)


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as missing:
        YamlDocument.read(tmp_path / "none.yaml", what="survey file")
    assert missing.value.message == f"survey file not found: {tmp_path / 'none.yaml'}"
    with pytest.raises(InvalidInput) as folder:
        YamlDocument.read(tmp_path, what="survey file")
    assert folder.value.message == f"{tmp_path} is a folder, not a survey file"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: 2\nname: Caf\xe9\n")
    with pytest.raises(InvalidInput) as encoding:
        YamlDocument.read(latin)
    assert encoding.value.message == f"{latin} is not UTF-8 text"
    assert encoding.value.problems == [Problem("byte 0xe9 is not valid UTF-8", line=3)]


# -- validate --------------------------------------------------------------------------------------


class _Company(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str
    employees: int = Field(default=0, ge=0)
    tags: str | list[str] = []


def test_validate_returns_the_model() -> None:
    doc = YamlDocument.parse("name: Acme\nemployees: 12\ntags: [a, b]\n")
    assert doc.validate(_Company, what="company file") == _Company(
        name="Acme", employees=12, tags=["a", "b"]
    )


def test_validate_reports_every_problem_with_field_and_line() -> None:
    doc = YamlDocument.parse("employees: lots\ncolour: red\n", source="c.yaml")
    with pytest.raises(InvalidInput) as info:
        doc.validate(_Company, what="company file")
    err = info.value
    assert err.message == "c.yaml is not a valid company file (3 problems); nothing was changed"
    assert sorted((p.line, p.field, p.message) for p in err.problems) == [
        (1, "employees", "Input should be a valid integer, unable to parse string as an integer "
         "(got 'lots')"),
        (1, "name", "missing required field `name`"),
        (2, "colour", "unknown field `colour`"),
    ]  # fmt: skip


def test_union_tags_are_not_part_of_the_field() -> None:
    doc = YamlDocument.parse("name: Acme\ntags: 5\n")
    with pytest.raises(InvalidInput) as info:
        doc.validate(_Company, what="company file")
    assert {(p.field, p.line) for p in info.value.problems} == {("tags", 2)}
    assert len(info.value.problems) == 2  # one per member of `str | list[str]`


def test_a_list_where_a_mapping_is_expected() -> None:
    doc = YamlDocument.parse("- name: Acme\n")
    with pytest.raises(InvalidInput) as info:
        doc.validate(_Company, what="company file")
    assert info.value.problems == [
        Problem("expected a mapping of `field: value` lines", field=None, line=1)
    ]

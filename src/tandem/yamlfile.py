"""YAML files with line numbers: parse once, validate with pydantic, report `file, line, field`.

PyYAML (with its C parser when present) composes the node tree, which keeps each value's line, and
constructs plain data from the same tree. Errors found later (by pydantic or by cross-reference
checks) name a field path such as ``capabilities[3].owners.marketing``; `YamlDocument.line_of`
turns that path back into a line of the file.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tandem.errors import InvalidInput, Problem

try:  # the C parser is much faster on large files
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

M = TypeVar("M", bound=BaseModel)
MAX_VALUES = 2_000_000
"""The most values a document may hold once its aliases are expanded."""
PathPart = str | int


def field_path(parts: Sequence[PathPart]) -> str:
    """("capabilities", 3, "owners", "it") -> "capabilities[3].owners.it"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class YamlDocument:
    """A parsed YAML document: its data and the node tree that knows the lines."""

    def __init__(self, data: Any, root: yaml.Node | None, source: str):
        self.data = data
        self.root = root
        self.source = source

    @classmethod
    def read(cls, path: Path, *, what: str = "file") -> YamlDocument:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"{what} not found: {path}", [], source=str(path)) from None
        except IsADirectoryError:
            raise InvalidInput(f"{path} is a folder, not a {what}", [], source=str(path)) from None
        except OSError as exc:
            raise InvalidInput(
                f"cannot read {path}: {exc.strerror}", [], source=str(path)
            ) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InvalidInput(
                f"{path} is not UTF-8 text",
                [Problem(f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", line=line)],
                source=str(path),
            ) from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = "<input>") -> YamlDocument:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            reason = exc.problem or exc.context or "invalid YAML"
            raise InvalidInput(
                f"{source} is not valid YAML",
                [Problem(reason, line=mark.line + 1 if mark else None)],
                source=source,
            ) from None
        except yaml.YAMLError as exc:
            raise InvalidInput(
                f"{source} is not valid YAML", [Problem(str(exc))], source=source
            ) from None
        finally:
            loader.dispose()
        doc = cls(data, root, source)
        if root is not None:
            doc._check_expansion(root)
        duplicates = doc._duplicate_keys()
        if duplicates:
            raise InvalidInput(f"{source} repeats keys", duplicates, source=source)
        return doc

    def _check_expansion(self, root: yaml.Node) -> None:
        """Refuse documents whose aliases expand beyond MAX_VALUES values ("billion laughs")
        or refer to themselves: validating them would take forever."""
        sizes: dict[int, int] = {}
        active: set[int] = set()

        def size(node: yaml.Node) -> int:
            key = id(node)
            if key in sizes:
                return sizes[key]
            if key in active:
                raise InvalidInput(
                    f"{self.source} has an alias that refers to itself",
                    [Problem("recursive alias", line=node.start_mark.line + 1)],
                    source=self.source,
                )
            active.add(key)
            total = 1
            if isinstance(node, yaml.MappingNode):
                total += sum(size(k) + size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total += sum(size(item) for item in node.value)
            active.discard(key)
            if total > MAX_VALUES:
                raise InvalidInput(
                    f"{self.source} expands to more than {MAX_VALUES:,} values through YAML "
                    "aliases",
                    [Problem("too many values", line=node.start_mark.line + 1)],
                    source=self.source,
                )
            sizes[key] = total
            return total

        size(root)

    def _duplicate_keys(self) -> list[Problem]:
        problems: list[Problem] = []
        # Aliases share nodes: walk each collection once, so a recursive alias (`&a [*a]`) ends
        # and nested aliases ("billion laughs") cost one visit per node, not one per expansion.
        visited: set[int] = set()

        def walk(node: yaml.Node, path: list[PathPart]) -> None:
            if isinstance(node, yaml.CollectionNode):
                if id(node) in visited:
                    return
                visited.add(id(node))
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key_node, value_node in node.value:
                    key = str(key_node.value)
                    if key in seen:
                        problems.append(
                            Problem(
                                f"key `{key}` appears twice",
                                field=field_path([*path, key]),
                                line=key_node.start_mark.line + 1,
                            )
                        )
                    seen.add(key)
                    walk(value_node, [*path, key])
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    walk(item, [*path, i])

        if self.root is not None:
            walk(self.root, [])
        return problems

    def line_of(self, path: Sequence[PathPart]) -> int | None:
        """The line of the deepest node on `path` (1-based), or None for an empty document."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if str(key_node.value) == str(part):
                        child = value_node
                        line = key_node.start_mark.line + 1
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def problem(self, message: str, path: Sequence[PathPart]) -> Problem:
        return Problem(message, field=field_path(path) or None, line=self.line_of(path))

    def validate(self, model: type[M], *, what: str) -> M:
        """Validate the data against a pydantic model; every error names its line and field."""
        if self.data is None:
            raise InvalidInput(f"{self.source} is empty", [], source=self.source)
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            problems = [self._pydantic_problem(err) for err in exc.errors()]
            raise InvalidInput(
                f"{self.source} is not a valid {what} ({len(problems)} problem"
                f"{'s' if len(problems) != 1 else ''}); nothing was changed",
                problems,
                source=self.source,
            ) from None

    def _pydantic_problem(self, err: Any) -> Problem:
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        # Drop pydantic's union/validator tags ("str", "list[str]", "function-after[...]").
        loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in _TAGS))]
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown field `{loc[-1]}`" if loc else "unknown field"
        elif kind == "missing":
            message = f"missing required field `{loc[-1]}`" if loc else "missing field"
            return Problem(message, field=field_path(loc), line=self.line_of(loc[:-1]))
        elif kind == "model_type" or kind == "dict_type":
            message = "expected a mapping of `field: value` lines"
        elif kind == "list_type":
            message = "expected a list (lines starting with `- `)"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            if "input" in err and kind not in {"value_error", "assertion_error"}:
                message += f" (got {_short(err['input'])})"
        return self.problem(message, loc)


_TAGS = {"str", "int", "bool", "list", "dict", "float", "none", "constrained-str"}
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring = 3, 10, 10, 200


def _short(value: Any) -> str:
    # reprlib bounds the work: a value built from nested aliases can expand enormously.
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

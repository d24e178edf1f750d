"""File ingest: NDJSON, JSON, CSV and Parquet files into the lake, streamed and vectorised.

A file is read in chunks (never whole, except the JSON format: see below). Each chunk becomes a
table of (row, message JSON text); one DuckDB query per chunk applies the rules of
`tandem.customers.spec` to every row at once and produces the `events` rows and, for the rows that
break a rule, a reason and field. The whole file is written as ONE Delta commit to `events` (the
chunks stream into it), then one commit of the rejected rows to `quarantine`: a failure part-way
leaves nothing behind, and importing the same file again stores nothing new (a row without a
messageId gets a hash of the source and the row's text).

Every row read is accounted for: accepted + rejected + duplicates = rows read.

- ndjson: one message per line; blank lines are not rows; a UTF-8 BOM is skipped; a line that is
  not UTF-8, not JSON or not an object is rejected with the reason.
- json: a JSON array of messages or an object with a `batch` list. Read whole (streaming a single
  JSON document is not worth its complexity here): use NDJSON for files larger than memory.
- csv: a header row; every cell is text (an empty cell is missing). Without a mapping, columns are
  Segment fields (`type`, `userId`, `event`, `timestamp`, ...) and dotted columns build objects
  (`properties.price`, `traits.email`, `context.ip`). A row with the wrong number of cells or
  bytes that are not UTF-8 is rejected.
- parquet: as CSV, with the file's own column types; struct columns become objects.

With a mapping (`tandem.customers.mapping`), each CSV/Parquet/NDJSON record becomes an `identify`
message built from the mapping's columns.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from tandem.customers.mapping import Mapping
from tandem.customers.spec import MAX_MESSAGE_BYTES, MESSAGE_TYPES
from tandem.errors import InvalidInput, InvalidValue
from tandem.lake.schema import EVENTS_SCHEMA, QUARANTINE_SCHEMA, UTC_MICROS
from tandem.lake.store import Lake

FORMATS = ("ndjson", "json", "csv", "parquet")
EXTENSIONS = {
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
CHUNK_ROWS = 250_000
"""Rows per chunk (one DuckDB query each) for CSV and Parquet."""
CHUNK_BYTES = 32 * 1024 * 1024
"""Bytes per chunk for NDJSON and CSV reading."""

Progress = Callable[[int, int | None], None]
"""Called with (done, total) after each chunk; units are bytes (ndjson/json/csv) or rows."""

MESSAGE_FIELDS = (
    "type",
    "messageId",
    "userId",
    "anonymousId",
    "groupId",
    "previousId",
    "event",
    "name",
    "traits",
    "properties",
    "context",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "receivedAt",
)
OBJECT_PREFIXES = ("traits.", "properties.", "context.")


@dataclass(frozen=True)
class IngestResult:
    """The summary of one file import."""

    file: str
    source: str
    format: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    version: int | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def guess_format(path: Path) -> str:
    """The format from the file name's extension, or InvalidValue naming the choices."""
    suffixes = [s.lower() for s in path.suffixes]
    for suffix in reversed(suffixes):
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
    raise InvalidValue(
        f"cannot tell the format of {path.name} from its extension",
        field="format",
        detail=f"pass --format ({', '.join(FORMATS)})",
    )


def ingest_file(
    lake: Lake,
    path: str | os.PathLike[str],
    *,
    source: str,
    format: str | None = None,
    mapping: Mapping | None = None,
    chunk_rows: int = CHUNK_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Import one file into `events` (one commit) and its rejected rows into `quarantine`."""
    started = time.perf_counter()
    file = Path(path)
    if not file.is_file():
        what = "is a folder, not a file" if file.is_dir() else "does not exist"
        raise InvalidValue(f"{file} {what}", field="file")
    if not source.strip():
        raise InvalidValue("the source name cannot be empty", field="source")
    kind = format or guess_format(file)
    if kind not in FORMATS:
        raise InvalidValue(
            f"unknown format {kind!r}; use one of {', '.join(FORMATS)}", field="format"
        )
    if mapping is not None and kind == "json":
        raise InvalidValue(
            "a mapping applies to csv, parquet or ndjson records, not to the json format",
            field="mapping",
        )
    reader = _READERS[kind](file, chunk_rows=chunk_rows, chunk_bytes=chunk_bytes)
    validator = _Validator(source=source, origin=f"file:{file.name}", mapping=mapping)
    counts = {"rows": 0}
    progress = on_progress or (lambda done, total: None)

    def chunks() -> Iterator[tuple[pa.Table, pa.Table]]:
        try:
            for chunk in _prefetch(reader.chunks(validator.check_columns)):
                counts["rows"] += chunk.rows.num_rows + len(chunk.broken)
                events, quarantine = validator.validate(chunk)
                yield events, quarantine
                progress(chunk.done, reader.total)
        finally:
            validator.close()

    written = lake.append_stream(chunks())
    seconds = time.perf_counter() - started
    return IngestResult(
        file=str(file),
        source=source,
        format=kind,
        rows=counts["rows"],
        accepted=written.accepted,
        rejected=written.rejected,
        duplicates=written.duplicates,
        version=written.version,
        seconds=round(seconds, 3),
    )


def _prefetch(chunks: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Read the next chunks on a thread of their own while the current one is validated (file
    reading, DuckDB and the Delta writer all release the GIL, so the stages overlap)."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()
    failure: list[BaseException] = []

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
        except BaseException as exc:
            failure.append(exc)
        put(end)

    thread = threading.Thread(target=read, name="tandem-ingest-read", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is end:
                if failure:
                    raise failure[0]
                return
            assert isinstance(item, Chunk)
            yield item
    finally:
        stop.set()
        thread.join()


# -- readers: files -> chunks of (row, JSON text) or (row, columns) -----------------------------
@dataclass
class Broken:
    """A row that could not even be read as a record (bad bytes, wrong number of cells)."""

    index: int | None
    reason: str
    raw: str


@dataclass
class Chunk:
    rows: pa.Table
    """Either `row` + `line` (JSON message text), or `row` + the file's columns (records)."""
    broken: list[Broken]
    done: int
    records: bool
    """True when `rows` holds columns (CSV/Parquet) rather than JSON text."""


ColumnCheck = Callable[[list[str], str], None]


class _Reader:
    total: int | None = None

    def __init__(self, path: Path, *, chunk_rows: int, chunk_bytes: int):
        self.path = path
        self.chunk_rows = chunk_rows
        self.chunk_bytes = chunk_bytes

    def chunks(self, check_columns: ColumnCheck) -> Iterator[Chunk]:  # pragma: no cover
        raise NotImplementedError


class _NdjsonReader(_Reader):
    def chunks(self, check_columns: ColumnCheck) -> Iterator[Chunk]:
        self.total = self.path.stat().st_size
        line_no, done, carry, first = 0, 0, b"", True
        with self.path.open("rb") as handle:
            while True:
                block = handle.read(self.chunk_bytes)
                done += len(block)
                if not block:
                    break
                data = carry + block
                if first:
                    data = data.removeprefix(b"\xef\xbb\xbf")
                    first = False
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry, data = data[cut + 1 :], data[:cut]
                yield _lines_chunk(data, line_no, done)
                line_no += data.count(b"\n") + 1
        if carry:
            yield _lines_chunk(carry, line_no, done)


def _lines_chunk(data: bytes, line_no: int, done: int) -> Chunk:
    """Complete lines -> a chunk of (row = 1-based line number, line text); blank lines skipped,
    lines that are not UTF-8 set aside as broken."""
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    whole = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]
    )  # the chunk as one value, without copying it
    lines = pc.split_pattern(whole, b"\n").flatten()
    numbers = pa.array(range(line_no + 1, line_no + 1 + len(lines)), pa.int64())
    broken: list[Broken] = []
    try:
        text = lines.cast(pa.large_string())
    except pa.ArrowInvalid:
        values = lines.to_pylist()
        good = []
        for number, value in zip(numbers.to_pylist(), values, strict=True):
            try:
                value.decode("utf-8")
                good.append(True)
            except UnicodeDecodeError as exc:
                good.append(False)
                if value.strip():
                    broken.append(
                        Broken(
                            number,
                            f"the row is not UTF-8 text (byte 0x{value[exc.start]:02x} at "
                            f"column {exc.start + 1})",
                            value.decode("utf-8", errors="replace").rstrip("\r"),
                        )
                    )
        mask = pa.array(good, pa.bool_())
        text = lines.filter(mask).cast(pa.large_string())
        numbers = numbers.filter(mask)
    if b"\r" in data:
        text = pc.utf8_rtrim(text, characters="\r")
    keep = _not_blank(text)
    if keep is not None:
        text, numbers = text.filter(keep), numbers.filter(keep)
    rows = pa.table({"row": numbers, "line": text.cast(pa.string())})
    return Chunk(rows, broken, done, records=False)


def _not_blank(text: pa.Array) -> pa.Array | None:
    """A mask of the lines that are not blank (None: none is). Only short lines can be blank,
    so only those are trimmed."""
    short = pc.indices_nonzero(pc.less_equal(pc.binary_length(text), 16))
    if not len(short):
        return None
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text.take(short))), 0)
    blank_rows = short.filter(blank).to_pylist()
    if not blank_rows:
        return None
    mask = [True] * len(text)
    for index in blank_rows:
        mask[index] = False
    return pa.array(mask, pa.bool_())


class _JsonReader(_Reader):
    def chunks(self, check_columns: ColumnCheck) -> Iterator[Chunk]:
        raw = self.path.read_bytes()
        self.total = len(raw)
        try:
            data = msgspec.json.decode(raw.removeprefix(b"\xef\xbb\xbf"))
        except RecursionError:
            raise _file_error(self.path, "the JSON is nested too deeply") from None
        except msgspec.DecodeError as exc:
            if not raw.strip():
                return
            raise _file_error(self.path, f"not valid JSON: {exc}") from None
        messages = data.get("batch") if isinstance(data, dict) else data
        if not isinstance(messages, list):
            raise _file_error(
                self.path,
                "a JSON file must hold an array of messages or an object with a `batch` list",
            )
        encoder = msgspec.json.Encoder()
        for start in range(0, len(messages), self.chunk_rows):
            part = messages[start : start + self.chunk_rows]
            lines = [encoder.encode(m).decode() for m in part]
            rows = pa.table(
                {
                    "row": pa.array(range(start + 1, start + 1 + len(part)), pa.int64()),
                    "line": pa.array(lines, pa.string()),
                }
            )
            yield Chunk(rows, [], self.total, records=False)


class _CsvReader(_Reader):
    def chunks(self, check_columns: ColumnCheck) -> Iterator[Chunk]:
        import pyarrow.csv as csv  # type: ignore[import-untyped]

        self.total = self.path.stat().st_size
        if self.total == 0:
            return
        broken: list[Broken] = []
        seen = {"rows": 0}

        def invalid(row: Any) -> str:
            broken.append(
                Broken(
                    seen["rows"] + len(broken) + 1,
                    f"the row has {row.actual_columns} cells; the header has "
                    f"{row.expected_columns}",
                    str(row.text),
                )
            )
            return "skip"

        read = csv.ReadOptions(block_size=min(self.chunk_bytes, 1 << 30))
        parse = csv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid)
        try:
            names = _csv_header(self.path, csv, read, parse)
            check_columns(names, "the CSV header")
            convert = csv.ConvertOptions(
                column_types={name: pa.binary() for name in names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            )
            stream = csv.open_csv(
                self.path, read_options=read, parse_options=parse, convert_options=convert
            )
            while True:
                try:
                    batch = stream.read_next_batch()
                except StopIteration:
                    break
                binary = pa.Table.from_batches([batch])
                table, bad_text = _decode_binary_columns(binary)
                start = seen["rows"] + len(broken)
                numbers = pa.array(range(start + 1, start + 1 + table.num_rows), pa.int64())
                seen["rows"] += table.num_rows
                rows = table.add_column(0, "row", numbers)
                rows, undecodable = _split_undecodable(rows, binary, bad_text)
                taken, broken[:] = [*broken, *undecodable], []
                yield Chunk(rows, taken, self.total, records=True)  # no read position in pyarrow
        except pa.ArrowInvalid as exc:
            raise _file_error(self.path, f"cannot read the CSV: {exc}") from None
        if broken:
            yield Chunk(pa.table({"row": pa.array([], pa.int64())}), broken, self.total, True)


def _csv_header(path: Path, csv: Any, read: Any, parse: Any) -> list[str]:
    quiet = csv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda row: "skip")
    stream = csv.open_csv(path, read_options=read, parse_options=quiet)
    names = [str(n) for n in stream.schema.names]
    stream.close()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _file_error(path, f"the CSV header repeats the columns {', '.join(duplicates)}")
    return names


def _decode_binary_columns(table: pa.Table) -> tuple[pa.Table, pa.Array | None]:
    """Binary CSV columns as UTF-8 text; a mask of rows holding bytes that are not UTF-8."""
    columns, bad = [], None
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        try:
            columns.append(column.cast(pa.string()))
        except pa.ArrowInvalid:
            valid = [v is None or _is_utf8(v) for v in column.to_pylist()]
            mask = pa.array(valid, pa.bool_())
            bad = pc.invert(mask) if bad is None else pc.or_(bad, pc.invert(mask))
            columns.append(pc.if_else(mask, column, None).cast(pa.string()))
    return pa.table(columns, names=table.column_names), bad


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split_undecodable(
    rows: pa.Table, binary: pa.Table, bad: pa.Array | None
) -> tuple[pa.Table, list[Broken]]:
    """Set aside the rows holding bytes that are not UTF-8 (kept as text with U+FFFD)."""
    if bad is None:
        return rows, []
    numbers = rows.column("row").filter(bad).to_pylist()
    cells = binary.filter(bad).to_pylist()
    broken = []
    for number, record in zip(numbers, cells, strict=True):
        text = ",".join(
            "" if v is None else v.decode("utf-8", errors="replace") for v in record.values()
        )
        broken.append(Broken(number, "the row is not UTF-8 text", text))
    return rows.filter(pc.invert(bad)), broken


class _ParquetReader(_Reader):
    def chunks(self, check_columns: ColumnCheck) -> Iterator[Chunk]:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            handle = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise _file_error(self.path, f"not a readable Parquet file: {exc}") from None
        with handle:
            self.total = handle.metadata.num_rows
            check_columns([str(n) for n in handle.schema_arrow.names], "the Parquet file")
            done = 0
            for batch in handle.iter_batches(batch_size=self.chunk_rows):
                numbers = pa.array(range(done + 1, done + 1 + batch.num_rows), pa.int64())
                done += batch.num_rows
                rows = pa.Table.from_batches([batch]).add_column(0, "row", numbers)
                yield Chunk(rows, [], done, records=True)


_READERS: dict[str, type[_Reader]] = {
    "ndjson": _NdjsonReader,
    "json": _JsonReader,
    "csv": _CsvReader,
    "parquet": _ParquetReader,
}


def _file_error(path: Path, message: str) -> InvalidInput:
    # The message already names the file and the reason: a problem repeating it would be
    # printed twice.
    return InvalidInput(f"{path.name}: {message}", [], source=str(path))


# -- validation: one DuckDB query per chunk -----------------------------------------------------
class _Validator:
    def __init__(self, *, source: str, origin: str, mapping: Mapping | None):
        self.source = source
        self.origin = origin
        self.mapping = mapping
        self.received_at = datetime.now(UTC)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register(
            "params",
            pa.table(
                {
                    "source": pa.array([source], pa.string()),
                    "received_at": pa.array([self.received_at], UTC_MICROS),
                }
            ),
        )
        self._render: tuple[str, list[Any]] | None = None
        self._direct: Direct | None = None
        self._typed: tuple[pa.Schema, tuple[str, list[Any]]] | None = None
        """The typed query of the direct path and the chunk schema it was built for."""

    def close(self) -> None:
        self.con.close()

    def check_columns(self, columns: list[str], where: str) -> None:
        """Fix how records become messages, given the file's columns (CSV/Parquet)."""
        if self.mapping is not None:
            self._render = self.mapping.render_sql(columns, where, source=self.source)
        else:
            self._render = _segment_columns_sql(columns)
            self._direct = _segment_columns_direct(columns)

    def validate(self, chunk: Chunk) -> tuple[pa.Table, pa.Table]:
        quarantine = [self._broken(chunk.broken)] if chunk.broken else []
        if not chunk.rows.num_rows:
            return EVENTS_SCHEMA.empty_table(), _concat(quarantine)
        self.con.register("chunk", chunk.rows)
        try:
            messages, params = self._messages(chunk)
            direct = self._direct if chunk.records and self.mapping is None else None
            if direct is None:
                query, more = validate_sql(messages)
            else:  # the columns as they are, without a JSON round trip
                schema = chunk.rows.schema
                if self._typed is None or self._typed[0] != schema:
                    types = {f: schema.field(f).type for f in direct.columns}
                    messages = "SELECT row, * EXCLUDE (row) FROM chunk"
                    self._typed = (schema, validate_sql(messages, direct=direct, types=types))
                (query, more), params = self._typed[1], []
            result = self.con.sql(query, params=[*params, *more]).to_arrow_table()
        finally:
            self.con.unregister("chunk")
        ok = pc.is_null(result.column("reason"))
        events = result.filter(ok).select(EVENTS_SCHEMA.names).cast(EVENTS_SCHEMA)
        rejected = result.filter(pc.invert(ok))
        if rejected.num_rows:
            quarantine.append(self._rejected(rejected))
        return events, _concat(quarantine)

    def _messages(self, chunk: Chunk) -> tuple[str, list[Any]]:
        if chunk.records:
            if self._render is None:
                self.check_columns([str(c) for c in chunk.rows.column_names[1:]], "the file")
            assert self._render is not None
            sql, params = self._render
            return f"SELECT row, ({sql}) AS line FROM chunk", list(params)
        if self.mapping is None:
            return "SELECT row, line FROM chunk", []
        if self._render is None:  # NDJSON records under a mapping: check on the first chunk
            keys = self.con.sql(
                "SELECT DISTINCT unnest(json_keys(line)) FROM chunk "
                "WHERE json_valid(line) AND json_type(line) = 'OBJECT'"
            ).fetchall()
            self.mapping.check([str(k[0]) for k in keys], "the NDJSON records")
            self._render = self.mapping.render_json_sql(source=self.source)
        sql, params = self._render
        return f"SELECT row, ({sql}) AS line FROM chunk", list(params)

    def _rejected(self, rejected: pa.Table) -> pa.Table:
        n = rejected.num_rows
        stamp = pa.array([self.received_at] * n, UTC_MICROS)
        return pa.table(
            {
                "source": pa.array([self.source] * n, pa.string()),
                "origin": pa.array([self.origin] * n, pa.string()),
                "index": rejected.column("row").cast(pa.int64()),
                "field": rejected.column("field"),
                "reason": rejected.column("reason"),
                "raw": pc.fill_null(rejected.column("raw_line"), ""),
                "received_at": stamp,
                "ingested_at": stamp,
            },
            schema=QUARANTINE_SCHEMA,
        )

    def _broken(self, broken: list[Broken]) -> pa.Table:
        n = len(broken)
        stamp = pa.array([self.received_at] * n, UTC_MICROS)
        return pa.table(
            {
                "source": pa.array([self.source] * n, pa.string()),
                "origin": pa.array([self.origin] * n, pa.string()),
                "index": pa.array([b.index for b in broken], pa.int64()),
                "field": pa.array([None] * n, pa.string()),
                "reason": pa.array([b.reason for b in broken], pa.string()),
                "raw": pa.array([b.raw for b in broken], pa.string()),
                "received_at": stamp,
                "ingested_at": stamp,
            },
            schema=QUARANTINE_SCHEMA,
        )


def _concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables) if tables else QUARANTINE_SCHEMA.empty_table()


def quote_ident(name: str) -> str:
    """A column name as a quoted SQL identifier (a name from a file never becomes SQL text)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Direct:
    """How CSV/Parquet columns become the message's fields straight away, without a JSON round
    trip: `values` are (field, SQL of its JSON value) in the order `_segment_columns_sql` puts
    them in the message, `params` the parameters of each field's SQL snippet."""

    values: list[tuple[str, str]]
    params: dict[str, list[Any]]
    columns: dict[str, str]
    """field -> the quoted column it is read from (fields with a column of their own)."""


def _segment_columns_direct(columns: list[str]) -> Direct | None:
    """`Direct` for the columns `_segment_columns_sql` turns into a message (the same keys, in
    the same order, with the same values); None when no column is a message field."""
    values: list[tuple[str, str]] = []
    params: dict[str, list[Any]] = {}
    nested: dict[str, list[str]] = {}
    own: dict[str, str] = {}
    for name in columns:
        if name in MESSAGE_FIELDS:
            values.append((name, f"to_json({quote_ident(name)})"))
            own[name] = quote_ident(name)
        else:
            prefix = next((p for p in OBJECT_PREFIXES if name.startswith(p)), None)
            if prefix is not None and len(name) > len(prefix):
                nested.setdefault(prefix[:-1], []).append(name)
    for parent, children in nested.items():
        if parent in columns:
            continue
        inner = ", ".join(f"?, {quote_ident(c)}" for c in children)
        values.append((parent, f"json_merge_patch('{{}}', json_object({inner}))"))
        params[parent] = [child.split(".", 1)[1] for child in children]
    if not values:
        return None
    return Direct(values, params, own)


def _column_kind(kind: pa.DataType) -> str:
    """How a column of this Arrow type gives a message field its JSON type and value:
    `string`, `integer`, `boolean` and `object` straight from the column; `json` (any other
    type) from the column's JSON text, as the JSON path would."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_struct(kind):
        return "object"
    return "json"


def _segment_columns_sql(columns: list[str]) -> tuple[str, list[Any]]:
    """SQL (and its parameters) building a Segment message from columns named after its fields;
    dotted columns (`properties.price`) build the objects."""
    top: list[str] = []
    params: list[Any] = []
    nested: dict[str, list[str]] = {}
    for name in columns:
        if name in MESSAGE_FIELDS:
            top.append(f"?, {quote_ident(name)}")
            params.append(name)
        else:
            prefix = next((p for p in OBJECT_PREFIXES if name.startswith(p)), None)
            if prefix is not None and len(name) > len(prefix):
                nested.setdefault(prefix[:-1], []).append(name)
    for parent, children in nested.items():
        if parent in columns:
            continue  # a whole-object column wins over dotted ones
        inner = ", ".join(f"?, {quote_ident(c)}" for c in children)
        top.append(f"?, json_merge_patch('{{}}', json_object({inner}))")
        params.append(parent)
        for child in children:
            params.append(child.split(".", 1)[1])
    if not top:
        return "NULL::VARCHAR", []
    return f"json_object({', '.join(top)})::VARCHAR", params


# Each row's message text -> the events columns, or a reason (and field) it is rejected. The rules
# and reasons match tandem.customers.spec.normalise_message; tests run both on the same cases.
# Each line is parsed once (json_transform); the type of each field is computed once (ty_*), and
# the first rule a row breaks is found once (`rule`), then turned into its reason and field.
_ID_FIELDS = (
    ("messageId", "message_id"),
    ("userId", "user_id"),
    ("anonymousId", "anonymous_id"),
    ("groupId", "group_id"),
    ("previousId", "previous_id"),
)
_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
_SCALARS = ("type", *(k for k, _ in _ID_FIELDS), "event", "name", *_TIME_FIELDS)
_OBJECTS = ("traits", "properties", "context")


def _json_type(text: str) -> str:
    """SQL: json_type() of a minified JSON value, told from its first character (json_transform
    re-serialises values, so there is no leading space): far cheaper than parsing it again."""
    return (
        f"CASE left({text}, 1) WHEN '\"' THEN 'VARCHAR' WHEN '{{' THEN 'OBJECT' "
        f"WHEN '[' THEN 'ARRAY' WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' "
        f"WHEN 'n' THEN 'NULL' WHEN '' THEN 'NULL' "
        f"ELSE CASE WHEN {text} IS NULL THEN 'NULL' "
        f"WHEN regexp_matches({text}, '[.eE]') THEN 'DOUBLE' ELSE 'BIGINT' END END"
    )


def _scalar_text(text: str) -> str:
    """SQL: the text of a JSON string (unescaped only when it has escapes), else the JSON."""
    return (
        f"CASE WHEN left({text}, 1) = '\"' THEN CASE WHEN contains({text}, '\\') "
        f"THEN {text}::JSON ->> '$' ELSE {text}[2:-2] END ELSE {text} END"
    )


def _kind(ty: str) -> str:
    """SQL: the JSON type name (from json_type) as spec._json_kind words it."""
    return (
        f"(CASE {ty} WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' "
        f"WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'list' WHEN 'NULL' THEN 'null' "
        f"ELSE 'number' END)"
    )


def _id_value(key: str, kinds: frozenset[str] | None = None) -> str:
    """SQL: an id field's text (strings as they are, numbers as spec._id words them); `kinds`,
    the JSON types the field can have when known from its column, drop the other branches."""
    v, ty = f"v_{key}", f"ty_{key}"
    if kinds == frozenset({"NULL"}):
        return "NULL::VARCHAR"
    if kinds == frozenset({"NULL", "VARCHAR"}):
        return f"nullif({v}, '')"
    if kinds == frozenset({"NULL", "BIGINT"}):
        return v
    return (
        f"CASE {ty} WHEN 'VARCHAR' THEN nullif({v}, '') "
        f"WHEN 'BIGINT' THEN {v} WHEN 'UBIGINT' THEN {v} "
        f"WHEN 'DOUBLE' THEN CASE WHEN TRY_CAST({v} AS DOUBLE) = round(TRY_CAST({v} AS DOUBLE)) "
        f"AND abs(TRY_CAST({v} AS DOUBLE)) < 9e15 "
        f"THEN TRY_CAST({v} AS DOUBLE)::BIGINT::VARCHAR ELSE {v} END END"
    )


@dataclass(frozen=True)
class _Shape:
    """Where the validation query finds each message field: the `parsed` CTE (row, line,
    is_object, ...), each field's JSON type name (`ty`), text value (`value`, scalars) and JSON
    text (`text`, evaluated only where needed), the message's JSON text (`line`), a condition
    true when it is larger than MAX_MESSAGE_BYTES (`too_large`) and the `?` parameters."""

    parsed: str
    texts: str
    ty: dict[str, str]
    value: dict[str, str]
    text: dict[str, str]
    line: str
    too_large: str
    not_json: str
    params: list[Any]
    kinds: dict[str, frozenset[str]] = dataclass_field(default_factory=dict)
    """The JSON types a field can have, when its column's type tells (no entry: any)."""
    nulls: dict[str, str] = dataclass_field(default_factory=dict)
    """The column that is null exactly when a field's type is 'NULL' (typed columns)."""

    def is_(self, key: str, names: frozenset[str]) -> str:
        """SQL: the field's JSON type is one of `names`; `true`/`false` or a null test when the
        column's type decides it, so the query drops the checks that cannot fail."""
        possible = self.kinds.get(key, _ANY_TYPE)
        hit = possible & names
        if not hit:
            return "false"
        if hit == possible:
            return "true"
        if key in self.nulls and len(possible) == 2:
            return f"({self.nulls[key]} IS {'' if hit == {'NULL'} else 'NOT '}NULL)"
        return f"(ty_{key} IN ({', '.join(repr(n) for n in sorted(hit))}))"


_ANY_TYPE = frozenset(
    ("NULL", "VARCHAR", "BIGINT", "UBIGINT", "DOUBLE", "BOOLEAN", "OBJECT", "ARRAY")
)
_STRING_OR_NULL = frozenset(("VARCHAR", "NULL"))
_OBJECT_OR_NULL = frozenset(("OBJECT", "NULL"))
_NOT_AN_ID = frozenset(("BOOLEAN", "OBJECT", "ARRAY"))


def _json_shape(messages: str) -> _Shape:
    """Rows of (row, line): each line is parsed once (json_transform), the JSON text of each
    field computed once (s_*), its type and value read from that text."""
    struct = "{" + ", ".join(f'"{f}": "JSON"' for f in MESSAGE_FIELDS) + "}"
    keys = (*_SCALARS, *_OBJECTS)
    parsed = (
        f"SELECT row, line, m, m IS NOT NULL AND starts_with(ltrim(line), '{{') AS is_object"
        f"\n    FROM (SELECT row, line, try(json_transform(line, '{struct}')) AS m "
        f"FROM ({messages}))"
    )
    return _Shape(
        parsed=parsed,
        texts=", ".join(f"m.{k}::VARCHAR AS s_{k}" for k in keys),
        ty={k: _json_type(f"s_{k}") for k in keys},
        value={k: _scalar_text(f"s_{k}") for k in _SCALARS},
        text={k: f"s_{k}" for k in keys},
        line="line",
        too_large=f"strlen(line) > {MAX_MESSAGE_BYTES}",
        not_json="m IS NULL AND NOT json_valid(line)",
        params=[],
    )


def _typed_shape(messages: str, direct: Direct, types: dict[str, pa.DataType]) -> _Shape:
    """Rows of (row, the file's columns): a string, integer, boolean or struct column gives its
    field's JSON type and value straight away (no JSON text is made for it unless a rejection or
    a hash-assigned messageId needs the message's text); other columns and dotted columns go
    through their JSON text. Verdicts, values and texts equal the JSON path's."""
    selected: list[str] = []
    ty: dict[str, str] = {}
    value: dict[str, str] = {}
    text: dict[str, str] = {}
    bounds: list[str] = []
    exact: list[str] = []
    keys: list[str] = []
    given = dict(direct.values)
    kinds: dict[str, frozenset[str]] = {}
    nulls: dict[str, str] = {}
    for field in MESSAGE_FIELDS:
        column = direct.columns.get(field)
        kind = _column_kind(types[field]) if column is not None else "json"
        if field not in given:
            ty[field], value[field], text[field] = "'NULL'", "NULL::VARCHAR", "NULL::VARCHAR"
            kinds[field] = frozenset({"NULL"})
            continue
        if kind in ("string", "integer", "boolean"):
            selected.append(f"{column} AS c_{field}")
            name = {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN"}[kind]
            kinds[field], nulls[field] = frozenset({"NULL", name}), f"c_{field}"
            ty[field] = f"CASE WHEN c_{field} IS NULL THEN 'NULL' ELSE '{name}' END"
            value[field] = f"c_{field}" if kind == "string" else f"c_{field}::VARCHAR"
            text[field] = f"to_json(c_{field})::VARCHAR"
            # a string's JSON text is at most 6 bytes per byte (\u00XX) plus its quotes
            most = {"string": f"6 * strlen(c_{field}) + 2", "integer": "20", "boolean": "5"}
            bounds.append(f"coalesce({most[kind]}, 4)")
        else:
            selected.append(f"({given[field]})::VARCHAR AS s_{field}")
            text[field] = f"s_{field}"
            if kind == "object":
                ty[field] = f"CASE WHEN s_{field} IS NULL THEN 'NULL' ELSE 'OBJECT' END"
                kinds[field], nulls[field] = _OBJECT_OR_NULL, f"s_{field}"
            else:
                ty[field] = _json_type(f"s_{field}")
            value[field] = f"s_{field}"
            if field in _SCALARS and kind == "json":
                value[field] = _scalar_text(f"s_{field}")
            bounds.append(f"strlen(coalesce(s_{field}, 'null'))")
        exact.append(f"strlen(coalesce({text[field]}, 'null'))")
    order = [field for field, _ in direct.values]
    keys = [f'"{k}":' for k in order]  # message field names need no JSON escapes
    line = (
        "concat('{', "
        + ", ',', ".join(
            f"'{key}', coalesce({text[f]}, 'null')" for key, f in zip(keys, order, strict=True)
        )
        + ", '}')"
    )
    fixed = 2 + sum(len(k) for k in keys) + len(keys) - 1
    limit = MAX_MESSAGE_BYTES - fixed
    # the exact length (JSON texts) only for the rare rows whose bound is over the limit
    too_large = f"({' + '.join(bounds)}) > {limit} AND ({' + '.join(exact)}) > {limit}"
    # parameters must follow the order of their `?` in the SQL: MESSAGE_FIELDS order here
    params = [p for field in MESSAGE_FIELDS for p in direct.params.get(field, [])]
    parsed = (
        "SELECT row, NULL::VARCHAR AS line, true AS is_object, "
        + ", ".join(selected)
        + f" FROM ({messages})"
    )
    return _Shape(parsed, "", ty, value, text, line, too_large, "false", params, kinds, nulls)


def _rules(shape: _Shape) -> list[tuple[str, str, str]]:
    """(condition, reason, field) in the order spec.normalise_message checks them."""
    types = ", ".join(f"'{t}'" for t in MESSAGE_TYPES)
    got = (
        "CASE WHEN ty_type = 'NULL' THEN 'missing' "
        "WHEN ty_type = 'VARCHAR' THEN chr(39) || v_type || chr(39) ELSE v_type END"
    )
    rules = [
        (shape.not_json, "'the row is not valid JSON'", "NULL"),
        (
            "NOT is_object",
            f"'a message must be a JSON object, not a ' || {_kind('json_type(line)')}",
            "NULL",
        ),
        (
            shape.too_large,
            f"'the message is larger than {MAX_MESSAGE_BYTES // 1024} KB'",
            "NULL",
        ),
        (
            f"NOT {shape.is_('type', frozenset({'VARCHAR'}))} OR v_type NOT IN ({types})",
            f"'type must be one of {', '.join(MESSAGE_TYPES)} (got ' || {got} || ')'",
            "'type'",
        ),
    ]
    for key, _ in _ID_FIELDS:
        rules.append(
            (
                shape.is_(key, _NOT_AN_ID),
                f"'{key} must be a string or a number, not a ' || {_kind('ty_' + key)}",
                f"'{key}'",
            )
        )
    rules.append(
        (
            "user_id IS NULL AND anonymous_id IS NULL",
            "'userId or anonymousId is required'",
            "'userId'",
        )
    )
    for key in ("event", "name"):
        rules.append(
            (
                f"NOT {shape.is_(key, _STRING_OR_NULL)}",
                f"'{key} must be a string, not a ' || {_kind('ty_' + key)}",
                f"'{key}'",
            )
        )
    rules += [
        ("v_type = 'track' AND event IS NULL", "'event is required for a track call'", "'event'"),
        (
            "v_type = 'group' AND group_id IS NULL",
            "'groupId is required for a group call'",
            "'groupId'",
        ),
        (
            "v_type = 'alias' AND previous_id IS NULL",
            "'previousId is required for an alias call'",
            "'previousId'",
        ),
    ]
    for key in _OBJECTS:
        rules.append(
            (
                f"NOT {shape.is_(key, _OBJECT_OR_NULL)}",
                f"'{key} must be an object, not a ' || {_kind('ty_' + key)}",
                f"'{key}'",
            )
        )
    for key in _TIME_FIELDS:
        rules.append(
            (
                f"NOT {shape.is_(key, _STRING_OR_NULL)} "
                f"OR ({shape.is_(key, frozenset({'VARCHAR'}))} AND t_{key} IS NULL)",
                f"'{key} is not an ISO-8601 date-time: ' || left({shape.text[key]}, 60)",
                f"'{key}'",
            )
        )
    return rules


def validate_sql(
    messages: str, *, direct: Direct | None = None, types: dict[str, pa.DataType] | None = None
) -> tuple[str, list[Any]]:
    """The query (and its parameters) turning `messages` (row, line) into events columns plus
    reason/field; it reads the one-row table `params` (source, received_at). With `direct`,
    `messages` holds (row, the file's columns, whose Arrow `types` are given) and the message is
    built from the columns, not parsed from text."""
    shape = _typed_shape(messages, direct, types or {}) if direct else _json_shape(messages)
    keys = (*_SCALARS, *_OBJECTS)
    texts = f"SELECT *, {shape.texts} FROM parsed" if shape.texts else "SELECT * FROM parsed"
    typed = ",\n        ".join(f"{shape.ty[k]} AS ty_{k}" for k in keys)
    values = ",\n        ".join(f"{shape.value[k]} AS v_{k}" for k in _SCALARS)
    ids = ",\n        ".join(f"{_id_value(k, shape.kinds.get(k))} AS {c}" for k, c in _ID_FIELDS)
    string = frozenset({"VARCHAR"})
    times = ",\n        ".join(
        f"CASE WHEN {shape.is_(k, string)} THEN TRY_CAST(v_{k} AS TIMESTAMPTZ) END AS t_{k}"
        for k in _TIME_FIELDS
    )
    texts_of = {
        k: f"nullif(CASE WHEN {shape.is_(k, string)} THEN v_{k} END, '')" for k in ("event", "name")
    }
    obj = frozenset({"OBJECT"})
    objects = {k: f"CASE WHEN {shape.is_(k, obj)} THEN {shape.text[k]} END" for k in _OBJECTS}
    rules = _rules(shape)
    line = shape.line
    rule = "CASE " + " ".join(f"WHEN {c} THEN {n}" for n, (c, _, _) in enumerate(rules)) + " END"
    reason = "CASE rule " + " ".join(f"WHEN {n} THEN {r}" for n, (_, r, _) in enumerate(rules))
    field = "CASE rule " + " ".join(f"WHEN {n} THEN {f}" for n, (_, _, f) in enumerate(rules))
    original = "coalesce(t_originalTimestamp, t_timestamp)"
    received = "coalesce(t_receivedAt, p.received_at)"
    return (
        f"""
WITH parsed AS (
    {shape.parsed}
),
texts AS (  -- each field's JSON text, computed once
    {texts}
),
typed AS (
    SELECT *,
        {typed},
        {values}
    FROM texts
),
fields AS (
    SELECT *,
        {ids},
        {texts_of["event"]} AS event,
        {texts_of["name"]} AS name,
        {times}
    FROM typed
),
checked AS (
    SELECT *, {rule} AS rule FROM fields
)
SELECT
    row,
    {reason} END AS reason,
    {field} END AS field,
    CASE WHEN rule IS NOT NULL THEN {line} END AS raw_line,
    p.source AS source,
    CASE WHEN message_id IS NULL THEN md5(p.source || chr(10) || {line}) ELSE message_id END
        AS message_id,  -- CASE, not coalesce: DuckDB evaluates coalesce's arguments eagerly
    v_type AS type,
    user_id, anonymous_id, event, name, group_id, previous_id,
    {objects["traits"]} AS traits,
    {objects["properties"]} AS properties,
    {objects["context"]} AS context,
    CASE
        WHEN {original} IS NULL THEN {received}
        WHEN t_sentAt IS NULL THEN {original}
        ELSE {received} - (t_sentAt - {original})
    END AS timestamp,
    {original} AS original_timestamp,
    t_sentAt AS sent_at,
    {received} AS received_at,
    p.received_at AS ingested_at
FROM checked CROSS JOIN params AS p
""",
        shape.params,
    )

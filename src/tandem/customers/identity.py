"""The identity graph: identifiers -> connected components -> stable customer ids.

Everything runs as SQL on the lake's DuckDB connection over the temporary tables
`customers.identifiers.extract` builds, with intermediate results materialised as temporary
tables; Python only loops over *iterations* (label propagation rounds, rule steps), never over
rows. The SQL is plain joins and GROUP BYs; its few DuckDB functions (hash, arg_max,
list_contains) have direct Spark SQL counterparts, but it runs on DuckDB only for now.

The graph
    Nodes are distinct identifiers (type, value). A message links its identifiers: each one is
    joined to the message's *anchor* (its identifier of the highest priority usable for
    merging; the message belongs to the anchor's customer), a star per message. Identifiers
    not usable for merging are kept but join nothing: types with `merge = false`, and *shared*
    identifiers, seen with more than `shared_above` distinct user ids within one user-id
    namespace (the sources that send the same user ids, like web and app with the shop's
    account ids, form one namespace; sources whose records are `contacts` do not count).
    Probabilistic matches join the user-id nodes of the two matched records.

Components
    Min-label hooking with pointer jumping on a contracted edge list: each round, every label
    hooks to its smallest neighbouring label, chains are followed to their roots, edges are
    relabelled and self-loops dropped, until no edge is left (a handful of rounds).

Limits per profile
    When a component holds more distinct identifiers of a type than its `max_per_profile`, that
    component is rebuilt rule by rule: edges are added by step, the step of an edge being the
    lower priority of its two identifiers (probabilistic matches last); a step whose edges
    would make a component break a limit loses its edges *within that component* (the weaker
    links that cause the excess), the other steps' edges stay. Identifiers that lose their
    links this way are reported as `ignored`.

Stable ids
    See `assign_ids`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]

from tandem.config import IDENTIFIER_KINDS, IdentitySettings
from tandem.customers.identifiers import IDENTIFIERS, MESSAGES, run
from tandem.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    from tandem.lake.store import Lake

MATCH_STEP = -1
"""The rule step of probabilistic match edges: after every identifier type."""


# -- components -------------------------------------------------------------------------------
def components(con: Any, edges: str, out: str) -> int:
    """Connected components of the undirected graph in table `edges` (BIGINT columns a, b):
    writes table `out` (nid, label) for every node of an edge, label = the smallest node id
    of its component. Returns the number of rounds."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _cc_e AS
        SELECT a, b FROM {edges} WHERE a <> b UNION SELECT b, a FROM {edges} WHERE a <> b
        """,
    )
    run(con, "CREATE OR REPLACE TEMP TABLE _cc_parent (nid BIGINT, p BIGINT)")
    rounds = 0
    while True:
        if not run(con, "SELECT 1 FROM _cc_e LIMIT 1"):
            break
        rounds += 1
        # hook: each label to its smallest neighbouring label, when smaller
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _cc_p AS
            SELECT a AS nid, min(b) AS p FROM _cc_e GROUP BY a HAVING min(b) < a
            """,
        )
        _jump(con, "_cc_p")
        run(con, "INSERT INTO _cc_parent SELECT nid, p FROM _cc_p")
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _cc_e AS
            SELECT DISTINCT coalesce(x.p, e.a) AS a, coalesce(y.p, e.b) AS b
            FROM _cc_e e LEFT JOIN _cc_p x ON e.a = x.nid LEFT JOIN _cc_p y ON e.b = y.nid
            WHERE coalesce(x.p, e.a) <> coalesce(y.p, e.b)
            """,
        )
    _jump(con, "_cc_parent")
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT n.nid, coalesce(p.p, n.nid) AS label
        FROM (SELECT a AS nid FROM {edges} UNION SELECT b FROM {edges}) n
        LEFT JOIN _cc_parent p USING (nid)
        """,
    )
    for name in ("_cc_e", "_cc_p", "_cc_parent"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    return rounds


def _jump(con: Any, table: str) -> None:
    """Follow parent pointers (nid -> p, p < nid) of `table` to their roots."""
    while True:
        pending = run(
            con,
            f"SELECT count(*) FROM {table} x JOIN {table} y ON x.p = y.nid",
        )[0][0]
        if not pending:
            return
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT x.nid, coalesce(y.p, x.p) AS p FROM {table} x LEFT JOIN {table} y
            ON x.p = y.nid
            """,
        )


# -- the graph --------------------------------------------------------------------------------
@dataclass
class GraphStats:
    nodes: int = 0
    shared: int = 0
    """Identifiers not used to merge because they are shared."""
    not_merging: int = 0
    """Identifiers of types with `merge = false`."""
    limited: int = 0
    """Identifiers whose links were dropped to respect a per-profile limit."""
    edges: int = 0
    match_edges: int = 0
    """Probabilistic matches received (between known user ids)."""
    match_edges_dropped: int = 0
    """Matches dropped to respect a per-profile limit."""
    clusters: int = 0
    deterministic_merges: int = 0
    """Unions made by shared identifiers: messages minus components before matching."""
    probabilistic_merges: int = 0
    """Unions made by probabilistic matches: components before matching minus after."""
    rounds: int = 0
    limit_violations: int = 0
    """Components that broke a per-profile limit and were rebuilt rule by rule."""
    shared_by_type: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rules_table(settings: IdentitySettings) -> pa.Table:
    names = sorted(settings.types)
    return pa.table(
        {
            "t": names,
            "code": pa.array([IDENTIFIER_KINDS.index(n) + 1 for n in names], pa.int64()),
            "priority": pa.array([settings.types[n].priority for n in names], pa.int64()),
            "merge": [settings.types[n].merge for n in names],
            "max_per_profile": pa.array(
                [settings.types[n].max_per_profile for n in names], pa.int64()
            ),
            "shared_above": pa.array([settings.types[n].shared_above for n in names], pa.int64()),
        }
    )


def build_graph(
    con: Any, settings: IdentitySettings, matches: pa.Table | None = None
) -> GraphStats:
    """From MESSAGES and IDENTIFIERS, build the graph and its components: temporary tables
    `_tandem_nodes` (nid, t, priority, max_per_profile, status merge|shared|off|limit),
    `_tandem_mi` (mid, nid, priority, merge), `_tandem_lab` (nid, label) for every node in a
    component of two or more, and `_tandem_assign` (mid, cluster). `matches`: (left_key,
    right_key, match_weight, match_probability) between user ids; kept in `_tandem_matches`
    with `accepted`."""
    stats = GraphStats()
    con.register("_tandem_rules_arrow", _rules_table(settings))
    run(con, "CREATE OR REPLACE TEMP TABLE _tandem_rules AS SELECT * FROM _tandem_rules_arrow")
    con.unregister("_tandem_rules_arrow")
    contacts = sorted(n for n, rule in settings.sources.items() if rule.records == "contacts")
    # Shared: more than shared_above distinct user ids within one user-id namespace (sources
    # that send the same user ids, e.g. web and app with shop account ids), contacts left out.
    _namespaces(con)
    if not _nodes(con, contacts):
        _renumber(con)
        _nodes(con, contacts)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_mi AS
        SELECT i.mid, i.nid, n.priority, n.status = 'merge' AS merge
        FROM {IDENTIFIERS} i JOIN _tandem_nodes n USING (nid)
        """,
    )
    # Each message's anchor: its mergeable node of the highest priority (a user id before an
    # email, ...; ties: the smallest node id), else its node of the highest priority. One
    # integer max per message: mergeable (bit 62), priority (bits 52-61), then the node id's
    # top 52 bits inverted (a tie there is a 2^-52 chance, resolved arbitrarily).
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_anchor AS
        SELECT mid, arg_max(nid, key) AS anchor, (max(key) >> 52) & 1023 AS priority,
               max(key) >> 62 = 1 AS merge
        FROM (
            SELECT mid, nid,
                   (CAST(merge AS BIGINT) << 62) | (CAST(priority AS BIGINT) << 52)
                   | (4503599627370495 - (nid >> 11)) AS key
            FROM _tandem_mi
        ) GROUP BY mid
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_edges AS
        SELECT x.anchor AS a, mi.nid AS b, least(x.priority, mi.priority) AS step
        FROM _tandem_mi mi JOIN _tandem_anchor x USING (mid)
        WHERE mi.merge AND x.merge AND mi.nid <> x.anchor
        """,
    )
    stats.rounds += components(con, "_tandem_edges", "_tandem_lab")
    _assign(con)
    det_clusters = run(con, "SELECT count(DISTINCT cluster) FROM _tandem_assign")[0][0]
    # Probabilistic matches join the user-id nodes of the two records.
    _add_matches(con, matches)
    stats.match_edges = run(con, "SELECT count(*) FROM _tandem_matches WHERE accepted")[0][0]
    if stats.match_edges:
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _tandem_medges AS
            SELECT coalesce(la.label, m.a) AS a, coalesce(lb.label, m.b) AS b
            FROM _tandem_matches m LEFT JOIN _tandem_lab la ON la.nid = m.a
            LEFT JOIN _tandem_lab lb ON lb.nid = m.b WHERE m.accepted
            """,
        )
        stats.rounds += components(con, "_tandem_medges", "_tandem_mlab")
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _tandem_lab AS
            SELECT l.nid, coalesce(m.label, l.label) AS label, l.label AS det_label
            FROM _tandem_lab l LEFT JOIN _tandem_mlab m ON m.nid = l.label
            UNION ALL
            SELECT m.nid, m.label, m.nid FROM _tandem_mlab m ANTI JOIN _tandem_lab l USING (nid)
            """,
        )
        run(con, "DROP TABLE _tandem_medges")
        run(con, "DROP TABLE _tandem_mlab")
    # Limits per profile: components that break one are rebuilt rule by rule.
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_violating AS
        SELECT DISTINCT label FROM (
            SELECT l.label, n.t, any_value(n.max_per_profile) AS lim, count(*) AS n
            FROM _tandem_lab l JOIN _tandem_nodes n USING (nid)
            WHERE n.status = 'merge' AND n.max_per_profile IS NOT NULL
            GROUP BY l.label, n.t
        ) WHERE n > lim
        """,
    )
    stats.limit_violations = run(con, "SELECT count(*) FROM _tandem_violating")[0][0]
    if stats.limit_violations:
        det_clusters += _apply_limits(con, stats, matched=bool(stats.match_edges))
    if stats.limit_violations or stats.match_edges:
        _assign(con)
    counts = run(
        con,
        """
        SELECT (SELECT count(*) FROM _tandem_nodes),
               (SELECT count(*) FROM _tandem_nodes WHERE status = 'shared'),
               (SELECT count(*) FROM _tandem_nodes WHERE status = 'off'),
               (SELECT count(*) FROM _tandem_nodes WHERE status = 'limit'),
               (SELECT count(*) FROM _tandem_edges),
               (SELECT count(DISTINCT cluster) FROM _tandem_assign),
               (SELECT count(*) FROM _tandem_assign),
               (SELECT count(*) FROM _tandem_matches WHERE a IS NOT NULL AND NOT accepted)
        """,
    )[0]
    (
        stats.nodes,
        stats.shared,
        stats.not_merging,
        stats.limited,
        stats.edges,
        stats.clusters,
        messages,
        stats.match_edges_dropped,
    ) = (int(v) for v in counts)
    stats.deterministic_merges = int(messages) - int(det_clusters)
    stats.probabilistic_merges = max(int(det_clusters) - stats.clusters, 0)
    stats.shared_by_type = {
        str(t): int(n)
        for t, n in run(
            con,
            "SELECT t, count(*) FROM _tandem_nodes WHERE status = 'shared' GROUP BY t ORDER BY t",
        )
    }
    return stats


def _nodes(con: Any, contacts: list[str]) -> bool:
    """`_tandem_nodes` (nid, t, priority, max_per_profile, status) in one pass over the
    identifiers: per node and user-id namespace, the distinct user ids (for `shared_above`)
    and a second, independent hash of the value. A node id holds its type's number and a 58-bit
    hash of the value; two values sharing one show as two second hashes (an integer min/max,
    much cheaper than comparing texts). Returns False on such a clash."""
    shared_codes = [
        int(r[0]) for r in run(con, "SELECT code FROM _tandem_rules WHERE shared_above IS NOT NULL")
    ]
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_mu AS
        SELECT m.mid, s.namespace,
               CASE WHEN NOT list_contains(?::VARCHAR[], m.source) THEN hash(m.user_id) END
                   AS user_hash
        FROM {MESSAGES} m JOIN _tandem_sources s USING (source)
        """,
        [contacts],
    )
    # integer aggregates per node; exact distinct counts per namespace only for the nodes seen
    # with two or more user ids
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_ng AS
        SELECT nid, min(user_hash) AS ulo, max(user_hash) AS uhi, min(h) AS lo, max(h) AS hi
        FROM (
            SELECT i.nid, m.user_hash, hash(i.id_value, 'tandem') AS h
            FROM {IDENTIFIERS} i JOIN _tandem_mu m USING (mid)
        )
        GROUP BY nid
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_multi AS
        SELECT nid, max(users) AS users FROM (
            SELECT i.nid, m.namespace, count(DISTINCT m.user_hash) AS users
            FROM {IDENTIFIERS} i JOIN _tandem_mu m USING (mid)
            SEMI JOIN (SELECT nid FROM _tandem_ng
                       WHERE ulo < uhi AND list_contains(?::BIGINT[], nid >> 58)) g
                ON g.nid = i.nid
            GROUP BY i.nid, m.namespace
        ) GROUP BY nid
        """,
        [shared_codes],
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_nodes AS
        SELECT g.nid, r.t, r.priority, r.max_per_profile,
               CASE WHEN NOT r.merge THEN 'off'
                    WHEN x.users > r.shared_above THEN 'shared'
                    ELSE 'merge' END AS status,
               g.lo <> g.hi AS clash
        FROM _tandem_ng g JOIN _tandem_rules r ON r.code = g.nid >> 58
        LEFT JOIN _tandem_multi x USING (nid)
        """,
    )
    for name in ("_tandem_mu", "_tandem_ng", "_tandem_multi"):
        run(con, f"DROP TABLE {name}")
    return not run(con, "SELECT count(*) FROM _tandem_nodes WHERE clash")[0][0]


def _renumber(con: Any) -> None:
    """Exact node ids (the type's number and the rank of the value), after a hash clash."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_exact AS
        SELECT id_type, id_value,
               CAST((CAST(list_position(?::VARCHAR[], id_type) AS BIGINT) << 58)
                    | row_number() OVER (ORDER BY id_type, id_value) AS BIGINT) AS nid
        FROM (SELECT DISTINCT id_type, id_value FROM {IDENTIFIERS})
        """,
        [list(IDENTIFIER_KINDS)],
    )
    run(
        con,
        f"""
        UPDATE {IDENTIFIERS} SET nid = n.nid FROM _tandem_exact n
        WHERE {IDENTIFIERS}.id_type = n.id_type AND {IDENTIFIERS}.id_value = n.id_value
        """,
    )
    run(con, "DROP TABLE _tandem_exact")


def _assign(con: Any) -> None:
    """`_tandem_assign` (mid, cluster) from the anchors' current labels (a message without
    any identifier is a cluster of its own)."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_assign AS
        SELECT m.mid, coalesce(l.label, x.anchor, -m.mid) AS cluster
        FROM {MESSAGES} m LEFT JOIN _tandem_anchor x USING (mid)
        LEFT JOIN _tandem_lab l ON l.nid = x.anchor
        """,
    )


def _namespaces(con: Any) -> None:
    """`_tandem_sources` (source, namespace): sources joined when they send a same user id
    (connected components over the few sources)."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_sources AS
        SELECT source, CAST(row_number() OVER (ORDER BY source) AS BIGINT) AS namespace
        FROM (SELECT DISTINCT source FROM {MESSAGES})
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_source_pairs AS
        WITH us AS (
            SELECT DISTINCT hash(m.user_id) AS u, s.namespace AS sid FROM {MESSAGES} m
            JOIN _tandem_sources s USING (source) WHERE m.user_id IS NOT NULL
        )
        SELECT DISTINCT a, b FROM (
            SELECT min(sid) OVER (PARTITION BY u) AS a, sid AS b FROM us
        ) WHERE a <> b
        """,
    )
    components(con, "_tandem_source_pairs", "_tandem_source_labels")
    run(
        con,
        """
        UPDATE _tandem_sources SET namespace = l.label FROM _tandem_source_labels l
        WHERE _tandem_sources.namespace = l.nid
        """,
    )
    run(con, "DROP TABLE _tandem_source_pairs")
    run(con, "DROP TABLE _tandem_source_labels")


def _add_matches(con: Any, matches: pa.Table | None) -> None:
    if matches is None or matches.num_rows == 0:
        matches = pa.table(
            {
                "left_key": pa.array([], pa.string()),
                "right_key": pa.array([], pa.string()),
                "match_weight": pa.array([], pa.float64()),
                "match_probability": pa.array([], pa.float64()),
            }
        )
    con.register("_tandem_matches_arrow", matches)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tandem_matches AS
        WITH users AS (
            SELECT DISTINCT id_value, nid FROM {IDENTIFIERS} WHERE id_type = 'user_id'
            AND id_value IN (SELECT left_key FROM _tandem_matches_arrow
                             UNION SELECT right_key FROM _tandem_matches_arrow)
        )
        SELECT m.left_key, m.right_key, CAST(m.match_weight AS DOUBLE) AS match_weight,
               CAST(m.match_probability AS DOUBLE) AS match_probability,
               na.nid AS a, nb.nid AS b, na.nid IS NOT NULL AND nb.nid IS NOT NULL AS accepted
        FROM _tandem_matches_arrow m
        LEFT JOIN users na ON na.id_value = m.left_key
        LEFT JOIN users nb ON nb.id_value = m.right_key
        WHERE m.left_key <> m.right_key
        """,
    )
    con.unregister("_tandem_matches_arrow")
    run(con, "UPDATE _tandem_matches SET a = NULL WHERE b IS NULL")


def _apply_limits(con: Any, stats: GraphStats, *, matched: bool) -> int:
    """Rebuild the violating components rule by rule (see the module docstring). Returns how
    many more clusters there are before the match step than the first pass counted."""
    det_label = "l.det_label" if matched else "l.label"
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _tl_nodes AS
        SELECT l.nid, n.t, n.max_per_profile, {det_label} AS det_label, l.nid AS c,
               l.nid IN (SELECT anchor FROM _tandem_anchor) AS is_anchor
        FROM _tandem_lab l JOIN _tandem_nodes n USING (nid)
        WHERE n.status = 'merge' AND l.label IN (SELECT label FROM _tandem_violating)
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tl_edges AS
        SELECT a, b, step FROM _tandem_edges
        WHERE a IN (SELECT nid FROM _tl_nodes) AND b IN (SELECT nid FROM _tl_nodes)
        UNION ALL
        SELECT a, b, ? AS step FROM _tandem_matches
        WHERE accepted AND a IN (SELECT nid FROM _tl_nodes) AND b IN (SELECT nid FROM _tl_nodes)
        """,
        [MATCH_STEP],
    )
    run(con, "CREATE OR REPLACE TEMP TABLE _tl_dropped (a BIGINT, b BIGINT, step BIGINT)")
    steps = [int(r[0]) for r in run(con, "SELECT DISTINCT step FROM _tl_edges ORDER BY 1 DESC")]
    before_match = 0
    for step in steps:
        if step == MATCH_STEP:
            before_match = _anchored_clusters(con, "c")
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _tl_step AS
            SELECT e.a, e.b, ca.c AS ca, cb.c AS cb FROM _tl_edges e
            JOIN _tl_nodes ca ON ca.nid = e.a JOIN _tl_nodes cb ON cb.nid = e.b
            WHERE e.step = ?
            """,
            [step],
        )
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE _tl_ce AS "
            "SELECT DISTINCT ca AS a, cb AS b FROM _tl_step WHERE ca <> cb",
        )
        stats.rounds += components(con, "_tl_ce", "_tl_cand")
        # candidate components that would break a limit
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _tl_bad AS
            SELECT DISTINCT k FROM (
                SELECT coalesce(x.label, n.c) AS k, n.t, any_value(n.max_per_profile) AS lim,
                       count(*) AS cnt
                FROM _tl_nodes n LEFT JOIN _tl_cand x ON x.nid = n.c
                WHERE n.max_per_profile IS NOT NULL GROUP BY ALL
            ) WHERE cnt > lim
            """,
        )
        run(
            con,
            """
            INSERT INTO _tl_dropped
            SELECT s.a, s.b, ? FROM _tl_step s JOIN _tl_nodes n ON n.nid = s.a
            LEFT JOIN _tl_cand x ON x.nid = n.c
            WHERE s.ca <> s.cb AND coalesce(x.label, n.c) IN (SELECT k FROM _tl_bad)
            """,
            [step],
        )
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE _tl_ok AS
            SELECT s.ca AS a, s.cb AS b FROM _tl_step s JOIN _tl_nodes n ON n.nid = s.a
            LEFT JOIN _tl_cand x ON x.nid = n.c
            WHERE s.ca <> s.cb AND coalesce(x.label, n.c) NOT IN (SELECT k FROM _tl_bad)
            """,
        )
        stats.rounds += components(con, "_tl_ok", "_tl_new")
        run(
            con,
            "UPDATE _tl_nodes SET c = x.label FROM _tl_new x WHERE _tl_nodes.c = x.nid",
        )
    if MATCH_STEP not in steps:
        before_match = _anchored_clusters(con, "c")
    first_pass = _anchored_clusters(con, "det_label")
    # identifiers whose links were dropped (the weaker end of each dropped identifier edge)
    run(
        con,
        """
        UPDATE _tandem_nodes SET status = 'limit' WHERE nid IN (
            SELECT CASE WHEN na.priority <= nb.priority THEN d.a ELSE d.b END
            FROM _tl_dropped d JOIN _tandem_nodes na ON na.nid = d.a
            JOIN _tandem_nodes nb ON nb.nid = d.b WHERE d.step <> ?)
        """,
        [MATCH_STEP],
    )
    run(
        con,
        """
        UPDATE _tandem_matches SET accepted = false FROM _tl_dropped d
        WHERE d.step = ? AND _tandem_matches.a = d.a AND _tandem_matches.b = d.b
        """,
        [MATCH_STEP],
    )
    run(
        con,
        "UPDATE _tandem_lab SET label = n.c FROM _tl_nodes n WHERE _tandem_lab.nid = n.nid",
    )
    for name in ("_tl_nodes", "_tl_edges", "_tl_dropped", "_tl_step", "_tl_ce", "_tl_cand"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    for name in ("_tl_bad", "_tl_ok", "_tl_new", "_tandem_violating"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    # The first pass counted the violating components' messages in `first_pass` clusters
    # before matching; they are in `before_match` after the rebuild.
    return before_match - first_pass


def _anchored_clusters(con: Any, column: str) -> int:
    """Distinct `column` values of the rebuilt nodes that anchor a message."""
    return int(run(con, f"SELECT count(DISTINCT {column}) FROM _tl_nodes WHERE is_anchor")[0][0])


# -- stable ids -------------------------------------------------------------------------------
@dataclass
class IdStats:
    new: int = 0
    """Clusters that got a new id."""
    continued: int = 0
    """Clusters that kept an id of the previous run."""
    merged: int = 0
    """Previous ids merged into an older one (recorded with merged_into / merged_at)."""
    retired: int = 0
    """Previous ids none of whose records remain (e.g. after an erasure); kept, not reused."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def assign_ids(lake: Lake, *, now: datetime, run_id: int) -> tuple[IdStats, pa.Table]:
    """Give every cluster of `_tandem_assign` a customer id; writes the temporary table
    `_tandem_cid` (cluster, customer_id) and returns the new content of `customer_ids`.

    - Each id of the previous run goes to the new cluster holding most of its records (ties:
      the cluster whose smallest (source, message id) is smallest): a split keeps the id on
      the part with most of the old records, the other parts get new ids.
    - A cluster that received several previous ids keeps the oldest (created first, then the
      smallest id); the others are recorded as merged into it, at `now`.
    - A cluster that received none gets a new id: `cus_` and 16 hex digits of the SHA-256 of
      its smallest (source, message id); if that id was ever issued, of the same text with
      `#<run>` appended. Ids are never reused.
    """
    con = lake.con.con
    lake.raw("identities")
    lake.raw("customer_ids")
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE _ti_prev AS "
        "SELECT source, message_id, customer_id FROM lake_identities",
    )
    run(con, "CREATE OR REPLACE TEMP TABLE _ti_ids AS SELECT * FROM lake_customer_ids")
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _ti_cl AS
        SELECT a.cluster, min(m.source || chr(31) || m.message_id) AS key
        FROM _tandem_assign a JOIN {MESSAGES} m USING (mid) GROUP BY a.cluster
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE _ti_home AS
        SELECT customer_id, cluster, created_at FROM (
            SELECT o.customer_id, o.cluster, i.created_at,
                   row_number() OVER (PARTITION BY o.customer_id ORDER BY o.n DESC, c.key) AS r
            FROM (
                SELECT a.cluster, p.customer_id, count(*) AS n
                FROM _tandem_assign a JOIN {MESSAGES} m USING (mid)
                JOIN _ti_prev p ON p.source = m.source AND p.message_id = m.message_id
                GROUP BY ALL
            ) o JOIN _ti_cl c USING (cluster)
            JOIN _ti_ids i ON i.customer_id = o.customer_id AND i.merged_into IS NULL
        ) WHERE r = 1
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _ti_keep AS
        SELECT cluster, customer_id FROM (
            SELECT cluster, customer_id,
                   row_number() OVER (PARTITION BY cluster ORDER BY created_at, customer_id) AS r
            FROM _ti_home
        ) WHERE r = 1
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _ti_merged AS
        SELECT h.customer_id, k.customer_id AS merged_into
        FROM _ti_home h JOIN _ti_keep k USING (cluster) WHERE h.customer_id <> k.customer_id
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _ti_new AS
        SELECT cluster, CASE WHEN i.customer_id IS NULL THEN c.cid
                             ELSE 'cus_' || left(sha256(c.key || '#' || ?), 16) END AS customer_id
        FROM (SELECT cluster, key, 'cus_' || left(sha256(key), 16) AS cid FROM _ti_cl
              WHERE cluster NOT IN (SELECT cluster FROM _ti_keep)) c
        LEFT JOIN _ti_ids i ON i.customer_id = c.cid
        """,
        [str(run_id)],
    )
    clash = run(
        con,
        "SELECT (SELECT count(*) FROM _ti_new n JOIN _ti_ids i USING (customer_id)) "
        "+ (SELECT count(*) - count(DISTINCT customer_id) FROM _ti_new)",
    )[0][0]
    if clash:  # two SHA-256 prefixes colliding twice: not expected in this universe
        raise RuntimeError("customer id collision; run tandem resolve again")
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _tandem_cid AS
        SELECT cluster, customer_id FROM _ti_keep UNION ALL SELECT cluster, customer_id FROM _ti_new
        """,
    )
    stats = IdStats()
    stats.new, stats.continued, stats.merged, stats.retired = (
        int(v)
        for v in run(
            con,
            """
            SELECT (SELECT count(*) FROM _ti_new), (SELECT count(*) FROM _ti_keep),
                   (SELECT count(*) FROM _ti_merged),
                   (SELECT count(*) FROM _ti_ids WHERE merged_into IS NULL
                      AND customer_id IN (SELECT customer_id FROM _ti_prev)
                      AND customer_id NOT IN (SELECT customer_id FROM _ti_home))
            """,
        )[0]
    )
    ids = con.sql(
        """
        SELECT i.customer_id, i.created_at, i.run,
               coalesce(i.merged_into, m.merged_into) AS merged_into,
               CASE WHEN m.merged_into IS NOT NULL AND i.merged_into IS NULL
                    THEN $now ELSE i.merged_at END AS merged_at
        FROM _ti_ids i LEFT JOIN _ti_merged m USING (customer_id)
        UNION ALL
        SELECT customer_id, $now, $run, NULL, NULL FROM _ti_new
        ORDER BY customer_id
        """,
        params={"now": now, "run": run_id},
    ).to_arrow_table()
    for name in ("_ti_prev", "_ti_ids", "_ti_cl", "_ti_home", "_ti_keep", "_ti_merged", "_ti_new"):
        run(con, f"DROP TABLE IF EXISTS {name}")
    return stats, ids


def identities_table(con: Any) -> pa.Table:
    """The new `identities`: one row per message with its customer id."""
    table: pa.Table = con.sql(
        f"""
        SELECT m.source, m.message_id, m.record_id, c.customer_id
        FROM _tandem_assign a JOIN {MESSAGES} m USING (mid) JOIN _tandem_cid c USING (cluster)
        ORDER BY c.customer_id
        """
    ).to_arrow_table()
    return table


def links_table(con: Any) -> pa.Table:
    """The new `identity_links`: per customer, each identifier its records carry (kind
    identifier, or ignored with the reason) and each probabilistic match (kind match, or
    ignored when a limit dropped it)."""
    table: pa.Table = con.sql(
        f"""
        WITH keyrec AS (
            -- the record that speaks for a user id: its latest identify message
            SELECT user_id AS key, k.source, k.rid FROM (
                SELECT user_id,
                       arg_max({{'source': source, 'rid': record_id}},
                               (type = 'identify', timestamp, record_id)) AS k
                FROM {MESSAGES}
                WHERE user_id IN (SELECT left_key FROM _tandem_matches WHERE a IS NOT NULL
                                  UNION SELECT right_key FROM _tandem_matches WHERE a IS NOT NULL)
                GROUP BY user_id
            )
        ),
        carried AS (
            SELECT a.cluster, i.nid, count(*) AS records, any_value(i.id_value) AS v
            FROM {IDENTIFIERS} i JOIN _tandem_assign a USING (mid) GROUP BY a.cluster, i.nid
        )
        SELECT c.customer_id,
               CASE WHEN n.status = 'merge' THEN 'identifier' ELSE 'ignored' END AS kind,
               n.t AS id_type, x.v AS id_value, x.records,
               NULL AS left_source, NULL AS left_record_id,
               NULL AS right_source, NULL AS right_record_id,
               CAST(NULL AS DOUBLE) AS match_weight, CAST(NULL AS DOUBLE) AS match_probability,
               CASE n.status WHEN 'shared' THEN 'shared' WHEN 'off' THEN 'not merging'
                             WHEN 'limit' THEN 'limit' END AS reason
        FROM carried x JOIN _tandem_cid c USING (cluster) JOIN _tandem_nodes n USING (nid)
        UNION ALL
        SELECT c.customer_id, CASE WHEN x.accepted THEN 'match' ELSE 'ignored' END,
               NULL, NULL, 2, l.source, l.rid, r.source, r.rid,
               x.match_weight, x.match_probability,
               CASE WHEN x.accepted THEN NULL ELSE 'limit' END
        FROM _tandem_matches x LEFT JOIN _tandem_lab lab ON lab.nid = x.a
        JOIN _tandem_cid c ON c.cluster = coalesce(lab.label, x.a)
        JOIN keyrec l ON l.key = x.left_key JOIN keyrec r ON r.key = x.right_key
        ORDER BY 1
        """
    ).to_arrow_table()
    return table


# -- explaining a customer --------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    """One row of `identity_links`."""

    kind: str
    id_type: str | None = None
    id_value: str | None = None
    records: int | None = None
    left_source: str | None = None
    left_record_id: str | None = None
    right_source: str | None = None
    right_record_id: str | None = None
    match_weight: float | None = None
    match_probability: float | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for a person: why this link holds the customer together (or not)."""
        if self.id_type is None:
            pair = (
                f"{self.left_source}:{self.left_record_id} ~ "
                f"{self.right_source}:{self.right_record_id}"
            )
            weight = f"weight {self.match_weight:.2f}, probability {self.match_probability:.6f}"
            if self.kind == "match":
                return f"probabilistic match {pair} ({weight})"
            return f"probabilistic match {pair} ({weight}) not used: {_REASONS[self.reason]}"
        on = f"{self.id_type} {self.id_value} on {self.records} record"
        on += "" if self.records == 1 else "s"
        if self.kind == "identifier":
            return on
        return f"{on}, not used: {_REASONS[self.reason]}"


_REASONS: dict[str | None, str] = {
    "shared": "shared (seen with more user ids than its type's shared_above)",
    "not merging": "its type never merges",
    "limit": "it would break a limit per profile",
    None: "not used",
}


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    records: list[tuple[str, str]]
    """(source, record_id) of every record of the customer."""
    links: list[Link]
    merged_ids: list[str]
    """Older customer ids whose clusters were merged into this one (directly or in turn)."""
    created_at: datetime | None = None
    run: int | None = None


def explain(lake: Lake, customer_id: str) -> Explanation:
    """Why customer `customer_id` is one customer. NotFound for an unknown id, or for an id
    merged into another (the message names it)."""
    ids = lake.raw("customer_ids")
    found = (
        ids.filter(ids.customer_id == customer_id)
        .select("customer_id", "created_at", "run", "merged_into")
        .to_pyarrow()
        .to_pylist()
    )
    # the merged ids only (few): enough to follow merge chains both ways
    rows = (
        ids.filter(ids.merged_into.notnull())
        .select("customer_id", "merged_into")
        .to_pyarrow()
        .to_pylist()
    )
    by_id = {r["customer_id"]: r for r in rows}
    row = found[0] if found else None
    if row is None:
        raise NotFound(
            f"no customer {customer_id}",
            detail="customer ids look like cus_0123456789abcdef; run `tandem resolve` first",
        )
    if row["merged_into"]:
        final = row["merged_into"]
        seen = {customer_id}
        while by_id.get(final, {}).get("merged_into") and final not in seen:
            seen.add(final)
            final = by_id[final]["merged_into"]
        raise NotFound(
            f"customer {customer_id} was merged into {final}",
            detail=f"see `tandem profile show {final}`",
        )
    children: dict[str, list[str]] = {}
    for r in rows:
        if r["merged_into"]:
            children.setdefault(r["merged_into"], []).append(r["customer_id"])
    merged: list[str] = []
    todo = list(children.get(customer_id, []))
    while todo:
        cid = todo.pop()
        if cid not in merged:
            merged.append(cid)
            todo.extend(children.get(cid, []))
    identities = lake.raw("identities")
    records = (
        identities.filter(identities.customer_id == customer_id)
        .select("source", "record_id")
        .distinct()
        .order_by(["source", "record_id"])
        .to_pyarrow()
    )
    links = lake.raw("identity_links")
    link_rows = (
        links.filter(links.customer_id == customer_id).drop("customer_id").to_pyarrow().to_pylist()
    )
    order = {"match": 0, "identifier": 1, "ignored": 2}
    link_list = sorted(
        (Link(**r) for r in link_rows),
        key=lambda x: (order.get(x.kind, 3), -(x.records or 0), x.id_type or "", x.id_value or ""),
    )
    return Explanation(
        customer_id=customer_id,
        records=list(
            zip(records["source"].to_pylist(), records["record_id"].to_pylist(), strict=True)
        ),
        links=link_list,
        merged_ids=sorted(merged),
        created_at=row["created_at"],
        run=row["run"],
    )


# -- export -----------------------------------------------------------------------------------
EXPORT_FORMATS = (".csv", ".parquet")


def export_identities(lake: Lake, out: Path, *, sources: Sequence[str] | None = None) -> int:
    """Write `source, record_id, customer_id` (one row per record) to `out` (.csv or .parquet),
    atomically (a temporary file renamed into place). `sources` (None: all) limits the rows to
    those sources' records. Returns the number of rows."""
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    suffix = out.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InvalidValue(
            f"cannot export identities to {out.name}: use a .csv or .parquet file",
            field="out",
        )
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidValue(f"cannot write {out}: folder {folder} does not exist", field="out")
    ids = lake.raw("customer_ids")
    if ids.count().to_pyarrow().as_py() == 0:
        raise NotFound(
            "no identities yet: nothing has been resolved in this workspace",
            detail="run `tandem resolve` first",
        )
    identities = lake.raw("identities")
    if sources is not None:
        identities = identities.filter(identities.source.isin(list(sources)))
    table = (
        identities.select("source", "record_id", "customer_id")
        .distinct()
        .order_by(["source", "record_id", "customer_id"])
        .to_pyarrow()
    )
    tmp = folder / f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        if suffix == ".csv":
            pacsv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise InvalidValue(f"cannot write {out}: {exc.strerror or exc}", field="out") from None
    finally:
        tmp.unlink(missing_ok=True)
    return int(table.num_rows)

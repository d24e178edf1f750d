"""One local SparkSession per test module, or a skip (a failure when CI is set)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tandem.lake.spark import java_available

SMALL_DATA = {
    # tests move a few thousand rows: compiling code for them costs more than it saves
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.default.parallelism": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


def spark_or_skip() -> None:
    """Skip when pyspark or Java is missing and CI is unset; with CI set, fail instead."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (uv sync --extra spark)")
    if not java_available():
        missing.append("Java 17+")
    if not missing:
        return
    reason = "Spark tests need " + " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI is set: the spark extra and Java must be installed)")
    pytest.skip(reason)


def local_spark() -> Iterator[Any]:
    """A small local session for one test module, stopped at its end."""
    spark_or_skip()
    from pyspark.sql import SparkSession

    from tandem.lake.spark import spark_session

    assert SparkSession.getActiveSession() is None, "another test module left Spark running"
    os.environ.setdefault("TANDEM_SPARK_PARTITIONS", "2")
    session = spark_session(master="local[2]", app_name="tandem-tests", config=SMALL_DATA)
    try:
        yield session
    finally:
        session.stop()

"""The lake's lock: one resolution or erasure at a time, across threads and processes, released
when the holder ends (also when it is killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tandem.lake.locks import Busy, exclusive

HOLD = """
import sys, time
from tandem.lake.locks import exclusive
with exclusive(sys.argv[1], "identity resolution"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_second_holder_in_the_same_process_is_refused(tmp_path: Path) -> None:
    with exclusive(tmp_path, "identity resolution"):
        with pytest.raises(Busy) as caught, exclusive(tmp_path, "an erasure"):
            pass
        assert caught.value.message.startswith("cannot start an erasure")
        assert caught.value.status_code == 409
    with exclusive(tmp_path, "an erasure"):  # released
        pass


def test_another_process_holding_it_refuses_until_killed(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(Busy), exclusive(tmp_path, "an erasure"):
                pass
        finally:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()
    for _ in range(50):  # the kernel drops a killed process's flock at exit
        try:
            with exclusive(tmp_path, "an erasure"):
                return
        except Busy:
            time.sleep(0.1)
    pytest.fail("the lock outlived the process that held it")

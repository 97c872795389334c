"""The bench's profile (benchmarks/profile.py) picks the models the issue names and reads the plans' figures."""

import time

from benchmarks.harness import STATS_FLUSH_SECONDS, server_counters, server_writes
from benchmarks.profile import _execution_ms, _wal_bytes, heavy_models
from orchestration.db.connection import connected
from tests.helpers import scalar

PLAN = """Insert on int_meter_interval_hours  (cost=0.00..5963.0 rows=0 width=0) (actual time=2413..2413 rows=0 loops=1)
  Buffers: shared hit=2818398 read=30113 dirtied=42195 written=15521
  WAL: records=2020113 fpi=1213 bytes=183412345
  ->  Seq Scan on profile_batch  (cost=0.00..5963.04 rows=403485 width=213) (actual time=0.0..45.8 rows=403485 loops=1)
        WAL: records=12 fpi=0 bytes=777
Planning Time: 0.1 ms
Execution Time: 2430.618 ms"""


def test_models_of_two_seconds_or_more_are_profiled_and_never_a_test():
    run = {"wall": 60.0, "load": 14.0, "  fct_sensor_hourly": 1.9, "  int_meter_intervals": 5.2,
           "  test assert_meter_hours_sum_their_parts": 9.0, "  fct_meter_consumption_hourly": 2.0}  # fmt: skip
    assert heavy_models(run) == ["int_meter_intervals", "fct_meter_consumption_hourly"]


def test_without_a_model_of_two_seconds_the_three_slowest_are_profiled():
    run = {"wall": 9.0, "  a": 0.5, "  b": 1.5, "  c": 0.7, "  d": 0.9, "  test t": 1.9}
    assert heavy_models(run) == ["b", "d", "c"]


def test_the_statement_s_time_and_its_whole_wal_are_read_from_the_top_of_the_plan():
    assert _execution_ms(PLAN) == 2431
    assert _wal_bytes(PLAN) == 183412345


def test_the_bench_counts_the_wal_a_run_writes(warehouse):
    """50,000 rows of 200 characters are at least 10 MB of heap, all of it in the WAL (a logged table). At about 35
    such rows to an 8 kB page that is over 1,400 pages, and after a CHECKPOINT the first change of each page writes
    the whole page into the WAL: updating every row logs over 1,000 full-page images, and the CHECKPOINT is one
    requested checkpoint (with full_page_writes on, PostgreSQL's default)."""
    full_page_writes = scalar(warehouse, "show full_page_writes")
    before = server_counters(warehouse)
    # its own session, which reports its WAL as it ends; the table committed before the insert (logged at any wal_level)
    with connected(warehouse, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_wal_probe")
        cur.execute("create table public.bench_wal_probe (g integer, pad text)")
        cur.execute("insert into public.bench_wal_probe select g, repeat('x', 200) from generate_series(1, 50000) g")
        cur.execute("checkpoint")  # the embedded server's superuser may; so may a role with pg_checkpoint
        cur.execute("update public.bench_wal_probe set g = -g")
        cur.execute("drop table public.bench_wal_probe")
    time.sleep(STATS_FLUSH_SECONDS)
    writes = server_writes(before, server_counters(warehouse))
    assert writes["WAL MB"] >= 10
    if full_page_writes == "on":
        assert writes["WAL full-page images"] >= 1_000
    else:  # make test's worker servers turn it off (tests/parallel.py): the update then logs no page image
        assert writes["WAL full-page images"] < 1_000
    assert writes["checkpoints requested"] >= 1
    assert server_writes(None, before) == {}  # a server whose counters cannot be read: nothing reported

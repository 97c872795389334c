"""The `network` part of `make bench`: the utility-S hour with a network of 5,000 transformers against the same
hour without one (issue 18's target: within 10 %).

Both runs build 2 hours of history in fresh databases, then time one hourly flow run (a fresh process, as a worker
starts it) over the next hour with 0.5 % late rows for the hour before. The network's own dbt models (staging,
the versions in force, both marts) are reported with their seconds, and their sum is the cleaner figure on a
shared machine: the wall times of two runs differ by more than 10 % from noise alone.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from benchmarks.fleet import Fleet, generate_history, generate_network, generate_next_hour
from benchmarks.harness import build_history, fresh_databases, hourly_run, say

T0 = datetime(2026, 6, 1)
HISTORY_HOURS = 2
NETWORK_MODELS = ("fct_transformer_loading_hourly", "fct_feeder_loading_hourly")


def hour_with(fleet: Fleet, network: bool) -> dict:
    _, source = fresh_databases()
    start, hour = T0, T0 + timedelta(hours=HISTORY_HOURS)
    t = time.monotonic()
    if network:
        generate_network(source, fleet)
    generate_history(source, fleet, start, hour)
    say(f"  {'with' if network else 'without'} a network: generated in {time.monotonic() - t:.0f} s, "
        f"history built in {build_history(start, hour):.0f} s")  # fmt: skip
    generate_next_hour(source, fleet, hour)
    run = hourly_run(hour)
    say(f"  the next hour: {run}")
    return run


def measures(fleet: Fleet) -> tuple[dict, dict]:
    say(f"network: {fleet.meters:,} meters, {fleet.meters // 20:,} transformers; the hour behind {HISTORY_HOURS} h")
    without = hour_with(fleet, network=False)
    with_network = hour_with(fleet, network=True)
    network_models = sum(with_network.get(f"  {model}", 0) for model in NETWORK_MODELS)
    return {
        "network: hourly run with / without a network": with_network["wall"] / without["wall"],
        "network: its marts' seconds / the run without a network": network_models / without["wall"],
    }, {"without a network": without, "with a network": with_network}

"""What the Python peers (peer_torch.py, peer_jax.py) share: arguments, inputs, timing, output.

A peer runs as `peer_X.py CASE BACKEND THREADS INPUTS`, where INPUTS is the directory that
bench/peer-inputs.ts wrote: `spec.json` (the case's parameters from bench/spec.ts and the row's
pace) and the case's arrays, the same bytes the Node rows train on. Results go to file
descriptor 3 as JSON lines, like bench/child.ts; banners and warnings go to stderr.

The timing repeats bench/measure.ts: training cases time the gaps between consecutive epoch
ends of 1 + E epochs (the first, with compilation and warmup, is left out) and take the median;
planar and inference take the median of single runs after a warmup, over at least `runs` runs
and one second.
"""

import itertools
import json
import math
import os
import statistics
import sys
import time


class Peer:
    """One row of one case: its arguments, its inputs and its output channel."""

    def __init__(self, argv):
        self.case, self.backend, requested, inputs = argv[1:5]
        self.threads = int(requested)
        self.inputs = inputs
        self.out = os.fdopen(3, "w")
        self.spec = None

    def emit(self, **fields):
        """Writes one result line; non-finite numbers become null (JSON has no NaN)."""
        clean = {key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in fields.items()}
        line = {"case": self.case, "backend": self.backend, "threads": self.threads, **clean}
        self.out.write(json.dumps(line, allow_nan=False) + "\n")
        self.out.flush()

    def fail(self, error):
        self.emit(error=error)

    def missing(self, module, error):
        """The error line of a row whose library does not import here."""
        self.fail(
            f"{sys.executable} has no {module} ({error}); pip install torch jax jaxlib "
            "(or point FERRONET_BENCH_PYTHON at a Python that has them)"
        )

    def load(self):
        """The case's parameters and arrays: (spec, {name: numpy array})."""
        import numpy as np

        with open(os.path.join(self.inputs, "spec.json")) as file:
            self.spec = json.load(file)
        arrays = {}
        for name, entry in self.spec["arrays"].items():
            data = np.fromfile(os.path.join(self.inputs, entry["file"]), dtype=entry["dtype"])
            arrays[name] = data.reshape(entry["shape"])
        return self.spec, arrays


def pin_to_one_cpu(sample_seconds=0.25):
    """Restricts this process to the least busy CPU it may run on; returns that CPU's number.

    XLA sizes its thread pools from the process's CPU affinity, and XLA_FLAGS alone leave some
    of its work (the convolutions, at least) on more than one thread: the affinity is what
    keeps a 1-thread row on one core. Call it before importing the library.
    """
    allowed = sorted(os.sched_getaffinity(0))

    def idle_times():
        times = {}
        with open("/proc/stat") as stat:
            for line in stat:
                name, *fields = line.split()
                if name.startswith("cpu") and name[3:].isdigit():
                    times[int(name[3:])] = int(fields[3]) + int(fields[4])  # idle + iowait
        return times

    before = idle_times()
    time.sleep(sample_seconds)
    after = idle_times()
    cpu = max(allowed, key=lambda c: after.get(c, 0) - before.get(c, 0))
    os.sched_setaffinity(0, {cpu})
    return cpu


class CpuClock:
    """Process CPU seconds per wall second between start() and stop()."""

    def start(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self):
        wall = time.perf_counter() - self.wall
        return (time.process_time() - self.cpu) / wall if wall > 0 else float("nan")


def emit_epochs(peer, run_epoch, epochs, batch, samples, note):
    """Runs 1 + `epochs` epochs and emits the row: samples/s over the median epoch, the first
    and the last epoch's loss, CPU seconds per wall second over the timed epochs.

    `run_epoch()` trains one epoch and returns its mean training loss as a Python float (which
    makes an asynchronous library finish the epoch before the clock reads).
    """
    losses = [run_epoch()]
    ends = [time.perf_counter()]
    clock = CpuClock()
    clock.start()
    for _ in range(epochs):
        losses.append(run_epoch())
        ends.append(time.perf_counter())
    cpu = clock.stop()
    ms = statistics.median(1000 * (end - start) for start, end in itertools.pairwise(ends))
    peer.emit(
        batch=batch,
        samples=samples,
        epochs=epochs,
        samplesPerSec=samples * 1000 / ms,
        firstLoss=losses[0],
        lastLoss=losses[-1],
        cpuPerWall=cpu,
        note=note,
    )


def time_runs(run, runs, setup=None, min_seconds=1.0, warmup_seconds=0.2):
    """Median ms of `run()` after a warmup, over at least `runs` runs and `min_seconds` of them.

    `setup()` runs untimed before each run, as tinybench's beforeEach in bench/measure.ts.
    Returns (median ms, CPU per wall over the timed runs).
    """
    started = time.perf_counter()
    while True:
        if setup:
            setup()
        run()
        if time.perf_counter() - started >= warmup_seconds:
            break
    times = []
    clock = CpuClock()
    busy_cpu = busy_wall = 0.0
    while len(times) < runs or sum(times) < 1000 * min_seconds:
        if setup:
            setup()
        clock.start()
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        cpu = clock.stop()
        times.append(1000 * elapsed)
        busy_wall += elapsed
        busy_cpu += cpu * elapsed
    return statistics.median(times), (busy_cpu / busy_wall if busy_wall > 0 else float("nan"))


def run_case(peer, cases):
    """Runs `cases[peer.case](peer, spec, arrays)`, turning an exception into the row's error line."""
    try:
        handler = cases.get(peer.case)
        if handler is None:
            peer.fail(f"this library has no {peer.case} case")
            return
        spec, arrays = peer.load()
        handler(peer, spec, arrays)
    except Exception as error:  # noqa: BLE001 - any failure is the row's result
        peer.fail(f"{type(error).__name__}: {error}")
        sys.exit(1)

"""numpy's matmul as the GEMM peer: `numpy_gemm.py BACKEND THREADS N...`.

Writes one JSON line per size to file descriptor 3, like bench/child.ts. The thread count and
the OpenBLAS kernel come from the process environment that bench/spawn.ts sets for the row
(OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE); threadpoolctl, when installed, reports what
OpenBLAS actually chose.
"""

import json
import os
import statistics
import sys
import time

backend, requested, *sizes = sys.argv[1:]
out = os.fdopen(3, "w")


def emit(**fields):
    out.write(json.dumps({"case": "gemm", "backend": backend, **fields}) + "\n")
    out.flush()


def blas_info():
    """(threads, kernel) of the loaded OpenBLAS, or the request and 'unknown' without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return int(requested), "unknown (pip install threadpoolctl)"
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    if not blas:
        return int(requested), "not OpenBLAS"
    return blas[0]["num_threads"], blas[0].get("architecture") or "unknown"


def median_seconds(call, samples=15, min_sample=0.02):
    """Median time of one call; each sample repeats the call enough to last min_sample seconds."""
    for _ in range(3):
        call()
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            call()
        if time.perf_counter() - start >= min_sample:
            break
        loops *= 2
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


try:
    import numpy as np
except ImportError as error:
    emit(threads=int(requested), error=f"{sys.executable} has no numpy ({error}); pip install numpy (or point FERRONET_BENCH_PYTHON at a Python that has it)")
    sys.exit(0)

threads, kernel = blas_info()
rng = np.random.default_rng(5)
for n in map(int, sizes):
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)
    # out= writes into an existing C, as ferronet's gemm does.
    seconds = median_seconds(lambda: np.matmul(a, b, out=c))
    emit(n=n, threads=threads, gflops=2 * n**3 / seconds / 1e9, kernel=kernel)

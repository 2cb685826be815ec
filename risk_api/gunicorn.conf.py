"""gunicorn settings for the Risk API (stack/services/risk_api.sh); RISK_API_* env vars tune them."""

import gc
import os

# One BLAS/OpenMP thread per worker: the matrices are tiny and the box has 2 cores shared by 2 workers
# (and the rest of the stack). Set here, before the preloaded app imports numpy.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

bind = os.environ.get("RISK_API_BIND", "127.0.0.1:5001")
# 2 sync workers on 2 cores: one CPU-bound request per core; see benchmarks/bench_risk.py for the figures.
workers = int(os.environ.get("RISK_API_WORKERS", "2"))
worker_class = os.environ.get("RISK_API_WORKER_CLASS", "sync")
threads = int(os.environ.get("RISK_API_THREADS", "1"))
preload_app = True  # load and verify the model once, in the master, before forking; a bad model fails start-up
timeout = 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 4094
accesslog = os.environ.get("RISK_API_ACCESS_LOG")  # off by default: it costs latency; set to "-" to enable
errorlog = "-"


def pre_fork(_server: object, _worker: object) -> None:
    """Freeze the preloaded app's objects out of the garbage collector's reach before forking a worker.

    The loaded model and libraries make a large heap; without this, every full collection triggered
    by scoring a batch rescans it (benchmarks/bench_risk.py: ~24k -> ~46k applicants/s at batch 1000).
    It also keeps those pages shared between workers (copy-on-write).
    """
    gc.collect()
    gc.freeze()

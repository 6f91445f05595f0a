"""gunicorn settings shared by the four services: `gunicorn -c deploy/gunicorn.conf.py services.<name>.wsgi:app`.

Environment: GUICHET_BIND (127.0.0.1:8000), GUICHET_WORKERS (2 per CPU), GUICHET_WORKER_CLASS (gthread),
GUICHET_THREADS (4), GUICHET_ACCESS_LOG (unset: off; "-" for stdout), LOG_LEVEL (info).
"""
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUICHET_BIND", "127.0.0.1:8000")
# CPUs this process may use (a container's cpuset), not every CPU of the host.
workers = int(os.environ.get("GUICHET_WORKERS") or 2 * len(os.sched_getaffinity(0)))
worker_class = os.environ.get("GUICHET_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUICHET_THREADS") or 4)

# Each worker imports the app itself, after the fork: a Kafka producer's sender thread and open
# database, Redis and Kafka sockets do not survive fork(), so none may be created in the master.
preload_app = False

timeout = 30
# Under a 30 s orchestrator stop (Kubernetes' and Compose's default grace), in-flight requests finish.
graceful_timeout = 25
keepalive = 5

# gunicorn >= 25 opens a control socket at one per-user path: the four services would take it from each
# other. Nothing here uses `gunicornc`; orchestrators signal the master. (Older gunicorn ignores the name.)
control_socket_disable = True

# The app writes its own JSON log lines with the request id; gunicorn's access lines would duplicate them.
accesslog = os.environ.get("GUICHET_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Heartbeat files on a memory file system: an overlay /tmp in a container can stall workers into timeouts.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# /metrics must sum every worker's counters: prometheus_client's multiprocess mode keeps them in files in
# this folder. Set here, in the master, so each worker inherits it before importing prometheus_client.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="guichet-metrics-")


def on_starting(server):
    # Files left by an earlier run would add its counts to this one's (only ours: the folder may be shared).
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

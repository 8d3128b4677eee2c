"""The Celery application of a cluster: Redis broker, late acknowledgement, one task at a time.

``acks_late``: a task is acknowledged once its scan ended, so a worker that dies mid-scan leaves
it unacknowledged, and after ``visibility_timeout`` another worker's sweep (every
``restore_interval``) delivers it again. ``prefetch 1``: a worker holds no task it is not running.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.errors import ClusterError

if TYPE_CHECKING:
    from celery import Celery
    from sqlalchemy import Engine

    from gpuscout.jobs.config import Config

#: the task a fire becomes: args (fire id, search name)
SCAN_TASK = "gpuscout.scan_search"


def node_name(role: str) -> str:
    """``role@host:pid``: how a scheduler or worker names itself in the ledger and in status."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ClusterError("scaling out needs PostgreSQL as the shared database: set [database] "
                           "url (or GPUSCOUT_DATABASE_URL) to postgresql://… on every machine")


def broker_url(cfg: Config) -> str:
    url = cfg.cluster.broker_url
    if not url:
        raise ClusterError(f"no broker: export {cfg.cluster.broker_url_env}=redis://HOST:6379/0 "
                           "(the Redis every scheduler and worker shares)")
    if not url.startswith(("redis://", "rediss://")):
        raise ClusterError(f"{cfg.cluster.broker_url_env} must be a redis:// or rediss:// URL")
    return url


def make_celery(cfg: Config) -> Celery:
    """The Celery app for ``cfg``'s broker and queue (no result backend: the fire ledger in the
    database is the record of every task)."""
    from celery import Celery

    cluster = cfg.cluster
    app = Celery("gpuscout", broker=broker_url(cfg), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        # NOTE: a worker process killed by a signal (or the OOM killer) requeues its task too
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=cluster.queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_transport_options={
            "visibility_timeout": cluster.visibility_timeout,
            "unacked_restore_interval": cluster.restore_interval,
            # NOTE: sweep on every interval (kombu's default sweeps one interval in ten)
            "unacked_restore_throttle": 1,
        },
    )
    return app


def enqueue(app: Celery, cfg: Config, fire_id: int, search: str) -> str:
    """Send the task of one fire; its task id."""
    result: Any = app.send_task(SCAN_TASK, args=[fire_id, search], queue=cfg.cluster.queue)
    return str(result.id)


def queue_depth(cfg: Config) -> int | None:
    """Tasks waiting in the queue (None: the broker is not configured or not reachable)."""
    url = cfg.cluster.broker_url
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return int(client.llen(cfg.cluster.queue))
    except redis.RedisError:
        return None
    finally:
        client.close()

"""The Redis broker transport, with the one fix that keeps a Celery worker alive through a Redis blip.

What crashed the worker (celery 5.7, kombu 5.7, reproduced against a private redis-server stopped under load):
when the connection to Redis is lost while tasks are unacknowledged (``acks_late``: every running task), the
consumer first *collects* the connection (kombu closes its channels, but closing the fanout bindings fails with the
connection error, so a channel stays open, and the transport forgets its connection: ``transport.client = None``),
then *closes* it again. That second close tries to push the unacknowledged messages back onto their queues
(``restore_unacked``), which needs a new Redis client built from ``transport.client``: ``AttributeError: 'NoneType'
object has no attribute 'hostname'``. It is not a connection error, so Celery treats it as unrecoverable and the
worker exits (and the old ``manage.py serve`` then stopped gunicorn and beat too).

The fix: when the connection is already gone, skip that restore. Nothing is lost by skipping it: Redis keeps every
delivered, unacknowledged message in its ``unacked`` hash from the moment it was delivered, and any worker puts it
back on its queue once it is older than the visibility timeout (``CELERY_VISIBILITY_TIMEOUT``). A restore could not
have reached Redis anyway. The worker then reconnects as it does after any connection error.

Used for ``redis://`` broker URLs (``CELERY_BROKER_TRANSPORT`` in the settings).
"""

from __future__ import annotations

from typing import Any

import structlog
from kombu.transport import redis

log = structlog.get_logger(__name__)


class QoS(redis.QoS):  # type: ignore[misc]
    def restore_unacked(self, client: Any = None) -> None:
        if client is None and self.channel.connection.client is None:
            log.warning(
                "broker_restore_skipped",
                unacknowledged=len(self._delivered),
                reason="the broker connection is already closed; Redis returns them after the visibility timeout",
            )
            self._delivered.clear()
            return
        super().restore_unacked(client)


class Channel(redis.Channel):  # type: ignore[misc]
    QoS = QoS


class Transport(redis.Transport):  # type: ignore[misc]
    Channel = Channel

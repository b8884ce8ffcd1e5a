"""Base transports (the pool under a stack) and the machinery that turns a stack into transports.

- :class:`HTTPTransport` — the flavour's own pool, configured once (the default).
- :class:`HTTPCore2Transport` — httpcore2's pool under clients of both flavours.
- :class:`AiohttpTransport` — aiohttp's pool under async clients of both flavours (the fastest).
- :class:`PooledTransport` — the settings all three share; the base class for pooled backends.
- :class:`MockTransport` — answers with a function; for tests and examples.
- :class:`TransportSpec` — the base class for your own, registered in the
  ``wireline.transports`` entry-point group.
- :class:`OpenConnection`, :class:`ReportsConnections` — how a base transport reports the
  connections it holds open (``Stack.connections()``, the ``http.client.open_connections`` metric).
"""

from __future__ import annotations

from wireline.transports.aiohttp import AiohttpTransport
from wireline.transports.base import OpenConnection, ReportsConnections, Route, TransportSpec
from wireline.transports.http import HTTPTransport
from wireline.transports.httpcore2 import HTTPCore2Transport
from wireline.transports.mock import MockTransport
from wireline.transports.pooled import Limits, PooledTransport
from wireline.transports.tls import InsecureTransportWarning, TLSConfig

__all__ = [
    "AiohttpTransport",
    "HTTPCore2Transport",
    "HTTPTransport",
    "InsecureTransportWarning",
    "Limits",
    "MockTransport",
    "OpenConnection",
    "PooledTransport",
    "ReportsConnections",
    "Route",
    "TLSConfig",
    "TransportSpec",
]

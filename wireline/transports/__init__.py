"""Base transports (the pool under a stack) and the machinery that turns a stack into transports.

- :class:`HTTPTransport` — the flavour's own pool, configured once (the default).
- :class:`MockTransport` — answers with a function; for tests and examples.
- :class:`TransportSpec` — the base class for your own, registered in the
  ``wireline.transports`` entry-point group.
- :class:`OpenConnection`, :class:`ReportsConnections` — how a base transport reports the
  connections it holds open (``Stack.connections()``, the ``http.client.open_connections`` metric).
"""

from __future__ import annotations

from wireline.transports.base import OpenConnection, ReportsConnections, Route, TransportSpec
from wireline.transports.http import HTTPTransport, Limits
from wireline.transports.mock import MockTransport
from wireline.transports.tls import InsecureTransportWarning, TLSConfig

__all__ = [
    "HTTPTransport",
    "InsecureTransportWarning",
    "Limits",
    "MockTransport",
    "OpenConnection",
    "ReportsConnections",
    "Route",
    "TLSConfig",
    "TransportSpec",
]

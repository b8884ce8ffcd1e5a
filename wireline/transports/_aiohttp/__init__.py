"""The aiohttp base transport's machinery: one ``ClientSession`` per pool, httpx's contract on top.

What httpx (httpcore) does and aiohttp does differently, and how each gap is closed here:

- **Timeouts.** ``connect`` and ``read`` map to aiohttp's ``sock_connect`` and ``sock_read`` (the
  idle time between pieces of data from the peer, which is httpcore's read timeout). aiohttp has
  no *pool* timeout of its own (its ``connect`` timeout also bounds making the connection): the
  connector times the wait for a free slot, and only when there is a wait. Nor has it a *write*
  timeout: each body chunk handed to aiohttp starts a timer that, if aiohttp has not asked for
  the next chunk in time, aborts the connection, and the failure is reported as a WriteTimeout.
  Nothing is timed per request when nothing waits, which keeps the common path cheap.
- **Errors.** aiohttp's exceptions are raised as the flavour's classes (:func:`_error_name`).
- **Connection events.** A connector subclass reports connecting, TLS and the request phases to
  ``request.extensions["trace"]`` with httpcore's event names (see docs/transports.md for the
  list and how it differs), and retries failed connection attempts (``retries=``) as httpcore does.
- **Bodies.** Responses stream as aiohttp receives them (``readany``: no buffering); request
  bodies are sent as bytes when small and streamed otherwise.

Modules: :mod:`.transport` (sending, bodies, the fast path), :mod:`.connector` (pool timeout,
connection retries and events), :mod:`.exchange` (one request's state, errors), :mod:`.stream`
(the response body).
"""

from __future__ import annotations

from wireline.transports._aiohttp.transport import transport_class

__all__ = ["transport_class"]

"""TLS settings shared by every flavour: one ``ssl.SSLContext`` per spec, built once.

Building a context is the expensive part of building an HTTP client (≈14 ms to load a CA bundle,
against ≈0.06 ms for the rest), so a spec builds its context on first use and every pool it makes
— httpx or httpx2, sync or async — shares it.
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from wireline.errors import ConfigError, MissingDependencyError
from wireline.redaction import redact_url

__all__ = ["CertTypes", "InsecureTransportWarning", "TLSConfig", "VerifyTypes", "explain_tls_failure", "tls_refusal"]

#: ``True`` (the default trust: certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` with
#: ``trust_env``), ``False`` (no verification; warned about once), a CA bundle file or directory,
#: ``"system"`` (the OS trust store through ``truststore``), or a ready ``ssl.SSLContext``.
VerifyTypes: TypeAlias = bool | str | os.PathLike[str] | ssl.SSLContext

#: A client certificate for mTLS: a PEM file with the key in it, ``(cert, key)`` or ``(cert, key, password)``.
CertTypes: TypeAlias = str | os.PathLike[str] | tuple[str, str] | tuple[str, str, str]


class InsecureTransportWarning(UserWarning):
    """TLS verification was turned off with ``verify=False``."""


# Warnings given already, so each is given once per process.
_warned: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class TLSConfig:
    """What to trust and which client certificate to present. Validated when made.

    Attributes:
        verify: See :data:`VerifyTypes`.
        cert: See :data:`CertTypes`.
        trust_env: Honour ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and ``SSLKEYLOGFILE``.
    """

    verify: VerifyTypes = True
    cert: CertTypes | None = None
    trust_env: bool = True

    def __post_init__(self) -> None:
        verify = self.verify
        if isinstance(verify, os.PathLike):
            verify = os.fspath(verify)
            object.__setattr__(self, "verify", verify)
        if isinstance(verify, str) and verify != "system" and not Path(verify).exists():
            raise ConfigError(
                "verify",
                verify,
                "a CA bundle file or directory that exists, True, False, 'system' or an ssl.SSLContext",
            )
        if not isinstance(verify, (bool, str, ssl.SSLContext)):
            raise ConfigError("verify", verify, "True, False, a CA bundle path, 'system' or an ssl.SSLContext")
        cert = self.cert
        if cert is not None:
            files = (os.fspath(cert),) if isinstance(cert, (str, os.PathLike)) else cert
            if not isinstance(files, tuple) or not 1 <= len(files) <= len(("cert", "key", "password")):
                raise ConfigError("cert", cert, "a PEM file path, (cert, key) or (cert, key, password)")
            for path in files[:2]:
                if not isinstance(path, str) or not Path(path).is_file():
                    raise ConfigError("cert", cert, "existing certificate and key files")

    def _trust(self) -> tuple[str, Any]:
        """Where trust comes from: ``(kind, detail)``, decided once for both uses below."""
        verify = self.verify
        if isinstance(verify, ssl.SSLContext):
            return "context", verify
        if verify is False:
            return "none", None
        if verify == "system":
            return "system", None
        if isinstance(verify, str):
            return ("capath" if Path(verify).is_dir() else "cafile"), verify
        for variable, kind in (("SSL_CERT_FILE", "cafile"), ("SSL_CERT_DIR", "capath")):
            if self.trust_env and os.environ.get(variable):
                return kind, os.environ[variable]
        return "certifi", _certifi_where()

    @property
    def trust_source(self) -> str:
        """Where trust comes from, in words, for error messages and ``wireline explain``."""
        kind, detail = self._trust()
        return {
            "context": "the ssl.SSLContext passed as verify=",
            "none": "nothing (verify=False: certificates are not checked)",
            "system": "the operating system's trust store (truststore)",
            "cafile": f"the CA bundle {detail}",
            "capath": f"the CA directory {detail}",
            "certifi": f"certifi's CA bundle (the default, {detail})",
        }[kind]

    def ssl_context(self) -> ssl.SSLContext:
        """A new context with these settings (callers cache it)."""
        kind, detail = self._trust()
        if kind == "context":
            context: ssl.SSLContext = detail
        elif kind == "none":
            _warn_insecure()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif kind == "system":
            context = _truststore_context()
        elif kind == "capath":
            context = ssl.create_default_context(capath=detail)
        else:
            context = ssl.create_default_context(cafile=detail)
        if self.cert is not None:
            cert = self.cert
            files = (os.fspath(cert),) if isinstance(cert, (str, os.PathLike)) else cert
            context.load_cert_chain(*files)
        if self.trust_env and (keylog := os.environ.get("SSLKEYLOGFILE")):
            context.keylog_filename = keylog
        return context

    def describe(self) -> dict[str, Any]:
        """The settings that differ from the defaults, for reprs."""
        shown: dict[str, Any] = {}
        if self.verify is not True:
            shown["verify"] = self.verify
        if self.cert is not None:
            shown["cert"] = self.cert
        if not self.trust_env:
            shown["trust_env"] = False
        return shown


def _certifi_where() -> str:
    import certifi  # a dependency of httpx

    return certifi.where()


def _truststore_context() -> ssl.SSLContext:
    try:
        import truststore
    except ImportError as exc:
        raise MissingDependencyError("truststore", "truststore", "verify='system'") from exc
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _warn_insecure() -> None:
    with _warned_lock:
        if "insecure" in _warned:
            return
        _warned.add("insecure")
    warnings.warn(
        "wireline: TLS verification is off (verify=False): any server can pretend to be the one you call. "
        "Pass your CA bundle as verify='/path/to/ca.pem' instead.",
        InsecureTransportWarning,
        stacklevel=4,
    )


# -- explaining a failed handshake ----------------------------------------------------------

_CHAIN_LIMIT = 8
# OpenSSL verify codes (X509_V_ERR_*) that call for a fix other than "trust this CA".
_NAME_MISMATCH = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_EXPIRED = 10  # CERT_HAS_EXPIRED


def tls_refusal(error: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind ``error`` when TLS was refused (not merely a dropped connection).

    httpx and httpcore raise their own ``ConnectError`` (or ``ReadError``) *from* the
    ``ssl.SSLError``; this walks that chain. A refusal — an untrusted or mismatched certificate,
    a client certificate the server wants — fails the same way every time, so it is neither
    retried nor failed over; an EOF or a reset during the handshake is not a refusal.
    """
    cause: BaseException | None = error
    for _ in range(_CHAIN_LIMIT):
        if cause is None:
            return None
        if isinstance(cause, ssl.SSLError) and not isinstance(
            cause, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError, ssl.SSLWantReadError)
        ):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def explain_tls_failure(
    error: BaseException, *, host: str, port: int | None, tls: TLSConfig, proxy: str | None = None
) -> str | None:
    """A message for a refused TLS handshake: which host, what was trusted, how to fix it.

    ``None`` when ``error`` is not a TLS refusal. Base transports re-raise the flavour's own
    error with this message, so its type (``httpx.ConnectError``...) is kept for the SDKs.
    """
    refusal = tls_refusal(error)
    if refusal is None:
        return None
    text = str(refusal)
    where = f"{host}:{port}" if port else host
    via = f" through the proxy {redact_url(proxy)}" if proxy else ""
    lines = [f"TLS with {where}{via} failed: {text}.", f"Trusted: {tls.trust_source}."]
    upper = text.upper()
    code = getattr(refusal, "verify_code", None)
    if "CERTIFICATE_REQUIRED" in upper or ("HANDSHAKE_FAILURE" in upper and tls.cert is None):
        lines.append(
            "Fix: the server asks for a client certificate (mTLS): pass it as cert='client.pem' "
            "(or (cert, key)) to HTTPTransport, or per route in ProxyRouter."
        )
    elif code in _NAME_MISMATCH:
        lines.append(
            f"Fix: the server's certificate is not valid for {host}: check the URL, or the server's certificate."
        )
    elif code == _EXPIRED:
        lines.append("Fix: the server's certificate has expired (or this machine's clock is wrong).")
    elif isinstance(refusal, ssl.SSLCertVerificationError):
        system = (
            ""
            if tls.trust_source.startswith("the operating system")
            else (", or verify='system' to trust the operating system's store (pip install 'wireline[truststore]')")
        )
        proxy_hint = (
            " A proxy that inspects TLS presents certificates signed by its own CA: trust that CA for this route."
            if proxy
            else ""
        )
        lines.append(
            "Fix: if a corporate proxy or a private CA signs this certificate, pass that CA bundle as "
            f"verify='/path/to/corporate-ca.pem' (HTTPTransport, or per route in ProxyRouter){system}.{proxy_hint}"
        )
    return " ".join(lines)

"""Outbound HTTP that goes only where it was allowed.

The portal sends requests from inside CAISI's network, to URLs that people
outside it choose. So a URL is checked strictly, its host name is resolved
once, every address it resolves to (and every IPv4 address embedded in an IPv6
one) must be on the public internet, and the connection dials the address that
was checked, never the name again: a name that answers differently the second
time (DNS rebinding) cannot steer it inside. Redirects are not followed.

Every refusal and failure carries a `reason` in plain words, fit to show the
person who chose the URL; the raw error stays in the server's log.
"""

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
_HOST_NAME = re.compile(
    r"^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
    r"(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# IPv6 forms that carry an IPv4 address, which is what they finally reach.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: for local use, never global
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible ::a.b.c.d
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated


class Refused(Exception):
    """The request was not sent (or not completed); `reason` says why, in plain words."""

    reason = "The receiver could not be reached."

    def __init__(self, reason: str | None = None, *, retry: bool = True):
        self.reason = reason or self.reason
        self.retry = retry
        super().__init__(self.reason)


class UnsafeURL(Refused):
    """The URL is not a plain http(s) address to a host and port."""

    reason = "The receiver's URL is not a valid http or https address."


class Unresolvable(Refused):
    """The host name does not resolve to any address."""

    reason = "The receiver's host name does not resolve."


class NotPublic(Refused):
    """The host name resolves to an address that is not on the public internet."""

    reason = "The receiver's address is not public."


@dataclass(frozen=True)
class Target:
    """A checked URL, split into what a connection needs."""

    scheme: str
    host: str  # a lower-case name, or an IP address without brackets
    port: int
    path: str  # the request target: path and query, never the fragment


def parse_url(url: str) -> Target:
    """Return the URL's parts, or raise UnsafeURL saying what is wrong with it.

    Only `http(s)://host[:port]/path?query` is accepted: no user name or
    password, no backslash, no spaces or control characters, nothing but
    printable ASCII (international names in their xn-- form), a port from
    1 to 65535, and an IPv6 address without a zone.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeURL("Give the receiver's URL.", retry=False)
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.", retry=False)
    if any(not (0x21 <= ord(c) <= 0x7E) for c in url):
        raise UnsafeURL(
            "The URL may contain only printable ASCII characters, with no spaces or control "
            "characters (write an international name in its xn-- form).",
            retry=False,
        )
    if "\\" in url:
        raise UnsafeURL("The URL may not contain a backslash.", retry=False)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("The URL's host or port is not valid.", retry=False) from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise UnsafeURL("The URL must be an http or https address.", retry=False)
    if "@" in parts.netloc:
        raise UnsafeURL("The URL may not contain a user name or password.", retry=False)
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            if "%" in host:
                raise ValueError("a zone names an interface of the sender")
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL("The URL's IPv6 address is not valid.", retry=False) from None
    elif not _HOST_NAME.match(host):
        raise UnsafeURL("The URL must name a host.", retry=False)
    if port is None:
        if parts.netloc.endswith(":"):
            raise UnsafeURL("The URL's port is empty.", retry=False)
        port = _DEFAULT_PORTS[parts.scheme]
    if not 1 <= port <= 65535:
        raise UnsafeURL("The URL's port must be from 1 to 65535.", retry=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host.rstrip("."), port=port, path=path)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses inside an IPv6 one: mapped, compatible, NAT64, 6to4, Teredo."""
    if address.version == 4:
        return []
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address in _COMPATIBLE or address in _TRANSLATED or address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)  # the server and the (de-obfuscated) client
    return found


def is_public(address: IPAddress) -> bool:
    """Tell whether an address, and every IPv4 address inside it, is on the public internet."""
    if address.version == 6 and address in _LOCAL_NAT64:
        return False
    return all(
        candidate.is_global and not candidate.is_multicast
        for candidate in [address, *embedded_ipv4(address)]
    )


def resolve_public(host: str, port: int, *, allow_private: bool = False) -> list[IPAddress]:
    """Resolve `host` once; return its addresses if every one is public.

    Raises Unresolvable for a name with no address, and NotPublic if any
    address is not public; `allow_private` lifts the second check only (a
    receiver on the same host during development), and the caller still
    dials only what was returned.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        raise Unresolvable() from None
    addresses: list[IPAddress] = []
    for family, *_, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolvable()
    if not allow_private and not all(is_public(a) for a in addresses):
        raise NotPublic(retry=False)
    return addresses


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a host name that dials only the addresses checked for it.

    The Host header (and, over HTTPS, the SNI name and the certificate check)
    stay those of the name; the socket goes to `addresses`, in order.
    """

    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = [str(a) for a in addresses]
        self.expired = threading.Event()

    def connect(self) -> None:
        self.sock = self._dial()

    def _dial(self) -> socket.socket:
        failure: OSError | None = None
        for address in self.addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as error:
                failure = error
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Kept before the check, so that `cut` either finds the socket or
            # has already marked the time as up.
            self.sock = sock
            if self.expired.is_set():
                raise TimeoutError
            return sock
        raise failure or OSError("no address to dial")

    def cut(self) -> None:
        """End an exchange that ran past its time: shutting the socket wakes a blocked read."""
        self.expired.set()
        if self.sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class PinnedHTTPSConnection(PinnedHTTPConnection):
    """The same over TLS, verifying the certificate for the host name, not the address."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float):
        super().__init__(host, port, addresses=addresses, timeout=timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(self._dial(), server_hostname=self.host)


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool = False,
) -> int:
    """POST `body` to `url`, dialling only an address checked now; return the status code.

    `timeout` bounds the whole exchange, not each read, so a receiver that
    answers a byte at a time cannot hold the sender. Any failure raises
    Refused with a reason to show (its `retry` says whether trying again
    later may help); a 3xx is returned like any other answer, not followed.
    """
    target = parse_url(url)
    addresses = resolve_public(target.host, target.port, allow_private=allow_private)
    kind = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    connection = kind(target.host, target.port, addresses=addresses, timeout=timeout)
    watchdog = threading.Timer(timeout, connection.cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        with connection.getresponse() as response:
            status = response.status
        if connection.expired.is_set():
            raise TimeoutError  # cut short: what was read is not the whole answer
        return status
    except (OSError, http.client.HTTPException) as failure:
        raise Refused(_reason(failure, cut=connection.expired.is_set())) from None
    finally:
        watchdog.cancel()
        connection.close()


def _reason(failure: Exception, *, cut: bool) -> str:
    """Say in plain words why an exchange failed; the raw error is not for the receiver's owner."""
    if cut or isinstance(failure, TimeoutError):
        return "The receiver did not answer in time."
    if isinstance(failure, ssl.SSLCertVerificationError):
        return "The receiver's certificate could not be verified."
    if isinstance(failure, ssl.SSLError):
        return "The receiver could not be reached securely."
    if isinstance(failure, http.client.HTTPException):
        return "The receiver's answer was not valid HTTP."
    return Refused.reason

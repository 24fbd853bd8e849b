"""A resolver the tests control: the names they choose answer the addresses they choose.

It stands in for DNS, which the portal reaches through `socket.getaddrinfo`;
names it was not told about go to the real resolver.
"""

import ipaddress
import socket
from collections import deque

# Names under .example (RFC 2606) are what the tests use for receivers nobody
# dials; they answer this public address, as a real receiver's name would.
EXAMPLE_ADDRESS = "93.184.215.14"


class Resolver:
    def __init__(self, real=socket.getaddrinfo):
        self.real = real
        self.answers: dict[str, deque[list[str]]] = {}
        self.lookups: list[str] = []

    def answer(self, name: str, *lookups: list[str] | str) -> None:
        """Answer the name's next lookups in turn; the last answer stays for the rest."""
        self.answers[name.lower()] = deque([x] if isinstance(x, str) else list(x) for x in lookups)

    def lookups_of(self, name: str) -> int:
        return self.lookups.count(name.lower())

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
        queue = self.answers.get(name)
        if queue is None and not name.endswith(".example"):
            return self.real(host, port, family, type, proto, flags)
        self.lookups.append(name)
        addresses = [EXAMPLE_ADDRESS] if queue is None else queue[0]
        if queue is not None and len(queue) > 1:
            queue.popleft()
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        port = int(port or 0)
        infos = []
        for text in addresses:
            address = ipaddress.ip_address(text)
            if address.version == 4:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port)))
            else:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0)))
        return infos

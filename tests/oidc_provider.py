"""A real OpenID Provider for the tests: Node's `oidc-provider`, started on 127.0.0.1.

`tests/tools/oidc-provider/provider.js` is the provider; this module writes its
configuration (clients with their `private_key_jwt` keys, accounts with the
`amr` their sign-in shows), starts it, and stops it. `TokenProxy` stands between
the portal and the provider's token endpoint, for the tests that alter what the
real provider answers (a tampered or substituted ID token, a slow answer).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOOL = Path(__file__).resolve().parent / "tools" / "oidc-provider"
IAL1 = "http://idmanagement.gov/ns/assurance/ial/1"
IAL2 = "http://idmanagement.gov/ns/assurance/ial/2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ClientKey:
    """An RSA key pair a client authenticates with; the provider holds the public half."""

    key_id: str
    private_pem: str = ""
    public_jwk: dict = field(default_factory=dict)

    @classmethod
    def generate(cls, key_id: str) -> ClientKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public.update(kid=key_id, use="sig", alg="RS256")
        return cls(key_id=key_id, private_pem=pem, public_jwk=public)


class OpenIDProvider:
    """One running provider: its issuer, its clients and accounts."""

    def __init__(self, *, clients: list[dict], accounts: dict, id_token_ttl: int = 3600):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.clients = clients
        self.accounts = accounts
        self.id_token_ttl = id_token_ttl
        self.process: subprocess.Popen | None = None
        self.folder = tempfile.mkdtemp(prefix="oidc-provider-")

    def start(self) -> OpenIDProvider:
        node = shutil.which("node")
        if node is None or not (TOOL / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                "The test provider needs Node.js and `npm ci` in tests/tools/oidc-provider."
            )
        config = Path(self.folder) / "config.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "issuer": self.issuer,
                    "basic_acr": IAL1,
                    "verified_acr": IAL2,
                    "clients": self.clients,
                    "accounts": self.accounts,
                    "id_token_ttl": self.id_token_ttl,
                }
            )
        )
        self.log = open(Path(self.folder) / "provider.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [node, str(TOOL / "provider.js"), str(config)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=TOOL,
        )
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            self.log.seek(0)
            raise RuntimeError(f"The test provider did not start: {line}{self.log.read()}")
        requests.get(
            f"{self.issuer}/.well-known/openid-configuration", timeout=5
        ).raise_for_status()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"


class TokenProxy:
    """Forward the portal's token requests to the provider, letting a test alter the answer.

    `alter(body: dict) -> dict` is applied to the provider's JSON answer; `delay`
    holds the answer that many seconds first. The provider stays the real one: the
    proxy only stands where an attacker on the wire (or a slow network) would.
    """

    def __init__(self, target: str):
        self.target = target
        self.alter = None
        self.delay = 0.0
        self.seen: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = requests.post(
                    proxy.target,
                    data=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                    timeout=10,
                )
                content = answer.content
                if answer.status_code == 200:
                    data = answer.json()
                    proxy.seen.append(dict(data))
                    if proxy.alter is not None:
                        data = proxy.alter(data)
                    content = json.dumps(data).encode()
                if proxy.delay:
                    time.sleep(proxy.delay)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> TokenProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tamper_payload(token: str, **changes) -> str:
    """Return the JWT with its payload changed and its original signature kept."""
    import base64

    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    claims = json.loads(base64.urlsafe_b64decode(padded))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def node_available() -> bool:
    return shutil.which("node") is not None and os.path.isdir(TOOL / "node_modules")

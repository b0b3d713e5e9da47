"""A small OpenID Connect provider for tests: discovery, authorize, token, JWKS, userinfo.

It runs on 127.0.0.1 in a thread, knows a fixed set of people, and signs ID tokens with a fresh
RSA key (RS256, via joserfc, Authlib's JOSE library). Its authorize page lists the people as
buttons, so a browser test "signs in" by clicking one; nothing leaves the machine.

It checks what a real provider checks and what a broken client would get wrong: the client id
and secret, the redirect URI, single use and expiry of codes, and PKCE (S256) when the client
sent a challenge.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CODE_LIFETIME = 120  # seconds


@dataclass
class TestProvider:
    """The provider's state; :func:`start_provider` serves it."""

    client_id: str = "faircard-test"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={
        "kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user id
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email",
                                 "email_verified", "roles"],
        }

    def id_token(self, user_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 600,
                  "auth_time": now, **self.users[user_id]}
        if nonce:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "kid": self.key.kid}
        return jwt.encode(header, claims, self.key)


def _pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _handler(provider: TestProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
            provider.log.append(fmt % args)

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: Any, status: int = 200) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def _error(self, error: str, description: str, status: int = 400) -> None:
            self._json({"error": error, "error_description": description}, status)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.discovery())
            elif url.path == "/jwks":
                self._json({"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                self._authorize_page(query)
            elif url.path == "/authorize/choose":
                self._choose(query)
            elif url.path == "/userinfo":
                auth = self.headers.get("Authorization", "")
                user = provider.tokens.get(auth.removeprefix("Bearer ").strip())
                if user is None:
                    self._error("invalid_token", "unknown access token", 401)
                else:
                    self._json(provider.users[user])
            else:
                self._send(404, b"not found", "text/plain")

        def _check_client_request(self, query: Mapping[str, str]) -> str | None:
            if query.get("client_id") != provider.client_id:
                return "unknown client_id"
            if query.get("response_type") != "code":
                return "response_type must be code"
            if not query.get("redirect_uri", "").startswith("http://127.0.0.1:"):
                return "redirect_uri is not registered"
            if "openid" not in query.get("scope", "").split():
                return "scope must include openid"
            return None

        def _authorize_page(self, query: Mapping[str, str]) -> None:
            problem = self._check_client_request(query)
            if problem:
                self._send(400, problem.encode(), "text/plain")
                return
            buttons = []
            for uid, claims in provider.users.items():
                params = urlencode({**query, "user": uid})
                label = html.escape(f"Sign in as {claims.get('name', uid)} ({uid})")
                buttons.append(f'<p><a href="/authorize/choose?{html.escape(params)}">'
                               f'<button type="button">{label}</button></a></p>')
            page = ("<!doctype html><html><head><title>Test sign-in</title></head><body>"
                    "<h1>Test identity provider</h1>" + "".join(buttons) + "</body></html>")
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def _choose(self, query: Mapping[str, str]) -> None:
            problem = self._check_client_request(query)
            user = query.get("user")
            if problem or user not in provider.users:
                self._send(400, (problem or "unknown user").encode(), "text/plain")
                return
            code = secrets.token_urlsafe(24)
            with provider.lock:
                provider.codes[code] = {
                    "user": user, "redirect_uri": query["redirect_uri"],
                    "nonce": query.get("nonce"), "expires": time.time() + CODE_LIFETIME,
                    "challenge": query.get("code_challenge"),
                    "method": query.get("code_challenge_method"),
                }
            back = {"code": code}
            if "state" in query:
                back["state"] = query["state"]
            self._send(302, b"", "text/plain",
                       {"Location": f"{query['redirect_uri']}?{urlencode(back)}"})

        def do_POST(self) -> None:  # noqa: N802
            if urlparse(self.path).path != "/token":
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                raw = base64.b64decode(auth[6:]).decode()
                client_id, _, client_secret = raw.partition(":")
                from urllib.parse import unquote

                client_id, client_secret = unquote(client_id), unquote(client_secret)
            if (client_id, client_secret) != (provider.client_id, provider.client_secret):
                self._error("invalid_client", "wrong client credentials", 401)
                return
            if form.get("grant_type") != "authorization_code":
                self._error("unsupported_grant_type", "only authorization_code")
                return
            with provider.lock:
                grant = provider.codes.pop(form.get("code", ""), None)  # single use
            if grant is None or grant["expires"] < time.time():
                self._error("invalid_grant", "unknown, used or expired code")
                return
            if form.get("redirect_uri") != grant["redirect_uri"]:
                self._error("invalid_grant", "redirect_uri differs from the authorize request")
                return
            if grant["challenge"]:
                verifier = form.get("code_verifier") or ""
                if grant["method"] != "S256" or _pkce_s256(verifier) != grant["challenge"]:
                    self._error("invalid_grant", "PKCE verification failed")
                    return
            access = secrets.token_urlsafe(24)
            with provider.lock:
                provider.tokens[access] = grant["user"]
            self._json({"access_token": access, "token_type": "Bearer", "expires_in": 600,
                        "scope": "openid email profile",
                        "id_token": provider.id_token(grant["user"], grant["nonce"])})

    return Handler


def start_provider(users: Mapping[str, Mapping[str, Any]],
                   client_id: str = "faircard-test") -> tuple[TestProvider, ThreadingHTTPServer]:
    """Serve a :class:`TestProvider` for ``users`` (id -> ID-token claims, each with ``sub``) on a
    free port of 127.0.0.1; returns the provider and the server (call ``server.shutdown()``)."""
    provider = TestProvider(client_id=client_id, users={k: dict(v) for k, v in users.items()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return provider, server


def secrets_toml(provider: TestProvider, app_port: int) -> str:
    """A Streamlit secrets file whose ``[auth]`` section signs in with ``provider``."""
    return "\n".join([
        "[auth]",
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"',
        f'cookie_secret = "{secrets.token_urlsafe(32)}"',
        f'client_id = "{provider.client_id}"',
        f'client_secret = "{provider.client_secret}"',
        f'server_metadata_url = "{provider.metadata_url}"',
        "",
    ])

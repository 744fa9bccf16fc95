"""Google's OAuth2 token endpoint, enough for google-auth's real service-account and refresh-token flows.

Service accounts get a fresh RSA key; their JWT-bearer assertions are verified (RS256 signature, audience,
lifetime, scope) the way Google does. Authorized users get client credentials and a refresh token. Access tokens
are opaque random strings mapped back to the principal that got them.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
READONLY_SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
# google-auth always signs its assertion for Google's canonical endpoint, whatever token_uri says, and Google
# accepts that (and its older endpoint names) as the audience; so does this server, besides its own token_uri.
GOOGLE_AUDIENCES = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://www.googleapis.com/oauth2/v4/token",
        "https://accounts.google.com/o/oauth2/token",
    }
)
TOKEN_SECONDS = 3599
CLOCK_SKEW = 300


class TokenError(Exception):
    """A refused token request: Google answers 400 {"error": ..., "error_description": ...}."""

    def __init__(self, description: str, error: str = "invalid_grant") -> None:
        super().__init__(description)
        self.error, self.description = error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Principal:
    """A service account or a signed-in user that can get tokens."""

    email: str
    kind: str
    key_id: str = ""
    public_key: Any = None
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    revoked: bool = False


@dataclass
class Grant:
    """An issued access token."""

    email: str
    scopes: frozenset[str]
    expires: float


@dataclass
class Auth:
    """Registered principals and the tokens issued to them."""

    token_uri: str
    principals: dict[str, Principal] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)

    def service_account(self, email: str) -> dict[str, Any]:
        """Register a service account with a new key; returns the JSON key file's content."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        client_id = str(100000000000000000000 + secrets.randbelow(10**20))
        self.principals[email] = Principal(email, "service_account", key_id=key_id, public_key=key.public_key())
        project = email.split("@", 1)[-1].split(".", 1)[0] if "@" in email else "test-project"
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }

    def authorized_user(self, email: str) -> dict[str, Any]:
        """Register a user who consented to an OAuth client; returns the authorized_user file's content."""
        principal = Principal(
            email,
            "authorized_user",
            client_id=f"{secrets.randbelow(10**12):012d}-{secrets.token_hex(16)}.apps.googleusercontent.com",
            client_secret="GOCSPX-" + secrets.token_urlsafe(21),
            refresh_token="1//0" + secrets.token_urlsafe(70),
        )
        self.principals[email] = principal
        return {
            "type": "authorized_user",
            "client_id": principal.client_id,
            "client_secret": principal.client_secret,
            "refresh_token": principal.refresh_token,
            "token_uri": self.token_uri,
            "account": email,
            "universe_domain": "googleapis.com",
        }

    def revoke(self, email: str) -> None:
        """Refuse this principal's token requests from now on and void the tokens it holds."""
        self.principals[email].revoked = True
        self.grants = {token: grant for token, grant in self.grants.items() if grant.email != email}

    def known(self) -> set[str]:
        return set(self.principals)

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint: a reply body, or TokenError."""
        grant_type = form.get("grant_type", "")
        if grant_type == JWT_GRANT:
            email, scopes = self._jwt_grant(form.get("assertion", ""))
        elif grant_type == "refresh_token":
            email, scopes = self._refresh_grant(form)
        else:
            raise TokenError(f"Invalid grant_type: {grant_type}", "unsupported_grant_type")
        access = "ya29." + secrets.token_urlsafe(90)
        self.grants[access] = Grant(email, scopes, time.time() + TOKEN_SECONDS)
        return {"access_token": access, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}

    def _jwt_grant(self, assertion: str) -> tuple[str, frozenset[str]]:
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(payload_b64))
            signature = _unb64(signature_b64)
        except (ValueError, json.JSONDecodeError):
            raise TokenError("Invalid JWT: the assertion is not a JWT.") from None
        principal = self.principals.get(str(claims.get("iss")))
        if header.get("alg") != "RS256" or principal is None or principal.kind != "service_account":
            raise TokenError("Invalid JWT Signature.")
        if principal.revoked:
            raise TokenError("Invalid JWT Signature.")
        try:
            signed = f"{header_b64}.{payload_b64}".encode()
            principal.public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise TokenError("Invalid JWT Signature.") from None
        self._check_claims(claims)
        return principal.email, frozenset(str(claims.get("scope", "")).split())

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if claims.get("aud") != self.token_uri and claims.get("aud") not in GOOGLE_AUDIENCES:
            raise TokenError("Invalid JWT: Failed audience check. The right audience is " + self.token_uri)
        now = time.time()
        iat, exp = float(claims.get("iat", 0)), float(claims.get("exp", 0))
        if not (iat - CLOCK_SKEW <= now <= exp + CLOCK_SKEW) or exp - iat > 3600 + CLOCK_SKEW:
            raise TokenError(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim."
            )
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & {SHEETS_SCOPE, READONLY_SCOPE}:
            raise TokenError("Invalid OAuth scope or ID token audience provided.", "invalid_scope")

    def _refresh_grant(self, form: dict[str, str]) -> tuple[str, frozenset[str]]:
        for principal in self.principals.values():
            if principal.kind == "authorized_user" and principal.refresh_token == form.get("refresh_token"):
                if principal.client_id != form.get("client_id") or principal.client_secret != form.get("client_secret"):
                    raise TokenError("The OAuth client was not found.", "invalid_client")
                if principal.revoked:
                    raise TokenError("Token has been expired or revoked.")
                return principal.email, frozenset({SHEETS_SCOPE, DRIVE_SCOPE})
        raise TokenError("Bad Request")

    def grant_for(self, authorization: str | None) -> Grant | None:
        """The grant behind an "Authorization: Bearer ..." header; None when missing, unknown or expired."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        grant = self.grants.get(authorization[7:].strip())
        if grant is None or grant.expires < time.time():
            return None
        return grant


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

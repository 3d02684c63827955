"""Settings, read only from the environment (documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    service: str
    mongo_url: str = "mongodb://127.0.0.1:27017/"
    db_prefix: str = "gonghui_"
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    jwt_secret: str = field(default="", repr=False)
    jwt_issuer: str = "gonghui"
    jwt_audience: str = "gonghui"
    jwt_max_ttl_seconds: int = 43200  # 12 h: the longest lifetime (exp - iat) a token may have
    jwt_jwks_url: str = ""  # the identity provider's JWKS (RS256/ES256); empty: shared-secret HS256 only
    jwt_roles_claim: str = "roles"
    pii_key: str = field(default="", repr=False)  # Fernet keys, newest first, comma-separated
    fingerprint_key: str = field(default="", repr=False)  # HMAC key for uniqueness checks; never rotates
    contact_keys: str = field(default="", repr=False)  # Fernet keys sealing contact events (members → notify)
    log_level: str = "INFO"
    consumer_max_attempts: int = 5
    consumer_batch: int = 200
    relay_batch_size: int = 200
    batch_wait_ms: int = 200  # how long a consumer fetch or a relay round may wait to gather a batch
    processed_retention_days: int = 14  # longer than the topics keep events (7 days)
    heartbeat_file: str = ""
    refusals_per_hour: int = 30  # members: "already registered" answers one caller may get in an hour
    card_number_block: int = 20  # members: card numbers a web process reserves at once
    transfer_expiry_days: int = 30  # members: days a transfer request waits for an answer
    stats_refresh_seconds: float = 300.0  # members worker: how often statistics are rebuilt
    # notify's channels: email over SMTP, SMS through an HTTP gateway, webhooks (empty host/URL: channel off)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"  # starttls, ssl (implicit TLS) or none
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "工会服务平台 <noreply@gonghui.example>"
    sms_url: str = ""
    sms_key: str = field(default="", repr=False)
    webhook_allow_private: bool = False  # deliver to loopback, link-local and private addresses
    webhook_disable_after: int = 10  # failed attempts in a row before a hook is disabled
    delivery_max_attempts: int = 6  # then the delivery is dead
    delivery_backoff_seconds: float = 30.0  # the first retry's wait; each next one waits twice as long
    delivery_lease_seconds: float = 120.0  # a claimed delivery nobody recorded is sent again after this

    @property
    def database(self) -> str:
        """Each service owns its own database."""
        return f"{self.db_prefix}{self.service}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def group_id(self) -> str:
        return f"{self.topic_prefix}gonghui.{self.service}"

    @classmethod
    def from_env(cls, service: str, **overrides) -> "Settings":
        values = dict(
            service=service,
            mongo_url=_env("GONGHUI_MONGO_URL", cls.mongo_url),
            db_prefix=_env("GONGHUI_DB_PREFIX", cls.db_prefix),
            kafka_bootstrap=_env("GONGHUI_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            topic_prefix=_env("GONGHUI_TOPIC_PREFIX", cls.topic_prefix),
            jwt_secret=_env("GONGHUI_JWT_SECRET", ""),
            jwt_issuer=_env("GONGHUI_JWT_ISSUER", cls.jwt_issuer),
            jwt_audience=_env("GONGHUI_JWT_AUDIENCE", cls.jwt_audience),
            jwt_max_ttl_seconds=int(_env("GONGHUI_JWT_MAX_TTL_SECONDS", str(cls.jwt_max_ttl_seconds))),
            jwt_jwks_url=_env("GONGHUI_JWT_JWKS_URL", ""),
            jwt_roles_claim=_env("GONGHUI_JWT_ROLES_CLAIM", cls.jwt_roles_claim),
            pii_key=_env("GONGHUI_PII_KEYS") or _env("GONGHUI_PII_KEY", ""),
            fingerprint_key=_env("GONGHUI_FINGERPRINT_KEY", ""),
            contact_keys=_env("GONGHUI_CONTACT_KEYS", ""),
            log_level=_env("GONGHUI_LOG_LEVEL", cls.log_level).upper(),
            consumer_max_attempts=int(_env("GONGHUI_CONSUMER_MAX_ATTEMPTS", str(cls.consumer_max_attempts))),
            consumer_batch=int(_env("GONGHUI_CONSUMER_BATCH", str(cls.consumer_batch))),
            relay_batch_size=int(_env("GONGHUI_RELAY_BATCH_SIZE", str(cls.relay_batch_size))),
            batch_wait_ms=int(_env("GONGHUI_BATCH_WAIT_MS", str(cls.batch_wait_ms))),
            processed_retention_days=int(_env("GONGHUI_PROCESSED_RETENTION_DAYS",
                                              str(cls.processed_retention_days))),
            heartbeat_file=_env("GONGHUI_HEARTBEAT_FILE", ""),
            refusals_per_hour=int(_env("GONGHUI_REFUSALS_PER_HOUR", str(cls.refusals_per_hour))),
            card_number_block=max(1, int(_env("GONGHUI_CARD_NUMBER_BLOCK", str(cls.card_number_block)))),
            transfer_expiry_days=int(_env("GONGHUI_TRANSFER_EXPIRY_DAYS", str(cls.transfer_expiry_days))),
            stats_refresh_seconds=float(_env("GONGHUI_STATS_REFRESH_SECONDS", str(cls.stats_refresh_seconds))),
            smtp_host=_env("GONGHUI_SMTP_HOST", ""),
            smtp_port=int(_env("GONGHUI_SMTP_PORT", str(cls.smtp_port))),
            smtp_tls=_env("GONGHUI_SMTP_TLS", cls.smtp_tls).lower(),
            smtp_user=_env("GONGHUI_SMTP_USER", ""),
            smtp_password=_env("GONGHUI_SMTP_PASSWORD", ""),
            smtp_from=_env("GONGHUI_SMTP_FROM", cls.smtp_from),
            sms_url=_env("GONGHUI_SMS_URL", ""),
            sms_key=_env("GONGHUI_SMS_KEY", ""),
            webhook_allow_private=_env("GONGHUI_WEBHOOK_ALLOW_PRIVATE", "false").lower() in ("1", "true", "yes"),
            webhook_disable_after=int(_env("GONGHUI_WEBHOOK_DISABLE_AFTER", str(cls.webhook_disable_after))),
            delivery_max_attempts=int(_env("GONGHUI_DELIVERY_MAX_ATTEMPTS", str(cls.delivery_max_attempts))),
            delivery_backoff_seconds=float(_env("GONGHUI_DELIVERY_BACKOFF_SECONDS",
                                                str(cls.delivery_backoff_seconds))),
            delivery_lease_seconds=float(_env("GONGHUI_DELIVERY_LEASE_SECONDS", str(cls.delivery_lease_seconds))),
        )
        values.update(overrides)
        return cls(**values)

    def require_secrets(self) -> None:
        # With only a JWKS URL, tokens come only from the identity provider and HS256 is off.
        if (self.jwt_secret or not self.jwt_jwks_url) and len(self.jwt_secret) < 32:
            raise RuntimeError("GONGHUI_JWT_SECRET must be set to at least 32 characters"
                               " (or GONGHUI_JWT_JWKS_URL alone, for identity-provider tokens only)")

"""How every Kafka client of the project authenticates: one set of settings, turned into each client's form.

The settings are ``loanrisk.kafka.<name>`` in the topology config (config.json's ``prod`` env) and
``LOANRISK_KAFKA_<NAME>`` for the CLI jobs (jobs.settings). The SASL user and password are never settings:
the settings name the environment variables that hold them, read where the client runs (the Storm worker, the
job's shell). Two translations, so no client spells the rules again:

- ``python_kwargs`` for kafka-python (the producer job, reconcile, demo);
- ``librdkafka_config`` for confluent-kafka (the bolts' producers: librdkafka costs a tenth of kafka-python's
  CPU per record);
- ``java_properties`` for the Kafka consumer of the Java spout (LoanKafkaSpout). It leaves the credentials as
  ``${env:NAME}`` references resolved by Kafka's EnvVarConfigProvider on the worker, so the serialised topology
  never carries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

PREFIX = "loanrisk.kafka."
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
DEFAULT_SASL_MECHANISM = "SCRAM-SHA-512"
# The JAAS login module of each SASL mechanism the project supports (Kafka's own class names).
LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


class KafkaSecurityError(ValueError):
    """The settings cannot give a working client: unknown protocol or mechanism, or missing credentials."""


@dataclass(frozen=True)
class KafkaSecurity:
    """Kafka client security; the defaults are the local stack's (PLAINTEXT on 127.0.0.1)."""

    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""  # empty = SCRAM-SHA-512 when the protocol is SASL_*
    ssl_cafile: str = ""  # PEM bundle of the CAs that sign the brokers' certificates; empty = the system's
    sasl_username_env: str = "LOANRISK_KAFKA_USERNAME"
    sasl_password_env: str = "LOANRISK_KAFKA_PASSWORD"  # noqa: S105 (the variable's name, not a password)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> KafkaSecurity:
        """Read the ``loanrisk.kafka.*`` keys present in a topology config; absent keys keep their default."""
        given = {f.name: str(options[PREFIX + f.name]) for f in fields(cls) if options.get(PREFIX + f.name) is not None}
        return cls(**given)

    def as_options(self) -> dict[str, str]:
        """Return the settings as ``loanrisk.kafka.*`` topology options."""
        return {PREFIX + name: value for name, value in asdict(self).items()}

    @property
    def protocol(self) -> str:
        protocol = self.security_protocol.strip().upper()
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(f"loanrisk.kafka.security_protocol {protocol!r} is not one of {PROTOCOLS}")
        return protocol

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL")

    @property
    def mechanism(self) -> str:
        mechanism = (self.sasl_mechanism or DEFAULT_SASL_MECHANISM).strip().upper()
        if mechanism not in LOGIN_MODULES:
            raise KafkaSecurityError(
                f"loanrisk.kafka.sasl_mechanism {mechanism!r} is not one of {tuple(LOGIN_MODULES)}"
            )
        return mechanism

    def credentials(self, environ: Mapping[str, str]) -> tuple[str, str]:
        """Return (user, password) from the environment, or raise one line naming both variables."""
        user, password = environ.get(self.sasl_username_env), environ.get(self.sasl_password_env)
        if not user or not password:
            raise KafkaSecurityError(
                f"Kafka {self.protocol} needs the user and password in ${self.sasl_username_env} and "
                f"${self.sasl_password_env}; set both"
            )
        return user, password

    def python_kwargs(self, environ: Mapping[str, str]) -> dict[str, Any]:
        """Return kafka-python's keyword arguments (none for PLAINTEXT)."""
        protocol = self.protocol
        if protocol == "PLAINTEXT":
            return {}
        kwargs: dict[str, Any] = {"security_protocol": protocol}
        if self.ssl_cafile and protocol.endswith("SSL"):
            kwargs["ssl_cafile"] = self.ssl_cafile
        if self.uses_sasl:
            user, password = self.credentials(environ)
            kwargs.update(sasl_mechanism=self.mechanism, sasl_plain_username=user, sasl_plain_password=password)
        return kwargs

    def librdkafka_config(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Return librdkafka's (confluent-kafka's) properties, credentials included (none for PLAINTEXT)."""
        protocol = self.protocol
        if protocol == "PLAINTEXT":
            return {}
        config = {"security.protocol": protocol}
        if self.ssl_cafile and protocol.endswith("SSL"):
            config["ssl.ca.location"] = self.ssl_cafile
        if self.uses_sasl:
            user, password = self.credentials(environ)
            config.update({"sasl.mechanism": self.mechanism, "sasl.username": user, "sasl.password": password})
        return config

    def java_properties(self) -> dict[str, str]:
        """Return the Java consumer's properties; credentials stay ``${env:NAME}`` for the worker to resolve."""
        protocol = self.protocol
        if protocol == "PLAINTEXT":
            return {}
        props = {"security.protocol": protocol}
        if self.ssl_cafile and protocol.endswith("SSL"):
            props.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": self.ssl_cafile})
        if self.uses_sasl:
            props.update(
                {
                    "sasl.mechanism": self.mechanism,
                    "sasl.jaas.config": (
                        f'{LOGIN_MODULES[self.mechanism]} required username="${{env:{self.sasl_username_env}}}" '
                        f'password="${{env:{self.sasl_password_env}}}";'
                    ),
                    "config.providers": "env",
                    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
                }
            )
        return props

    def required_env(self) -> list[str]:
        """Return the environment variables a client needs where it runs (empty unless SASL)."""
        return [self.sasl_username_env, self.sasl_password_env] if self.uses_sasl else []

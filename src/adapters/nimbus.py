"""Nimbus over Thrift: a client per use (the UI, the demo, the health checks), and the actions an operator takes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class NimbusDownError(ConnectionError):
    """Nimbus did not answer (connection refused, timeout)."""


class NimbusError(Exception):
    """Nimbus answered with an internal error (a Thrift application exception)."""


class NotFoundError(Exception):
    """No running topology with that id, or no such component in it."""


@contextmanager
def nimbus(host: str, port: int, timeout_ms: int = 10000) -> Iterator[Any]:
    """Yield a Thrift client of Nimbus (framed binary protocol); any transport failure becomes NimbusDownError."""
    from streamparse.thrift import Nimbus, NotAliveException
    from thriftpy2.protocol import TBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.thrift import TApplicationException
    from thriftpy2.transport import TFramedTransportFactory, TTransportException

    try:
        client = make_client(
            Nimbus,
            host=host,
            port=port,
            proto_factory=TBinaryProtocolFactory(),  # type: ignore[no-untyped-call]  # thriftpy2 leaves it unannotated
            trans_factory=TFramedTransportFactory(),
            timeout=timeout_ms,
        )
    except (OSError, TTransportException) as error:
        raise NimbusDownError(f"Nimbus at {host}:{port} does not answer: {error}") from error
    try:
        yield client
    except NotAliveException as error:
        raise NotFoundError(error.msg) from error
    except (OSError, TTransportException) as error:
        raise NimbusDownError(f"Nimbus at {host}:{port} does not answer: {error}") from error
    except TApplicationException as error:
        raise NimbusError(f"Nimbus failed to answer: {error}") from error
    finally:
        client.close()


def topology_name(client: Any, topology_id: str) -> str:
    """The name of a running topology (Nimbus' activate/deactivate/rebalance/kill take names, not ids)."""
    for summary in client.getClusterInfo().topologies:
        if summary.id == topology_id:
            return str(summary.name)
    raise NotFoundError(f"no running topology with id {topology_id!r}")


def component_ids(client: Any, topology_id: str) -> set[str]:
    """Spout and bolt ids of a running topology, as submitted (no system components)."""
    topology = client.getUserTopology(topology_id)
    return set(topology.spouts or {}) | set(topology.bolts or {})


def rebalance_options(wait_secs: int, num_workers: int | None, executors: dict[str, int]) -> Any:
    """Thrift RebalanceOptions; None leaves the number of workers unchanged."""
    from streamparse.thrift import RebalanceOptions

    return RebalanceOptions(wait_secs=wait_secs, num_workers=num_workers, num_executors=executors or None)


def kill_options(wait_secs: int) -> Any:
    from streamparse.thrift import KillOptions

    return KillOptions(wait_secs=wait_secs)

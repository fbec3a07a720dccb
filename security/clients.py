"""Who the client is, for limits per client address.

The client is the TCP peer. Behind a reverse proxy every request comes from the
proxy, so the address it puts in X-Forwarded-For is believed, but only from
peers listed in RAS_TRUSTED_PROXIES: anyone else could write any address there
and so choose their own counter.
"""

from collections.abc import Iterable
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

# An IPv6 subscriber usually holds a whole /64 and can take any address in it:
# counting per address would give one attacker 2**64 counters.
IPV6_PREFIX = 64
# What a peer without an address (say, a Unix socket) is counted as: all such
# peers share one counter rather than escaping the limits.
UNKNOWN_CLIENT = "unknown"


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (or single addresses); ValueError names a bad one."""
    networks = []
    for part in value.split(","):
        if not (part := part.strip()):
            continue
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _address(value: str) -> Address | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address in network for network in proxies)


def from_trusted_proxy(peer: str | None, proxies: tuple[Network, ...]) -> bool:
    """Whether the TCP peer is one of RAS_TRUSTED_PROXIES (whose headers, such
    as X-Forwarded-For and X-Request-ID, are believed)."""
    address = _address(peer) if peer and proxies else None
    return address is not None and _trusted(address, proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: tuple[Network, ...]
) -> Address | None:
    """The client's address: the peer, or, when the peer is a trusted proxy, the
    last address in X-Forwarded-For that is not itself a trusted proxy (read
    from the right: each proxy appends the address it saw). An entry that is not
    an address stops the walk at the last trusted hop."""
    address = _address(peer) if peer else None
    if address is None or not proxies or not _trusted(address, proxies):
        return address
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        candidate = _address(hop)
        if candidate is None:
            break
        address = candidate
        if not _trusted(candidate, proxies):
            break
    return address


def client_key(address: Address | None) -> str:
    """The counter key of a client: the IPv4 address, or the IPv6 /64."""
    if address is None:
        return UNKNOWN_CLIENT
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)

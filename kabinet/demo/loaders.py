"""Demo data loaders, one per domain, run in order by `kabinet demo`. Each is idempotent and returns
lines describing the demo logins it created (shown by `make run`)."""

from __future__ import annotations

from collections.abc import Callable

LOADERS: list[Callable[[], list[str] | None]] = []

# Demo subscribers first: later loaders look them up by phone / email (kabinet.demo.identity).
from kabinet.demo.identity import load_subscribers  # noqa: E402

LOADERS.append(load_subscribers)

# News do not depend on other demo data.
from kabinet.demo.news import load_news  # noqa: E402

LOADERS.append(load_news)

# Back-office staff member with TOTP two-factor set up (kabinet.demo.staff).
from kabinet.demo.staff import load_staff  # noqa: E402

LOADERS.append(load_staff)

# The operator's catalog, then the demo subscribers' personal accounts, services and history
# (kabinet.demo.catalog); after load_subscribers, whose users it looks up.
from kabinet.demo.catalog import load_catalog, load_customer_services  # noqa: E402

LOADERS.append(load_catalog)
LOADERS.append(load_customer_services)

# «Летай Бонус» membership for the demo subscribers and a demo bank registry (kabinet.demo.bonus);
# after load_customer_services, whose personal accounts it pays.
from kabinet.demo.bonus import load_bonus_and_registry  # noqa: E402

LOADERS.append(load_bonus_and_registry)

# Card payments: the default payment rules and how to pay through the sandbox (kabinet.demo.payments).
from kabinet.demo.payments import load_payments  # noqa: E402

LOADERS.append(load_payments)

"""`Client` (blocking) and `AsyncClient` (awaitables): resource namespaces over the native client.

All behaviour (transport, envelope checks, retries, pagination, chunking, rate limiting) lives
in the Rust core; this module only spells the attribute names of the public surface::

    client = Client("user", "secret", platform="emag_ro")
    client.orders.read(status=1)            # one page: list of dicts
    client.orders.count(status=1)           # int
    for order in client.orders.iter():      # every order of every page (type 3 by default, as eMAG)
        ...
    client.stock.update(product_id=243409, value=20)
"""

from __future__ import annotations

import asyncio

from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence

from ._native import RetryPolicy, _Client

__all__ = ["Client", "AsyncClient", "RetryPolicy"]


def _native_client(
    username: str,
    password: str,
    platform: str,
    base_url: Optional[str],
    timeout: float,
    retry: Optional[RetryPolicy],
    rate_limiter: Any,
    body_mode: str,
    account: str,
    monitor: Any = None,
    wire_log: bool = False,
) -> _Client:
    return _Client(
        username,
        password,
        platform=platform,
        base_url=base_url,
        timeout=timeout,
        retry=retry,
        body_mode=body_mode,
        account=account,
        limiter=rate_limiter,
        monitor=monitor,
        wire_log=wire_log,
    )


# ---- blocking -------------------------------------------------------------------------------


class _Resource:
    """read / count / iter / save over one resource path."""

    def __init__(self, native: _Client, path: str) -> None:
        self._native = native
        self._path = path

    def read(self, **filters: Any) -> List[Dict[str, Any]]:
        """One page of results (filters as eMAG names them: ``currentPage``, ``status`` ...)."""
        return self._native.read(self._path, **filters)

    def count(self, **filters: Any) -> int:
        """The number of items matching the filters."""
        return self._native.count(self._path, **filters)

    def iter(self, **filters: Any) -> Iterator[Dict[str, Any]]:
        """Every item of every page, fetched page by page."""
        pager = self._native.pages(self._path, **filters)
        while True:
            page = pager.next_page()
            if page is None:
                return
            yield from page

    def save(self, entities: Any) -> List[Any]:
        """Save a list of entities (split into requests of at most 50)."""
        return self._native.save(self._path, entities)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path!r}>"


class _ReadOnly(_Resource):
    def save(self, entities: Any) -> List[Any]:  # pragma: no cover - documented absence
        """Read-only resource: there is no ``save``."""
        raise AttributeError(f"{self._path} has no save action")


class _Orders(_Resource):
    def acknowledge(self, order_id: int) -> Any:
        """Move a new order (status 1) to in progress (2)."""
        return self._native.acknowledge(order_id)

    def unlock_courier(self, order_id: int) -> Any:
        """``order/{id}/unlock-courier``: release the courier assigned to the order."""
        return self._native.unlock_courier(order_id)

    def save_attachments(self, attachments: Any) -> List[Any]:
        """``order/attachments/save``: attach invoices or warranties to orders (chunks of 50)."""
        return self._native.save("order/attachments", attachments)


class _Offers(_Resource):
    def save_light(self, offers: Any) -> List[Any]:
        """The light ``offer/save``: existing offers only, ``id`` plus what changes."""
        return self._native.save("offer", offers)

    def save_measurements(self, measurements: Any) -> List[Any]:
        """``measurements/save``: product dimensions and weight (chunks of 50)."""
        return self._native.save("measurements", measurements)

    def save_campaign_proposals(self, proposals: Any) -> List[Any]:
        """``campaign_proposals/save``: propose offers for a campaign (chunks of 50)."""
        return self._native.save("campaign_proposals", proposals)

    def find_by_eans(self, eans: Sequence[str]) -> Any:
        """``GET documentation/find_by_eans``: eMAG products with these EANs (at most 100)."""
        return self._native.find_by_eans(list(eans))

    def smart_deals_price_check(self, product_id: int) -> Any:
        """``GET smart-deals-price-check``: the price needed for the Smart Deals badge."""
        return self._native.smart_deals_price_check(product_id)


class _Stock:
    def __init__(self, native: _Client) -> None:
        self._native = native

    def update(self, product_id: int, value: int) -> Any:
        """``PATCH offer_stock/{product_id}`` with ``{"stock": value}``."""
        return self._native.stock_update(product_id, value)


class _Awb(_Resource):
    def save(self, awb: Any) -> Any:  # type: ignore[override]
        """Issue one AWB (never retried once sent: a repeat would issue a second AWB)."""
        return self._native.awb_save(awb)

    def read_pdf(self, emag_id: int, awb_format: str = "A4") -> bytes:
        """The AWB label as PDF bytes (``awb_format``: ``A4``, ``A5``, ``A6``)."""
        return self._native.awb_read_pdf(emag_id, awb_format)

    def read_zpl(self, emag_id: int) -> bytes:
        """The AWB label as ZPL bytes (for thermal printers)."""
        return self._native.awb_read_zpl(emag_id)


class _Invoices:
    def __init__(self, native: _Client) -> None:
        self._native = native

    def categories(self) -> List[Dict[str, Any]]:
        """The invoice categories (``invoice/categories/read``)."""
        return self._native.read("invoice/categories")

    def read(self, **filters: Any) -> List[Dict[str, Any]]:
        """Invoices (``invoice/read``), one page."""
        return self._native.read("invoice", **filters)

    def customer_invoices(self, **filters: Any) -> List[Dict[str, Any]]:
        """Invoices issued to customers (``customer-invoice/read``)."""
        return self._native.read("customer-invoice", **filters)


class Client:
    """Blocking eMAG client (the GIL is released while a request runs).

    Args:
        username, password: the API user (the password never appears in reprs, logs or errors).
        platform: ``emag_ro`` | ``emag_bg`` | ``emag_hu`` | ``fd_ro`` | ``fd_bg``.
        base_url: overrides the platform's API URL (plain ``http://`` only on loopback).
        timeout: whole-request timeout in seconds.
        retry: a :class:`RetryPolicy` (default: 3 retries, 2 s doubling to 64 s, full jitter).
        rate_limiter: a ``RateLimiter`` shared by the clients of one account (default: a local
            limiter with eMAG's quotas for this client; ``False``: none).
        body_mode: ``form`` (documented), ``json`` or ``json_data``.
        account: a label for logs and metrics (e.g. ``main``, ``fbe``).
        monitor: a ``Monitor`` to feed (default: the client's own, at ``client.monitor``).
        wire_log: log request and response bodies (scrubbed of credentials, 2 KiB each) at
            DEBUG on the ``magflow_emag.wire`` logger. Off by default: bodies hold customer data.
    """

    def __init__(
        self,
        username: str,
        password: str,
        platform: str = "emag_ro",
        base_url: Optional[str] = None,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        rate_limiter: Any = None,
        body_mode: str = "form",
        account: str = "main",
        monitor: Any = None,
        wire_log: bool = False,
    ) -> None:
        self._native = _native_client(
            username, password, platform, base_url, timeout, retry, rate_limiter, body_mode, account, monitor, wire_log
        )
        n = self._native
        self.orders = _Orders(n, "order")
        self.offers = _Offers(n, "product_offer")
        self.stock = _Stock(n)
        self.awb = _Awb(n, "awb")
        self.rma = _Resource(n, "rma")
        self.categories = _ReadOnly(n, "category")
        self.vat = _ReadOnly(n, "vat")
        self.handling_time = _ReadOnly(n, "handling_time")
        self.localities = _ReadOnly(n, "locality")
        self.courier_accounts = _ReadOnly(n, "courier_accounts")
        self.addresses = _ReadOnly(n, "addresses")
        self.invoices = _Invoices(n)

    def call(self, resource: str, action: str, data: Any = None) -> Any:
        """The escape hatch: ``POST {resource}/{action}`` with ``data``; returns ``results``."""
        return self._native.call(resource, action, data)

    @property
    def monitor(self) -> Any:
        """The :class:`Monitor` this client feeds (``.health()``, ``.metrics()``, ``.prometheus()``)."""
        return self._native.monitor

    @property
    def username(self) -> str:
        """The API user (the password is never exposed)."""
        return self._native.username

    @property
    def platform(self) -> str:
        """The platform code (``emag_ro``, ``emag_bg``, ``emag_hu``, ``fd_ro``, ``fd_bg``)."""
        return self._native.platform

    @property
    def base_url(self) -> str:
        """The API base URL requests go to."""
        return self._native.base_url

    def close(self) -> None:
        """Nothing to release eagerly (the pool closes with the object); kept for `with`."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


# ---- async ----------------------------------------------------------------------------------


class _AsyncResource:
    def __init__(self, native: _Client, path: str) -> None:
        self._native = native
        self._path = path

    async def read(self, **filters: Any) -> List[Dict[str, Any]]:
        """One page of results (filters as eMAG names them: ``currentPage``, ``status`` ...)."""
        return await self._native.read_async(self._path, **filters)

    async def count(self, **filters: Any) -> int:
        """How many items match the filters."""
        return await self._native.count_async(self._path, **filters)

    async def iter(self, **filters: Any) -> AsyncIterator[Dict[str, Any]]:
        """Every item of every page, fetched page by page."""
        pager = self._native.pages(self._path, **filters)
        while True:
            page = await pager.next_page_async()
            if page is None:
                return
            for item in page:
                yield item

    async def save(self, entities: Any) -> List[Any]:
        """Save a list of entities (split into requests of at most 50)."""
        return await self._native.save_async(self._path, entities)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path!r}>"


class _AsyncOrders(_AsyncResource):
    async def acknowledge(self, order_id: int) -> Any:
        """Move a new order (status 1) to in progress (2)."""
        return await self._native.acknowledge_async(order_id)

    async def unlock_courier(self, order_id: int) -> Any:
        """``order/{id}/unlock-courier``: release the courier assigned to the order."""
        return await self._native.unlock_courier_async(order_id)

    async def save_attachments(self, attachments: Any) -> List[Any]:
        """``order/attachments/save``: attach invoices or warranties to orders (chunks of 50)."""
        return await self._native.save_async("order/attachments", attachments)


class _AsyncOffers(_AsyncResource):
    async def save_light(self, offers: Any) -> List[Any]:
        """The light ``offer/save``: existing offers only, ``id`` plus what changes."""
        return await self._native.save_async("offer", offers)

    async def save_measurements(self, measurements: Any) -> List[Any]:
        """``measurements/save``: product dimensions and weight (chunks of 50)."""
        return await self._native.save_async("measurements", measurements)

    async def save_campaign_proposals(self, proposals: Any) -> List[Any]:
        """``campaign_proposals/save``: propose offers for a campaign (chunks of 50)."""
        return await self._native.save_async("campaign_proposals", proposals)

    async def find_by_eans(self, eans: Sequence[str]) -> Any:
        # A GET outside the resource/action pattern: the blocking call (GIL released) in a thread.
        """``GET documentation/find_by_eans``: eMAG products with these EANs (at most 100)."""
        return await asyncio.to_thread(self._native.find_by_eans, list(eans))

    async def smart_deals_price_check(self, product_id: int) -> Any:
        """``GET smart-deals-price-check``: the price needed for the Smart Deals badge."""
        return await asyncio.to_thread(self._native.smart_deals_price_check, product_id)


class _AsyncStock:
    def __init__(self, native: _Client) -> None:
        self._native = native

    async def update(self, product_id: int, value: int) -> Any:
        """``PATCH offer_stock/{product_id}`` with ``{"stock": value}``."""
        return await self._native.stock_update_async(product_id, value)


class _AsyncAwb(_AsyncResource):
    async def save(self, awb: Any) -> Any:  # type: ignore[override]
        """Issue one AWB (never retried once sent: a repeat would issue a second AWB)."""
        return await self._native.awb_save_async(awb)

    async def read_pdf(self, emag_id: int, awb_format: str = "A4") -> bytes:
        """The AWB label as PDF bytes (``awb_format``: ``A4``, ``A5``, ``A6``)."""
        return await asyncio.to_thread(self._native.awb_read_pdf, emag_id, awb_format)

    async def read_zpl(self, emag_id: int) -> bytes:
        """The AWB label as ZPL bytes (for thermal printers)."""
        return await asyncio.to_thread(self._native.awb_read_zpl, emag_id)


class _AsyncInvoices:
    def __init__(self, native: _Client) -> None:
        self._native = native

    async def categories(self) -> List[Dict[str, Any]]:
        """The invoice categories (``invoice/categories/read``)."""
        return await self._native.read_async("invoice/categories")

    async def read(self, **filters: Any) -> List[Dict[str, Any]]:
        """Invoices (``invoice/read``), one page."""
        return await self._native.read_async("invoice", **filters)

    async def customer_invoices(self, **filters: Any) -> List[Dict[str, Any]]:
        """Invoices issued to customers (``customer-invoice/read``)."""
        return await self._native.read_async("customer-invoice", **filters)


class AsyncClient:
    """The same client with awaitables (for FastAPI and asyncio code); same arguments as :class:`Client`."""

    def __init__(
        self,
        username: str,
        password: str,
        platform: str = "emag_ro",
        base_url: Optional[str] = None,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        rate_limiter: Any = None,
        body_mode: str = "form",
        account: str = "main",
        monitor: Any = None,
        wire_log: bool = False,
    ) -> None:
        self._native = _native_client(
            username, password, platform, base_url, timeout, retry, rate_limiter, body_mode, account, monitor, wire_log
        )
        n = self._native
        self.orders = _AsyncOrders(n, "order")
        self.offers = _AsyncOffers(n, "product_offer")
        self.stock = _AsyncStock(n)
        self.awb = _AsyncAwb(n, "awb")
        self.rma = _AsyncResource(n, "rma")
        self.categories = _AsyncResource(n, "category")
        self.vat = _AsyncResource(n, "vat")
        self.handling_time = _AsyncResource(n, "handling_time")
        self.localities = _AsyncResource(n, "locality")
        self.courier_accounts = _AsyncResource(n, "courier_accounts")
        self.addresses = _AsyncResource(n, "addresses")
        self.invoices = _AsyncInvoices(n)

    async def call(self, resource: str, action: str, data: Any = None) -> Any:
        """The escape hatch: ``POST {resource}/{action}`` with ``data``; returns ``results``."""
        return await self._native.call_async(resource, action, data)

    @property
    def monitor(self) -> Any:
        """The :class:`Monitor` this client feeds."""
        return self._native.monitor

    @property
    def username(self) -> str:
        """The API user (the password is never exposed)."""
        return self._native.username

    @property
    def platform(self) -> str:
        """The platform code (``emag_ro``, ``emag_bg``, ``emag_hu``, ``fd_ro``, ``fd_bg``)."""
        return self._native.platform

    @property
    def base_url(self) -> str:
        """The API base URL requests go to."""
        return self._native.base_url

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return "Async" + repr(self._native)

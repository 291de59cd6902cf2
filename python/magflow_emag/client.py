"""`Client` (blocking) and `AsyncClient` (awaitables): resource namespaces over the native client.

All behaviour (transport, envelope checks, retries, pagination, chunking, rate limiting) lives
in the Rust core; this module only spells the attribute names of the public surface::

    client = Client("user", "secret", platform="emag_ro")
    client.orders.read(status=1)            # one page: list of dicts
    client.orders.count(status=1)           # int
    for order in client.orders.iter():      # every order of every page (type 3 by default, as eMAG)
        ...
    client.stock.update(product_id=243409, value=20)

Both facades are generated from one table, `FAMILIES`: each family offers the operations the
core's family of the same name offers (the read-only ones, such as ``vat``, have no ``save``).
"""

from __future__ import annotations

import __future__

from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ._native import Monitor, RetryPolicy, _Client

__all__ = ["Client", "AsyncClient", "RetryPolicy"]

# An operation: (name, parameters, the `_Client` call, result type, docstring). `{path}` in
# the call stands for the family's resource path. The blocking facade returns the call's
# value; the async one awaits the same call on a native client made with `asynchronous=True`.
_Op = Tuple[str, str, str, str, str]

_PAGE = "List[Dict[str, Any]]"
READ: _Op = ("read", "**filters: Any", "read({path}, **filters)", _PAGE,
             "One page of results (filters as eMAG names them: ``currentPage``, ``status`` ...).")
COUNT: _Op = ("count", "**filters: Any", "count({path}, **filters)", "int", "The number of items matching the filters.")
SAVE: _Op = ("save", "entities: Any", "save({path}, entities)", "List[Any]",
             "Save a list of entities (split into requests of at most 50).")
ITER = "iter"  # every item of every page: a generator, or an async generator


def _save_at(name: str, path: str, param: str, doc: str) -> _Op:
    return (name, f"{param}: Any", f"save({path!r}, {param})", "List[Any]", doc)


def _read_at(name: str, path: str, doc: str, params: str = "**filters: Any") -> _Op:
    args = f"{path!r}, **filters" if params else repr(path)
    return (name, params, f"read({args})", _PAGE, doc)


# attribute -> (resource path, operations): the one table behind both facades.
FAMILIES: Dict[str, Tuple[Optional[str], List[Any]]] = {
    "orders": ("order", [READ, COUNT, ITER, SAVE,
        ("acknowledge", "order_id: int", "acknowledge(order_id)", "Any",
         "Move a new order (status 1) to in progress (2)."),
        ("unlock_courier", "order_id: int", "unlock_courier(order_id)", "Any",
         "``order/{id}/unlock-courier``: release the courier assigned to the order."),
        _save_at("save_attachments", "order/attachments", "attachments",
                 "``order/attachments/save``: attach invoices or warranties to orders (chunks of 50)."),
    ]),
    "offers": ("product_offer", [READ, COUNT, ITER, SAVE,
        _save_at("save_light", "offer", "offers", "The light ``offer/save``: existing offers only, ``id`` plus what changes."),
        _save_at("save_measurements", "measurements", "measurements",
                 "``measurements/save``: product dimensions and weight (chunks of 50)."),
        _save_at("save_campaign_proposals", "campaign_proposals", "proposals",
                 "``campaign_proposals/save``: propose offers for a campaign (chunks of 50)."),
        ("find_by_eans", "eans: Sequence[str]", "find_by_eans(list(eans))", "Any",
         "``GET documentation/find_by_eans``: eMAG products with these EANs (at most 100)."),
        ("smart_deals_price_check", "product_id: int", "smart_deals_price_check(product_id)", "Any",
         "``GET smart-deals-price-check``: the price needed for the Smart Deals badge."),
    ]),
    "stock": (None, [
        ("update", "product_id: int, value: int", "stock_update(product_id, value)", "Any",
         '``PATCH offer_stock/{product_id}`` with ``{"stock": value}``.'),
    ]),
    "awb": ("awb", [READ,
        ("save", "awb: Any", "awb_save(awb)", "Any",
         "Issue one AWB (never retried once sent: a repeat would issue a second AWB)."),
        ("read_pdf", "emag_id: int, awb_format: str = 'A4'", "awb_read_pdf(emag_id, awb_format)", "bytes",
         "The AWB label as PDF bytes (``awb_format``: ``A4``, ``A5``, ``A6``)."),
        ("read_zpl", "emag_id: int", "awb_read_zpl(emag_id)", "bytes", "The AWB label as ZPL bytes (for thermal printers)."),
    ]),
    "rma": ("rma", [READ, COUNT, ITER, SAVE]),
    "categories": ("category", [READ, COUNT, ITER]),
    "vat": ("vat", [READ, ITER]),
    "handling_time": ("handling_time", [READ, ITER]),
    "localities": ("locality", [READ, COUNT, ITER]),
    "courier_accounts": ("courier_accounts", [READ, ITER]),
    "addresses": ("addresses", [READ, ITER]),
    "invoices": ("invoice", [
        _read_at("categories", "invoice/categories", "The invoice categories (``invoice/categories/read``).", params=""),
        _read_at("read", "invoice", "Invoices (``invoice/read``), one page."),
        _read_at("customer_invoices", "customer-invoice", "Invoices issued to customers (``customer-invoice/read``)."),
    ]),
}


class _Family:
    """One resource family of a client (``client.orders``, ``client.vat`` ...)."""

    _path: Optional[str] = None

    def __init__(self, native: _Client) -> None:
        self._native = native

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._path!r}>"


def _iter(self: _Family, **filters: Any) -> Iterator[Dict[str, Any]]:
    """Every item of every page, fetched page by page."""
    pager = self._native.pages(self._path, **filters)
    while True:
        page = pager.next_page()
        if page is None:
            return
        yield from page


async def _aiter(self: _Family, **filters: Any) -> AsyncIterator[Dict[str, Any]]:
    """Every item of every page, fetched page by page."""
    pager = self._native.pages(self._path, **filters)
    while True:
        page = await pager.next_page_async()
        if page is None:
            return
        for item in page:
            yield item


def _method(op: _Op, path: Optional[str], asynchronous: bool, qualname: str) -> Callable[..., Any]:
    # Compiled from text, as dataclasses does, so that each method has its real signature
    # (help(), IDEs, keyword names) and costs one native call.
    name, params, call, result, doc = op
    a, aw = ("async ", "await ") if asynchronous else ("", "")
    source = (
        f"{a}def {name}(self{', ' if params else ''}{params}) -> {result}:\n"
        f"    return {aw}self._native.{call.format(path=repr(path))}\n"
    )
    namespace: Dict[str, Any] = {}
    code = compile(source, f"<magflow_emag.client {qualname}>", "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    exec(code, globals(), namespace)
    fn = namespace[name]
    fn.__doc__, fn.__module__, fn.__qualname__ = doc, __name__, f"{qualname}.{name}"
    return fn


def _family_class(attr: str, asynchronous: bool) -> type:
    path, ops = FAMILIES[attr]
    qualname = ("_Async" if asynchronous else "_") + attr.title().replace("_", "")
    members: Dict[str, Any] = {"_path": path, "__qualname__": qualname, "__module__": __name__}
    for op in ops:
        if op == ITER:
            members["iter"] = _aiter if asynchronous else _iter
        else:
            members[op[0]] = _method(op, path, asynchronous, qualname)
    return type(qualname, (_Family,), members)


_BLOCKING = {attr: _family_class(attr, False) for attr in FAMILIES}
_ASYNC = {attr: _family_class(attr, True) for attr in FAMILIES}


class _Facade:
    """What `Client` and `AsyncClient` share: the constructor, the families, the properties."""

    _families: Dict[str, type] = {}
    _asynchronous = False

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
        monitor: Optional[Monitor] = None,
        wire_log: bool = False,
    ) -> None:
        self._native = _Client(
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
            asynchronous=self._asynchronous,
        )
        for attr, family in self._families.items():
            setattr(self, attr, family(self._native))

    @property
    def monitor(self) -> Monitor:
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


class Client(_Facade):
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

    _families = _BLOCKING

    def call(self, resource: str, action: str, data: Any = None) -> Any:
        """The escape hatch: ``POST {resource}/{action}`` with ``data``; returns ``results``."""
        return self._native.call(resource, action, data)

    def close(self) -> None:
        """Nothing to release eagerly (the pool closes with the object); kept for `with`."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


class AsyncClient(_Facade):
    """The same client with awaitables (for FastAPI and asyncio code); same arguments as :class:`Client`."""

    _families = _ASYNC
    _asynchronous = True

    async def call(self, resource: str, action: str, data: Any = None) -> Any:
        """The escape hatch: ``POST {resource}/{action}`` with ``data``; returns ``results``."""
        return await self._native.call(resource, action, data)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return "Async" + repr(self._native)

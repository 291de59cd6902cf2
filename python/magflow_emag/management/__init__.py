"""The management endpoints as a FastAPI router (``pip install magflow-emag[fastapi]``).

    from magflow_emag.management import management_router
    app.include_router(management_router(store=store, auth=Depends(current_user)),
                       prefix="/api/v1/emag/management")

``magflow-emag serve`` serves the same router standalone (see :mod:`.serve`).
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "magflow_emag.management needs FastAPI: pip install 'magflow-emag[fastapi]'"
    ) from exc

from .errors import http_status, to_http
from .router import management_router

__all__ = ["management_router", "http_status", "to_http"]

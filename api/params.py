"""Parameter types API v1 shares, bounded as the socket's parser bounds them."""

from __future__ import annotations

from typing import Annotated

from django.conf import settings
from ninja import Query

from api.schemas import Error

PageSize = Annotated[
    int, Query(settings.HISTORY_PAGE_SIZE, ge=1, le=settings.HISTORY_MAX_PAGE_SIZE)
]

# The errors any operation may answer, in the one error shape.
ERRORS: dict[int, type[Error]] = {
    code: Error for code in (400, 401, 403, 404, 429, 503)
}

"""The road network's topology check over HTTP (read-only: the fix stays with the CLI and the
library, where a person commits it). Served like the other analyses (the same pool, slots,
per-client limit and deadline): one library call, its ``to_dict()`` as JSON
(``gis-registry network check --json``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.deps import Reader, State
from api.routers.analysis import analysis_client, answer, run_analysis
from gis_registry.network.check import DEFAULT_TOLERANCE_M, MAX_TOLERANCE_M

router = APIRouter(prefix="/analysis", tags=["Analyses"], dependencies=[Depends(analysis_client)])


@router.get(
    "/network/check",
    summary="Noding and topology check: dangles, near misses, crossings, duplicates, islands",
    operation_id="networkCheck",
)
async def network_check(
    state: State,
    _: Reader,
    tolerance_m: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_TOLERANCE_M,
            description="near-miss tolerance in metres (the default is stated in the answer)",
        ),
    ] = DEFAULT_TOLERANCE_M,
) -> Response:
    """Dangles, near misses (road ends within `tolerance_m` of another road, not joined),
    crossings without a junction on the same layer, duplicate and zero-length segments, and
    disconnected islands with their villages and population. Distances in metres."""
    from gis_registry.network.check import check_network

    return answer(
        await run_analysis(state, lambda conn: check_network(conn, tolerance_m=tolerance_m))
    )

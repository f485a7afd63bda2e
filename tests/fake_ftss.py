"""A local fake of FTSS's signals API (UNDP-Data/ftss-api), for ``scanner publish ftss`` tests.

Its models are transcribed by hand from FTSS's own source, not imported from ``scanner.ftss``, so a
typo in the scanner's copy is caught: ``src/entities/utils.py`` (commit 52b207d8…: the enumerations),
``src/entities/base.py`` and ``src/entities/signal.py`` (the fields), ``src/routers/signals.py``
(POST 201, GET and PUT /signals/{uid} with uid == body id) and ``src/authentication.py`` (the
``access_token`` header). Like FTSS it rejects bodies with 422 and FastAPI's ``detail`` list. One
check is stricter than FTSS: ``keywords`` holds at most 3 (FTSS only asks for "up to 3" in the
field's description). Fields FTSS does not know are accepted, as FTSS's pydantic models do, but
recorded in ``unknown`` so a test can insist there are none.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Path, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    DRAFT = "Draft"
    NEW = "New"
    APPROVED = "Approved"
    ARCHIVED = "Archived"


class Steep(StrEnum):
    SOCIAL = ("Social – Issues related to human culture, demography, communication, movement and migration, work "
              "and education")
    TECHNOLOGICAL = "Technological – Made culture, tools, devices, systems, infrastructure and networks"
    ECONOMIC = ("Economic – Issues of value, money, financial tools and systems, business and business models, "
                "exchanges and transactions")
    ENVIRONMENTAL = ("Environmental – The natural world, living environment, sustainability, resources, climate and "
                     "health")
    POLITICAL = "Political – Legal issues, policy, governance, rules and regulations and organizational systems"
    VALUES = "Values – Ethics, spirituality, ideology or other forms of values"


class Signature(StrEnum):
    POVERTY = "Poverty and Inequality"
    GOVERNANCE = "Governance"
    RESILIENCE = "Resilience"
    ENVIRONMENT = "Environment"
    ENERGY = "Energy"
    GENDER = "Gender Equality"
    INNOVATION = "Strategic Innovation"
    DIGITALISATION = "Digitalisation"
    FINANCING = "Development Financing"


class Goal(StrEnum):
    G1 = "GOAL 1: No Poverty"
    G2 = "GOAL 2: Zero Hunger"
    G3 = "GOAL 3: Good Health and Well-being"
    G4 = "GOAL 4: Quality Education"
    G5 = "GOAL 5: Gender Equality"
    G6 = "GOAL 6: Clean Water and Sanitation"
    G7 = "GOAL 7: Affordable and Clean Energy"
    G8 = "GOAL 8: Decent Work and Economic Growth"
    G9 = "GOAL 9: Industry, Innovation and Infrastructure"
    G10 = "GOAL 10: Reduced Inequality"
    G11 = "GOAL 11: Sustainable Cities and Communities"
    G12 = "GOAL 12: Responsible Consumption and Production"
    G13 = "GOAL 13: Climate Action"
    G14 = "GOAL 14: Life Below Water"
    G15 = "GOAL 15: Life on Land"
    G16 = "GOAL 16: Peace and Justice Strong Institutions"
    G17 = "GOAL 17: Partnerships to achieve the Goal"


class Score(StrEnum):
    ONE = "1 — Non-novel (known, but potentially notable in particular context)"
    TWO = "2"
    THREE = "3 — Potentially novel or uncertain, but not clear in its potential impact"
    FOUR = "4"
    FIVE = ("5 — Something that introduces or points to a potentially interesting or consequential change in "
            "direction of trends")


class Signal(BaseModel):
    """FTSS's ``Signal`` (``BaseMetadata`` + ``BaseEntity`` + ``Signal``), field for field."""

    model_config = ConfigDict(extra="allow")

    id: int = Field(default=1)
    created_at: str | None = None
    status: Status = Field(default=Status.NEW)
    created_by: str | None = None
    created_for: str | None = None
    modified_at: str | None = None
    modified_by: str | None = None
    headline: str | None = None
    description: str | None = None
    attachment: str | None = None
    steep_primary: Steep | None = None
    steep_secondary: list[Steep] | None = None
    signature_primary: Signature | None = None
    signature_secondary: list[Signature] | None = None
    sdgs: list[Goal] | None = None
    created_unit: str | None = None
    url: str | None = None
    relevance: str | None = None
    keywords: list[str] | None = Field(default=None, max_length=3)
    location: str | None = None
    score: Score | None = None
    connected_trends: list[int] | None = None
    favorite: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    status: int
    token_ok: bool
    body: Any


@dataclass
class FakeFtss:
    """The fake's state: stored signals, every request, and failures to inject."""

    token: str
    signals: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer with before working again
    next_id: int = 100
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()
        key = APIKeyHeader(name="access_token", auto_error=True)

        def user(token: str = Security(key)) -> str:
            if token != self.token:
                raise HTTPException(401, "Not authenticated")
            return "lab.user@undp.org"

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            raw = await request.body()
            import json

            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            token_ok = request.headers.get("access_token") == self.token
            if self.fail_next:
                status = self.fail_next.pop(0)
                self.requests.append(Recorded(request.method, request.url.path, status, token_ok, body))
                return JSONResponse({"detail": "temporarily unavailable"}, status_code=status)
            response = await call_next(request)
            self.requests.append(Recorded(request.method, request.url.path, response.status_code, token_ok, body))
            return response

        def stored(signal: Signal, email: str, uid: int) -> dict[str, Any]:
            self.unknown.extend(sorted(signal.model_extra or {}))
            data = signal.model_dump(mode="json", exclude=set(signal.model_extra or {}))
            data.update(id=uid, created_by=email, modified_by=email, created_unit="Lab unit of the token's user")
            return data

        @app.post("/signals", status_code=201)
        def create_signal(signal: Signal, email: str = Depends(user)) -> dict[str, Any]:
            uid, self.next_id = self.next_id, self.next_id + 1
            self.signals[uid] = stored(signal, email, uid)
            return self.signals[uid]

        @app.get("/signals/{uid}")
        def read_signal(uid: int = Path(), email: str = Depends(user)) -> dict[str, Any]:
            if uid not in self.signals:
                raise HTTPException(404, "The requested resource could not be found.")
            return self.signals[uid]

        @app.put("/signals/{uid}")
        def update_signal(signal: Signal, uid: int = Path(), email: str = Depends(user)) -> dict[str, Any]:
            if uid != signal.id:
                raise HTTPException(400, "Resource ID in body does not match path ID.")
            if uid not in self.signals:
                raise HTTPException(404, "The requested resource could not be found.")
            self.signals[uid] = stored(signal, email, uid)
            return self.signals[uid]

        return app


class FakeFtssServer:
    """``FakeFtss`` served by uvicorn on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, token: str) -> None:
        self.fake = FakeFtss(token)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        self.fake.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.fake.app(), log_level="warning", lifespan="off", ws="none", http="h11",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> FakeFtss:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake FTSS server did not start")
            time.sleep(0.02)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

"""The local stack's actor app: two actor types on Dapr's own Python actor SDK (`dapr.actor`), so that
the actor state in the stack's store is what daprd's actor runtime writes, never documents we made up.

What it is for: `python -m explorer.localstack.apps.actor_app`, started by the stack
(explorer.localstack.manager) with APP_PORT (where it listens, on 127.0.0.1; APP_LISTEN_FD: the
socket the stack bound there for it) and DAPR_HTTP_PORT
(its own daprd, app id `cart-service`, which the stack starts with `--app-port` once this app
answers /healthz). It serves Dapr's actor callback protocol over HTTP with aiohttp, a thin adapter
over `ActorRuntime` (what dapr.ext.fastapi's DaprActor does for FastAPI): GET /dapr/config, PUT
/actors/{type}/{id}/method/{method} (and the timer/reminder callbacks), DELETE /actors/{type}/{id},
GET /healthz. The seeder (explorer.localstack.seed) calls the methods below through daprd
(`POST /v1.0/actors/<type>/<id>/method/<method>`); the SDK then saves each actor's state through
daprd's actor state API, in the actor state store (statestore-workflows-cosmos).

Every method sets state to a value given or derived from its argument alone, so calling it again
(a re-seed) leaves the same state.

What it must never do: listen on anything but loopback, write state except through daprd, keep
running once the stack is gone (the stack starts it with PR_SET_PDEATHSIG), or write anywhere but
stdout/stderr (the stack sends them to its log in the run folder).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass

from aiohttp import web

from dapr.actor import Actor, ActorInterface, ActorRuntime, actormethod
from dapr.clients.exceptions import ERROR_CODE_UNKNOWN, DaprInternalError
from dapr.serializers import DefaultJSONSerializer

from explorer.localstack.apps import ACTOR_APP_ID

APP_ID = ACTOR_APP_ID
LOOPBACK = "127.0.0.1"
REENTRANCY_HEADER = "Dapr-Reentrancy-Id"


# -- the actors ------------------------------------------------------------------------------


class CartActorInterface(ActorInterface):
    @actormethod(name="SetOwner")
    async def set_owner(self, owner: dict) -> None: ...

    @actormethod(name="PutItem")
    async def put_item(self, line: dict) -> dict: ...

    @actormethod(name="GetCart")
    async def get_cart(self) -> dict: ...


class CartActor(Actor, CartActorInterface):
    """A shopping cart: state keys `owner` (who) and `items` (one line per sku)."""

    async def set_owner(self, owner: dict) -> None:
        await self._state_manager.set_state("owner", owner)

    async def put_item(self, line: dict) -> dict:
        """Set the line of `line['sku']` (replacing one for the same sku); the cart after it."""
        _, items = await self._state_manager.try_get_state("items")
        items = [item for item in (items or []) if item["sku"] != line["sku"]] + [line]
        await self._state_manager.set_state("items", items)
        return await self.get_cart()

    async def get_cart(self) -> dict:
        _, owner = await self._state_manager.try_get_state("owner")
        _, items = await self._state_manager.try_get_state("items")
        items = items or []
        return {"owner": owner, "items": items, "total": round(sum(i["qty"] * i["price"] for i in items), 2)}


class InventoryActorInterface(ActorInterface):
    @actormethod(name="SetStock")
    async def set_stock(self, stock: dict) -> None: ...

    @actormethod(name="Reserve")
    async def reserve(self, reservation: dict) -> dict: ...


class InventoryActor(Actor, InventoryActorInterface):
    """One sku's stock: state keys `stock` (warehouse, on hand) and `reservations` (by order)."""

    async def set_stock(self, stock: dict) -> None:
        await self._state_manager.set_state("stock", stock)

    async def reserve(self, reservation: dict) -> dict:
        """Hold `qty` for `orderId` (again for the same order: the same hold); all holds after it."""
        _, held = await self._state_manager.try_get_state("reservations")
        held = dict(held or {})
        held[reservation["orderId"]] = reservation["qty"]
        await self._state_manager.set_state("reservations", held)
        return held


ACTORS = (CartActor, InventoryActor)


# -- what the seed leaves ----------------------------------------------------------------------


@dataclass(frozen=True)
class SeededCall:
    """One method call the seeder makes through daprd, and the state key it sets."""

    actor_type: str
    actor_id: str
    method: str
    body: object
    key: str


SEEDED_CALLS = (
    SeededCall("CartActor", "cart-42", "SetOwner", {"userId": "u-17", "name": "Ada Lovelace"}, "owner"),
    SeededCall("CartActor", "cart-42", "PutItem", {"sku": "A-1", "qty": 2, "price": 12.5}, "items"),
    SeededCall("CartActor", "cart-42", "PutItem", {"sku": "B-7", "qty": 1, "price": 6.5}, "items"),
    SeededCall("CartActor", "cart-77", "SetOwner", {"userId": "u-23", "name": "Grace Hopper"}, "owner"),
    SeededCall("CartActor", "cart-77", "PutItem", {"sku": "C-3", "qty": 1, "price": 12.5}, "items"),
    SeededCall("InventoryActor", "sku-A-1", "SetStock", {"warehouse": "berlin", "onHand": 40}, "stock"),
    SeededCall("InventoryActor", "sku-A-1", "Reserve", {"orderId": "order-1001", "qty": 2}, "reservations"),
    SeededCall("InventoryActor", "sku-B-7", "SetStock", {"warehouse": "lyon", "onHand": 3}, "stock"),
)


# -- Dapr's actor callback protocol over aiohttp ---------------------------------------------------

_serializer = DefaultJSONSerializer()


def _error(exc: Exception) -> web.Response:
    """What dapr.ext.fastapi answers when the runtime raises: 500 and a JSON error body."""
    if isinstance(exc, DaprInternalError):
        return web.json_response(exc.as_json_safe_dict(), status=500)
    return web.json_response({"message": repr(exc), "errorCode": ERROR_CODE_UNKNOWN}, status=500)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def dapr_config(request: web.Request) -> web.Response:
    """The actor types this app hosts (and the runtime's settings): what daprd asks at start."""
    return web.Response(body=_serializer.serialize(ActorRuntime.get_actor_config()), content_type="application/json")


async def deactivate(request: web.Request) -> web.Response:
    actor_type, actor_id = request.match_info["actor_type"], request.match_info["actor_id"]
    try:
        await ActorRuntime.deactivate(actor_type, actor_id)
    except Exception as exc:  # noqa: BLE001 - answered to daprd, as the SDK's own adapters do
        return _error(exc)
    return web.json_response({"message": f"deactivated actor: {actor_type}.{actor_id}"})


async def invoke(request: web.Request) -> web.Response:
    info = request.match_info
    try:
        result = await ActorRuntime.dispatch(info["actor_type"], info["actor_id"], info["method"],
                                             await request.read(), request.headers.get(REENTRANCY_HEADER))
    except Exception as exc:  # noqa: BLE001
        return _error(exc)
    return web.Response(body=result, content_type="application/json")


def _fired(fire):
    """A handler for daprd's timer or reminder callback: `fire` is ActorRuntime.fire_timer or fire_reminder."""

    async def handler(request: web.Request) -> web.Response:
        info = request.match_info
        try:
            await fire(info["actor_type"], info["actor_id"], info["name"], await request.read())
        except Exception as exc:  # noqa: BLE001
            return _error(exc)
        return web.json_response({"message": f"called {info['name']}"})

    return handler


def make_app() -> web.Application:
    app = web.Application()
    base = "/actors/{actor_type}/{actor_id}"
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/dapr/config", dapr_config)
    app.router.add_delete(base, deactivate)
    app.router.add_put(base + "/method/timer/{name}", _fired(ActorRuntime.fire_timer))
    app.router.add_put(base + "/method/remind/{name}", _fired(ActorRuntime.fire_reminder))
    app.router.add_put(base + "/method/{method}", invoke)
    return app


async def serve(port: int, listen_fd: int | None = None) -> None:
    """Register the actors (the SDK waits for daprd's health first), then listen: on the inherited
    socket `listen_fd` (bound to 127.0.0.1 by the stack) or on 127.0.0.1:`port`."""
    for actor in ACTORS:
        await ActorRuntime.register_actor(actor)
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    if listen_fd is not None:
        sock = socket.socket(fileno=listen_fd)
        if sock.getsockname()[0] != LOOPBACK:
            raise SystemExit(f"APP_LISTEN_FD is bound to {sock.getsockname()[0]}, not {LOOPBACK}")
        site: web.BaseSite = web.SockSite(runner, sock)
    else:
        site = web.TCPSite(runner, LOOPBACK, port)
    await site.start()
    print(f"READY {APP_ID} on {LOOPBACK}:{port}: {', '.join(a.__name__ for a in ACTORS)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    print("stopped", flush=True)


def main() -> int:
    fd = os.environ.get("APP_LISTEN_FD")
    asyncio.run(serve(int(os.environ["APP_PORT"]), int(fd) if fd else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())

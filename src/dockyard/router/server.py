"""The edge router process of the local backend: HTTP and HTTPS listeners in front of every
app's web pods, fed by the node agent's route table.

It subscribes to the agent (``watch_routes``) and swaps in each new table as it arrives, so
deploys, scaling, crashes, domains, certificates and settings take effect without a restart;
when the agent goes away it keeps serving the last table and resubscribes. ``dockyard
server`` runs it as ``python -m dockyard.router``; tests run a ``Router`` in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

from dockyard.core import logs
from dockyard.core.tasks import TaskSet
from dockyard.router import PORTS_FILE
from dockyard.router.proxy import ClientConnection, Options, Proxy
from dockyard.router.table import RouteTable
from dockyard.router.tls import Certificates
from dockyard.scheduler.base import SchedulerUnavailable
from dockyard.scheduler.local.client import LocalScheduler
from dockyard.scheduler.local.pods import write_json

log = logging.getLogger("dockyard.router")
RESUBSCRIBE_AFTER = 0.5


class Router:
    def __init__(
        self,
        agent_root: Path,
        *,
        host: str = "127.0.0.1",
        http_port: int = 8080,
        https_port: int = 8443,
        platform_domain: str = "dockyard.localhost",
        options: Options | None = None,
    ) -> None:
        self.agent = LocalScheduler(agent_root)
        self.host = host
        self.options = options or Options()
        self.proxy = Proxy(self.options)
        names = [f"*.{platform_domain}", platform_domain] if platform_domain else ["localhost"]
        self.state_dir = agent_root / "router"
        self.certificates = Certificates(self.state_dir, names)
        self._ports = (http_port, https_port)
        self._servers: list[asyncio.Server] = []
        self.tasks = TaskSet("router")
        self.updated = asyncio.Event()

    @property
    def http_port(self) -> int:
        return int(self._servers[0].sockets[0].getsockname()[1])

    @property
    def https_port(self) -> int:
        return int(self._servers[1].sockets[0].getsockname()[1])

    async def start(self) -> None:
        http_port, https_port = self._ports
        loop = asyncio.get_running_loop()
        self._servers.append(
            await loop.create_server(
                lambda: ClientConnection(self.proxy, tls=False),
                self.host,
                http_port,
                reuse_address=True,
            )
        )
        self._servers.append(
            await loop.create_server(
                lambda: ClientConnection(self.proxy, tls=True),
                self.host,
                https_port,
                ssl=self.certificates.server_context,
                ssl_handshake_timeout=self.options.header_timeout,
                reuse_address=True,
            )
        )
        # Redirects name the port clients really reach (it differs when 0 was asked for).
        self.options.https_port = self.https_port
        self.tasks.spawn(self._feed(), "feed")
        self.tasks.spawn(self.proxy.watches.run(), "deadlines")
        ports = {"http": self.http_port, "https": self.https_port, "pid": os.getpid()}
        write_json(self.state_dir / PORTS_FILE, ports)
        log.info(
            "router serving http on %s:%d and https on %s:%d",
            self.host,
            self.http_port,
            self.host,
            self.https_port,
        )

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        self.proxy.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        await self.tasks.close()

    async def apply(self, snapshot: dict[str, Any]) -> None:
        table = RouteTable.from_snapshot(snapshot)
        await asyncio.to_thread(self.certificates.update, table.certificates())
        self.proxy.set_table(table)
        self.updated.set()
        self.updated = asyncio.Event()

    async def _feed(self) -> None:
        while True:
            try:
                async for snapshot in self.agent.watch_routes():
                    await self.apply(snapshot)
            except SchedulerUnavailable as exc:
                log.debug("route feed: %s", exc.message)
            await asyncio.sleep(RESUBSCRIBE_AFTER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dockyard.router")
    parser.add_argument("--agent-root", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--platform-domain", default="dockyard.localhost")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logs.configure(args.log_level)

    async def serve() -> None:
        router = Router(
            args.agent_root,
            host=args.host,
            http_port=args.http_port,
            https_port=args.https_port,
            platform_domain=args.platform_domain,
        )
        try:
            await router.start()
        except OSError as exc:
            await router.close()
            log.error(
                "the router cannot listen on %s ports %d/%d: %s",
                args.host,
                args.http_port,
                args.https_port,
                exc.strerror or exc,
            )
            raise SystemExit(1) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await router.close()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        asyncio.run(serve())
    else:
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(serve())
    return 0

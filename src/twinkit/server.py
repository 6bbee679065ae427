"""``twinkit serve`` and ``twinkit demo``: the platform, its HTTP API and its MQTT side.

One process: the SQLite-backed platform, the API (uvicorn, run programmatically on a
socket bound up front so a taken port fails before anything starts), the embedded
MQTT broker unless ``--mqtt URL`` or ``--no-mqtt``, the MQTT connector (ingest,
presence, desired sync, commands) and, for the demo, a simulated fleet. It prints
one line per listening address; SIGINT/SIGTERM shut it down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI

from twinkit.api import ApiMetrics, create_app
from twinkit.dashboard import mount
from twinkit.dispatch.commands import Commands
from twinkit.dispatch.outbox import outbox_for
from twinkit.dispatch.presence import Presence
from twinkit.ingest.broker_url import BrokerAddress, parse_broker_url
from twinkit.ingest.config import IngestConfig
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.embedded_broker import BrokerUnavailable, EmbeddedBroker, check_port_free
from twinkit.model.errors import TwinkitError
from twinkit.platform import Platform
from twinkit.rules import rules_router
from twinkit.rules.automation import DEMO_CONFIG, Automation, start_automation

if TYPE_CHECKING:
    from twinkit.access import AuthConfig

log = logging.getLogger(__name__)


DEFAULT_BROKER_PORT = 1883


class CannotStart(TwinkitError):
    code = "cannot_start"
    status = 503


@dataclass(frozen=True, slots=True)
class ServeOptions:
    db: str = "twinkit.db"
    host: str = "127.0.0.1"
    port: int = 8000
    mqtt: str | None = None
    broker_port: int = DEFAULT_BROKER_PORT
    no_mqtt: bool = False
    auth: str | None = None
    rules: str | None = None
    ingest: str | None = None
    demo: bool = False
    tune_gc: bool = False  # the CLI tunes the process's collector; embedders decide themselves

    @classmethod
    def from_args(cls, args: argparse.Namespace, demo: bool = False) -> ServeOptions:
        return cls(
            db=args.db,
            host=args.host,
            port=args.port,
            mqtt=args.mqtt,
            broker_port=args.broker_port,
            no_mqtt=args.no_mqtt,
            auth=getattr(args, "auth", None),
            rules=getattr(args, "rules", None),
            ingest=getattr(args, "ingest", None),
            demo=demo,
            tune_gc=True,
        )


def serve_command(args: argparse.Namespace) -> int:
    return _run(ServeOptions.from_args(args))


def demo_command(args: argparse.Namespace) -> int:
    return _run(ServeOptions.from_args(args, demo=True))


def _run(options: ServeOptions) -> int:
    logging.basicConfig(level=logging.WARNING, format="twinkit: %(levelname)s %(message)s")
    asyncio.run(serve(options))
    return 0


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a long-running server.

    Ingest creates a few short-lived objects per message; with Python's default
    thresholds the collector runs every 700 allocations and, with many writes in
    flight, full collections walk every live object. Objects alive at startup
    (modules, models, caches) are frozen out of the collector's sight.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def say(line: str) -> None:
    print(f"twinkit: {line}", flush=True)


async def serve(options: ServeOptions, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); raises :class:`TwinkitError` on start."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)  # from here on, a signal means "stop soon"
    address = parse_broker_url(options.mqtt) if options.mqtt else None
    embedded = not options.no_mqtt and address is None
    auth = _load_auth(options)
    ingest = IngestConfig.load(options.ingest) if options.ingest else None
    http_socket = _bind_http(options.host, options.port)
    try:
        if embedded:
            options = _broker_port_for(options)
        async with contextlib.AsyncExitStack() as stack:
            platform = await stack.enter_async_context(Platform.open(options.db))
            extra_urls: list[str] = []
            if embedded:
                broker, address, extra_urls = _embedded_broker(options, auth)
                await broker.start()
                stack.push_async_callback(broker.stop)
            if options.demo:
                from twinkit.demo.fleet import load_demo_fleet

                await load_demo_fleet(platform)
            connector: MqttConnector | None = None
            if address is not None:
                connector = MqttConnector(
                    platform,
                    address,
                    client_id=session_id(options.db),
                    settings=ingest.settings if ingest else None,
                    mappers=ingest.mappers if ingest else None,
                )
                try:
                    await connector.start()
                except ConnectionError as exc:
                    raise CannotStart(str(exc)) from None
                stack.push_async_callback(connector.close)
                commands = connector.commands
            else:
                outbox = outbox_for(platform)
                await outbox.open()
                stack.push_async_callback(outbox.close)
                commands = Commands(platform, None, Presence(), outbox)
            config = options.rules or (DEMO_CONFIG if options.demo else None)
            automation = await start_automation(platform, commands=commands, config=config)
            stack.push_async_callback(automation.close)
            app = build_app(platform, commands, connector, automation)
            tls: dict[str, Any] = {}
            if auth is not None:
                from twinkit.access import install_access

                install_access(app, platform, auth)
                tls = auth.tls.uvicorn_options()
            server = uvicorn.Server(
                uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", **tls)
            )
            scheme = "https" if tls else "http"
            url = f"{scheme}://{_display_host(options.host)}:{options.port}"
            if options.demo and address is not None:
                from twinkit.simulation.devices import start_demo_fleet

                stack.push_async_callback(await start_demo_fleet(platform, address))

            def ready() -> None:
                if options.tune_gc:
                    tune_gc()
                say(url)
                if address is not None:
                    say(address.url() + ("" if embedded else " (external broker)"))
                for extra in extra_urls:
                    say(extra)
                if options.demo:
                    say(f"dashboard: {url}/  (a simulated fleet is streaming; Ctrl+C stops)")

            await _run_uvicorn(server, http_socket, stop, ready)
    finally:
        http_socket.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


def session_id(db: str) -> str:
    """The MQTT client id: fixed per database (the broker keeps that session's QoS 1
    messages while twinkit is down) and different for two servers on one broker."""
    digest = hashlib.sha256(str(Path(db).resolve()).encode()).hexdigest()[:12]
    return f"twinkit-{digest}"


def _broker_port_for(options: ServeOptions) -> ServeOptions:
    """Check the embedded broker's port. The demo, on the default port, moves aside when
    that port is taken (often by a system Mosquitto) rather than refusing to start."""
    try:
        check_port_free(options.host, options.broker_port, "the embedded MQTT broker")
    except BrokerUnavailable:
        if not (options.demo and options.broker_port == DEFAULT_BROKER_PORT):
            raise
        with socket.socket() as probe:
            probe.bind((options.host, 0))
            port = probe.getsockname()[1]
        say(f"port {DEFAULT_BROKER_PORT} is taken; the demo's MQTT broker uses {port}")
        return dataclasses.replace(options, broker_port=port)
    return options


def _load_auth(options: ServeOptions) -> AuthConfig | None:
    """The ``--auth`` file, and the refusal to serve a public address without one."""
    from twinkit.access import AuthConfig, check_bind

    auth = AuthConfig.load(options.auth) if options.auth else None
    check_bind(options.host, auth)
    return auth


def _embedded_broker(
    options: ServeOptions, auth: AuthConfig | None
) -> tuple[EmbeddedBroker, BrokerAddress, list[str]]:
    """The embedded broker, the platform's own address on it, and any extra listener URLs.

    With ``--auth``, devices log in with their own credentials and only reach their own
    twin's topics; the platform gets a fresh login of its own for this run.
    """
    host, port = options.host, options.broker_port
    if auth is None or options.auth is None:
        return EmbeddedBroker(host, port), BrokerAddress(host, port), []
    from twinkit.access import broker_plugins

    plugins, login = broker_plugins(options.auth)
    listener = auth.tls.broker_listener(host)
    broker = EmbeddedBroker(host, port, plugins=plugins, tls_listener=listener)
    address = BrokerAddress(host, port, username=login.username, password=login.password)
    extra = [f"mqtts://{_display_host(host)}:{auth.tls.mqtt_port}"] if listener else []
    return broker, address, extra


def build_app(
    platform: Platform,
    commands: Commands,
    connector: MqttConnector | None = None,
    automation: Automation | None = None,
) -> FastAPI:
    """The API app, the rules and alerts routes, and the dashboard at ``/``."""
    metrics = ApiMetrics()
    if connector is not None:
        connector.report_to(metrics)
    app = create_app(platform, commands=commands, metrics=metrics)
    if automation is not None:
        # before the dashboard: its catch-all route would otherwise shadow /api/v1/rules
        app.include_router(rules_router(automation.rules))
    mount(app, platform)
    return app


def _bind_http(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP: asyncio then sets TCP_NODELAY, so small responses are not held back
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise CannotStart(
            f"cannot listen on http://{_display_host(host)}:{port}: {reason}"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _run_uvicorn(
    server: uvicorn.Server,
    sock: socket.socket,
    stop: asyncio.Event,
    ready: Callable[[], None],
) -> None:
    """uvicorn without its own signal capture: we shut the MQTT side down after it."""

    async def watch() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(watch())
    try:
        config = server.config
        if not config.loaded:
            config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        if not server.started:
            if stop.is_set():
                return
            raise CannotStart("the HTTP server could not start (see the log above)")
        ready()
        await server.main_loop()
        await server.shutdown(sockets=[sock])
    finally:
        watcher.cancel()

"""`kuzet node` and `kuzet camera move`: the recording nodes of a cluster on one PostgreSQL
catalog (issue 25; docs/guide/cluster.md), run on any of them. Audited (4.2)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kuzet.audit.actions import AuditAction
from kuzet.cli.common import JsonOpt, audited, emit, fail, open_catalog, read_settings, shown
from kuzet.errors import KuzetError
from kuzet.timefmt import format_instant

node_app = typer.Typer(help="Recording nodes of a cluster: list, drain, undrain, forget.",
                       no_args_is_help=True)


@node_app.command("list")
def node_list(as_json: JsonOpt = False) -> None:
    """Every node: up or down, active or draining, cameras, version, disks."""
    from kuzet.cluster import nodes

    settings = read_settings()
    rows = nodes.node_list(open_catalog(settings), settings.lease_ttl_s)
    zone = settings.display_timezone

    def line(r: dict[str, Any]) -> str:
        disks = ", ".join(f"{v['name']} {int(v.get('free', 0)) >> 30} GiB free"
                          for v in r["status"].get("volumes", []))
        return (f"{r['name']:<12} {'up' if r['up'] else 'down':<5} {r['state']:<9} "
                f"{r['cameras']:>3}/{r['max_cameras']} cameras  {r['version']} "
                f"(schema {r['schema']})  heartbeat {shown(r['heartbeat'], zone)}  {disks}")

    emit([{"name": r.name, "up": r.up, "state": r.state, "cameras": r.cameras,
           "max_cameras": r.max_cameras, "max_mbps": r.max_mbps, "building": r.building,
           "addresses": r.addresses, "version": r.version, "schema": r.schema,
           "heartbeat": format_instant(r.heartbeat_ns) if r.heartbeat_ns else None,
           "status": r.status} for r in rows], as_json, line)
    if not rows and not as_json:
        typer.echo("no node: start `kuzet serve --node NAME` on each server")


def _state(name: str, draining: bool) -> None:
    from kuzet.cluster import nodes

    catalog = open_catalog(read_settings())
    state = "draining" if draining else "active"
    try:
        nodes.set_state(catalog, name, draining,
                        audited(AuditAction.NODE_STATE, name, state=state))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"node {name}: {state}")


@node_app.command("drain")
def node_drain(name: str) -> None:
    """Hand every camera of a node to the others (each closes its segment first) and
    place none on it: before its maintenance or upgrade."""
    _state(name, True)


@node_app.command("undrain")
def node_undrain(name: str) -> None:
    """Let a drained node take cameras again (new and failed-over ones; none moves back
    by itself)."""
    _state(name, False)


@node_app.command("forget")
def node_forget(name: str) -> None:
    """Remove a node that is down for good from the list; its footage's rows stay."""
    from kuzet.cluster import nodes

    settings = read_settings()
    try:
        nodes.forget(open_catalog(settings), name, settings.lease_ttl_s,
                     audited(AuditAction.NODE_FORGET, name))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"node {name} forgotten")


def camera_move(camera: str, node: Annotated[str, typer.Argument(
        help="The node to record it, or 'auto' for automatic placement.")]) -> None:
    """Pin a camera to a node of the cluster (its holder hands it over within a couple of
    seconds), or `auto`."""
    from kuzet.cluster import nodes

    try:
        nodes.move(open_catalog(read_settings()), camera, node,
                   audited(AuditAction.CAMERA_MOVE, camera, node=node))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"camera {camera}: "
               + ("placed automatically" if node == "auto" else f"on node {node}"))


def register(app: typer.Typer, camera_app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")
    camera_app.command("move")(camera_move)

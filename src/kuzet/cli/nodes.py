"""`kuzet node` and `kuzet camera move`: the recording nodes of a cluster on one PostgreSQL
catalog (issue 25; docs/guide/cluster.md), run on any of them. Audited (4.2)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kuzet.audit.actions import AuditAction
from kuzet.cli.common import (
    JsonOpt,
    audited,
    emit,
    fail,
    local_actor,
    open_catalog,
    read_settings,
    shown,
)
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

    settings = read_settings()
    catalog = open_catalog(settings)
    state = "draining" if draining else "active"
    try:
        nodes.set_state(catalog, name, draining,
                        audited(AuditAction.NODE_STATE, name, state=state))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"node {name}: {state}")
    others = [r for r in nodes.node_list(catalog, settings.lease_ttl_s)
              if r.name != name and r.up and r.state == "active"]
    if draining and not others:
        typer.echo(f"WARNING: no other node is up and active: node {name} keeps recording "
                   "its cameras until one is")


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


cluster_app = typer.Typer(help="The cluster's certificate authority.", no_args_is_help=True)


@cluster_app.command("init")
def cluster_init() -> None:
    """Make the cluster's certificate authority, once: each node then issues its own
    certificate at start, for the internal endpoint through which the nodes serve each
    other footage with mutual TLS. Its key is sealed with the installation's key, which
    every node's home holds (docs/guide/cluster.md)."""
    from kuzet.access.secretbox import SecretBox, key_path
    from kuzet.audit.log import AuditLog
    from kuzet.cluster import ca

    settings = read_settings()
    catalog = open_catalog(settings)
    actor = local_actor()
    try:
        digest = ca.init(catalog, SecretBox(key_path(settings.home.resolve())), actor.name)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    AuditLog(catalog.session).act(actor, AuditAction.CLUSTER_INIT, "cluster", sha256=digest)
    typer.echo(f"the cluster's certificate authority: sha256 {digest}; restart each "
               "`kuzet serve --node` to issue its certificate")


def register(app: typer.Typer, camera_app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")
    app.add_typer(cluster_app, name="cluster")
    camera_app.command("move")(camera_move)

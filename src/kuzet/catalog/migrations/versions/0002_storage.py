"""Storage: volumes, compact segment rows with a row-hash chain, holds, alarms, audit log.

Revision ID: 0002
Revises: 0001

Segment rows recorded under 0001 are carried over: their volume becomes a volume row,
their codec parameters shared rows, their keyframe table keyframe times (the byte offsets
come from the file's own fragment index from now on), and the chain is rebuilt over row
digests (kuzet.catalog.rowhash) in each camera's order.

A frozen snapshot, like every migration: it imports nothing from kuzet, so later changes
to the live code cannot change what it did. The row digest, the keyframe coding and the
stream numbers below are copies of kuzet.catalog.rowhash, kuzet.catalog.keyindex and
kuzet.catalog.streams as they were when it was written.
"""

import hashlib
import json
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STREAM_CODES = {"main": 0, "sub": 1}
ROW_VERSION = b"kuzet-segment-row-v1\n"
LINK_BYTES = 16


def _row_link(camera_id: int, stream: str, start_ns: int, end_ns: int, frames: int,
              size_bytes: int, params_json: str, keyframes: bytes, sha256: bytes,
              prev_link: bytes | None, salvaged: bool) -> bytes:
    """kuzet.catalog.rowhash.row_link, version 1."""
    doc = [camera_id, stream, start_ns, end_ns, frames, size_bytes, params_json,
           keyframes.hex(), sha256.hex(), prev_link.hex() if prev_link is not None else None,
           salvaged]
    return hashlib.sha256(ROW_VERSION + json.dumps(doc, separators=(",", ":")).encode()
                          ).digest()[:LINK_BYTES]


def _varint(n: int, out: bytearray) -> None:
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _encode_keyframes(times_ns: list[int]) -> bytes:
    """kuzet.catalog.keyindex.encode: (first, (delta, run)...) as varints."""
    out = bytearray()
    if not times_ns:
        return bytes(out)
    _varint(times_ns[0], out)
    runs: list[list[int]] = []
    for prev, cur in zip(times_ns, times_ns[1:], strict=False):
        delta = cur - prev
        if delta <= 0:
            raise ValueError("keyframe times must increase")
        if runs and runs[-1][0] == delta:
            runs[-1][1] += 1
        else:
            runs.append([delta, 1])
    for delta, run in runs:
        _varint(delta, out)
        _varint(run, out)
    return bytes(out)


def upgrade() -> None:
    op.add_column("cameras", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_table(
        "volumes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("floor_bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("missing_since_ns", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "stream_params",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("audio_codec", sa.String(16), nullable=True),
        sa.Column("params_json", sa.Text(), nullable=False),
    )
    op.rename_table("segments", "segments_0001")
    op.drop_index("ix_segments_camera_stream_start", table_name="segments_0001")
    # Columns in alignment order (8-byte, then 4-, 2- and 1-byte, then variable ones): on
    # PostgreSQL this saves padding in each of millions of rows. The key is the segment's
    # identity; PostgreSQL's copy of it carries end_ns for index-only timeline reads.
    segments = op.create_table(
        "segments",
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("volume_id", sa.Integer(), sa.ForeignKey("volumes.id"), nullable=False),
        sa.Column("params_id", sa.Integer(), sa.ForeignKey("stream_params.id"), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("stream", sa.SmallInteger(), nullable=False),
        sa.Column("salvaged", sa.Boolean(), nullable=False),
        sa.Column("deleting", sa.Boolean(), nullable=False),
        sa.Column("keyframes", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("prev_link", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("camera_id", "stream", "start_ns",
                                postgresql_include=["end_ns"]),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_segments_deleting", "segments", ["deleting"],
                    sqlite_where=sa.text("deleting"), postgresql_where=sa.text("deleting"))
    _carry_segments(segments)
    op.drop_table("segments_0001")
    op.create_table(
        "segment_deletions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("stream", sa.SmallInteger(), nullable=False),
        sa.Column("from_link", sa.LargeBinary(), nullable=True),
        sa.Column("to_link", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_segment_deletions_camera", "segment_deletions", ["camera_id", "stream"])
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("incident", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_ns", sa.BigInteger(), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_ns", sa.BigInteger(), nullable=True),
        sa.Column("expires_ns", sa.BigInteger(), nullable=True),
        sa.Column("rejected_by", sa.String(64), nullable=True),
        sa.Column("rejected_ns", sa.BigInteger(), nullable=True),
        sa.Column("released_by", sa.String(64), nullable=True),
        sa.Column("released_ns", sa.BigInteger(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
    )
    op.create_table(
        "hold_ranges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hold_id", sa.Integer(), sa.ForeignKey("holds.id"), nullable=False),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_hold_ranges_hold", "hold_ranges", ["hold_id"])
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("cleared_ns", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
    )
    op.create_index("ix_alarms_kind_subject", "alarms", ["kind", "subject"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_action_seq", "audit_log", ["action", "seq"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "last_hash": "0" * 64}])


def _carry_segments(segments: sa.Table) -> None:
    conn = op.get_bind()
    old = conn.execute(sa.text(
        "SELECT camera_id, stream, volume, start_ns, end_ns, frames, bytes, codec, width, "
        "height, audio_codec, codec_params, keyframes, sha256, salvaged FROM segments_0001 "
        "ORDER BY camera_id, stream, start_ns")).all()
    volumes: dict[str, int] = {}
    params: dict[str, int] = {}
    prev: dict[tuple[int, str], bytes | None] = {}
    now = time.time_ns()
    for r in old:
        if r.volume not in volumes:
            name = "default" if not volumes else f"volume{len(volumes) + 1}"
            conn.execute(sa.text("INSERT INTO volumes (name, path, state, created_ns) "
                                 "VALUES (:n, :p, 'enabled', :t)"),
                         {"n": name, "p": r.volume, "t": now})
            if Path(r.volume).is_dir():  # the marker that tells a mounted volume (volumes.py)
                (Path(r.volume) / ".kuzet-volume").write_text(json.dumps({"volume": name}) + "\n")
            volumes[r.volume] = conn.execute(sa.text("SELECT id FROM volumes WHERE path = :p"),
                                             {"p": r.volume}).scalar_one()
        doc = json.loads(r.codec_params)
        doc["audio_codec"] = r.audio_codec
        pjson = json.dumps(doc, sort_keys=True)
        digest = hashlib.sha256(pjson.encode()).hexdigest()
        if digest not in params:
            conn.execute(sa.text(
                "INSERT INTO stream_params (digest, codec, width, height, audio_codec, "
                "params_json) VALUES (:d, :c, :w, :h, :a, :j)"),
                {"d": digest, "c": r.codec, "w": r.width, "h": r.height, "a": r.audio_codec,
                 "j": pjson})
            params[digest] = conn.execute(sa.text(
                "SELECT id FROM stream_params WHERE digest = :d"), {"d": digest}).scalar_one()
        keys = _encode_keyframes([int(k[0]) for k in json.loads(r.keyframes)])
        link = prev.get((r.camera_id, r.stream))
        sha256 = bytes.fromhex(r.sha256)
        conn.execute(segments.insert().values(
            camera_id=r.camera_id, stream=STREAM_CODES[r.stream], volume_id=volumes[r.volume],
            start_ns=r.start_ns, end_ns=r.end_ns, frames=r.frames, size_bytes=r.bytes,
            params_id=params[digest], keyframes=keys, sha256=sha256, prev_link=link,
            salvaged=bool(r.salvaged), deleting=False))
        prev[(r.camera_id, r.stream)] = _row_link(
            r.camera_id, r.stream, r.start_ns, r.end_ns, r.frames, r.bytes, pjson, keys, sha256,
            link, bool(r.salvaged))


def downgrade() -> None:
    raise NotImplementedError("catalog 0002 is not downgraded: its chain would be lost")

"""`kuzet detect IMAGE`: the configured detector on one still, so an operator can check a
model and a camera angle before relying on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kuzet.cli.common import fail, read_settings


def detect(
    image: Path,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    threshold: Annotated[float | None, typer.Option(
        help="Lowest score shown (default: the detect_threshold setting).")] = None,
) -> None:
    """Run the configured detector on IMAGE; print label, score and box in pixels."""
    import cv2  # here, not at the top: every `kuzet` command imports this module

    from kuzet.analytics.detector import DetectorError, open_detector
    from kuzet.builtins import builtin

    settings = read_settings()
    picture = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if picture is None:
        raise fail(f"{image} is not an image OpenCV can read (JPEG, PNG, BMP, …)")
    try:
        detector = open_detector(builtin().detectors, settings.detector, settings.cache_path,
                                 settings.detector_model, settings.detector_labels)
        found = detector.detect(picture, threshold or settings.detect_threshold)
    except DetectorError as exc:
        raise fail(str(exc)) from exc
    rows = [{"label": d.label, "score": round(d.score, 4),
             "box": [round(v) for v in (d.box.x0, d.box.y0, d.box.x1, d.box.y1)]}
            for d in found]
    if as_json:
        typer.echo(json.dumps({"detector": detector.name, "image": str(image),
                               "width": picture.shape[1], "height": picture.shape[0],
                               "detections": rows}))
        return
    typer.echo(f"{detector.name}: {len(rows)} detection(s) in {image}")
    for r in rows:
        typer.echo(f"{r['label']}\t{r['score']:.2f}\t{r['box']}")


def register(app: typer.Typer) -> None:
    app.command()(detect)

"""Detection, first part (issue 7): people found in real photographs by the bundled
OpenVINO model and through `kuzet detect`; the ONNX path on models built here with
onnx.helper, including models it must refuse; motion told apart from lighting and noise;
tracks that stay whole; each rule on scripted tracks; zones that cannot be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from kuzet.analytics.detector import Detection, Detector, DetectorError, open_detector
from kuzet.analytics.geometry import Box, GeometryError, check_polygon, inside, iou
from kuzet.analytics.motion import Motion
from kuzet.analytics.onnx_detector import OnnxDetector
from kuzet.analytics.rules import Rule, Rules, Schedule, Window, check_rule
from kuzet.analytics.tamper import Tamper, TamperWatch
from kuzet.analytics.tracker import NS, Track, Tracker
from kuzet.builtins import builtin
from kuzet.catalog.streams import Stream
from kuzet.timefmt import parse_instant
from onnx_models import constant_model


def bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def person_model(tmp_path_factory: pytest.TempPathFactory) -> Detector:
    return open_detector(builtin().detectors, "openvino", tmp_path_factory.mktemp("cache"))


def test_people_in_real_photographs(person_model: Detector) -> None:
    """scikit-image's astronaut (Eileen Collins) and cameraman are people; its coffee cup,
    cat and rocket are not (UE-10-22 3.2.12: detecting people and objects)."""
    astronaut = bgr(data.astronaut())
    [d] = person_model.detect(astronaut, 0.5)
    assert d.label == "person"
    assert d.score > 0.8
    assert d.box.x0 < 60  # her, not a corner
    assert d.box.x1 > 300
    assert d.box.y1 > 480
    assert [x.label for x in person_model.detect(bgr(data.camera()), 0.5)] == ["person"]
    for scene in (data.coffee(), data.chelsea(), data.rocket()):
        assert person_model.detect(bgr(scene), 0.5) == []


def test_kuzet_detect_prints_what_the_model_sees(tmp_path: Path) -> None:
    picture = tmp_path / "gate.png"
    cv2.imwrite(str(picture), bgr(data.astronaut()))
    env = {**os.environ, "KUZET_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, "-m", "kuzet", "detect", str(picture), "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["detector"].startswith("openvino")
    assert (out["width"], out["height"]) == (512, 512)
    assert [d["label"] for d in out["detections"]] == ["person"]
    (tmp_path / "notes.txt").write_text("not a picture")
    bad = subprocess.run([sys.executable, "-m", "kuzet", "detect", str(tmp_path / "notes.txt")],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "not an image" in bad.stderr
    env["KUZET_DETECTOR"] = "onnx"
    env["KUZET_DETECTOR_MODEL"] = str(tmp_path / "missing.onnx")
    bad = subprocess.run([sys.executable, "-m", "kuzet", "detect", str(picture)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "does not exist" in bad.stderr


def test_onnx_models_of_each_output_format(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ncar\n")
    picture = np.zeros((128, 256, 3), np.uint8)  # twice the model's 64 × 64 across
    # YOLO v8: [1, 4 + 2 classes, 10 candidates] (real ones have thousands); two overlap
    # (the weaker is suppressed), seven score nothing.
    yolo = np.zeros((1, 6, 10))
    yolo[0, :, 0] = [32, 32, 16, 32, 0.9, 0.1]  # person at the centre
    yolo[0, :, 1] = [33, 32, 16, 32, 0.6, 0.1]  # the same person, weaker
    yolo[0, :, 2] = [8, 8, 8, 8, 0.2, 0.8]  # a car, top left
    found = OnnxDetector(constant_model(tmp_path / "yolo.onnx", {"output0": yolo}),
                         labels).detect(picture, 0.5)
    assert [(d.label, round(d.score, 2)) for d in found] == [("person", 0.9), ("car", 0.8)]
    assert found[0].box == Box(96.0, 32.0, 160.0, 96.0)  # scaled to the picture
    # SSD: boxes [1, N, 4] in fractions, scores [1, N, classes].
    boxes = np.array([[[0.5, 0.5, 1.0, 1.0], [0, 0, 0.1, 0.1]]])
    scores = np.array([[[0.1, 0.7], [0.3, 0.2]]])
    ssd = OnnxDetector(constant_model(tmp_path / "ssd.onnx", {"boxes": boxes,
                                                              "scores": scores}),
                       labels).detect(picture, 0.5)
    assert [(d.label, d.box) for d in ssd] == [("car", Box(128.0, 64.0, 256.0, 128.0))]
    # DetectionOutput [1, 1, N, 7], no labels file: classes by number.
    rows = np.array([[[[0, 3, 0.95, 0.0, 0.0, 0.5, 0.5], [0, 1, 0.1, 0, 0, 1, 1]]]])
    do = OnnxDetector(constant_model(tmp_path / "do.onnx", {"detection_out": rows})).detect(
        picture, 0.5)
    assert [(d.label, d.box) for d in do] == [("3", Box(0.0, 0.0, 128.0, 64.0))]
    with pytest.raises(DetectorError, match="unknown output format"):
        OnnxDetector(constant_model(tmp_path / "odd.onnx", {"x": np.zeros((1, 5))}))
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(os.urandom(256))
    with pytest.raises(DetectorError, match="not a model ONNX Runtime can load"):
        OnnxDetector(corrupt)
    with pytest.raises(DetectorError, match="does not exist"):
        open_detector(builtin().detectors, "onnx", tmp_path, tmp_path / "none.onnx")
    with pytest.raises(DetectorError, match="needs detector_model"):
        open_detector(builtin().detectors, "onnx", tmp_path)


def _scene(rng: np.random.Generator) -> np.ndarray:
    """A textured background like a corridor wall: gradients and speckle."""
    base = np.linspace(40, 160, 640, dtype=np.float32)[None, :].repeat(360, 0)
    base += rng.normal(0, 12, (360, 640)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(base, (7, 7), 0), 0, 255)


def _frame(base: np.ndarray, rng: np.random.Generator, gain: float = 1.0,
           noise: float = 2.0, square: tuple[int, int] | None = None) -> np.ndarray:
    f = base * gain + rng.normal(0, noise, base.shape)
    if square is not None:
        x, y = square
        f[y:y + 60, x:x + 40] = 220
    return bgr(np.clip(f, 0, 255).astype(np.uint8))


def test_motion_is_an_object_moving_not_light_or_noise() -> None:
    rng = np.random.default_rng(7)
    base = _scene(rng)
    m = Motion()
    for _ in range(10):
        m.update(_frame(base, rng))
    # Noise alone, then the lights coming on (the whole picture 40 % brighter at once),
    # then dusk (slowly darker): no region.
    for _ in range(10):
        assert m.update(_frame(base, rng, noise=6)).regions == []
    for k in range(10):
        assert m.update(_frame(base, rng, gain=1.4)).regions == [], k
    for k in range(30):
        assert m.update(_frame(base, rng, gain=1.4 - k * 0.01)).regions == [], k
    # A person-sized bright shape walks across: one region where it is.
    for step in range(8):
        x = 100 + step * 30
        result = m.update(_frame(base, rng, gain=1.1, square=(x, 150)))
        if step:
            assert len(result.regions) >= 1
            assert result.level > 0
            hit = max(result.regions, key=lambda r: iou(r, Box(x, 150, x + 40, 210)))
            assert iou(hit, Box(x, 150, x + 40, 210)) > 0.2
    # The same walk under a mask (the left half ignored): nothing.
    masked = Motion(masks=[[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]])
    for _ in range(5):
        masked.update(_frame(base, rng))
    for step in range(5):
        assert masked.update(_frame(base, rng, square=(20 + step * 30, 150))).regions == []


def test_a_walking_person_stays_one_track_and_two_stay_two() -> None:
    tracker = Tracker()
    for k in range(20):
        t = k * NS // 5
        a = Detection("person", 0.8, Box(10 + 8 * k, 50, 40 + 8 * k, 120))
        b = Detection("person", 0.7, Box(300 - 8 * k, 60, 330 - 8 * k, 130))
        active = tracker.update(t, [a, b] if k != 7 else [a])  # b missed one frame
    assert sorted(len(tr.path) for tr in active) == [19, 20]
    assert len({tr.id for tr in active}) == 2
    assert tracker.ended == []
    tracker.update(20 * NS, [])  # nobody for 16 s: both end
    assert tracker.active == []
    assert len(tracker.ended) == 2


def _track(tid: int, points: list[tuple[float, float]], t0: int = 0, dt: float = 1.0,
           label: str = "person") -> Track:
    """A track whose foot walks through `points` (fractions of a 100 × 100 frame)."""
    tr = Track(tid, label)
    for k, (x, y) in enumerate(points):
        tr.path.append((t0 + int(k * dt * NS), Box(x * 100 - 5, y * 100 - 20, x * 100 + 5,
                                                    y * 100)))
    return tr


def test_each_rule_on_scripted_tracks() -> None:
    """UE-10-22 3.2.7: intrusion, line, loitering, crowding and vehicle rules, each on tracks."""
    room = ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0))
    night = Schedule((Window(frozenset(range(7)), 22 * 60, 7 * 60),))
    rules = Rules([
        check_rule(Rule(1, "intrusion", zone=room, schedule=night)),
        check_rule(Rule(2, "line", line=((0.3, 0.0), (0.3, 1.0)), direction="left")),
        check_rule(Rule(3, "loitering", zone=room, seconds=30)),
        check_rule(Rule(4, "crowding", zone=room, count=3)),
        check_rule(Rule(5, "vehicle", zone=room)),
    ], (100, 100))
    at_night = parse_instant("2026-11-27T23:30:00+05:00")
    by_day = parse_instant("2026-11-27T12:00:00+05:00")
    walker = _track(1, [(0.1, 0.6), (0.4, 0.6), (0.7, 0.7)], at_night)
    fired = rules.evaluate(walker.last_ns, [walker])
    assert {(a.rule, a.tracks) for a in fired} == {(1, (1,))}
    # Line a→b points down the frame: walking left to right crosses towards its right.
    back = _track(2, [(0.4, 0.2), (0.2, 0.2)], at_night)
    assert [a.rule for a in rules.evaluate(back.last_ns, [back])] == [2]
    assert rules.evaluate(back.last_ns, [back]) == []  # once per track
    day = Rules(rules.rules, (100, 100))
    stayer = _track(3, [(0.6, 0.6)] * 40, by_day)
    assert day.evaluate(stayer.path[20][0], [_track(3, [(0.6, 0.6)] * 21, by_day)]) == []
    assert [a.rule for a in day.evaluate(stayer.last_ns, [stayer])] == [3]  # 39 s there
    crowd = [_track(10 + k, [(0.6 + k * 0.1, 0.8)], by_day) for k in range(3)]
    assert [a.rule for a in day.evaluate(by_day, crowd[:2])] == []
    assert [(a.rule, a.tracks) for a in day.evaluate(by_day, crowd)] == [(4, (10, 11, 12))]
    car = _track(20, [(0.7, 0.9)], by_day, label="car")
    assert [a.rule for a in day.evaluate(by_day, [car])] == [5]


def test_schedules_cross_midnight_and_keep_holidays() -> None:
    s = Schedule((Window(frozenset({4}), 22 * 60, 7 * 60),), holidays_all_day=True,
                 holidays=frozenset({date(2026, 5, 27)}))  # Friday nights; Kurban ait
    assert s.armed(parse_instant("2026-11-27T23:00:00+05:00"))  # Friday 23:00
    assert s.armed(parse_instant("2026-11-28T06:59:00+05:00"))  # into Saturday
    assert not s.armed(parse_instant("2026-11-28T07:00:00+05:00"))
    assert not s.armed(parse_instant("2026-11-26T23:00:00+05:00"))  # Thursday
    assert s.armed(parse_instant("2026-12-16T12:00:00+05:00"))  # Independence Day
    assert s.armed(parse_instant("2026-05-27T12:00:00+05:00"))  # the added holiday
    assert Schedule().armed(0)


def test_zones_that_cannot_be_are_refused() -> None:
    with pytest.raises(GeometryError, match="cross"):
        check_polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # a bow tie
    with pytest.raises(GeometryError, match="outside the frame"):
        check_polygon([(0, 0), (1.2, 0), (1, 1)])
    with pytest.raises(GeometryError, match="three"):
        check_polygon([(0, 0), (1, 1)])
    with pytest.raises(GeometryError, match="no area"):
        check_polygon([(0, 0), (0.5, 0.5), (1, 1)])
    with pytest.raises(GeometryError):
        check_rule(Rule(1, "line", line=((0.5, 0.5), (0.5, 0.5))))
    square = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
    assert inside((0.5, 0.5), square)
    assert not inside((0.9, 0.5), square)


def _corridor(rng: np.random.Generator, shift: int = 0) -> np.ndarray:
    """A sharp, structured grey scene (edges and texture), 160 × 90."""
    img = np.zeros((90, 160), np.float32) + 90
    img[:, 40 + shift:48 + shift] = 200  # a door frame
    img[60:, :] = 50  # the floor
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    for k in range(0, 160, 16):
        img[10:20, k:k + 8] += 60  # posters on the wall
    return np.clip(img, 0, 255).astype(np.uint8)


def _run(watch: TamperWatch, frames: list[np.ndarray], t0: float, fps: float = 5
         ) -> tuple[set[Tamper], set[Tamper], float]:
    """Feed frames; what was raised and cleared, and when the last change came."""
    raised: set[Tamper] = set()
    cleared: set[Tamper] = set()
    when = t0
    for k, f in enumerate(frames):
        t = t0 + k / fps
        up, down = watch.update(f, int(t * NS))
        if up or down:
            when = t
        raised |= up
        cleared |= down
    return raised, cleared, when


def test_each_kind_of_tampering_is_raised_within_seconds_and_cleared() -> None:
    rng = np.random.default_rng(3)
    watch = TamperWatch()
    normal = [_corridor(rng) for _ in range(50)]  # 10 s of the normal scene: learnt
    assert _run(watch, normal, 0)[:2] == (set(), set())
    cases: dict[Tamper, list[np.ndarray]] = {
        Tamper.COVERED: [np.full((90, 160), 5, np.uint8)] * 30,
        Tamper.BLURRED: [cv2.GaussianBlur(_corridor(rng), (0, 0), 6) for _ in range(30)],
        Tamper.MOVED: [np.clip(np.rot90(_corridor(rng), 2) * 0 + _corridor(
            rng, 70)[::-1], 0, 255).astype(np.uint8) for _ in range(30)],
        Tamper.FROZEN: [normal[0].copy()] * 60,
    }
    t = 10.0
    for kind, frames in cases.items():
        raised, _, when = _run(watch, frames, t)
        assert raised == {kind}, kind
        assert when - t <= 10, (kind, when - t)  # within 10 s of the start
        t += len(frames) / 5
        back = [_corridor(rng) for _ in range(30)]
        raised, cleared, _ = _run(watch, back, t)
        assert (raised, cleared) == (set(), {kind}), kind
        t += len(back) / 5
    # People walking through, the lights dimming a little: nothing.
    walkers = []
    for k in range(40):
        f = _corridor(rng).astype(np.float32) * 0.9
        f[30:80, 4 * k % 150:4 * k % 150 + 10] = 230
        walkers.append(np.clip(f, 0, 255).astype(np.uint8))
    assert _run(watch, walkers, t)[:2] == (set(), set())


def test_the_detector_looks_at_squares_around_the_motion(person_model: Detector) -> None:
    """A 16:9 picture squeezed into the detector's square input blurs the astronaut's
    shape; a square around where she moved finds her surely, and the box comes back in
    picture pixels (bench/analytics.py: recall on composed scenes rose to 1.0 with it)."""
    from kuzet.analytics.detector import detect_in
    from kuzet.analytics.geometry import squares_around

    assert squares_around([], 640, 360) == []
    [sq] = squares_around([Box(300, 100, 340, 200)], 640, 360)
    assert (sq.x1 - sq.x0, sq.y1 - sq.y0) == (180, 180)  # at least half the height
    assert sq.x0 <= 300
    assert sq.x1 >= 340
    assert sq.y0 <= 100
    assert sq.y1 >= 200
    wide = squares_around([Box(10, 50, 630, 300)], 640, 360)
    assert len(wide) == 2
    assert all(s.x0 >= 0 and s.x1 <= 640 and s.y1 <= 360 for s in wide)
    assert squares_around([Box(0, 0, 1000, 10)], 1000, 100) == [Box(0, 0, 1000, 100)]
    picture = np.full((360, 640, 3), 90, np.uint8)
    person = cv2.resize(bgr(data.astronaut()), (288, 288))
    picture[72:, 40:328] = person
    whole = person_model.detect(picture, 0.5)
    crops = squares_around([Box(60, 80, 300, 350)], 640, 360)
    [found] = detect_in(person_model, picture, crops, 0.5)
    assert found.label == "person"
    assert found.score > 0.9
    assert max((d.score for d in whole), default=0.0) < found.score
    assert iou(found.box, Box(40, 72, 256, 360)) > 0.5


def test_one_person_walking_through_raises_one_alarm(person_model: Detector) -> None:
    """The pipeline of one camera, fed pictures as `kuzet serve` feeds it, with its rules
    handed again every few seconds (as the server re-reads them): the astronaut walking
    across the picture for 8 s is one track and one intrusion alarm, not one per re-read
    (a bug found by bench/analytics.py: the engine that remembers alarmed tracks was
    rebuilt on every re-read, so a person in view alarmed every 5 s)."""
    from kuzet.analytics.camera import CameraAnalytics

    rules = [Rule(1, "intrusion", zone=((0, 0), (1, 0), (1, 1), (0, 1)))]
    alarms: list[int] = []
    cam = CameraAnalytics("gate", 1, Stream.SUB, rules, lambda: person_model, 0.5,
                          5, lambda w, a, t, i: alarms.append(a.rule), lambda *a: None)
    background = np.full((360, 640, 3), 90, np.uint8)
    person = cv2.resize(bgr(data.astronaut()), (288, 288))
    t = 0
    for k in range(60):
        picture = background.copy()
        if 10 <= k < 50:  # 8 s in view, 8 px a picture
            x = 40 + (k - 10) * 8
            picture[72:, x:x + 288] = person
        cam.process(picture, t)
        t += 200_000_000
        if k % 5 == 0:
            cam.set_rules([Rule(1, "intrusion", zone=((0, 0), (1, 0), (1, 1), (0, 1)))])
    assert alarms == [1]


def test_an_alarm_carries_the_best_picture_of_its_object(person_model: Detector) -> None:
    """A loitering alarm comes seconds after the person was first seen; its picture is
    the one in which the detector was surest of them, not whatever frame the alarm fell
    on (UE-10-22 3.2.12: the picture confirms what was seen)."""
    from kuzet.analytics.camera import CameraAnalytics

    rules = [Rule(1, "loitering", zone=((0, 0), (1, 0), (1, 1), (0, 1)), seconds=3)]
    got: list[tuple[list[Track], np.ndarray, int, tuple[int, ...]]] = []
    cam = CameraAnalytics("hall", 1, Stream.SUB, rules, lambda: person_model, 0.5,
                          5, lambda w, a, tracks, image: got.append((tracks, image, a.t_ns,
                                                                     tuple(a.tracks))),
                          lambda *a: None)
    background = np.full((360, 640, 3), 90, np.uint8)
    person = cv2.resize(bgr(data.astronaut()), (288, 288))
    pictures = {}
    for k in range(40):
        picture = background.copy()
        x = 20 + k * 8 if k < 20 else 180  # walks in, then stands
        # Half hidden behind a pillar while standing: seen, but less surely.
        picture[72:, x:x + 288] = person
        if k >= 20:
            picture[72:, 180:300] = 60
        pictures[k * 200_000_000] = picture
        cam.process(picture, k * 200_000_000)
    [(tracks, image, at, which)] = got
    [track] = [t for t in tracks if t.id in which]
    assert track.best_t_ns != at  # the alarm fell on another frame …
    assert np.array_equal(image, pictures[track.best_t_ns])  # … its picture is the best

"""A frame's send time inside the H.264 bitstream, so that latency can be measured from
the camera to the browser's append (issue 19) rather than from the recorder's loop.

`kuzet sim --stamp` sends before each frame an SEI message of type user_data_unregistered
(ITU-T H.264 D.1.7): a project UUID, then the send instant in UTC nanoseconds as 16 hex
digits. Recording copies the access unit, SEI included, into the file and the live
fragments; decoders skip it. Neither the UUID nor the hex digits hold a zero byte, so no
emulation prevention is needed and the message is found by a plain byte search.
"""

from __future__ import annotations

UUID = bytes.fromhex("6b757a657473656e6474696d65a5c3e7")  # "kuzetsendtime" + 3 bytes
_SEI, _USER_DATA_UNREGISTERED, _TRAILING = 0x06, 0x05, 0x80
_DIGITS = 16


def sei_stamp(send_ns: int) -> bytes:
    """An SEI NAL unit (no start code) carrying `send_ns`."""
    digits = f"{send_ns:0{_DIGITS}x}".encode()
    body = UUID + digits
    return bytes((_SEI, _USER_DATA_UNREGISTERED, len(body))) + body + bytes((_TRAILING,))


def stamp_of(data: bytes) -> int | None:
    """The send instant of the first stamp in `data` (a frame, a fragment), if any."""
    at = data.find(UUID)
    if at < 0:
        return None
    digits = data[at + len(UUID):at + len(UUID) + _DIGITS]
    try:
        return int(digits, 16)
    except ValueError:
        return None

"""The second factor's QR code (issue 21): the otpauth:// address drawn as SVG, for the
phone's camera, beside the secret that can be typed instead.

`qrcode` (pure Python) encodes; this module draws its module matrix itself rather than with
the library's SVG factories: theirs leave the background transparent (no phone reads dark
modules on the console's dark page) and size the picture in millimetres. Here it is white
with the standard's four-module quiet zone, one path, and sized by the page. No Pillow.
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_MODULES = 4  # the light margin ISO/IEC 18004 asks around the symbol


def qr_svg(text: str) -> str:
    """`text` as a QR code (error correction M: a screen shot or a phone held at an angle
    still reads), as an SVG document whose viewBox counts modules, quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_MODULES)
    code.add_data(text)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    side = len(matrix)
    dark = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix)
                   for x, on in enumerate(row) if on)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
            f'shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
            f'<path d="{dark}" fill="#000"/></svg>')

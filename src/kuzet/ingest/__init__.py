"""Reading a camera: the `Source` the recorder reads through (`source`), what goes wrong in
the words of a gap row (`errors`), Kuzet's own RTSP client's read loop (`rtsp_source`),
FFmpeg's client through PyAV (`ffmpeg_source`, `timestamps`), and which of the two reads a
camera (`choice`).

The RTSP protocol itself lives in kuzet.rtsp and knows nothing of gaps: its client session
raises its own `RtspError`s, and `rtsp_source` maps them onto gap causes where it calls
the session. So `kuzet.rtsp` (imported here) never imports this package, and the
simulator and the protocol modules stay free of recording; the mapping is one small
function (`rtsp_source._gap`). Moving the causes to a bottom module both import was the
alternative: it would have made the protocol package speak of recording gaps.
"""

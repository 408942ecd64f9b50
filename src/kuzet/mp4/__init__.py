"""MP4 (ISO BMFF) files and streams, by stream copy only: the one box walker (`boxes`), the
segment writer (`writer`) and its live, per-frame sibling (`livemux`), the one segment
reader (`reader`: init segment, tracks, fragments, decode-time shifts, codec string) that
playback (`playback`, `cut`), exports and salvage (`salvage`) read stored footage with.

Below the recorder, the storage, the archive and export; above `kuzet.ingest`, whose
`Track` the writer copies from. It imports nothing of the catalog's.
"""

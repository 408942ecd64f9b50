"""Media: RTSP ingest, fMP4 segment files, bitstream facts. Stream copy only, never transcoding."""

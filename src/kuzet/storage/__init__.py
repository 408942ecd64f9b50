"""Storage: where media files live on the volume, recovery after a crash, verification."""

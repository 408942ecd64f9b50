"""Kuzet's own RTSP server: the camera simulator now, the police-centre restream later (3.2.11)."""

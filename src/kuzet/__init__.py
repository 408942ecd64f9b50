"""Kuzet: a video management system that carries out regulation UE-10-22."""

__version__ = "0.1.0"

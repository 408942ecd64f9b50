"""Signed export packages: footage handed to investigators, courts or the people shown
(clause 3.5.6), stream-copied, hashed, signed by the installation's key, with a
standalone verifier inside."""

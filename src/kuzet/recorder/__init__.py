"""The recorder: one supervisor per camera stream, all cameras recorded 24/7."""

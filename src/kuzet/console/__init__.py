"""What the security-post console keeps besides footage: bookmarks, saved wall layouts,
and the pure shaping of the archive's timeline and calendar."""

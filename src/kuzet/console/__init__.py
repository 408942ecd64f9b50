"""What the security-post console keeps besides footage: bookmarks, saved wall layouts,
the pure shaping of the archive's timeline and calendar, the one playback plan and the
catalog facts it is given (`plan_rows`), and stamped stills of stored footage (`snapshot`)."""

"""People are told (UE-10-22 3.1.4, 3.2.1, 3.4.4-3.4.7, 4.1, 4.3; issue 23): the
regulation's editions and amendments, their acquaintance by every account, and the public
notice page."""

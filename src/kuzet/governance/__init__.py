"""The regulation's paperwork and decisions: incident protocols (clause 3.5.7), acts
(3.5.8), viewing sessions (3.5.5), holds (3.3) and transfers to third parties (3.5.6),
numbered and rendered as documents; what the rector decides runs through one approval
machine (`kuzet.access.approvals`)."""

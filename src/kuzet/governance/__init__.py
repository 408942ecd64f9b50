"""The regulation's paperwork: incident protocols (clause 3.5.7), acts (3.5.8) and
viewing sessions (3.5.5), numbered and rendered as documents. Transfers to third parties
(3.5.6) are to come."""

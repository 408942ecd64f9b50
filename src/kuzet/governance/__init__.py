"""The regulation's paperwork: incident protocols (clause 3.5.7) and acts (3.5.8),
numbered, reviewed and rendered as documents. Viewing minutes and transfers (3.5.5,
3.5.6) are to come."""

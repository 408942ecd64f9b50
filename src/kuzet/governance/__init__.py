"""The regulation's paperwork: incident protocols (clause 3.5.7), numbered, reviewed and
rendered as documents. Acts, viewing minutes and transfers (3.5.5–3.5.8) are to come."""

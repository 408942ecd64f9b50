"""The equipment register (UE-10-22 3.3.1-3.3.8, 3.4.3; issue 22): the technical passport
of the whole complex (cameras, monitors and workstations, UPSes, recording servers,
switches and links, storage, software), each item's maintenance log (checks, faults,
repairs), the due and overdue checks, and the passport as a document. docs/design/equipment.md.
"""

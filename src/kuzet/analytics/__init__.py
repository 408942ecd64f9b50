"""Detection (clauses 3.2.7, 3.2.12): motion, people and objects, their tracks, and the
rules that turn tracks into alarms. By clause 3.1.4 nothing here recognises faces or
tells one person from another across time or cameras: a track is "a person in this
picture now", never who."""

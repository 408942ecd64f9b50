"""What Kuzet tells other systems (clause 3.2.11: the police operational centre, the
campus's own): camera status and, with detection, events, over MQTT. Nothing here may
slow or stop recording: a broker that is down costs a queue, never a frame."""

"""Live video to police duty units and Operational Control Centres (UE-10-22 3.2.11)."""

"""How Pinstablr is deployed; deploy.local starts real servers on this machine."""

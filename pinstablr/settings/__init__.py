"""Settings profiles: base (shared), dev (the embedded default), test, production."""

"""Engine-neutral detectors: plain strings and Python values in, matches out."""

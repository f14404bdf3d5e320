//! Transcendental functions over the lane traits (written once for every backend).

"""The cultivation pipeline: programmes, stages, enrollments, transitions and their gates."""

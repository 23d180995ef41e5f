"""High-tech certification: batches, applications, certificates, expiry and re-certification."""

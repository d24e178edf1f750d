"""Customer truth: sources, ingest (the Segment spec), identities, profiles, segments."""

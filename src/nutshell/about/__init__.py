"""Pages about the project itself (not article sections): performance."""

"""Side-by-side performance benchmark (`make bench`)."""

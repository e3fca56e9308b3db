"""The staff web console (`/admin` of `jbl run`'s HTTP app)."""

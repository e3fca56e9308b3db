"""The channel-neutral conversation: an `Incoming` in, `Reply` values out.

Nothing here imports a platform library or knows which platform a person is on beyond the
rendering hints a `Reply` carries.
"""

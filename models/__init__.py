"""Tables, the engine and unit of work, and the domain operations on them.

Nothing here knows about chats or texts: operations take a session and plain values and
raise `Refusal` when the rules say no.
"""

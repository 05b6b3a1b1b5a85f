"""The agent console at /agent: accounts, the conversation review queries, the actions an
agent takes on a conversation, and the server-rendered pages (Jinja2) that tie them together."""
